"""The OCPP 1.6 messages a simulated charger sends to its central system.

Each call returns the CSMS's answer payload as a plain dict (camelCase keys,
as on the wire) and keeps the charger's state in step: a StatusNotification
remembers the connector's status (and whether a car is plugged in), a
StartTransaction's answer gives the connector its transaction, a
StopTransaction frees it, MeterValues update its energy register and power.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging

from ocpp.v16 import call  # type: ignore[import-untyped, unused-ignore]

from ..rpc import JSONDict
from ..smart_charging import without_tx_profiles
from ..station import ChargingStation, MeterReading

__all__ = ["V16Messages", "iso_time"]

_LOGGER = logging.getLogger("chargersim")


def iso_time(timestamp: datetime | None = None) -> str:
    """Format a timestamp as OCPP wants it (UTC, ``Z`` suffix)."""
    ts = timestamp or datetime.now(UTC)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fmt(value: float) -> str:
    """Format a sampled value: up to 3 decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class V16Messages(ChargingStation):
    """A charging station that sends OCPP 1.6 messages (charger -> CSMS calls)."""

    async def boot(self) -> JSONDict:
        """Send a BootNotification."""
        self.boots += 1
        session = self._transport.session
        answer = await self._call(
            call.BootNotification(
                charge_point_vendor=self.vendor,
                charge_point_model=self.model,
                charge_point_serial_number=self.serial,
                charge_box_serial_number=self.serial,
                firmware_version=self.firmware,
                meter_type="Internal NON compliant",
            )
        )
        self._boot_answered(answer, session)
        return answer

    async def heartbeat(self) -> JSONDict:
        """Send a Heartbeat."""
        return await self._call(call.Heartbeat())

    async def status(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        vendor_error_code: str | None = None,
        vendor_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """Send a StatusNotification and remember the connector's status.

        A status that needs a car (Preparing, Charging, ...) means a car is plugged
        in; Available and the others mean none is. (The charger's own Preparing
        while a remote start waits for a car goes through `_report_status`.)
        """
        connector = self.connectors.get(connector_id)
        if connector is not None:
            connector.plug(status)
        return await self._report_status(
            connector_id,
            status,
            error_code,
            info=info,
            vendor_error_code=vendor_error_code,
            vendor_id=vendor_id,
            timestamp=timestamp,
        )

    async def _report_status(
        self,
        connector_id: int,
        status: str,
        error_code: str = "NoError",
        *,
        info: str | None = None,
        vendor_error_code: str | None = None,
        vendor_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        connector = self.connectors.get(connector_id)
        if connector is not None:
            connector.status = status
            connector.error_code = error_code
        return await self._call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=iso_time(timestamp),
                info=info,
                vendor_id=vendor_id,
                vendor_error_code=vendor_error_code,
            )
        )

    async def authorize(self, id_tag: str) -> JSONDict:
        """Send an Authorize."""
        return await self._call(call.Authorize(id_tag=id_tag))

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        *,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """Send a StartTransaction; the connector then holds the transaction.

        The transaction is recorded whatever ``idTagInfo`` says (the CSMS has
        assigned an id and expects a StopTransaction for it).
        """
        when = timestamp or datetime.now(UTC)

        def started(answer: JSONDict) -> None:
            connector = self.connectors.get(connector_id)
            transaction_id = answer.get("transactionId")
            if connector is not None and isinstance(transaction_id, int):
                connector.begin_transaction(transaction_id, id_tag, meter_start, when)

        return await self._transaction_call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=iso_time(when),
            ),
            on_reply=started,
        )

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
        timestamp: datetime | None = None,
        transaction_data: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Send a StopTransaction; the connector holding it is freed first.

        A ChangeAvailability(Inoperative) answered Scheduled takes effect
        afterwards (StatusNotification Unavailable).
        """
        connector = self.connector_for_transaction(transaction_id)
        now_unavailable = False
        if connector is not None:
            now_unavailable = connector.end_transaction(meter_stop)
            self.charging_profiles = without_tx_profiles(
                self.charging_profiles, connector.connector_id
            )
        answer = await self._transaction_call(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=iso_time(timestamp),
                transaction_id=transaction_id,
                reason=reason,
                id_tag=id_tag,
                transaction_data=transaction_data,
            )
        )
        if connector is not None and now_unavailable:
            await self.status(connector.connector_id, "Unavailable")
        return answer

    async def meter_values(
        self,
        connector_id: int,
        *,
        transaction_id: int | None = None,
        energy_wh: float | None = None,
        power_w: float | None = None,
        currents: list[float] | None = None,
        voltage: float | None = None,
        current_offered: float | None = None,
        timestamp: datetime | None = None,
        context: str = "Sample.Periodic",
    ) -> JSONDict:
        """Send one meterValue with a sampledValue per argument given.

        Values are strings; location Outlet; per-phase currents get phase
        L1, L2, L3 in order. ``energy_wh`` / ``power_w`` also update the
        connector's register / power.
        """

        def sample(value: float, measurand: str, unit: str, phase: str | None = None) -> JSONDict:
            entry: JSONDict = {
                "value": _fmt(value),
                "context": context,
                "format": "Raw",
                "measurand": measurand,
                "location": "Outlet",
                "unit": unit,
            }
            if phase is not None:
                entry["phase"] = phase
            return entry

        samples: list[JSONDict] = []
        if energy_wh is not None:
            samples.append(sample(energy_wh, "Energy.Active.Import.Register", "Wh"))
        if power_w is not None:
            samples.append(sample(power_w, "Power.Active.Import", "W"))
        for phase, current in zip(("L1", "L2", "L3"), currents or [], strict=False):
            samples.append(sample(current, "Current.Import", "A", phase))
        if voltage is not None:
            samples.append(sample(voltage, "Voltage", "V"))
        if current_offered is not None:
            samples.append(sample(current_offered, "Current.Offered", "A"))
        connector = self.connectors.get(connector_id)
        if connector is not None:
            if energy_wh is not None:
                connector.energy_wh = energy_wh
            if power_w is not None:
                connector.power_w = power_w
        message = call.MeterValues(
            connector_id=connector_id,
            meter_value=[{"timestamp": iso_time(timestamp), "sampledValue": samples}],
            transaction_id=transaction_id,
        )
        if transaction_id is None:
            return await self._call(message)
        return await self._transaction_call(message)

    async def report_meter(self, connector_id: int, reading: MeterReading) -> JSONDict:
        """MeterValues of the connector's transaction (or of the connector if none)."""
        connector = self.connectors.get(connector_id)
        return await self.meter_values(
            connector_id,
            transaction_id=connector.numeric_transaction_id if connector else None,
            energy_wh=reading.energy_wh,
            power_w=reading.power_w,
            currents=reading.currents,
            voltage=reading.voltage,
            current_offered=reading.current_offered,
            timestamp=reading.timestamp,
        )

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> JSONDict:
        """Send a DataTransfer."""
        return await self._call(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )

    async def diagnostics_status(self, status: str) -> JSONDict:
        """Send a DiagnosticsStatusNotification."""
        self.diagnostics_status_value = status
        return await self._call(call.DiagnosticsStatusNotification(status=status))

    async def firmware_status(self, status: str) -> JSONDict:
        """Send a FirmwareStatusNotification."""
        self.firmware_status_value = status
        return await self._call(call.FirmwareStatusNotification(status=status))
