"""The OCPP 2.0.1 messages a simulated charging station sends to its CSMS.

Each call returns the CSMS's answer payload as a plain dict (camelCase keys,
as on the wire) and keeps the station's state in step: a StatusNotification
remembers the EVSE's status (Occupied: a car is plugged in), a
TransactionEvent(Started) gives the EVSE the transaction the station named,
Updated carries meter values, Ended frees the EVSE.
"""

from __future__ import annotations

from datetime import UTC, datetime
import itertools
from typing import Any, Final
import uuid

from ocpp.v201 import call  # type: ignore[import-untyped, unused-ignore]

from ..connectors import ConnectorState
from ..rpc import JSONDict
from ..smart_charging import without_tx_profiles
from ..station import ChargingStation, MeterReading
from ..v16.messages import iso_time
from .device_model import default_variables

__all__ = ["V201Messages", "default_variables"]

ISO14443: Final = "ISO14443"  # the idToken type of an RFID card's UID
PHASES_3_TO_1: Final = "SmartChargingCtrlr.Phases3to1"

# 1.6 statuses the station's connectors keep -> 2.0.1 connector status and charging state.
_CONNECTOR_STATUS = {
    "Available": "Available",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}
CHARGING_STATE = {
    "Preparing": "EVConnected",
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "Finishing": "EVConnected",
}


def connector_status(status: str) -> str:
    """The 2.0.1 connector status of a connector in the station's (1.6-like) status."""
    return _CONNECTOR_STATUS.get(status, "Occupied")


