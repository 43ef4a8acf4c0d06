"""What a simulated OCPP 2.0.1 station does on its own, after a CSMS call or a reboot.

Announcing EVSE statuses, sending what a TriggerMessage asked for, the report
a GetBaseReport asked for (NotifyReport, in parts), starting a
transaction after RequestStartTransaction (waiting for the car at most
TxCtrlr.EVConnectionTimeOut seconds), ending one (RequestStop, Reset) without
ever losing its TransactionEvent(Ended), and the reboot after Reset.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from ..connectors import ConnectorState
from ..rpc import JSONDict
from .device_model import report_data
from .messages import V201Messages

__all__ = ["V201Procedures"]

_LOGGER = logging.getLogger("chargersim")


class V201Procedures(V201Messages):
    """An OCPP 2.0.1 charging station's own procedures."""

    #: Variables per NotifyReport: a report of more comes in several parts.
    report_part_size = 5

    async def announce(self, connector_ids: list[int]) -> None:
        """Send each EVSE's current status."""
        for evse_id in connector_ids:
            await self.status(evse_id, self.connectors[evse_id].announced_status)

    async def send_triggered(self, requested: str, evse_id: int | None) -> None:
        """Send what a TriggerMessage asked for."""
        ids = [evse_id] if evse_id else list(self.connectors)
        ids = [cid for cid in ids if cid in self.connectors]
        match requested:
            case "BootNotification":
                self.boot_reason = "Triggered"
                await self.boot()
            case "Heartbeat":
                await self.heartbeat()
            case "StatusNotification":
                for cid in ids:
                    await self.status(cid, self.connectors[cid].status)
            case "MeterValues" | "TransactionEvent":
                for cid in ids:
                    await self.meter_values(
                        cid, current_offered=self.current_limit(cid), context="Trigger"
                    )
            case "FirmwareStatusNotification":
                await self.firmware_status(self.firmware_status_value)
            case "LogStatusNotification":
                await self.diagnostics_status(self.diagnostics_status_value)
            case _:
                _LOGGER.warning("%s: cannot trigger %s", self.identity, requested)

    async def send_report(self, request_id: int) -> None:
        """Send the report a GetBaseReport asked for: every variable, in parts."""
        entries = report_data(self.behaviour.configuration)
        parts = [
            entries[n : n + self.report_part_size]
            for n in range(0, len(entries), self.report_part_size)
        ] or [[]]
        for seq_no, part in enumerate(parts):
            await self.notify_report(request_id, seq_no, part, tbc=seq_no < len(parts) - 1)

    async def remote_start(
        self, evse_id: int, id_token: JSONDict, remote_start_id: int, profile: JSONDict | None
    ) -> None:
        """Start a transaction after an accepted RequestStartTransaction."""
        connector = self.connectors[evse_id]
        connector.remote_start_pending = True
        try:
            await self._start_remotely(connector, id_token, remote_start_id, profile)
        finally:
            connector.remote_start_pending = False

    async def _start_remotely(
        self,
        connector: ConnectorState,
        id_token: JSONDict,
        remote_start_id: int,
        profile: JSONDict | None,
    ) -> None:
        evse_id = connector.connector_id
        if not connector.car:
            timeout = float(self.configuration_value("TxCtrlr.EVConnectionTimeOut", "60") or 60)
            try:
                await asyncio.wait_for(connector.car_plugged.wait(), timeout)
            except TimeoutError:
                _LOGGER.info("%s: no car plugged in; remote start dropped", self.identity)
                return
        answer = await self.start_transaction(
            evse_id,
            str(id_token["idToken"]),
            token_type=str(id_token["type"]),
            trigger_reason="RemoteStart",
            remote_start_id=remote_start_id,
        )
        if answer.get("idTokenInfo", {}).get("status", "Accepted") != "Accepted":
            await self.local_stop(evse_id, "DeAuthorized")
            return
        if profile is not None and not self.behaviour.ignore_charging_limits:
            self.install_profile(evse_id, {**profile, "transactionId": connector.transaction_id})
        connector.status = "Charging"
        await self.meter_values(evse_id, context="Trigger")

    async def local_stop(self, evse_id: int, reason: str, *, id_tag: str | None = None) -> None:
        """End the EVSE's transaction (RequestStop, DeAuthorized, the user's card ``id_tag``);
        the car stays plugged in."""
        connector = self.connectors[evse_id]
        if connector.transaction_id is None:
            return
        connector.status = "Finishing"
        await self._stop_reliably(connector, reason, id_tag=id_tag)

    async def _stop_reliably(
        self, connector: ConnectorState, reason: str, *, id_tag: str | None = None
    ) -> bool:
        """TransactionEvent(Ended), never lost: queued until the next boot if it cannot go now."""
        if connector.transaction_id is None:
            return True
        stop = functools.partial(
            self.stop_transaction, connector.connector_id, reason, id_tag=id_tag
        )
        return await self._deliver(stop, "TransactionEvent")

    async def _reboot(self, reset_type: str) -> None:
        """After Reset: end transactions, go away, come back and boot."""
        for connector in self.connectors.values():
            if connector.transaction_id is not None:
                await self._stop_reliably(connector, "ImmediateReset")
            connector.status = "Available"
            connector.plug("Available")
        self.boot_reason = "RemoteReset"  # the reason of the boot that follows
        await self._restart(reset_type)
