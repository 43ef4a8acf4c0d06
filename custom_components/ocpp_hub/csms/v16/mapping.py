"""OCPP 1.6J payloads to and from the version-neutral model."""

from __future__ import annotations

from typing import Any

from ...model.charger import ChargerInfo
from ..backend import AuthorizationStatus
from ..errors import CallFailed, FailureReason, OcppError, OcppErrorCode

_MAX_REGISTER_WH = 1e15  # a petawatt-hour: anything above is not a meter reading
_MAX_LIMIT = 1e9  # A or W: a larger limit in a composite schedule is not an answer
MAX_CONNECTOR_ID = 64  # no charger has more; each connector gets its own entities


def register(value: int, field: str) -> float:
    """A meter register in Wh (schema-checked as an integer); absurd values are refused."""
    if not 0 <= value <= _MAX_REGISTER_WH:
        raise OcppError(
            OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            f"{field} must be between 0 and {_MAX_REGISTER_WH:.0e} Wh",
        )
    return float(value)


def charger_info(boot: dict[str, Any]) -> ChargerInfo:
    """Who the charger is, from its BootNotification."""
    return ChargerInfo(
        vendor=boot["chargePointVendor"],
        model=boot["chargePointModel"],
        serial=boot.get("chargePointSerialNumber") or boot.get("chargeBoxSerialNumber"),
        firmware=boot.get("firmwareVersion"),
        meter_type=boot.get("meterType"),
        meter_serial=boot.get("meterSerialNumber"),
    )


def id_tag_info(status: AuthorizationStatus) -> dict[str, Any]:
    """The idTagInfo of an answer (1.6 spells the statuses as the neutral values)."""
    return {"status": status.value}


def limit_in_force(composite: dict[str, Any]) -> float | None:
    """The limit in force now (A) in a GetCompositeSchedule answer; None if no limit."""
    schedule = composite.get("chargingSchedule") or {}
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods:
        return None
    first = min(periods, key=lambda p: p.get("startPeriod", 0))
    limit = float(first["limit"])
    if not 0 <= limit <= _MAX_LIMIT:  # also refuses NaN
        raise CallFailed("GetCompositeSchedule", FailureReason.INVALID_RESPONSE, f"limit {limit}")
    return limit
