"""OCPP 1.6J: charger messages into model events, and our commands to the charger.

:class:`V16Handler` answers the charger's CALLs (payloads already validated
against the official schemas) by applying them to the :class:`Charger` model,
and offers the calls we make to the charger as typed coroutines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from typing import Any

from ..model.charger import Charger, ChargerInfo, Transaction, plausible_time
from ..model.meter import Sample, parse_sampled_values
from ..model.secrets import REDACTED, is_secret_key
from ..model.status import ConnectorStatus
from .backend import AuthorizationStatus, Backend
from .errors import CallFailed, FailureReason, OcppError, OcppErrorCode
from .logtext import untrusted
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
    # A registered charger that reconnects without booting is configured after this.
    boot_grace: float = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


_MAX_REGISTER_WH = 1e15  # a petawatt-hour: anything above is not a meter reading
_MAX_LIMIT = 1e9  # A or W: a larger limit in a composite schedule is not an answer
MAX_CONNECTOR_ID = 64  # no charger has more; each connector gets its own entities


def _register(value: int, field: str) -> float:
    """A meter register in Wh (schema-checked as an integer); absurd values are refused."""
    if not 0 <= value <= _MAX_REGISTER_WH:
        raise OcppError(
            OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            f"{field} must be between 0 and {_MAX_REGISTER_WH:.0e} Wh",
        )
    return float(value)


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
        if charger is not None:
            self.bind(charger)

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
            ConnectorStatus.from_ocpp(payload["status"]),
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
        return {"idTagInfo": {"status": status.value}}

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
            meter_start_wh=_register(payload["meterStart"], "meterStart"),
            started_at=self._stamp(payload["timestamp"], received),
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
            _register(payload["meterStop"], "meterStop"),
            self._stamp(payload["timestamp"], received),
            payload.get("reason"),
            self._samples(payload.get("transactionData") or [], received),
        )
        id_tag = payload.get("idTag")
        if id_tag is None:
            return {}
        status = self.backend.authorize(self.charger, id_tag, "StopTransaction")
        return {"idTagInfo": {"status": status.value}}

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
        values, _ = await self.get_configuration(keys)
        return values

    async def get_configuration(
        self, keys: list[str] | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """(values, unknown keys) from GetConfiguration; the model learns the values.

        Values of secret keys (passwords, keys) are neither kept nor returned.
        """
        payload: dict[str, Any] = {"key": keys} if keys else {}
        answer = await self.session.call("GetConfiguration", payload)
        values = {
            item["key"]: item.get("value", "")
            for item in answer.get("configurationKey") or []
            if "key" in item
        }
        if self.charger is not None:
            self.charger.apply_configuration(values, complete=not keys)
        shown = {key: REDACTED if is_secret_key(key) else value for key, value in values.items()}
        return shown, list(answer.get("unknownKey") or [])

    async def change_configuration(self, key: str, value: str) -> str:
        """Set one configuration key; returns Accepted or RebootRequired.

        Rejected raises REJECTED, NotSupported (unknown key) raises NOT_SUPPORTED.
        The model learns the new value when the charger accepted it.
        """
        answer = await self.session.call("ChangeConfiguration", {"key": key, "value": value})
        status = _expect_status(
            answer, "ChangeConfiguration", ("Accepted", "RebootRequired"), detail=key
        )
        if self.charger is not None:
            self.charger.apply_configuration({key: value})
        return status

    async def reset(self, hard: bool = False) -> None:
        """Reboot the charger (Reset Soft or Hard); raises unless Accepted."""
        answer = await self.session.call("Reset", {"type": "Hard" if hard else "Soft"})
        _expect_status(answer, "Reset", ("Accepted",))

    async def remote_start(self, id_tag: str, connector_id: int | None = None) -> None:
        """Ask the charger to start a transaction (RemoteStartTransaction)."""
        payload: dict[str, Any] = {"idTag": id_tag}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        answer = await self.session.call("RemoteStartTransaction", payload)
        _expect_status(answer, "RemoteStartTransaction", ("Accepted",))

    async def remote_stop(self, transaction_id: int) -> None:
        """Ask the charger to stop a transaction (RemoteStopTransaction)."""
        answer = await self.session.call("RemoteStopTransaction", {"transactionId": transaction_id})
        _expect_status(answer, "RemoteStopTransaction", ("Accepted",))

    async def change_availability(self, connector_id: int, operative: bool) -> str:
        """Operative or Inoperative; returns Accepted or Scheduled (after the session)."""
        answer = await self.session.call(
            "ChangeAvailability",
            {"connectorId": connector_id, "type": "Operative" if operative else "Inoperative"},
        )
        return _expect_status(answer, "ChangeAvailability", ("Accepted", "Scheduled"))

    async def unlock_connector(self, connector_id: int) -> None:
        """Release the cable lock; NotSupported (tethered cable) and UnlockFailed raise."""
        answer = await self.session.call("UnlockConnector", {"connectorId": connector_id})
        _expect_status(answer, "UnlockConnector", ("Unlocked",))

    async def set_charging_profile(self, connector_id: int, profile: dict[str, Any]) -> None:
        """Install a charging profile; raises unless Accepted."""
        answer = await self.session.call(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )
        _expect_status(answer, "SetChargingProfile", ("Accepted",))

    async def clear_charging_profile(self, **criteria: Any) -> bool:
        """Remove matching profiles; False when the charger had none (Unknown)."""
        answer = await self.session.call("ClearChargingProfile", criteria)
        return _expect_status(answer, "ClearChargingProfile", ("Accepted", "Unknown")) == (
            "Accepted"
        )

    async def composite_limit(self, connector_id: int, duration: int = 60) -> float | None:
        """The current limit in force now (A), from GetCompositeSchedule; None if no limit."""
        answer = await self.session.call(
            "GetCompositeSchedule",
            {"connectorId": connector_id, "duration": duration, "chargingRateUnit": "A"},
        )
        _expect_status(answer, "GetCompositeSchedule", ("Accepted",))
        schedule = answer.get("chargingSchedule") or {}
        periods = schedule.get("chargingSchedulePeriod") or []
        if not periods:
            return None
        first = min(periods, key=lambda p: p.get("startPeriod", 0))
        limit = float(first["limit"])
        if not 0 <= limit <= _MAX_LIMIT:  # also refuses NaN
            raise CallFailed(
                "GetCompositeSchedule", FailureReason.INVALID_RESPONSE, f"limit {limit}"
            )
        return limit

    async def send_local_list(
        self, version: int, entries: list[dict[str, Any]], full: bool = True
    ) -> None:
        """Replace (or update) the charger's local authorization list."""
        answer = await self.session.call(
            "SendLocalList",
            {
                "listVersion": version,
                "localAuthorizationList": entries,
                "updateType": "Full" if full else "Differential",
            },
        )
        _expect_status(answer, "SendLocalList", ("Accepted",))

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """A vendor-specific request; returns the charger's answer (status and data)."""
        payload: dict[str, Any] = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        answer = await self.session.call("DataTransfer", payload)
        _expect_status(answer, "DataTransfer", ("Accepted",))
        return answer

    async def update_firmware(self, location: str, retrieve_date: str) -> None:
        """Ask the charger to download and install firmware from ``location``."""
        await self.session.call(
            "UpdateFirmware", {"location": location, "retrieveDate": retrieve_date}
        )

    async def get_diagnostics(self, location: str) -> str | None:
        """Ask the charger to upload a diagnostics file; returns its file name if any."""
        answer = await self.session.call("GetDiagnostics", {"location": location})
        file_name: str | None = answer.get("fileName")
        return file_name


def _expect_status(
    answer: dict[str, Any], action: str, accepted: tuple[str, ...], detail: str = ""
) -> str:
    """Return the status of an answer, raising :class:`CallFailed` unless accepted."""
    status = str(answer.get("status", ""))
    if status in accepted:
        return status
    reason = (
        FailureReason.NOT_SUPPORTED
        if status in ("NotSupported", "NotImplemented")
        else FailureReason.REJECTED
    )
    raise CallFailed(action, reason, f"{detail}: {status}" if detail else status)
