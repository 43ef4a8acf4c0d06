"""A simulated OCPP 1.6J charge point that behaves like a Wallbox.

`SimulatedCharger` is a real OCPP 1.6J client: it opens a websocket to a
central system (CSMS) with subprotocol ``ocpp1.6``, sends charger-initiated
messages (BootNotification, StatusNotification, MeterValues, ...) when told to,
and answers the CSMS-initiated calls a Wallbox supports. How it answers is set
by a `ChargerBehaviour` (per-action forced answers, configuration keys, reboot
timing), so a test can make the charger reject, fail or ignore a request.

It is built on ``ocpp.v16.ChargePoint`` (``call()`` for outgoing calls, ``@on``
handlers for incoming ones) on top of ``websockets.asyncio.client``. A few
places reach into the library because it does not offer what a test tool
needs (see `_Session`):

- every frame is inspected before the library sees it, so that replies to
  `SimulatedCharger.send_raw` reach their waiter, late or unknown replies are
  dropped instead of piling up in the library's response queue, and forced
  answers ("error", "timeout") can be given without running a handler;
- CALLERROR codes follow the OCPP 1.6 specification (``NotImplemented`` for an
  unknown action, ``NotSupported`` for a known one this charger does not
  handle, ``FormationViolation`` for a malformed payload) where the library
  would use other codes;
- work that must happen *after* the answer went out (a StartTransaction after
  RemoteStartTransaction.conf, the reboot after Reset.conf) is queued by the
  handler and started once the library has sent the answer.

The URL is built like a Wallbox does: the charge point identity is always
appended as the last path segment (``ws://host:9000/`` + ``wb1`` ->
``ws://host:9000/wb1``; a missing ``/`` before the identity is added), even if
the URL already ends with the identity (``ws://host/wb1`` -> ``ws://host/wb1/wb1``).
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import functools
import json
import logging
import ssl as ssl_lib
from typing import Any, Final, TypeVar, cast
from urllib.parse import quote, urlsplit, urlunsplit
import uuid

from ocpp.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    FormationViolationError,
    FormatViolationError,
    OCPPError,
)
from ocpp.messages import Call  # type: ignore[import-untyped, unused-ignore]
from ocpp.routing import on as _ocpp_on  # type: ignore[import-untyped, unused-ignore]
from ocpp.v16 import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppChargePoint,
    call,
    call_result,
)
from ocpp.v16.enums import Action as _Action  # type: ignore[import-untyped, unused-ignore]
from websockets.asyncio.client import ClientConnection, connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from .car import PHASE_SWITCH_KEY, Car, loop_time, requested_phases

__all__ = [
    "ChargerBehaviour",
    "ConnectorState",
    "NotConnectedError",
    "SimulatedCharger",
    "build_url",
    "default_configuration",
]

_LOGGER = logging.getLogger("chargersim")
# The ocpp library logs every frame at INFO level on the logger it is given.
_FRAME_LOGGER = logging.getLogger("chargersim.frames")

JSONDict = dict[str, Any]
_Period = tuple[float, JSONDict]  # (limit in A, chargingSchedulePeriod)

# OCPP 1.6 MessageTypeIds.
_CALL: Final = 2
_CALLERROR: Final = 4

# Every action name OCPP 1.6 defines (including the security extension).
_KNOWN_ACTIONS: Final[frozenset[str]] = frozenset(str(a.value) for a in _Action)

# Forced answers (ChargerBehaviour.responses) a handler can give, per action.
# The values are the answer's status on the wire; "Accepted" / "Rejected" are
# also understood for actions whose statuses are named differently (see
# _ALIASES). "error", "timeout" and CALLERROR codes are handled before any
# handler runs.
_ANSWERS: Final[dict[str, frozenset[str]]] = {
    "Reset": frozenset({"Accepted", "Rejected"}),
    "TriggerMessage": frozenset({"Accepted", "Rejected", "NotImplemented"}),
    "GetConfiguration": frozenset({"Accepted"}),
    "ChangeConfiguration": frozenset({"Accepted", "Rejected", "RebootRequired", "NotSupported"}),
    "RemoteStartTransaction": frozenset({"Accepted", "Rejected"}),
    "RemoteStopTransaction": frozenset({"Accepted", "Rejected"}),
    "SetChargingProfile": frozenset({"Accepted", "Rejected", "NotSupported"}),
    "ClearChargingProfile": frozenset({"Accepted", "Unknown"}),
    "GetCompositeSchedule": frozenset({"Accepted", "Rejected"}),
    "ChangeAvailability": frozenset({"Accepted", "Rejected", "Scheduled"}),
    "UnlockConnector": frozenset({"Unlocked", "UnlockFailed", "NotSupported"}),
    "DataTransfer": frozenset({"Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"}),
    "SendLocalList": frozenset({"Accepted", "Failed", "NotSupported", "VersionMismatch"}),
    "GetLocalListVersion": frozenset({"Accepted", "NotSupported"}),
    "ClearCache": frozenset({"Accepted", "Rejected"}),
    "UpdateFirmware": frozenset({"Accepted", "Rejected"}),
    "GetDiagnostics": frozenset({"Accepted", "Rejected"}),
}
_ALIASES: Final[dict[tuple[str, str], str]] = {
    ("UnlockConnector", "Accepted"): "Unlocked",
    ("UnlockConnector", "Rejected"): "UnlockFailed",
    ("ClearChargingProfile", "Rejected"): "Unknown",
    ("SendLocalList", "Rejected"): "Failed",
}
_ERROR_CODES: Final = frozenset({"NotSupported", "NotImplemented"})
#: Statuses a connector has only with a car plugged in.
_CAR_STATUSES: Final = frozenset(
    {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"}
)
#: Model codes of Wallbox chargers with a tethered cable.
TETHERED_MODELS: Final = ("PLP", "PUP", "CMX")


def default_configuration(connectors: int = 1) -> dict[str, tuple[str, bool]]:
    """Return a Wallbox-like configuration: key -> (value, readonly).

    Taken from a public GetConfiguration dump of a Wallbox (see domain.md).
    """
    config: dict[str, tuple[str, bool]] = {
        "AuthEnabled": ("true", False),
        "AuthEnabledOffline": ("true", False),
        "AuthDisabledIdTag": ("NoAuthorization", False),
    }
    for n in range(1, connectors + 1):
        config[f"chargingALimitConn{n}"] = ("32", False)
    config.update(
        {
            "AllowOfflineTxForUnknownId": ("true", False),
            "LocalAuthorizeOffline": ("true", False),
            "LocalPreAuthorize": ("true", False),
            "AuthorizationCacheEnabled": ("true", False),
            "LocalAuthListEnabled": ("true", False),
            "AuthorizeRemoteTxRequests": ("false", True),
            "StopTransactionOnInvalidId": ("true", False),
            # Seconds a remote start waits in Preparing for the car to be plugged in.
            "ConnectionTimeOut": ("60", False),
            "HeartbeatInterval": ("3600", False),
            "ChargeProfileMaxStackLevel": ("1", True),
            "MaxChargingProfilesInstalled": ("1", True),
            "ChargingScheduleAllowedChargingRateUnit": ("Current", True),
            "ConnectorSwitch3to1PhaseSupported": ("false", True),
            "NumberOfConnectors": (str(connectors), True),
            "SupportedFeatureProfiles": (
                "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger",
                True,
            ),
            "MeterValuesSampledData": (
                "Energy.Active.Import.Register,Power.Active.Import,"
                "Current.Import,Voltage,Current.Offered",
                False,
            ),
        }
    )
    return config


@dataclass
class ChargerBehaviour:
    """How the simulated charger answers CSMS-initiated calls.

    ``responses`` maps an action name to a forced answer:

    - a status of that action's answer (``"Accepted"``, ``"Rejected"``,
      ``"Scheduled"``, ``"RebootRequired"``, ``"VersionMismatch"``, ...);
      ``"Accepted"`` / ``"Rejected"`` also work for UnlockConnector
      (Unlocked / UnlockFailed), ClearChargingProfile (Rejected = Unknown) and
      SendLocalList (Rejected = Failed); for UpdateFirmware ``"Rejected"``
      means the download fails, for GetDiagnostics that no file is uploaded;
      for GetLocalListVersion ``"NotSupported"`` answers listVersion -1;
    - ``"NotSupported"`` / ``"NotImplemented"`` where the action has no such
      status: a CALLERROR with that code;
    - ``"error"``: a CALLERROR InternalError;
    - ``"timeout"``: no answer at all.

    Actions not listed get realistic answers derived from the charger's state.
    A forced "Accepted" also performs the action where that is possible.
    ``configuration`` is updated in place by ChangeConfiguration.
    """

    responses: dict[str, str] = field(default_factory=dict)
    configuration: dict[str, tuple[str, bool]] = field(default_factory=default_configuration)
    #: ChangeConfiguration answers RebootRequired for these keys (the value is
    #: stored at once all the same).
    reboot_required_keys: set[str] = field(default_factory=set)
    #: Seconds after Reset.conf before the charger closes its socket,
    #: reconnects and boots again; None = it closes the socket and never
    #: comes back.
    reboot_delay: float | None = 0.5
    #: `SimulatedCharger.boot_until_accepted` waits min(interval, this) between
    #: BootNotifications; None = honour the CSMS's interval like a real charger.
    boot_retry_cap: float | None = 0.2
    #: Answer SetChargingProfile as told but never apply the limit (a firmware
    #: quirk seen on Wallbox 6.4.x): the offered current does not change.
    ignore_charging_limits: bool = False
    #: ConnectorSwitch3to1PhaseSupported: the numberPhases of the schedule period
    #: in force decides the phases used; a switch pauses the car this many seconds.
    phase_switching: bool = False
    phase_switch_pause: float = 5.0


@dataclass
class ConnectorState:
    """What the simulator knows about one connector."""

    connector_id: int
    status: str = "Available"
    error_code: str = "NoError"
    #: ChangeAvailability state; False = Inoperative.
    operative: bool = True
    #: ChangeAvailability(Inoperative) answered Scheduled: applied when the
    #: transaction ends.
    inoperative_scheduled: bool = False
    transaction_id: int | None = None
    id_tag: str | None = None
    meter_start: int | None = None
    transaction_started: datetime | None = None
    #: Energy register (lifetime, Wh) as last reported or set.
    energy_wh: float = 0.0
    #: Last reported active power (W).
    power_w: float = 0.0
    #: A car is plugged in: set by `SimulatedCharger.status` with a status that
    #: needs one (Preparing, Charging, SuspendedEV/EVSE, Finishing), cleared by
    #: one that does not.
    car: bool = False
    #: A RemoteStartTransaction was accepted and waits for the car (Preparing,
    #: at most ConnectionTimeOut seconds).
    remote_start_pending: bool = False
    car_plugged: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _InstalledProfile:
    connector_id: int
    profile: JSONDict
    installed_at: datetime


class NotConnectedError(ConnectionError):
    """A call was attempted while the charger has no open connection."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _on(action: str) -> Callable[[_F], _F]:
    """Typed wrapper around the untyped ``ocpp.routing.on`` decorator."""
    return cast(Callable[[_F], _F], _ocpp_on(action))


