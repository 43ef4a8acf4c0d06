"""OCPP-J framing: a frame read and checked, a frame written, a CALL recognised again.

:func:`decode_frame` parses a websocket message into an OCPP-J frame (a CALL,
CALLRESULT or CALLERROR with the right number of elements and a readable
message id) or raises a :class:`FrameError` carrying the CALLERROR to answer;
numbers JSON does not have (``NaN``, ``Infinity``, ``1e400``) become a
:class:`NotFinite` that no schema accepts. :func:`encode` writes a frame
compactly, :func:`replay_key` says when a CALL is the same CALL again (a retry).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from .errors import OcppErrorCode
from .logtext import untrusted

CALL, CALLRESULT, CALLERROR = 2, 3, 4
_MAX_ID_LENGTH = 36  # OCPP-J: a unique id is at most 36 characters

# A frame whose message id could not be read is answered with this id.
UNKNOWN_ID = "-1"


class NotFinite:
    """What ``NaN``, ``Infinity`` or ``1e400`` in a frame parse to.

    They are not JSON numbers (RFC 8259), but Python's parser reads them as
    floats. This placeholder matches no schema type, so such a value is refused
    where a number (or anything else) is expected: a CALL gets a
    TypeConstraintViolation, an answer to our call is invalid.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        """Shown as what it stands for."""
        return "<not a finite number>"


_NOT_FINITE = NotFinite()


def _parse_constant(_text: str) -> NotFinite:
    return _NOT_FINITE


def _parse_float(text: str) -> float | NotFinite:
    value = float(text)
    return value if math.isfinite(value) else _NOT_FINITE


class FrameError(Exception):
    """A frame that cannot be handled as a CALL: answered with a CALLERROR."""

    def __init__(self, message_id: str, code: OcppErrorCode, description: str) -> None:
        """Keep what the CALLERROR needs."""
        super().__init__(description)
        self.message_id = message_id
        self.code = code
        self.description = description


def _message_id(frame: list[Any]) -> str | None:
    if len(frame) < 2:
        return None
    value = frame[1]
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH:
        return value
    return None


def decode_frame(text: str | bytes) -> list[Any]:
    """Parse an OCPP-J frame; raise :class:`FrameError` with the code to answer."""
    if isinstance(text, bytes):
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMAT_VIOLATION, "OCPP-J frames are text, not binary"
        )
    try:
        frame = json.loads(text, parse_constant=_parse_constant, parse_float=_parse_float)
    except ValueError, RecursionError:  # RecursionError: nested ever deeper
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMAT_VIOLATION, "frame is not valid JSON"
        ) from None
    if not isinstance(frame, list) or not frame:
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMAT_VIOLATION, "frame is not a non-empty JSON array"
        )
    message_id = _message_id(frame)
    if message_id is None:
        raise FrameError(
            UNKNOWN_ID,
            OcppErrorCode.RPC_FRAMEWORK_ERROR,
            "message id missing, not a string, or longer than 36 characters",
        )
    kind = frame[0]
    expected = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}.get(kind) if type(kind) is int else None
    if expected is None:
        raise FrameError(
            message_id,
            OcppErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
            f"unknown message type {untrusted(kind, 20)}",
        )
    if len(frame) != expected:
        raise FrameError(
            message_id,
            OcppErrorCode.RPC_FRAMEWORK_ERROR,
            f"message type {kind} needs {expected} elements, got {len(frame)}",
        )
    if kind == CALL and not isinstance(frame[2], str):
        raise FrameError(message_id, OcppErrorCode.RPC_FRAMEWORK_ERROR, "action must be a string")
    return frame


def encode(frame: list[Any]) -> str:
    """Serialise a frame compactly."""
    return json.dumps(frame, separators=(",", ":"))


# Payloads come from json.loads, so they hold no cycles to check for.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)


def replay_key(message_id: str, action: str, payload: Any) -> tuple[str, str, bytes] | None:
    """What makes a CALL the same CALL again: its id, its action and its payload.

    The payload is compared by its canonical JSON (keys sorted), kept as a short
    digest; None for a payload that cannot be serialised (never repeated).
    """
    try:
        canonical = _CANONICAL.encode(payload)
    except TypeError, ValueError, RecursionError:
        return None
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).digest()
    return message_id, action, digest
