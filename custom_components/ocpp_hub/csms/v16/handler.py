"""OCPP 1.6J: the charger's messages into model events.

:class:`V16Handler` answers the charger's CALLs (payloads already validated
against the official schemas) by applying them to the :class:`Charger` model;
the calls we make to the charger are its :class:`V16Commands`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from datetime import UTC, datetime
import logging
from typing import Any

from ...model.charger import Charger, ChargerInfo, Transaction, plausible_time
from ...model.meter import Sample
from ..backend import AuthorizationStatus, Backend
from ..errors import CallFailed, OcppError, OcppErrorCode
from ..logtext import untrusted
from ..session import Session
from ..validation import parse_timestamp
from ..version import HandlerSettings
from .commands import V16Commands
from .dialect import HANDLED_ACTIONS
from .mapping import MAX_CONNECTOR_ID, charger_info, connector_status, id_tag_info, register
from .metering import parse_sampled_values

_LOGGER = logging.getLogger(__name__)

# What an unknown (Pending) charger may send before the owner accepts it.
_ALLOWED_WHILE_PENDING = frozenset({"BootNotification", "Heartbeat"})


def _now() -> datetime:
    return datetime.now(UTC)


class V16Handler(V16Commands):
    """The OCPP 1.6J conversation with one connected charger."""

    actions = HANDLED_ACTIONS

    def __init__(
        self,
        session: Session,
        backend: Backend,
        settings: HandlerSettings,
        on_closed: Callable[[V16Handler], None] | None = None,
    ) -> None:
        """Serve ``session``; :meth:`bind` (or :meth:`adopt`) gives it the charger."""
        self.session = session
        self.backend = backend
        self.charger: Charger | None = None
        self.settings = settings
        self.info: ChargerInfo | None = None
        self._booted = asyncio.Event()
        self._boot_requested = False
        self._bad_connector_logged = False
        self._on_closed = on_closed
        self._routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "Authorize": self._authorize,
            "BootNotification": self._boot_notification,
            "DataTransfer": self._data_transfer,
            "DiagnosticsStatusNotification": self._diagnostics_status,
            "FirmwareStatusNotification": self._firmware_status,
            "Heartbeat": self._heartbeat,
            "MeterValues": self._meter_values,
            "StartTransaction": self._start_transaction,
            "StatusNotification": self._status_notification,
            "StopTransaction": self._stop_transaction,
        }
        self._setup_task_started = False

    def bind(self, charger: Charger) -> None:
        """Speak for the registered ``charger`` (the connection is authorised for it)."""
        self.charger = charger
        self._setup_task_started = True
        charger.apply_connected(True, self.session.remote_address)
        self.session.spawn(self._set_up(wait_for_boot=True), "set up")

    @property
    def booted(self) -> bool:
        """The charger booted (BootNotification accepted) on this connection."""
        return self._booted.is_set()

    # --------------------------------------------------------- session protocol
    def handle_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one CALL from the charger."""
        if self.charger is None and action not in _ALLOWED_WHILE_PENDING:
            if self.info is None and not self._boot_requested:
                # It reconnected without booting: ask who it is, so the owner can approve it.
                self._boot_requested = True
                self.session.spawn(self.trigger_message("BootNotification"), "trigger boot")
            raise OcppError(
                OcppErrorCode.SECURITY_ERROR,
                "charger is not accepted yet: waiting for the owner's approval",
            )
        return self._routes[action](payload)

    def connection_closed(self) -> None:
        """Mark the charger disconnected (and say so when it was for flooding us)."""
        if self.charger is not None:
            self.charger.apply_connected(
                False, disconnect_reason="flooding" if self.session.flooded else None
            )
        if self._on_closed is not None:
            self._on_closed(self)

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this (Pending) charger: ask it to boot again now."""
        self.charger = charger
        charger.apply_connected(True, self.session.remote_address)
        self.session.spawn(self.trigger_message("BootNotification"), "trigger boot")

    async def _set_up(self, *, wait_for_boot: bool) -> None:
        """Read the configuration, then let the application apply its settings.

        Runs once per connection, after the boot. A registered charger that
        reconnected without booting is asked to boot (TriggerMessage) after a
        short grace period; nothing (no card list, no configuration) goes to a
        connection that has not booted.
        """
        if wait_for_boot and not await self._wait_for_boot():
            _LOGGER.info(
                "Charger %s did not boot on this connection; nothing sent to it",
                self.session.identity,
            )
            return
        try:
            await self.read_configuration()
        except CallFailed as err:  # the settings are applied all the same (and read back)
            _LOGGER.info("Charger %s: configuration not read: %s", self.session.identity, err)
        await self.backend.charger_ready(self)

    async def _wait_for_boot(self) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.boot_grace):
                await self._booted.wait()
        if self.booted:
            return True
        try:
            await self.trigger_message("BootNotification")
        except CallFailed as err:
            _LOGGER.info("Charger %s: boot not triggered: %s", self.session.identity, err)
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.boot_grace):
                await self._booted.wait()
        return self.booted

    # ------------------------------------------------------------- timestamps
    def _stamp(self, value: str | None, received: datetime) -> datetime:
        """The charger's timestamp, or the receive time if it is missing or implausible.

        An implausible clock is remembered in the model (diagnostics show it).
        """
        reported = parse_timestamp(value) if value else None
        used = plausible_time(reported, received)
        if reported is not None and used is not reported and self.charger is not None:
            self.charger.clock_skew_s = round((reported - received).total_seconds())
        return used

    def _samples(self, meter_values: list[dict[str, Any]], received: datetime) -> list[Sample]:
        return [
            parse_sampled_values(self._stamp(mv.get("timestamp"), received), mv["sampledValue"])
            for mv in meter_values
        ]

    # ------------------------------------------------------------- the charger's CALLs
    def _boot_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        self.info = charger_info(payload)
        if self.charger is None:
            self.charger = self.backend.unknown_boot(
                self.session.identity, self.info, self.session.remote_address
            )
            if self.charger is None:
                return {
                    "status": "Pending",
                    "currentTime": now.isoformat(),
                    "interval": self.settings.pending_retry_interval,
                }
            self.charger.apply_connected(True, self.session.remote_address)
        self.charger.apply_boot(self.info, now)
        self._booted.set()
        if not self._setup_task_started:
            self._setup_task_started = True
            self.session.spawn(self._set_up(wait_for_boot=False), "set up")
        return {
            "status": "Accepted",
            "currentTime": now.isoformat(),
            "interval": self.settings.heartbeat_interval,
        }

    def _heartbeat(self, payload: dict[str, Any]) -> dict[str, Any]:
        del payload
        now = _now()
        if self.charger is not None:
            self.charger.apply_heartbeat(now)
        return {"currentTime": now.isoformat()}

    def _connector_ok(self, connector_id: int) -> bool:
        """A connector id a real charger may have (a huge one would create endless entities)."""
        if 0 <= connector_id <= MAX_CONNECTOR_ID:
            return True
        if not self._bad_connector_logged:
            self._bad_connector_logged = True
            _LOGGER.warning(
                "Charger %s reported connector %s; ignored (0 to %d expected)",
                self.session.identity,
                untrusted(connector_id, 20),
                MAX_CONNECTOR_ID,
            )
        return False

    def _status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        if not self._connector_ok(payload["connectorId"]):
            return {}
        error_code = payload["errorCode"]
        self.charger.apply_status(
            payload["connectorId"],
            connector_status(payload["status"]),
            None if error_code == "NoError" else error_code,
            info=payload.get("info"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        return {}

    def _authorize(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        id_tag = payload["idTag"]
        status = self.backend.authorize(self.charger, id_tag, "Authorize")
        self.charger.apply_authorize(id_tag, status is AuthorizationStatus.ACCEPTED, _now())
        return {"idTagInfo": id_tag_info(status)}

    def _start_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        id_tag = payload["idTag"]
        if not self._connector_ok(payload["connectorId"]) or payload["connectorId"] == 0:
            raise OcppError(
                OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                f"connectorId must be between 1 and {MAX_CONNECTOR_ID}",
            )
        status = self.backend.authorize(self.charger, id_tag, "StartTransaction")
        transaction = Transaction(
            transaction_id=self.backend.next_transaction_id(),
            connector_id=payload["connectorId"],
            id_tag=id_tag,
            meter_start_wh=register(payload["meterStart"], "meterStart"),
            started_at=self._stamp(payload["timestamp"], received),
        )
        # Recorded even when not accepted: the charger may already be charging,
        # and its StopTransaction must find the transaction.
        self.charger.apply_start(transaction)
        return {
            "transactionId": transaction.transaction_id,
            "idTagInfo": id_tag_info(status),
        }

    def _stop_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        self.charger.apply_stop(
            payload["transactionId"],
            register(payload["meterStop"], "meterStop"),
            self._stamp(payload["timestamp"], received),
            payload.get("reason"),
            self._samples(payload.get("transactionData") or [], received),
        )
        id_tag = payload.get("idTag")
        if id_tag is None:
            return {}
        status = self.backend.authorize(self.charger, id_tag, "StopTransaction")
        return {"idTagInfo": id_tag_info(status)}

    def _meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        if not self._connector_ok(payload["connectorId"]):
            return {}
        self.charger.apply_meter_values(
            payload["connectorId"],
            payload.get("transactionId"),
            self._samples(payload["meterValue"], _now()),
        )
        return {}

    def _data_transfer(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        vendor_id = payload["vendorId"]
        if vendor_id not in self.charger.profile.data_transfer_vendor_ids:
            return {"status": "UnknownVendorId"}
        _LOGGER.debug(
            "Charger %s: DataTransfer %s/%s",
            self.session.identity,
            untrusted(vendor_id),
            untrusted(payload.get("messageId")),
        )
        return {"status": "Accepted"}

    def _diagnostics_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_diagnostics_status(payload["status"])
        return {}

    def _firmware_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_firmware_status(payload["status"])
        return {}
