"""Forced answers (`ChargerBehaviour.responses`), whatever the OCPP version.

The values are the answer's status on the wire; "Accepted" / "Rejected" are
also understood for actions whose statuses are named differently
(`_ALIASES`). "error", "timeout" and CALLERROR codes are given before any
handler runs (`screen`), with the CALLERROR codes the OCPP specifications
ask for: ``NotImplemented`` for an unknown action, ``NotSupported`` for a
known one this charger does not handle. Each version names its statuses and
actions (``chargersim.v16.answers``).
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Final

from .rpc import Refusal

__all__ = ["forced_status", "screen"]

_LOGGER = logging.getLogger("chargersim")

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
    answers: Mapping[str, frozenset[str]],
    known_actions: frozenset[str],
) -> Refusal | None:
    """How to answer a CALL without running its handler, if so.

    ``answers`` (the statuses per action) and ``known_actions`` are the version's.
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
