"""Errors of the protocol layer: CALLERRORs we send, and failures of our own calls."""

from __future__ import annotations

from enum import StrEnum


class OcppErrorCode(StrEnum):
    """CALLERROR codes of OCPP-J, by what they mean.

    The values are the newer spelling (OCPP-J 2.0.1); a version's
    :class:`~.dialect.Dialect` says how its own spec spells each one on the wire
    (1.6 writes ``FormationViolation`` and ``OccurenceConstraintViolation``, and
    has no ``MessageTypeNotSupported`` nor ``RpcFrameworkError``).
    """

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    # 2.0.1: the frame is no valid RPC message (its id unreadable, elements missing);
    # 1.6 calls that a ProtocolError.
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"


class OcppError(Exception):
    """Raised while handling a CALL: becomes a CALLERROR with this code."""

    def __init__(self, code: OcppErrorCode, description: str) -> None:
        """Keep the code and a short description (sent to the charger)."""
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class FailureReason(StrEnum):
    """Why a call to a charger did not succeed (values are translation keys)."""

    REJECTED = "rejected"
    NOT_SUPPORTED = "not_supported"
    TIMEOUT = "timeout"
    OFFLINE = "offline"
    CALL_ERROR = "call_error"
    INVALID_RESPONSE = "invalid_response"


class CallFailed(Exception):
    """A call we sent to a charger failed; ``reason`` says how."""

    def __init__(self, action: str, reason: FailureReason, detail: str = "") -> None:
        """Keep the action, the reason and a detail (for example the CALLERROR code)."""
        super().__init__(f"{action}: {reason}{f' ({detail})' if detail else ''}")
        self.action = action
        self.reason = reason
        self.detail = detail
