"""OCPP 1.6J: charger messages into model events, and our commands to the charger.

:class:`V16Handler` answers the charger's CALLs (payloads already validated
against the official schemas) by applying them to the :class:`Charger` model,
and offers the calls we make to the charger as typed coroutines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from typing import Any

from ..model.charger import Charger, ChargerInfo, Transaction, plausible_time
from ..model.meter import Sample, parse_sampled_values
from ..model.status import ConnectorStatus
from .backend import AuthorizationStatus, Backend
from .errors import CallFailed, FailureReason, OcppError, OcppErrorCode
from .session import Session
from .validation import parse_timestamp

_LOGGER = logging.getLogger(__name__)

# Charger -> central system actions we handle (their schemas are compiled at start).
HANDLED_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)
# Central system -> charger actions we may send (their response schemas are compiled too).
COMMAND_ACTIONS = frozenset(
    {
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)
# What an unknown (Pending) charger may send before the owner accepts it.
_ALLOWED_WHILE_PENDING = frozenset({"BootNotification", "Heartbeat"})


@dataclass(slots=True)
class V16Settings:
    """Tunables of the 1.6 handler."""

    heartbeat_interval: int = 300
    pending_retry_interval: int = 60


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(value: str | None, received: datetime) -> datetime:
    """A charger's timestamp, or the receive time if it is missing or implausible."""
    return plausible_time(parse_timestamp(value) if value else None, received)


def _samples(meter_values: list[dict[str, Any]], received: datetime) -> list[Sample]:
    return [
        parse_sampled_values(_stamp(mv.get("timestamp"), received), mv["sampledValue"])
        for mv in meter_values
    ]


class V16Handler:
    """The OCPP 1.6J conversation with one connected charger."""

    actions = HANDLED_ACTIONS

    def __init__(
        self,
        session: Session,
        backend: Backend,
        charger: Charger | None,
        settings: V16Settings,
        on_closed: Callable[[V16Handler], None] | None = None,
    ) -> None:
        """Serve ``session``; ``charger`` is None while the identity is not registered."""
        self.session = session
        self.backend = backend
        self.charger = charger
        self.settings = settings
        self.info: ChargerInfo | None = None
        self._boot_requested = False
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
        if charger is not None:
            charger.apply_connected(True, session.remote_address)

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
        """Mark the charger disconnected."""
        if self.charger is not None:
            self.charger.apply_connected(False)
        if self._on_closed is not None:
            self._on_closed(self)

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this (Pending) charger: ask it to boot again now."""
        self.charger = charger
        charger.apply_connected(True, self.session.remote_address)
        self.session.spawn(self.trigger_message("BootNotification"), "trigger boot")

    # ------------------------------------------------------------- the charger's CALLs
    def _boot_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        self.info = ChargerInfo(
            vendor=payload["chargePointVendor"],
            model=payload["chargePointModel"],
            serial=payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber"),
            firmware=payload.get("firmwareVersion"),
            meter_type=payload.get("meterType"),
            meter_serial=payload.get("meterSerialNumber"),
        )
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
        self.session.spawn(self.read_configuration(), "read configuration")
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

    def _status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        error_code = payload["errorCode"]
        self.charger.apply_status(
            payload["connectorId"],
            ConnectorStatus.from_ocpp(payload["status"]),
            None if error_code == "NoError" else error_code,
            info=payload.get("info"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        return {}

    def _authorize(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        id_tag = payload["idTag"]
        status = self.backend.authorize(self.charger, id_tag)
        self.charger.apply_authorize(id_tag, status is AuthorizationStatus.ACCEPTED, _now())
        return {"idTagInfo": {"status": status.value}}

    def _start_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        id_tag = payload["idTag"]
        status = self.backend.authorize(self.charger, id_tag)
        transaction = Transaction(
            transaction_id=self.backend.next_transaction_id(),
            connector_id=payload["connectorId"],
            id_tag=id_tag,
            meter_start_wh=float(payload["meterStart"]),
            started_at=_stamp(payload["timestamp"], received),
        )
        # Recorded even when not accepted: the charger may already be charging,
        # and its StopTransaction must find the transaction.
        self.charger.apply_start(transaction)
        return {
            "transactionId": transaction.transaction_id,
            "idTagInfo": {"status": status.value},
        }

    def _stop_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        self.charger.apply_stop(
            payload["transactionId"],
            float(payload["meterStop"]),
            _stamp(payload["timestamp"], received),
            payload.get("reason"),
            _samples(payload.get("transactionData") or [], received),
        )
        id_tag = payload.get("idTag")
        if id_tag is None:
            return {}
        status = self.backend.authorize(self.charger, id_tag)
        return {"idTagInfo": {"status": status.value}}

    def _meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_meter_values(
            payload["connectorId"],
            payload.get("transactionId"),
            _samples(payload["meterValue"], _now()),
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
            vendor_id,
            payload.get("messageId"),
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

    # ------------------------------------------------------------ our calls
    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now (TriggerMessage)."""
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        answer = await self.session.call("TriggerMessage", payload)
        _expect_status(answer, "TriggerMessage", ("Accepted",))

    async def read_configuration(self, keys: list[str] | None = None) -> dict[str, str]:
        """Read configuration keys (all when ``keys`` is None) into the model."""
        payload: dict[str, Any] = {"key": keys} if keys else {}
        answer = await self.session.call("GetConfiguration", payload)
        values = {
            item["key"]: item.get("value", "")
            for item in answer.get("configurationKey") or []
            if "key" in item
        }
        if self.charger is not None:
            self.charger.apply_configuration(values)
        return values


def _expect_status(answer: dict[str, Any], action: str, accepted: tuple[str, ...]) -> str:
    """Return the status of an answer, raising :class:`CallFailed` unless accepted."""
    status = str(answer.get("status", ""))
    if status in accepted:
        return status
    reason = FailureReason.NOT_SUPPORTED if status == "NotImplemented" else FailureReason.REJECTED
    raise CallFailed(action, reason, status)
