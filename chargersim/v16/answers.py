"""Forced answers (`ChargerBehaviour.responses`) in OCPP 1.6 statuses (`chargersim.answers`)."""

from __future__ import annotations

from functools import partial
from typing import Final

from ocpp.v16.enums import Action  # type: ignore[import-untyped, unused-ignore]

from ..answers import screen as _screen

__all__ = ["ANSWERS", "screen"]

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

#: How to answer a 1.6 CALL without running its handler, if so.
screen = partial(_screen, answers=ANSWERS, known_actions=frozenset(str(a.value) for a in Action))
