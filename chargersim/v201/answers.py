"""Forced answers (`ChargerBehaviour.responses`) as OCPP 2.0.1 understands them.

The rules are every version's (`chargersim.answers`); the statuses are 2.0.1's.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from ocpp.v201.enums import Action  # type: ignore[import-untyped, unused-ignore]

from ..answers import screen as _screen

__all__ = ["ANSWERS", "screen"]

_KNOWN_ACTIONS: Final[frozenset[str]] = frozenset(str(a.value) for a in Action)

#: The forced answers a handler can give, per action.
ANSWERS: Final[dict[str, frozenset[str]]] = {
    "Reset": frozenset({"Accepted", "Rejected", "Scheduled"}),
    "TriggerMessage": frozenset({"Accepted", "Rejected", "NotImplemented"}),
    "GetVariables": frozenset({"Accepted"}),
    "GetBaseReport": frozenset({"Accepted", "Rejected", "NotSupported", "EmptyResultSet"}),
    "SetVariables": frozenset(
        {"Accepted", "Rejected", "RebootRequired", "UnknownVariable", "UnknownComponent"}
    ),
    "RequestStartTransaction": frozenset({"Accepted", "Rejected"}),
    "RequestStopTransaction": frozenset({"Accepted", "Rejected"}),
    "SetChargingProfile": frozenset({"Accepted", "Rejected"}),
    "ClearChargingProfile": frozenset({"Accepted", "Unknown"}),
    "GetCompositeSchedule": frozenset({"Accepted", "Rejected"}),
    "ChangeAvailability": frozenset({"Accepted", "Rejected", "Scheduled"}),
    "UnlockConnector": frozenset(
        {"Unlocked", "UnlockFailed", "OngoingAuthorizedTransaction", "UnknownConnector"}
    ),
    "DataTransfer": frozenset({"Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"}),
    "SendLocalList": frozenset({"Accepted", "Failed", "VersionMismatch"}),
    "UpdateFirmware": frozenset(
        {"Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate"}
    ),
    "GetLog": frozenset({"Accepted", "Rejected", "AcceptedCanceled"}),
}


#: How to answer a 2.0.1 CALL without running its handler, if so.
screen = partial(_screen, answers=ANSWERS, known_actions=_KNOWN_ACTIONS)
