"""What a simulated OCPP 1.6 charger does on its own, after a CSMS call or a reboot.

Announcing connector statuses, sending what a TriggerMessage asked for,
starting a transaction after RemoteStartTransaction (waiting for the car),
stopping one (RemoteStop, UnlockConnector, an unknown idTag) without ever
losing its StopTransaction, walking through firmware and diagnostics
statuses, and the reboot after Reset.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import functools
import logging

from ..connectors import ConnectorState
from ..rpc import JSONDict
from .messages import V16Messages

__all__ = ["V16Procedures"]

_LOGGER = logging.getLogger("chargersim")


class V16Procedures(V16Messages):
    """An OCPP 1.6 charging station's own procedures."""

    async def announce(self, connector_ids: list[int]) -> None:
        """Send each connector's current status."""
        for connector_id in connector_ids:
            connector = self.connectors[connector_id]
            await self.status(connector_id, connector.announced_status, connector.error_code)

    async def send_triggered(self, requested: str, connector_id: int | None) -> None:
        """Send what a TriggerMessage asked for."""
        ids = [connector_id] if connector_id else list(self.connectors)
        ids = [cid for cid in ids if cid in self.connectors]
        match requested:
            case "BootNotification":
                await self.boot()
            case "Heartbeat":
                await self.heartbeat()
            case "StatusNotification":
                if connector_id == 0:
                    operative = any(c.operative for c in self.connectors.values())
                    await self.status(0, "Available" if operative else "Unavailable")
                else:
                    for cid in ids:
                        c = self.connectors[cid]
                        await self.status(cid, c.status, c.error_code)
            case "MeterValues":
                for cid in ids:
                    c = self.connectors[cid]
                    await self.meter_values(
                        cid,
                        transaction_id=c.numeric_transaction_id,
                        energy_wh=c.energy_wh,
                        power_w=c.power_w,
                        current_offered=self.current_limit(cid),
                        context="Trigger",
                    )
            case "DiagnosticsStatusNotification":
                await self.diagnostics_status(self.diagnostics_status_value)
            case "FirmwareStatusNotification":
                await self.firmware_status(self.firmware_status_value)
            case _:
                _LOGGER.warning("%s: cannot trigger %s", self.identity, requested)

    async def remote_start(self, connector_id: int, id_tag: str, profile: JSONDict | None) -> None:
        """Start a transaction after an accepted RemoteStartTransaction.

        Without a car, like a real charger: Preparing, then wait for the car at most
        ConnectionTimeOut seconds; none came: Available again, no transaction.
        """
        connector = self.connectors[connector_id]
        connector.remote_start_pending = True
        try:
            await self._start_remotely(connector, id_tag, profile)
        finally:
            connector.remote_start_pending = False

    async def _start_remotely(
        self, connector: ConnectorState, id_tag: str, profile: JSONDict | None
    ) -> None:
        connector_id = connector.connector_id
        if not connector.car:
            await self._report_status(connector_id, "Preparing")
            timeout = float(self.configuration_value("ConnectionTimeOut", "60") or 60)
            try:
                await asyncio.wait_for(connector.car_plugged.wait(), timeout)
            except TimeoutError:
                _LOGGER.info("%s: no car plugged in; remote start dropped", self.identity)
                await self._report_status(connector_id, "Available")
                return
        if self.configuration_value("AuthorizeRemoteTxRequests", "false") == "true":
            auth = await self.authorize(id_tag)
            if auth.get("idTagInfo", {}).get("status") != "Accepted":
                _LOGGER.info("%s: remote start for %s not authorized", self.identity, id_tag)
                return
        answer = await self.start_transaction(
            connector_id, id_tag, meter_start=int(connector.energy_wh)
        )
        if answer.get("idTagInfo", {}).get("status") != "Accepted":
            await self._deauthorized(connector_id)
            return
        if profile is not None:
            profile = {**profile, "transactionId": connector.transaction_id}
            if not self.behaviour.ignore_charging_limits:
                self.install_profile(connector_id, profile)
        await self.status(connector_id, "Charging")

    async def _deauthorized(self, connector_id: int) -> None:
        """StopTransactionOnInvalidId: end a transaction the CSMS did not accept."""
        if self.configuration_value("StopTransactionOnInvalidId", "true") == "true":
            await self.local_stop(connector_id, "DeAuthorized")

    async def local_stop(
        self, connector_id: int, reason: str, *, id_tag: str | None = None
    ) -> None:
        """Stop the connector's transaction (RemoteStop, Unlock, the user's card); go Finishing."""
        connector = self.connectors[connector_id]
        if connector.transaction_id is None:
            return
        sent = await self._stop_reliably(connector, reason, id_tag=id_tag)
        if connector.operative:
            connector.status = "Finishing"
            if sent:
                await self.status(connector_id, "Finishing")

    async def _stop_reliably(
        self, connector: ConnectorState, reason: str, *, id_tag: str | None = None
    ) -> bool:
        """StopTransaction for the connector's transaction, never lost.

        If it cannot be delivered now it is queued (with its original
        timestamp) and sent after the next accepted boot, before the
        connectors are announced, as a real charger does. False if queued.
        """
        transaction_id = connector.numeric_transaction_id
        if transaction_id is None:
            return True
        stop = functools.partial(
            self.stop_transaction,
            transaction_id,
            int(connector.energy_wh),
            reason=reason,
            id_tag=id_tag,
            timestamp=datetime.now(UTC),
        )
        return await self._deliver(stop, "StopTransaction")

    async def _reboot(self, reset_type: str) -> None:
        """After Reset.conf: stop transactions, go away, come back and boot."""
        reason = "HardReset" if reset_type == "Hard" else "SoftReset"
        for connector in self.connectors.values():
            if connector.transaction_id is not None:
                await self._stop_reliably(connector, reason)
            connector.status = "Available"
            connector.error_code = "NoError"
        await self._restart(reset_type)