def build_url(base_url: str, identity: str) -> str:
    """Append the identity as the last path segment, as a Wallbox does."""
    parts = urlsplit(base_url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(parts._replace(path=path + quote(identity, safe="")))


def _iso(timestamp: datetime | None = None) -> str:
    """Format a timestamp as OCPP wants it (UTC, ``Z`` suffix)."""
    ts = timestamp or datetime.now(UTC)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fmt(value: float) -> str:
    """Format a sampled value: up to 3 decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


class _Session(_OcppChargePoint):  # type: ignore[misc]  # the ocpp library is untyped
    """The OCPP protocol state of one websocket connection.

    Handlers read the payload as it came over the wire (``self.payload``,
    camelCase, floats as floats) rather than the library's snake_case keyword
    arguments, in which schema validation has turned some numbers into
    ``Decimal``. A handler can queue a follow-up (``self.follow_up``) that is
    started once its answer has been sent.
    """

    def __init__(self, sim: SimulatedCharger, ws: ClientConnection) -> None:
        super().__init__(sim.identity, ws, response_timeout=sim.call_timeout, logger=_FRAME_LOGGER)
        self.sim = sim
        self.ws = ws
        self.closed = asyncio.Event()
        self.close_exc: ConnectionClosed | None = None
        self.task: asyncio.Task[None] | None = None
        # Unique ids of our CALLs the library waits for, and their replies.
        self.pending: set[str] = set()
        self.replies: dict[str, list[Any]] = {}
        self.reply_hooks: dict[str, Callable[[JSONDict], None]] = {}
        self.raw_waiter: asyncio.Future[list[Any]] | None = None
        self.payload: JSONDict = {}
        self.follow_up: Callable[[], object] | None = None

    # -- plumbing ------------------------------------------------------------

    async def run(self) -> None:
        """Receive frames until the connection closes."""
        try:
            await self.start()
        except ConnectionClosed as exc:
            self.close_exc = exc
        except Exception:
            _LOGGER.exception("%s: receive loop failed", self.id)
            await self.ws.close(code=1011)
        finally:
            self.closed.set()
            if self.sim._session is self:
                self.sim._ready.clear()

    def closed_error(self) -> Exception:
        if self.close_exc is not None:
            return self.close_exc
        return NotConnectedError(f"{self.id}: connection closed")

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            frame = json.loads(raw_msg)
        except ValueError:
            _LOGGER.warning("%s: ignoring a frame that is not JSON: %r", self.id, raw_msg)
            return
        if isinstance(frame, list) and frame and frame[0] == _CALL:
            await self._route_call(frame)
            return
        if not isinstance(frame, list):
            _LOGGER.warning("%s: ignoring a frame that is not a list: %r", self.id, frame)
            return
        unique_id = frame[1] if len(frame) > 1 else None
        if isinstance(unique_id, str) and unique_id in self.pending:
            self.replies[unique_id] = frame
            if (hook := self.reply_hooks.pop(unique_id, None)) is not None and frame[0] == 3:
                # Applied as the answer arrives, before any call that follows it is read
                # (a RemoteStopTransaction right behind a StartTransaction's answer).
                hook(frame[2])
            await super().route_message(raw_msg)
        elif self.raw_waiter is not None and not self.raw_waiter.done():
            self.raw_waiter.set_result(frame)
        else:
            _LOGGER.warning("%s: ignoring an unexpected reply: %r", self.id, frame)

    async def _route_call(self, frame: list[Any]) -> None:
        if (
            len(frame) != 4
            or not isinstance(frame[1], str)
            or not isinstance(frame[2], str)
            or not isinstance(frame[3], dict)
        ):
            _LOGGER.warning("%s: malformed CALL %r", self.id, frame)
            if len(frame) > 1 and isinstance(frame[1], str):
                await self._send_error(frame[1], "FormationViolation", "Malformed CALL frame")
            return
        unique_id, action, payload = frame[1], frame[2], frame[3]
        self.sim._record_call(action, payload)
        forced = self.sim.behaviour.responses.get(action)
        forced = _ALIASES.get((action, forced), forced) if forced else None
        if forced == "timeout":
            _LOGGER.info("%s: not answering %s (behaviour: timeout)", self.id, action)
            return
        if forced == "error":
            await self._send_error(unique_id, "InternalError", "Simulated failure")
            return
        if action not in self.route_map:
            if action in _KNOWN_ACTIONS:
                await self._send_error(unique_id, "NotSupported", f"{action} is not supported")
            else:
                await self._send_error(unique_id, "NotImplemented", f"{action} is not known")
            return
        if forced is not None and forced not in _ANSWERS[action]:
            if forced in _ERROR_CODES:
                await self._send_error(unique_id, forced, f"{action}: {forced} (behaviour)")
            else:
                _LOGGER.error(
                    "%s: ChargerBehaviour.responses[%r] = %r is not a valid answer; "
                    "use one of %s, error, timeout",
                    self.id,
                    action,
                    forced,
                    ", ".join(sorted(_ANSWERS[action] | _ERROR_CODES)),
                )
                await self._send_error(unique_id, "InternalError", "Simulator misconfigured")
            return
        self.payload = payload
        msg = Call(unique_id, action, payload)
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            # The library would log a traceback; one line is enough here.
            cause = error.details.get("cause") if isinstance(error.details, dict) else None
            _LOGGER.warning(
                "%s: answering %s with %s: %s",
                self.id,
                action,
                error.code,
                cause or error.description,
            )
            await self._send(msg.create_call_error(error).to_json())

    async def _handle_call(self, msg: Any) -> Any:
        self.follow_up = None
        try:
            result = await super()._handle_call(msg)
        except FormatViolationError as exc:
            # OCPP 1.6 spells this error code "FormationViolation".
            self.follow_up = None
            raise FormationViolationError(description=exc.description, details=exc.details) from exc
        except BaseException:
            self.follow_up = None
            raise
        self._run_follow_up()
        return result

    def _run_follow_up(self) -> None:
        follow_up, self.follow_up = self.follow_up, None
        if follow_up is not None:
            follow_up()

    async def _send_error(self, unique_id: str, code: str, description: str) -> None:
        await self._send(
            json.dumps([_CALLERROR, unique_id, code, description, {}], separators=(",", ":"))
        )

    def _status(self, action: str, default: str) -> str:
        forced = self.sim.behaviour.responses.get(action)
        if forced is None:
            return default
        return _ALIASES.get((action, forced), forced)

    def _after(self, coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``coro_fn()`` in a task once the answer has been sent."""
        self.follow_up = lambda: self.sim._spawn(coro_fn())

    # -- CSMS-initiated calls --------------------------------------------------

    @_on("Reset")
    def on_reset(self, **_: Any) -> Any:
        status = self._status("Reset", "Accepted")
        if status == "Accepted":
            reset_type = str(self.payload.get("type", "Soft"))
            self.follow_up = lambda: self.sim._start_reboot(reset_type)
        return call_result.Reset(status=status)

    @_on("TriggerMessage")
    def on_trigger_message(self, **_: Any) -> Any:
        sim = self.sim
        requested = str(self.payload["requestedMessage"])
        connector_id = self.payload.get("connectorId")
        valid = connector_id is None or 0 <= connector_id <= sim.number_of_connectors
        status = self._status("TriggerMessage", "Accepted" if valid else "Rejected")
        if status == "Accepted":
            self._after(lambda: sim._triggered(requested, connector_id))
        return call_result.TriggerMessage(status=status)

    @_on("GetConfiguration")
    def on_get_configuration(self, **_: Any) -> Any:
        config = self.sim.behaviour.configuration
        wanted = self.payload.get("key") or list(config)
        known: list[JSONDict] = []
        unknown: list[str] = []
        for key in wanted:
            canonical = self.sim._config_key(key)
            if canonical is None:
                unknown.append(key)
            else:
                value, readonly = config[canonical]
                known.append({"key": canonical, "readonly": readonly, "value": value})
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @_on("ChangeConfiguration")
    def on_change_configuration(self, **_: Any) -> Any:
        sim = self.sim
        key, value = str(self.payload["key"]), str(self.payload["value"])
        config = sim.behaviour.configuration
        canonical = sim._config_key(key)
        if canonical is None:
            default = "NotSupported"
        elif config[canonical][1] or not sim._valid_config_value(config[canonical][0], value):
            default = "Rejected"
        elif canonical in sim.behaviour.reboot_required_keys:
            default = "RebootRequired"
        else:
            default = "Accepted"
        status = self._status("ChangeConfiguration", default)
        if status in ("Accepted", "RebootRequired"):
            name = canonical or key
            readonly = config[name][1] if name in config else False
            config[name] = (value, readonly)
        return call_result.ChangeConfiguration(status=status)

    @_on("RemoteStartTransaction")
    def on_remote_start_transaction(self, **_: Any) -> Any:
        sim = self.sim
        id_tag = str(self.payload["idTag"])
        connector_id = self.payload.get("connectorId")
        if connector_id is None:
            connector_id = next(
                (
                    c.connector_id
                    for c in sim.connectors.values()
                    if c.operative and c.transaction_id is None
                ),
                1,
            )
        connector = sim.connectors.get(connector_id)
        feasible = (
            connector is not None and connector.operative and connector.transaction_id is None
        )
        status = self._status("RemoteStartTransaction", "Accepted" if feasible else "Rejected")
        if status == "Accepted" and feasible:
            profile = self.payload.get("chargingProfile")
            cid = int(connector_id)
            self._after(lambda: sim._remote_start(cid, id_tag, profile))
        return call_result.RemoteStartTransaction(status=status)

    @_on("RemoteStopTransaction")
    def on_remote_stop_transaction(self, **_: Any) -> Any:
        sim = self.sim
        transaction_id = int(self.payload["transactionId"])
        connector = sim._connector_for_transaction(transaction_id)
        status = self._status("RemoteStopTransaction", "Accepted" if connector else "Rejected")
        if status == "Accepted" and connector is not None:
            cid = connector.connector_id
            self._after(lambda: sim._local_stop(cid, "Remote"))
        return call_result.RemoteStopTransaction(status=status)

    @_on("SetChargingProfile")
    def on_set_charging_profile(self, **_: Any) -> Any:
        sim = self.sim
        connector_id = int(self.payload["connectorId"])
        profile = cast(JSONDict, self.payload["csChargingProfiles"])
        status = self._status("SetChargingProfile", sim._check_profile(connector_id, profile))
        if status == "Accepted" and not sim.behaviour.ignore_charging_limits:
            sim._install_profile(connector_id, profile)
        return call_result.SetChargingProfile(status=status)

    @_on("ClearChargingProfile")
    def on_clear_charging_profile(self, **_: Any) -> Any:
        sim = self.sim
        matching = sim._matching_profiles(self.payload)
        status = self._status("ClearChargingProfile", "Accepted" if matching else "Unknown")
        if status == "Accepted":
            sim.charging_profiles = [
                p for p in sim.charging_profiles if not any(p is m for m in matching)
            ]
        return call_result.ClearChargingProfile(status=status)

    @_on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **_: Any) -> Any:
        sim = self.sim
        connector_id = int(self.payload["connectorId"])
        duration = int(self.payload["duration"])
        valid = 0 <= connector_id <= sim.number_of_connectors
        status = self._status("GetCompositeSchedule", "Accepted" if valid else "Rejected")
        if status != "Accepted" or not valid:
            return call_result.GetCompositeSchedule(status=status)
        limit = sim.current_limit(connector_id)
        phases = requested_phases(p for _, p in sim.periods_in_force(connector_id))
        unit = "A"
        if self.payload.get("chargingRateUnit") == "W":
            unit = "W"
            limit = limit * sim.voltage * (phases or sim.phases)
        # The schema wants multiples of 0.1.
        period = {"startPeriod": 0, "limit": round(limit, 1)} | (
            {"numberPhases": phases} if phases else {}
        )
        return call_result.GetCompositeSchedule(
            status=status,
            connector_id=connector_id,
            schedule_start=_iso(),
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [period],
            },
        )

    @_on("ChangeAvailability")
    def on_change_availability(self, **_: Any) -> Any:
        sim = self.sim
        connector_id = int(self.payload["connectorId"])
        operative = self.payload["type"] == "Operative"
        if connector_id == 0:
            targets = list(sim.connectors.values())
        elif connector_id in sim.connectors:
            targets = [sim.connectors[connector_id]]
        else:
            return call_result.ChangeAvailability(
                status=self._status("ChangeAvailability", "Rejected")
            )
        busy = [c for c in targets if c.transaction_id is not None]
        default = "Scheduled" if busy and not operative else "Accepted"
        status = self._status("ChangeAvailability", default)
        if status == "Rejected":
            return call_result.ChangeAvailability(status=status)
        changed: list[int] = []
        for connector in targets:
            if operative:
                connector.inoperative_scheduled = False
                if not connector.operative:
                    connector.operative = True
                    changed.append(connector.connector_id)
            elif connector.transaction_id is not None:
                connector.inoperative_scheduled = True
            elif connector.operative:
                connector.operative = False
                changed.append(connector.connector_id)
        if changed:
            self._after(lambda: sim._announce(changed))
        return call_result.ChangeAvailability(status=status)

    @_on("UnlockConnector")
    def on_unlock_connector(self, **_: Any) -> Any:
        sim = self.sim
        connector = sim.connectors.get(int(self.payload["connectorId"]))
        if connector is None:
            default = "UnlockFailed"
        else:
            # A tethered cable (Pulsar Plus, Commander 2) has no lock to release.
            default = "NotSupported" if sim.tethered else "Unlocked"
        status = self._status("UnlockConnector", default)
        if status == "Unlocked" and connector and connector.transaction_id is not None:
            cid = connector.connector_id
            self._after(lambda: sim._local_stop(cid, "UnlockCommand"))
        return call_result.UnlockConnector(status=status)

    @_on("DataTransfer")
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=self._status("DataTransfer", "Accepted"))

    @_on("SendLocalList")
    def on_send_local_list(self, **_: Any) -> Any:
        sim = self.sim
        status = self._status("SendLocalList", "Accepted")
        if status == "Accepted":
            entries = self.payload.get("localAuthorizationList") or []
            if self.payload["updateType"] == "Full":
                sim.local_list = {}
            for entry in entries:
                tag = str(entry["idTag"])
                if "idTagInfo" in entry:
                    sim.local_list[tag] = entry["idTagInfo"]
                else:
                    sim.local_list.pop(tag, None)
            sim.local_list_version = int(self.payload["listVersion"])
        return call_result.SendLocalList(status=status)

    @_on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        sim = self.sim
        enabled = sim.configuration_value("LocalAuthListEnabled", "true") != "false"
        status = self._status("GetLocalListVersion", "Accepted" if enabled else "NotSupported")
        version = sim.local_list_version if status == "Accepted" else -1
        return call_result.GetLocalListVersion(list_version=version)

    @_on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=self._status("ClearCache", "Accepted"))

    @_on("UpdateFirmware")
    def on_update_firmware(self, **_: Any) -> Any:
        sim = self.sim
        if self._status("UpdateFirmware", "Accepted") == "Accepted":
            steps = ["Downloading", "Downloaded", "Installing", "Installed"]
        else:
            steps = ["Downloading", "DownloadFailed"]
        self._after(lambda: sim._report_progress("firmware", steps))
        return call_result.UpdateFirmware()

    @_on("GetDiagnostics")
    def on_get_diagnostics(self, **_: Any) -> Any:
        sim = self.sim
        if self._status("GetDiagnostics", "Accepted") != "Accepted":
            return call_result.GetDiagnostics()
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._after(lambda: sim._report_progress("diagnostics", ["Uploading", "Uploaded"]))
        return call_result.GetDiagnostics(file_name=f"{sim.serial}-diagnostics-{stamp}.log")


