"""OCPP-J 1.6: its schemas, its error spellings and the actions we speak."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import ocpp

from ..dialect import Dialect
from ..errors import OcppErrorCode

# Charger -> central system actions we handle (their schemas are compiled at start).
HANDLED_ACTIONS = frozenset(
    [
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SecurityEventNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    ]
)
# Central system -> charger actions we may send (their response schemas are compiled too).
COMMAND_ACTIONS = frozenset(
    [
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
    ]
)

DIALECT = Dialect(
    name="1.6",
    schema_dir=Path(ocpp.__file__).parent / "v16" / "schemas",
    request_suffix="",
    response_suffix="Response",
    # OCPP-J 1.6, section 4.2.3 (its misspelling included); it has no
    # MessageTypeNotSupported nor RpcFrameworkError.
    spellings=MappingProxyType(
        {
            OcppErrorCode.FORMAT_VIOLATION: "FormationViolation",
            OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
            OcppErrorCode.MESSAGE_TYPE_NOT_SUPPORTED: "ProtocolError",
            OcppErrorCode.RPC_FRAMEWORK_ERROR: "ProtocolError",
        }
    ),
    handled_actions=HANDLED_ACTIONS,
    command_actions=COMMAND_ACTIONS,
)
