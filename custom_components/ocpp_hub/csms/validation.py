"""Schema validation of OCPP payloads with the official JSON schemas, compiled once.

The schemas are the ones the ``ocpp`` library ships (the OCA's own files). The
library validates each message with ``jsonschema`` in an executor, which caps a
central system near 2,300 messages per second; here each schema is compiled
once into a plain Python function by ``fastjsonschema`` and runs inline.
Loading and compiling read files, so :meth:`SchemaSet.load` runs in an executor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import json
from typing import Any

import fastjsonschema

from .dialect import Dialect
from .errors import OcppError, OcppErrorCode

Validator = Callable[[Any], Any]


def parse_timestamp(value: str) -> datetime | None:
    """Parse an OCPP dateTime leniently; naive times are taken as UTC. None if invalid."""
    try:
        parsed = datetime.fromisoformat(value)
    except TypeError, ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _is_timestamp(value: str) -> bool:
    return parse_timestamp(value) is not None


# JSON schema keyword that failed -> the CALLERROR OCPP-J names for it.
_RULE_TO_CODE = {
    "type": OcppErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": OcppErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "format": OcppErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "enum": OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "required": OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "minItems": OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "additionalProperties": OcppErrorCode.FORMAT_VIOLATION,
}


def _strip_multiple_of(node: Any) -> None:
    """Drop ``multipleOf``: with binary floats 21.4 is not a multiple of 0.1.

    The schemas that use it (charging schedules) only ask for one decimal; we
    round such values ourselves where we produce them.
    """
    if isinstance(node, dict):
        node.pop("multipleOf", None)
        for child in node.values():
            _strip_multiple_of(child)
    elif isinstance(node, list):
        for child in node:
            _strip_multiple_of(child)


class SchemaSet:
    """Compiled request and response validators for one OCPP version, and its dialect."""

    def __init__(
        self, dialect: Dialect, validators: dict[str, Validator], known: frozenset[str]
    ) -> None:
        """Use :meth:`load` to build one."""
        self.dialect = dialect
        self._validators = validators
        self.known_actions = known

    @classmethod
    def load(cls, dialect: Dialect, actions: set[str]) -> SchemaSet:
        """Compile the request and response schemas of ``actions`` (blocking: file I/O).

        ``known_actions`` lists every action of the version with a schema, so that
        a CALL we recognise but do not handle gets NotSupported rather than
        NotImplemented.
        """
        validators: dict[str, Validator] = {}
        for action in actions:
            for name, path in (
                (action, dialect.request_schema(action)),
                (f"{action}Response", dialect.response_schema(action)),
            ):
                schema = json.loads(path.read_text(encoding="utf-8"))
                _strip_multiple_of(schema)
                validators[name] = fastjsonschema.compile(
                    schema, formats={"date-time": _is_timestamp}
                )
        return cls(dialect, validators, dialect.known_actions())

    def validate_request(self, action: str, payload: Any) -> None:
        """Raise :class:`OcppError` with the code OCPP names if ``payload`` is invalid."""
        self._validate(action, payload)

    def validate_response(self, action: str, payload: Any) -> None:
        """Raise :class:`OcppError` if a charger's response does not fit the schema."""
        self._validate(f"{action}Response", payload)

    def _validate(self, name: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise OcppError(OcppErrorCode.FORMAT_VIOLATION, "payload must be a JSON object")
        try:
            self._validators[name](payload)
        except fastjsonschema.JsonSchemaValueException as err:
            code = _RULE_TO_CODE.get(err.rule or "", OcppErrorCode.FORMAT_VIOLATION)
            raise OcppError(code, err.message.replace("data.", "", 1)[:200]) from None
