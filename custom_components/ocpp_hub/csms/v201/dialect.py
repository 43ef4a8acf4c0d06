"""OCPP-J 2.0.1: its schemas, its error spellings and the actions we speak.

2.0.1 spells every CALLERROR code as the neutral value (FormatViolation,
OccurrenceConstraintViolation, MessageTypeNotSupported for an unknown message
type, RpcFrameworkError for a frame that is no RPC message); its schema files
are ``<Action>Request.json`` and ``<Action>Response.json``.
"""

from __future__ import annotations

from pathlib import Path

import ocpp

from ..dialect import Dialect

# Charger -> central system actions we handle (their schemas are compiled at start).
HANDLED_ACTIONS = frozenset(
    [
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyEvent",
        "NotifyReport",
        "SecurityEventNotification",
        "StatusNotification",
        "TransactionEvent",
    ]
)
# Central system -> charger actions we may send (their response schemas are compiled too).
COMMAND_ACTIONS = frozenset(
    [
        "ChangeAvailability",
        "ClearChargingProfile",
        "DataTransfer",
        "GetBaseReport",
        "GetCompositeSchedule",
        "GetLog",
        "GetVariables",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    ]
)

DIALECT = Dialect(
    name="2.0.1",
    schema_dir=Path(ocpp.__file__).parent / "v201" / "schemas",
    request_suffix="Request",
    response_suffix="Response",
    handled_actions=HANDLED_ACTIONS,
    command_actions=COMMAND_ACTIONS,
)
