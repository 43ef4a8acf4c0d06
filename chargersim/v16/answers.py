"""Forced answers (`ChargerBehaviour.responses`) as OCPP 1.6 understands them.

The values are the answer's status on the wire; "Accepted" / "Rejected" are
also understood for actions whose statuses are named differently
(`ALIASES`). "error", "timeout" and CALLERROR codes are given before any
handler runs (`screen`), with the CALLERROR codes the OCPP 1.6 specification
asks for: ``NotImplemented`` for an unknown action, ``NotSupported`` for a
known one this charger does not handle.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Final

from ocpp.v16.enums import Action  # type: ignore[import-untyped, unused-ignore]

from ..rpc import Refusal

__all__ = ["ANSWERS", "forced_status", "screen"]

_LOGGER = logging.getLogger("chargersim")

# Every action name OCPP 1.6 defines (including the security extension).
_KNOWN_ACTIONS: Final[frozenset[str]] = frozenset(str(a.value) for a in Action)

#: The forced answers a handler can give, per action.
ANSWERS: Final[dict[str, frozenset[str]]] = {
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


def forced_status(responses: dict[str, str], action: str, default: str) -> str:
    """The status to answer ``action`` with: the forced one, else ``default``."""
    forced = responses.get(action)
    if forced is None:
        return default
    return _ALIASES.get((action, forced), forced)


def screen(
    responses: dict[str, str],
    identity: str,
    action: str,
    *,
    handled: bool,
    answers: Mapping[str, frozenset[str]] = ANSWERS,
    known_actions: frozenset[str] = _KNOWN_ACTIONS,
) -> Refusal | None:
    """How to answer a CALL without running its handler, if so.

    ``answers`` and ``known_actions`` are the version's (1.6 unless given).
    """
    forced = responses.get(action)
    forced = _ALIASES.get((action, forced), forced) if forced else None
    if forced == "timeout":
        _LOGGER.info("%s: not answering %s (behaviour: timeout)", identity, action)
        return Refusal(None)
    if forced == "error":
        return Refusal("InternalError", "Simulated failure")
    if not handled:
        if action in known_actions:
            return Refusal("NotSupported", f"{action} is not supported")
        return Refusal("NotImplemented", f"{action} is not known")
    if forced is None or forced in answers[action]:
        return None
    if forced in _ERROR_CODES:
        return Refusal(forced, f"{action}: {forced} (behaviour)")
    _LOGGER.error(
        "%s: ChargerBehaviour.responses[%r] = %r is not a valid answer; "
        "use one of %s, error, timeout",
        identity,
        action,
        forced,
        ", ".join(sorted(answers[action] | _ERROR_CODES)),
    )
    return Refusal("InternalError", "Simulator misconfigured")
