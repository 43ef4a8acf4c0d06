"""OCPP 1.6J payloads to and from the version-neutral model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from ...model.charger import Charger, ChargerInfo
from ...model.profiles import QuirkProfile
from ...model.settings import ReportedSettings, flag, number, reported_value, whole_number
from ...model.status import ConnectorStatus
from ..backend import AuthorizationStatus
from ..commands import tx_profile_target
from ..errors import CallFailed, FailureReason, OcppError, OcppErrorCode
from ..port import LimitRequest, Setting

_MAX_REGISTER_WH = 1e15  # a petawatt-hour: anything above is not a meter reading


# ChargePointStatus (1.6) -> ours: Unavailable is inoperative (never HA's "unavailable").
_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.INOPERATIVE,
    "Faulted": ConnectorStatus.FAULTED,
}


def connector_status(value: str) -> ConnectorStatus:
    """A 1.6 ChargePointStatus (already schema-validated) as ours."""
    return _STATUS[value]


def transaction_id(number: int) -> str:
    """The model's id of a 1.6 transaction: its number, in decimal."""
    return str(number)


def transaction_number(transaction_id: str, action: str) -> int:
    """The 1.6 transactionId (an integer) of the model's transaction, for ``action``."""
    try:
        return int(transaction_id)
    except ValueError:
        raise CallFailed(action, FailureReason.REJECTED, "not a 1.6 transaction") from None


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


# Neutral settings -> standard 1.6 configuration keys (the lock is the vendor's, below).
_SETTING_KEYS = {
    # Wallbox's: true means authorization required (inferred, see docs/chargers.md).
    Setting.AUTHORIZATION_REQUIRED: "AuthEnabled",
    Setting.OFFLINE_UNKNOWN_CARDS: "AllowOfflineTxForUnknownId",
    Setting.OFFLINE_LOCAL_AUTHORIZE: "LocalAuthorizeOffline",
    Setting.METER_INTERVAL: "MeterValueSampleInterval",  # 9.1.18
    Setting.CONNECTION_TIMEOUT: "ConnectionTimeOut",  # 9.1.11
    Setting.FREE_VEND_ID_TAG: "AuthDisabledIdTag",  # Wallbox's (the only one seen)
}


def setting_key(setting: Setting, profile: QuirkProfile) -> str | None:
    """The configuration key of ``setting`` on a 1.6 charger of ``profile``; None if none."""
    if setting is Setting.AUTHORIZATION_REQUIRED and not profile.lock_setting:
        return None  # the lock is our answers to its authorization requests
    return _SETTING_KEYS.get(setting)


# Keys whose values the model uses by meaning (:class:`ReportedSettings`).
_CURRENT_CEILING_KEY = "chargingALimitConn1"  # Wallbox's hardware ceiling
_PHASE_SWITCH_KEY = "ConnectorSwitch3to1PhaseSupported"  # 9.4.1 (Smart Charging)
_CONNECTORS_KEY = "NumberOfConnectors"  # 9.1.19


def reported_settings(configuration: Mapping[str, str]) -> ReportedSettings:
    """What a 1.6 charger's configuration keys (in any case) say, by meaning."""
    return ReportedSettings(
        authorization_required=flag(
            reported_value(configuration, _SETTING_KEYS[Setting.AUTHORIZATION_REQUIRED])
        ),
        current_ceiling_a=number(reported_value(configuration, _CURRENT_CEILING_KEY)),
        phase_switching=flag(reported_value(configuration, _PHASE_SWITCH_KEY)) is True,
        connector_count=whole_number(reported_value(configuration, _CONNECTORS_KEY)),
    )


def charging_profile(charger: Charger, request: LimitRequest) -> tuple[int, dict[str, Any]]:
    """(connectorId, csChargingProfiles) of SetChargingProfile for our limit.

    A TxDefaultProfile on the whole charger; for chargers whose profile says so, a
    TxProfile of the running transaction instead (while one runs). With a charging
    window: one profile (a Wallbox holds only one), the week's window and the limit,
    the lower of the two, recurring from Monday 00:00 local.
    """
    quirks = charger.profile
    amps = request.amps
    profile: dict[str, Any] = {
        "chargingProfileId": quirks.limit_profile_id,
        "stackLevel": quirks.limit_stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
        },
    }
    if request.phases is not None:
        profile["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"] = request.phases
    if (window := request.window) is not None:
        assert request.now is not None
        profile["chargingProfileKind"] = "Recurring"
        profile["recurrencyKind"] = "Weekly"
        profile["chargingSchedule"] = {
            "startSchedule": window.week_start(request.now).astimezone(UTC).isoformat(),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": window.periods(amps),
        }
    target = tx_profile_target(
        charger, profile, lambda t: transaction_number(t.transaction_id, "SetChargingProfile")
    )
    return target, profile


def local_list(id_tags: Sequence[str]) -> list[dict[str, Any]]:
    """SendLocalList entries: each idTag accepted."""
    return [{"idTag": id_tag, "idTagInfo": {"status": "Accepted"}} for id_tag in id_tags]