class V201Messages(ChargingStation):
    """A charging station that sends OCPP 2.0.1 messages (station -> CSMS calls)."""

    boot_reason = "PowerUp"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.behaviour.configuration
        for name, value in default_variables().items():
            if self.behaviour.unreported_items_per_message is None or "ItemsPer" not in name:
                config.setdefault(name, value)
        for evse_id in self.connectors:
            config.setdefault(f"EVSE/{evse_id}.SupplyPhases", (str(self.phases), True))
        # Whether it follows the numberPhases of its charging profile (read-only).
        config[PHASES_3_TO_1] = (str(self.behaviour.phase_switching).lower(), True)
        self._seq = itertools.count()
        self._event_seq = itertools.count()

    async def boot(self) -> JSONDict:
        """Send a BootNotification (with ``boot_reason``)."""
        self.boots += 1
        session = self._transport.session
        answer = await self._call(
            call.BootNotification(
                charging_station={
                    "model": self.model,
                    "vendorName": self.vendor,
                    "serialNumber": self.serial,
                    "firmwareVersion": self.firmware,
                },
                reason=self.boot_reason,
            )
        )
        self._boot_answered(answer, session)
        return answer

    async def heartbeat(self) -> JSONDict:
        """Send a Heartbeat."""
        return await self._call(call.Heartbeat())

    async def status(self, evse_id: int, status: str) -> JSONDict:
        """Send a StatusNotification of the EVSE's connector 1.

        ``status`` is a 2.0.1 connector status (Occupied: a car is plugged in)
        or one of the station's 1.6-like statuses (Preparing, Charging ...,
        sent as Occupied).
        """
        connector = self.connectors.get(evse_id)
        wire = connector_status(status) if status != "Occupied" else status
        kept = "Preparing" if status == "Occupied" else status
        if connector is not None:
            connector.plug(kept)
            connector.status = kept
        answer = await self._call(
            call.StatusNotification(
                timestamp=iso_time(),
                connector_status=wire,
                evse_id=evse_id,
                connector_id=1,
            )
        )
        if connector is not None and connector.transaction_id is not None and kept != "Preparing":
            state = CHARGING_STATE.get(kept)
            if state is not None:  # a transaction's charging state is its event's to say
                await self.transaction_event(
                    "Updated", evse_id, "ChargingStateChanged", charging_state=state
                )
        return answer

    async def authorize(self, id_token: str, token_type: str = ISO14443) -> JSONDict:
        """Send an Authorize."""
        return await self._call(call.Authorize(id_token={"idToken": id_token, "type": token_type}))

    def _meter_value(
        self,
        connector: ConnectorState,
        context: str,
        *,
        energy_wh: float | None = None,
        power_w: float | None = None,
        currents: list[float] | None = None,
        voltage: float | None = None,
        current_offered: float | None = None,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """One MeterValueType (numbers, units of measure), updating the connector.

        Per-phase currents get phase L1, L2, L3 in order.
        """
        if energy_wh is not None:
            connector.energy_wh = energy_wh
        if power_w is not None:
            connector.power_w = power_w
        sampled: list[JSONDict] = [
            {
                "value": round(connector.energy_wh, 3),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "location": "Outlet",
                "unitOfMeasure": {"unit": "Wh", "multiplier": 0},
            }
        ]
        if power_w is not None:
            sampled.append(
                {
                    "value": round(power_w, 3),
                    "context": context,
                    "measurand": "Power.Active.Import",
                    "unitOfMeasure": {"unit": "W"},
                }
            )
        for phase, current in zip(("L1", "L2", "L3"), currents or [], strict=False):
            sampled.append(
                {
                    "value": round(current, 2),
                    "context": context,
                    "measurand": "Current.Import",
                    "phase": phase,
                    "unitOfMeasure": {"unit": "A"},
                }
            )
        if voltage is not None:
            sampled.append(
                {
                    "value": round(voltage, 1),
                    "context": context,
                    "measurand": "Voltage",
                    "unitOfMeasure": {"unit": "V"},
                }
            )
        if current_offered is not None:
            sampled.append(
                {
                    "value": round(current_offered, 1),
                    "context": context,
                    "measurand": "Current.Offered",
                    "unitOfMeasure": {"unit": "A"},
                }
            )
        return {"timestamp": iso_time(timestamp), "sampledValue": sampled}

    async def transaction_event(
        self,
        event_type: str,
        evse_id: int,
        trigger_reason: str,
        *,
        id_token: JSONDict | None = None,
        meter_value: list[JSONDict] | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        remote_start_id: int | None = None,
        offline: bool = False,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """Send a TransactionEvent for the EVSE's transaction (seqNo counts up)."""
        connector = self.connectors[evse_id]
        assert connector.transaction_id is not None
        info: JSONDict = {"transactionId": str(connector.transaction_id)}
        if charging_state is not None:
            info["chargingState"] = charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        return await self._transaction_call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=iso_time(timestamp),
                trigger_reason=trigger_reason,
                seq_no=next(self._seq),
                transaction_info=info,
                meter_value=meter_value,
                offline=offline or None,
                evse={"id": evse_id, "connectorId": 1},
                id_token=id_token,
            )
        )

    async def start_transaction(
        self,
        evse_id: int,
        id_tag: str | None,
        meter_start: int | None = None,
        *,
        token_type: str = ISO14443,
        trigger_reason: str = "Authorized",
        remote_start_id: int | None = None,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """Start a transaction the station names (TransactionEvent Started)."""
        connector = self.connectors[evse_id]
        transaction_id = uuid.uuid4().hex[:20]
        start = int(meter_start if meter_start is not None else connector.energy_wh)
        when = timestamp or datetime.now(UTC)
        connector.begin_transaction(transaction_id, id_tag or "", start, when)
        token = {"idToken": id_tag, "type": token_type} if id_tag is not None else None
        return await self.transaction_event(
            "Started",
            evse_id,
            trigger_reason,
            id_token=token,
            meter_value=[
                self._meter_value(connector, "Transaction.Begin", energy_wh=start, timestamp=when)
            ],
            timestamp=when,
            charging_state=CHARGING_STATE.get(connector.status, "EVConnected")
            if connector.car
            else "Idle",
            remote_start_id=remote_start_id,
        )

    async def meter_values(
        self,
        evse_id: int,
        *,
        energy_wh: float | None = None,
        power_w: float | None = None,
        currents: list[float] | None = None,
        voltage: float | None = None,
        current_offered: float | None = None,
        context: str = "Sample.Periodic",
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """Meter values: a TransactionEvent(Updated) during a transaction, else MeterValues."""
        connector = self.connectors[evse_id]
        value = self._meter_value(
            connector,
            context,
            energy_wh=energy_wh,
            power_w=power_w,
            currents=currents,
            voltage=voltage,
            current_offered=current_offered,
            timestamp=timestamp,
        )
        if connector.transaction_id is not None:
            return await self.transaction_event(
                "Updated",
                evse_id,
                "MeterValuePeriodic" if context == "Sample.Periodic" else "Trigger",
                meter_value=[value],
                charging_state=CHARGING_STATE.get(connector.status),
                timestamp=timestamp,
            )
        return await self._call(call.MeterValues(evse_id=evse_id, meter_value=[value]))

    async def report_meter(self, evse_id: int, reading: MeterReading) -> JSONDict:
        """The EVSE's meter values: energy register, power and offered current."""
        return await self.meter_values(
            evse_id,
            energy_wh=reading.energy_wh,
            power_w=reading.power_w,
            currents=reading.currents,
            voltage=reading.voltage,
            current_offered=reading.current_offered,
            timestamp=reading.timestamp,
        )

    async def stop_transaction(
        self,
        evse_id: int,
        reason: str = "Local",
        *,
        trigger_reason: str = "StopAuthorized",
        id_tag: str | None = None,
        meter_stop: float | None = None,
        timestamp: datetime | None = None,
    ) -> JSONDict:
        """End the EVSE's transaction (TransactionEvent Ended); the EVSE is freed first.

        ``meter_stop``: the register's last reading (Wh), if it moved since the last
        meter value. A ChangeAvailability(Inoperative) answered Scheduled then takes effect.
        """
        connector = self.connectors[evse_id]
        assert connector.transaction_id is not None
        meter = self._meter_value(
            connector, "Transaction.End", energy_wh=meter_stop, timestamp=timestamp
        )
        token = {"idToken": id_tag, "type": "ISO14443"} if id_tag is not None else None
        answer = await self.transaction_event(
            "Ended",
            evse_id,
            trigger_reason,
            id_token=token,
            meter_value=[meter],
            charging_state="EVConnected" if connector.car else "Idle",
            stopped_reason=reason,
            timestamp=timestamp,
        )
        now_unavailable = connector.end_transaction(int(connector.energy_wh))
        self.charging_profiles = without_tx_profiles(self.charging_profiles, evse_id)
        if now_unavailable:
            await self.status(evse_id, "Unavailable")
        return answer

    async def notify_event(self, component: str, variable: str, value: str) -> JSONDict:
        """Send a NotifyEvent (one event, as a hard-wired notification)."""
        return await self._call(
            call.NotifyEvent(
                generated_at=iso_time(),
                seq_no=0,
                event_data=[
                    {
                        "eventId": next(self._event_seq),
                        "timestamp": iso_time(),
                        "trigger": "Alerting",
                        "actualValue": value,
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": component},
                        "variable": {"name": variable},
                    }
                ],
            )
        )

    async def notify_report(
        self, request_id: int, seq_no: int, report_data: list[JSONDict], *, tbc: bool
    ) -> JSONDict:
        """Send one part of a report (NotifyReport): ``tbc`` says more parts follow."""
        return await self._call(
            call.NotifyReport(
                request_id=request_id,
                generated_at=iso_time(),
                seq_no=seq_no,
                report_data=report_data or None,
                tbc=tbc,
            )
        )

    async def security_event(self, event_type: str) -> JSONDict:
        """Send a SecurityEventNotification."""
        return await self._call(
            call.SecurityEventNotification(type=event_type, timestamp=iso_time())
        )

    async def firmware_status(self, status: str) -> JSONDict:
        """Send a FirmwareStatusNotification (with the update's requestId, if any)."""
        self.firmware_status_value = status
        return await self._call(
            call.FirmwareStatusNotification(status=status, request_id=self.firmware_request_id)
        )

    async def diagnostics_status(self, status: str) -> JSONDict:
        """Send a LogStatusNotification (the diagnostics log upload; its requestId, if any)."""
        self.diagnostics_status_value = status
        return await self._call(
            call.LogStatusNotification(status=status, request_id=self.diagnostics_request_id)
        )

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> JSONDict:
        """Send a DataTransfer."""
        return await self._call(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )
