"""Dialects: each OCPP version's schema files and CALLERROR spellings."""

from __future__ import annotations

from pathlib import Path

import ocpp
import pytest

from custom_components.ocpp_hub.csms.dialect import Dialect
from custom_components.ocpp_hub.csms.errors import OcppError, OcppErrorCode
from custom_components.ocpp_hub.csms.v16.dialect import DIALECT, HANDLED_ACTIONS
from custom_components.ocpp_hub.csms.validation import SchemaSet
from custom_components.ocpp_hub.csms.versions import VERSIONS

# What a 2.0.1 dialect will look like: schemas named <Action>Request / <Action>Response.
V201 = Dialect(
    name="2.0.1",
    schema_dir=Path(ocpp.__file__).parent / "v201" / "schemas",
    request_suffix="Request",
)


def test_versions_registry() -> None:
    """The server's registry knows each version by its subprotocol; 1.6 is its dialect's."""
    assert VERSIONS["ocpp1.6"].dialect is DIALECT
    assert VERSIONS["ocpp1.6"].handled_actions == HANDLED_ACTIONS


def test_spellings() -> None:
    """1.6 spells two codes its own way and has no MessageTypeNotSupported; 2.0.1 as named."""
    assert DIALECT.spell(OcppErrorCode.FORMAT_VIOLATION) == "FormationViolation"
    assert DIALECT.spell(OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION) == (
        "OccurenceConstraintViolation"
    )
    assert DIALECT.spell(OcppErrorCode.MESSAGE_TYPE_NOT_SUPPORTED) == "ProtocolError"
    assert DIALECT.spell(OcppErrorCode.NOT_IMPLEMENTED) == "NotImplemented"
    assert V201.spell(OcppErrorCode.FORMAT_VIOLATION) == "FormatViolation"
    assert V201.spell(OcppErrorCode.MESSAGE_TYPE_NOT_SUPPORTED) == "MessageTypeNotSupported"


def test_known_actions_by_file_names() -> None:
    """Known actions come from the request schemas, whatever the version names them."""
    assert {"BootNotification", "StartTransaction"} <= DIALECT.known_actions()
    assert "BootNotificationResponse" not in DIALECT.known_actions()
    v201 = V201.known_actions()
    assert {"BootNotification", "TransactionEvent"} <= v201
    assert not any(name.endswith(("Request", "Response")) for name in v201)


def test_schemas_of_another_dialect() -> None:
    """A 2.0.1 schema set validates 2.0.1 payloads."""
    schemas = SchemaSet.load(V201, {"Heartbeat", "BootNotification"})
    schemas.validate_request(
        "BootNotification",
        {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
    )
    with pytest.raises(OcppError) as err:
        schemas.validate_request("BootNotification", {"reason": "PowerUp"})
    assert err.value.code is OcppErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
    assert schemas.dialect.spell(err.value.code) == "OccurrenceConstraintViolation"