class SimulatedCharger:
    """A simulated OCPP 1.6J charge point (Wallbox-like).

    Charger-to-CSMS calls return the CSMS's answer payload as a plain dict
    (camelCase keys, as on the wire). They raise the ``ocpp.exceptions``
    error matching a CALLERROR answer, ``TimeoutError`` after
    ``call_timeout`` seconds without an answer, websockets' ``ConnectionClosed``
    if the connection closes while waiting, and `NotConnectedError` when
    there is no open connection. Calls are sent one at a time (the ocpp
    library's call lock), as real chargers do.
    """

    def __init__(
        self,
        url: str,
        identity: str,
        *,
        password: str | None = None,
        vendor: str = "Wall Box Chargers",
        model: str = "PLP1-0-2-4",
        serial: str = "SIM-000001",
        firmware: str = "6.7.11",
        connectors: int = 1,
        ssl: ssl_lib.SSLContext | None = None,
        subprotocols: list[str] | None = None,
        behaviour: ChargerBehaviour | None = None,
        call_timeout: float = 10.0,
        phases: int | None = None,
        tethered: bool | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a charger has at least one connector")
        self.base_url = url
        self.identity = identity
        #: The URL actually connected to: ``url`` + ``/`` + identity.
        self.url = build_url(url, identity)
        self.password = password
        self.vendor = vendor
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.number_of_connectors = connectors
        self.ssl = ssl
        self.subprotocols = ["ocpp1.6"] if subprotocols is None else list(subprotocols)
        self.behaviour = behaviour if behaviour is not None else ChargerBehaviour()
        self.call_timeout = call_timeout
        #: Electrical supply used to convert W <-> A (and by the scenarios):
        #: single phase unless told otherwise; 240 V for North American models.
        self.phases = phases if phases is not None else 1
        self.voltage = 240.0 if model.upper().startswith("PUP") else 230.0
        #: A fixed cable (UnlockConnector answers NotSupported): the Pulsar Plus and
        #: Commander 2 by default, not the Copper SB (a socket) or other models.
        self.tethered = (
            tethered if tethered is not None else model.upper().startswith(TETHERED_MODELS)
        )

        # Fit the configuration to the number of connectors.
        config = self.behaviour.configuration
        if "NumberOfConnectors" in config:
            config["NumberOfConnectors"] = (str(connectors), config["NumberOfConnectors"][1])
        if "chargingALimitConn1" in config:
            for n in range(2, connectors + 1):
                config.setdefault(f"chargingALimitConn{n}", config["chargingALimitConn1"])
        if self.behaviour.phase_switching or PHASE_SWITCH_KEY in config:
            config[PHASE_SWITCH_KEY] = (str(self.behaviour.phase_switching).lower(), True)

        self.connectors: dict[int, ConnectorState] = {
            n: ConnectorState(n) for n in range(1, connectors + 1)
        }
        self.cars = {n: Car(seed=f"{identity}:{n}", clock=loop_time) for n in self.connectors}
        self.charging_profiles: list[_InstalledProfile] = []
        self.local_list: dict[str, Any] = {}
        self.local_list_version = 0
        self.firmware_status_value = "Idle"
        self.diagnostics_status_value = "Idle"

        #: (action, payload) of every CSMS-initiated call, in arrival order
        #: (recorded when the call arrives, before it is answered).
        self.received: list[tuple[str, JSONDict]] = []
        self.call_counts: Counter[str] = Counter()
        self._consumed: list[bool] = []
        self._call_waiters: list[tuple[str, asyncio.Future[JSONDict]]] = []
        #: How many BootNotifications were sent in total.
        self.boots = 0
        #: The answer to the last BootNotification, if any.
        self.last_boot: JSONDict | None = None

        self._session: _Session | None = None
        self._ready = asyncio.Event()
        self._boot_accepted: set[asyncio.Event] = set()
        self._last_accepted_boot: JSONDict | None = None
        self._raw_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reboot_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._backoff = (0.2, 5.0)
        # Transaction messages waiting for the CSMS to be reachable again.
        self._outbox: list[Callable[[], Awaitable[JSONDict]]] = []

    # -- connection ------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a websocket connection is open."""
        return self._session is not None and not self._session.closed.is_set()

    @property
    def ready(self) -> bool:
        """True when connected and a BootNotification was accepted on it."""
        return self.connected and self._ready.is_set()

    @property
    def rebooting(self) -> bool:
        """True between an accepted Reset and the end of the following boot."""
        return self._reboot_task is not None and not self._reboot_task.done()

    async def connect(self) -> None:
        """Open the websocket and start receiving.

        Raises websockets' ``InvalidStatus`` when the server refuses the
        upgrade (for example HTTP 401 for a wrong password), ``OSError`` when
        it cannot be reached, ``TimeoutError`` when the handshake times out.
        Does not send a BootNotification.
        """
        if self.connected:
            return
        self._stopped = False
        headers: dict[str, str] = {}
        if self.password is not None:
            token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        extra: dict[str, Any] = {}
        if self.url.lower().startswith("wss:") and self.ssl is not None:
            extra["ssl"] = self.ssl
        ws = await ws_connect(
            self.url,
            subprotocols=[Subprotocol(p) for p in self.subprotocols] or None,
            additional_headers=headers or None,
            proxy=None,  # a charger talks to its CSMS directly
            open_timeout=10,
            close_timeout=2,
            ping_interval=None,  # the central system pings (a Wallbox does not)
            **extra,
        )
        session = _Session(self, ws)
        session.task = asyncio.create_task(session.run(), name=f"chargersim-{self.identity}")
        self._session = session
        self._ready.clear()
        _LOGGER.info(
            "%s: connected to %s (subprotocol %s)", self.identity, self.url, ws.subprotocol
        )

    async def close(self) -> None:
        """Close the connection cleanly and stop background work. Idempotent."""
        self._stopped = True
        current = asyncio.current_task()
        tasks = [t for t in (*self._tasks, self._reboot_task) if t is not None]
        tasks = [t for t in tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        await self._drop_connection()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> SimulatedCharger:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Return when the current connection has closed (either side)."""
        session = self._session
        if session is None:
            return
        async with asyncio.timeout(timeout):
            await session.closed.wait()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Return when connected and a BootNotification was accepted on it.

        Waits across reconnections (for example the reboot after a Reset).
        """
        async with asyncio.timeout(timeout):
            while not self.ready:
                await self._ready.wait()
                if not self.ready:
                    await asyncio.sleep(0.05)

    async def _drop_connection(self) -> None:
        session = self._session
        self._ready.clear()
        if session is None:
            return
        with contextlib.suppress(Exception):
            await session.ws.close()
        if session.task is not None:
            await asyncio.wait({session.task})

    async def run_forever(
        self,
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        boot_on_reconnect: bool = True,
    ) -> None:
        """Stay connected until `close` is called, like a charger in the field.

        Connects (retrying with exponential backoff between ``min_backoff``
        and ``max_backoff`` seconds; after HTTP 401 it waits ``max_backoff``),
        sends BootNotification until Accepted, then StatusNotification for
        every connector, and starts over when the connection drops. After a
        plain reconnect it boots again unless ``boot_on_reconnect`` is False.
        """
        self._stopped = False
        self._backoff = (min_backoff, max_backoff)
        loop = asyncio.get_running_loop()
        first = True
        delay = min_backoff
        while not self._stopped:
            reboot = self._reboot_task
            if reboot is not None and not reboot.done():
                await asyncio.wait({reboot})
                continue
            if not self.connected:
                if not await self._connect_with_backoff():
                    return
                await self._start_session(boot=first or boot_on_reconnect)
                first = False
            opened = loop.time()
            await self.wait_closed()
            if self._stopped or self.rebooting:
                continue
            # A connection that keeps dropping right away backs off too.
            if loop.time() - opened >= max_backoff:
                delay = min_backoff
            _LOGGER.warning("%s: connection lost; reconnecting in %.3g s", self.identity, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)

    async def _connect_with_backoff(self) -> bool:
        """Connect, retrying until it works; False if `close` was called."""
        min_backoff, max_backoff = self._backoff
        delay = min_backoff
        while not self._stopped:
            try:
                await self.connect()
            except Exception as exc:  # any failure means "try again later"
                failure: Exception = exc
            else:
                return True
            wait = delay
            status = getattr(getattr(failure, "response", None), "status_code", None)
            if status == 401:
                wait = max_backoff
                _LOGGER.error(
                    "%s: password rejected by %s (HTTP 401); retrying in %.3g s",
                    self.identity,
                    self.url,
                    wait,
                )
            elif isinstance(failure, ssl_lib.SSLCertVerificationError):
                _LOGGER.error(
                    "%s: TLS certificate of %s not trusted (%s); "
                    "use --cafile or --insecure; retrying in %.3g s",
                    self.identity,
                    self.url,
                    failure.verify_message,
                    wait,
                )
            else:
                _LOGGER.warning(
                    "%s: cannot connect to %s: %s; retrying in %.3g s",
                    self.identity,
                    self.url,
                    failure or type(failure).__name__,
                    wait,
                )
            delay = min(delay * 2, max_backoff)
            await asyncio.sleep(wait)
        return False

    async def _start_session(self, *, boot: bool) -> None:
        """Boot (or just mark ready) and announce the connectors' states."""
        try:
            if boot:
                await self.boot_until_accepted(timeout=None)
            else:
                self._ready.set()
            await self._flush_outbox()
            await self._announce(list(self.connectors))
        except (ConnectionClosed, NotConnectedError, TimeoutError) as exc:
            _LOGGER.warning("%s: session setup failed: %s", self.identity, exc)

    # -- charger -> CSMS calls -------------------------------------------------

    async def _call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        session = self._session
        if session is None or session.closed.is_set():
            raise NotConnectedError(f"{self.identity}: not connected")
        unique_id = str(uuid.uuid4())
        session.pending.add(unique_id)
        if on_reply is not None:
            session.reply_hooks[unique_id] = on_reply
        request = asyncio.ensure_future(session.call(payload, suppress=False, unique_id=unique_id))
        closed = asyncio.ensure_future(session.closed.wait())
        try:
            done, _ = await asyncio.wait({request, closed}, return_when=asyncio.FIRST_COMPLETED)
            if request not in done:
                raise session.closed_error()
            request.result()
            frame = session.replies.pop(unique_id)
            return cast(JSONDict, frame[2])
        finally:
            session.pending.discard(unique_id)
            session.replies.pop(unique_id, None)
            session.reply_hooks.pop(unique_id, None)
            for task in (request, closed):
                if not task.done():
                    task.cancel()

    async def boot(self) -> JSONDict:
        """Send a BootNotification."""
        self.boots += 1
        session = self._session
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
        self.last_boot = answer
        if answer.get("status") == "Accepted":
            interval = answer.get("interval")
            if isinstance(interval, int) and interval > 0:
                readonly = self.behaviour.configuration.get("HeartbeatInterval", ("", False))[1]
                self.behaviour.configuration["HeartbeatInterval"] = (str(interval), readonly)
            self._last_accepted_boot = answer
            if session is self._session and self.connected:
                self._ready.set()
            for event in self._boot_accepted:
                event.set()
        return answer

    async def boot_until_accepted(self, timeout: float | None = 10) -> JSONDict:
        """Send BootNotification until the CSMS accepts it; return that answer.

        Between attempts it waits the answer's ``interval``, capped by
        ``behaviour.boot_retry_cap`` (0.2 s by default, for tests). An
        Accepted answer to a boot sent for TriggerMessage(BootNotification)
        meanwhile ends the wait too. ``TimeoutError`` after ``timeout`` s.
        """
        accepted = asyncio.Event()
        self._boot_accepted.add(accepted)
        answer: JSONDict = {}
        try:
            async with asyncio.timeout(timeout):
                while True:
                    answer = await self.boot()
                    if answer.get("status") == "Accepted":
                        return answer
                    interval = answer.get("interval")
                    wait = float(interval) if isinstance(interval, int) and interval > 0 else 10.0
                    cap = self.behaviour.boot_retry_cap
                    if cap is not None:
                        wait = min(wait, cap)
                    _LOGGER.info(
                        "%s: boot %s, retrying in %.1f s",
                        self.identity,
                        answer.get("status"),
                        wait,
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await accepted.wait()
                    if accepted.is_set() and self._last_accepted_boot is not None:
                        return self._last_accepted_boot
        except TimeoutError as exc:
            raise TimeoutError(
                f"{self.identity}: BootNotification not accepted within {timeout} s "
                f"(last answer: {answer.get('status', 'none')})"
            ) from exc
        finally:
            self._boot_accepted.discard(accepted)

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
            connector.car = status in _CAR_STATUSES
            if connector.car:
                connector.car_plugged.set()
            else:
                connector.car_plugged.clear()
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
                timestamp=_iso(timestamp),
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
                connector.transaction_id = transaction_id
                connector.id_tag = id_tag
                connector.meter_start = meter_start
                connector.transaction_started = when
                connector.energy_wh = max(connector.energy_wh, float(meter_start))

        return await self._call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=_iso(when),
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
        connector = self._connector_for_transaction(transaction_id)
        now_unavailable = False
        if connector is not None:
            connector.transaction_id = None
            connector.id_tag = None
            connector.meter_start = None
            connector.transaction_started = None
            connector.power_w = 0.0
            connector.energy_wh = max(connector.energy_wh, float(meter_stop))
            self.charging_profiles = [
                p
                for p in self.charging_profiles
                if not (
                    p.connector_id == connector.connector_id
                    and p.profile.get("chargingProfilePurpose") == "TxProfile"
                )
            ]
            if connector.inoperative_scheduled:
                connector.inoperative_scheduled = False
                connector.operative = False
                now_unavailable = True
        answer = await self._call(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=_iso(timestamp),
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
        return await self._call(
            call.MeterValues(
                connector_id=connector_id,
                meter_value=[{"timestamp": _iso(timestamp), "sampledValue": samples}],
                transaction_id=transaction_id,
            )
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

    async def send_raw(
        self, frame: str | bytes, *, expect_reply: bool = True, timeout: float = 5
    ) -> list[Any] | None:
        """Send a frame as-is (text, or binary for bytes), bypassing the library.

        Returns the next frame from the server that is not a CALL and is not
        the reply to one of the library's own calls (parsed JSON list), or
        None when ``expect_reply`` is False. CALLs arriving meanwhile are
        answered as usual. ``TimeoutError`` if nothing comes within
        ``timeout`` s; ``ConnectionClosed`` if the server closes instead.
        """
        session = self._session
        if session is None or session.closed.is_set():
            raise NotConnectedError(f"{self.identity}: not connected")
        async with self._raw_lock:
            if not expect_reply:
                await session.ws.send(frame)
                return None
            waiter: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
            session.raw_waiter = waiter
            closed = asyncio.ensure_future(session.closed.wait())
            waiting: set[asyncio.Future[Any]] = {waiter, closed}
            try:
                await session.ws.send(frame)
                done, _ = await asyncio.wait(
                    waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if waiter in done:
                    return waiter.result()
                if closed in done:
                    raise session.closed_error()
                raise TimeoutError(f"no reply to raw frame within {timeout} s")
            finally:
                session.raw_waiter = None
                closed.cancel()

    # -- what the CSMS sent us -------------------------------------------------

    def _record_call(self, action: str, payload: JSONDict) -> None:
        self.received.append((action, payload))
        self.call_counts[action] += 1
        for index, (wanted, future) in enumerate(self._call_waiters):
            if wanted == action and not future.done():
                future.set_result(payload)
                del self._call_waiters[index]
                self._consumed.append(True)
                return
        self._consumed.append(False)

    async def wait_for_call(self, action: str, timeout: float = 5) -> JSONDict:
        """Return the payload of the oldest not yet waited-for call ``action``.

        Waits for the next one if there is none. ``TimeoutError`` otherwise.
        """
        for index, (name, payload) in enumerate(self.received):
            if name == action and not self._consumed[index]:
                self._consumed[index] = True
                return payload
        future: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        entry = (action, future)
        self._call_waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if entry in self._call_waiters:
                self._call_waiters.remove(entry)

    # -- state helpers ---------------------------------------------------------

    def configuration_value(self, key: str, default: str | None = None) -> str | None:
        """Return a configuration value (key matched case-insensitively)."""
        canonical = self._config_key(key)
        if canonical is None:
            return default
        return self.behaviour.configuration[canonical][0]

    @property
    def heartbeat_interval(self) -> int:
        """HeartbeatInterval from the configuration (set by an accepted boot)."""
        value = self.configuration_value("HeartbeatInterval", "3600") or "3600"
        return int(value) if _is_int(value) and int(value) > 0 else 3600

    def _config_key(self, key: str) -> str | None:
        config = self.behaviour.configuration
        if key in config:
            return key
        lowered = key.lower()
        return next((k for k in config if k.lower() == lowered), None)

    @staticmethod
    def _valid_config_value(current: str, new: str) -> bool:
        if current.lower() in ("true", "false"):
            return new.lower() in ("true", "false")
        if _is_int(current):
            return _is_int(new)
        return True

    def _connector_for_transaction(self, transaction_id: int) -> ConnectorState | None:
        return next(
            (c for c in self.connectors.values() if c.transaction_id == transaction_id),
            None,
        )

    def hardware_limit(self, connector_id: int) -> float:
        """The connector's current ceiling (``chargingALimitConn<n>``, default 32 A)."""
        value = self.configuration_value(f"chargingALimitConn{max(connector_id, 1)}")
        try:
            return float(value) if value is not None else 32.0
        except ValueError:
            return 32.0

    def car(self, connector_id: int) -> Car:
        """The car on a connector (`chargersim.car.Car`; the scenarios drive it)."""
        return self.cars[connector_id]

    def current_limit(self, connector_id: int, now: datetime | None = None) -> float:
        """The current (A) the connector may offer now: hardware ceiling, profiles in force."""
        limits = [limit for limit, _ in self.periods_in_force(connector_id, now)]
        return max(0.0, min([self.hardware_limit(connector_id), *limits]))

    def periods_in_force(self, connector_id: int, now: datetime | None = None) -> list[_Period]:
        """(limit in A, chargingSchedulePeriod) of the ChargePointMaxProfile and
        the TxProfile (or else the TxDefaultProfile) in force, highest stackLevel
        first. Connector 0 means the whole charge point."""
        now = now or datetime.now(UTC)
        found = [self._profile_limit(0, "ChargePointMaxProfile", now)]
        if connector_id > 0:
            found.append(
                self._profile_limit(connector_id, "TxProfile", now)
                or self._profile_limit(connector_id, "TxDefaultProfile", now)
                or self._profile_limit(0, "TxDefaultProfile", now)
            )
        return [f for f in found if f is not None]

    def _profile_limit(self, connector_id: int, purpose: str, now: datetime) -> _Period | None:
        candidates = [
            p
            for p in self.charging_profiles
            if p.connector_id == connector_id and p.profile.get("chargingProfilePurpose") == purpose
        ]
        candidates.sort(key=lambda p: int(p.profile.get("stackLevel", 0)), reverse=True)
        for installed in candidates:
            limit = self._schedule_limit(installed, now)
            if limit is not None:
                return limit
        return None

    def _schedule_limit(self, installed: _InstalledProfile, now: datetime) -> _Period | None:
        profile = installed.profile
        valid_from = _parse_time(profile.get("validFrom"))
        valid_to = _parse_time(profile.get("validTo"))
        if (valid_from and now < valid_from) or (valid_to and now >= valid_to):
            return None
        schedule = cast(JSONDict, profile.get("chargingSchedule", {}))
        kind = profile.get("chargingProfileKind")
        start = _parse_time(schedule.get("startSchedule")) or installed.installed_at
        if kind == "Relative":
            connector = self.connectors.get(installed.connector_id)
            start = (connector.transaction_started if connector else None) or now
        elapsed = (now - start).total_seconds()
        if kind == "Recurring" and elapsed >= 0:
            period = 7 * 86400 if profile.get("recurrencyKind") == "Weekly" else 86400
            elapsed %= period
        duration = schedule.get("duration")
        if elapsed < 0 or (isinstance(duration, int | float) and elapsed >= duration):
            return None
        periods = sorted(schedule.get("chargingSchedulePeriod", []), key=lambda p: p["startPeriod"])
        current = [p for p in periods if p["startPeriod"] <= elapsed]
        if not current:
            return None
        limit = float(current[-1]["limit"])
        if schedule.get("chargingRateUnit") == "W":
            phases = int(current[-1].get("numberPhases", self.phases))
            limit /= self.voltage * max(phases, 1)
        return limit, current[-1]

    def _check_profile(self, connector_id: int, profile: JSONDict) -> str:
        """The status a real charger would answer to SetChargingProfile."""
        purpose = profile.get("chargingProfilePurpose")
        connector = self.connectors.get(connector_id)
        if connector_id != 0 and connector is None:
            return "Rejected"
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return "Rejected"
        if purpose == "TxProfile":
            if connector is None or connector.transaction_id is None:
                return "Rejected"
            wanted = profile.get("transactionId")
            if wanted is not None and wanted != connector.transaction_id:
                return "Rejected"
        max_stack = self.configuration_value("ChargeProfileMaxStackLevel")
        if (
            max_stack is not None
            and _is_int(max_stack)
            and int(profile.get("stackLevel", 0)) > int(max_stack)
        ):
            return "Rejected"
        units = self.configuration_value("ChargingScheduleAllowedChargingRateUnit")
        unit = profile.get("chargingSchedule", {}).get("chargingRateUnit")
        if units is not None:
            allowed = {"A" if u.strip() == "Current" else "W" for u in units.split(",")}
            if unit not in allowed:
                return "Rejected"
        return "Accepted"

    def _install_profile(self, connector_id: int, profile: JSONDict) -> None:
        profile_id = profile.get("chargingProfileId")
        purpose = profile.get("chargingProfilePurpose")
        stack = profile.get("stackLevel")
        self.charging_profiles = [
            p
            for p in self.charging_profiles
            if p.profile.get("chargingProfileId") != profile_id
            and not (
                p.connector_id == connector_id
                and p.profile.get("chargingProfilePurpose") == purpose
                and p.profile.get("stackLevel") == stack
            )
        ]
        self.charging_profiles.append(_InstalledProfile(connector_id, profile, datetime.now(UTC)))
        _LOGGER.info(
            "%s: installed %s %s on connector %d: now %.1f A",
            self.identity,
            purpose,
            profile_id,
            connector_id,
            self.current_limit(max(connector_id, 1)),
        )

    def _matching_profiles(self, criteria: JSONDict) -> list[_InstalledProfile]:
        def matches(p: _InstalledProfile) -> bool:
            if "id" in criteria and p.profile.get("chargingProfileId") != criteria["id"]:
                return False
            if "connectorId" in criteria and p.connector_id != criteria["connectorId"]:
                return False
            purpose = criteria.get("chargingProfilePurpose")
            if purpose is not None and p.profile.get("chargingProfilePurpose") != purpose:
                return False
            stack = criteria.get("stackLevel")
            return stack is None or p.profile.get("stackLevel") == stack

        return [p for p in self.charging_profiles if matches(p)]

    # -- background work -------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ConnectionClosed | NotConnectedError):
            _LOGGER.info("%s: background work stopped: %s", self.identity, exc)
        elif exc is not None:
            _LOGGER.error("%s: background work failed: %r", self.identity, exc, exc_info=exc)

    async def _announce(self, connector_ids: list[int]) -> None:
        """Send each connector's current status."""
        for connector_id in connector_ids:
            connector = self.connectors[connector_id]
            status = connector.status
            if not connector.operative:
                status = "Unavailable"
            elif status == "Unavailable":
                status = "Available"
            await self.status(connector_id, status, connector.error_code)

    async def _triggered(self, requested: str, connector_id: int | None) -> None:
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
                        transaction_id=c.transaction_id,
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

    async def _remote_start(self, connector_id: int, id_tag: str, profile: JSONDict | None) -> None:
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
                self._install_profile(connector_id, profile)
        await self.status(connector_id, "Charging")

    async def _deauthorized(self, connector_id: int) -> None:
        """StopTransactionOnInvalidId: end a transaction the CSMS did not accept."""
        if self.configuration_value("StopTransactionOnInvalidId", "true") == "true":
            await self._local_stop(connector_id, "DeAuthorized")

    async def _local_stop(self, connector_id: int, reason: str) -> None:
        """Stop the connector's transaction (RemoteStop, Unlock) and go Finishing."""
        connector = self.connectors[connector_id]
        if connector.transaction_id is None:
            return
        sent = await self._stop_reliably(connector, reason)
        if connector.operative:
            connector.status = "Finishing"
            if sent:
                await self.status(connector_id, "Finishing")

    async def _stop_reliably(self, connector: ConnectorState, reason: str) -> bool:
        """StopTransaction for the connector's transaction, never lost.

        If it cannot be delivered now it is queued (with its original
        timestamp) and sent after the next accepted boot, before the
        connectors are announced, as a real charger does. False if queued.
        """
        if connector.transaction_id is None:
            return True
        stop = functools.partial(
            self.stop_transaction,
            connector.transaction_id,
            int(connector.energy_wh),
            reason=reason,
            timestamp=datetime.now(UTC),
        )
        try:
            await stop()
        except (ConnectionClosed, NotConnectedError, TimeoutError) as exc:
            _LOGGER.warning("%s: StopTransaction not delivered (%s); queued", self.identity, exc)
            self._outbox.append(stop)
            return False
        return True

    async def _flush_outbox(self) -> None:
        """Send the transaction messages queued while the CSMS was unreachable."""
        while self._outbox:
            await self._outbox[0]()
            self._outbox.pop(0)

    async def _report_progress(self, kind: str, steps: list[str]) -> None:
        """Walk through firmware / diagnostics statuses, 0.1 s apart."""
        for step in steps:
            await asyncio.sleep(0.1)
            if kind == "firmware":
                await self.firmware_status(step)
            else:
                await self.diagnostics_status(step)

    def _start_reboot(self, reset_type: str) -> None:
        previous = self._reboot_task
        if previous is not None and not previous.done():
            # A Reset over the new connection while the last reboot is still
            # announcing itself: that reboot is over as far as it matters.
            previous.cancel()
        self._reboot_task = asyncio.ensure_future(self._reboot(reset_type))
        self._reboot_task.add_done_callback(self._task_done)

    async def _reboot(self, reset_type: str) -> None:
        """After Reset.conf: stop transactions, go away, come back and boot."""
        reason = "HardReset" if reset_type == "Hard" else "SoftReset"
        for connector in self.connectors.values():
            if connector.transaction_id is not None:
                await self._stop_reliably(connector, reason)
            connector.status = "Available"
            connector.error_code = "NoError"
        delay = self.behaviour.reboot_delay
        if delay is None:
            _LOGGER.info("%s: %s reset; never coming back", self.identity, reset_type)
            self._stopped = True
            await self._drop_connection()
            return
        await asyncio.sleep(delay)
        _LOGGER.info("%s: rebooting (%s reset)", self.identity, reset_type)
        await self._drop_connection()
        if await self._connect_with_backoff():
            await self._start_session(boot=True)
