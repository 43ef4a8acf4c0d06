"""OCPP 2.0.1 payloads to and from the version-neutral model.

A home charger's EVSE is what the model calls a connector: the model's
connector id is the 2.0.1 ``evseId`` (each EVSE of a home charger has one
connector). Settings are device-model variables, named ``Component.Variable``
in the model's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from ...model.charger import Charger, ChargerInfo, Connector
from ...model.profiles import QuirkProfile
from ...model.settings import ReportedSettings, flag, reported_value
from ...model.status import PLUGGED_IN, ConnectorStatus
from ..backend import AuthorizationStatus
from ..commands import schedule_limit, tx_profile_target
from ..port import LimitRequest, Setting
from .variables import ITEMS_PER_MESSAGE

# Neutral settings -> standard 2.0.1 variables (component, variable).
SETTING_VARIABLES: dict[Setting, tuple[str, str]] = {
    Setting.AUTHORIZATION_REQUIRED: ("AuthCtrlr", "Enabled"),
    Setting.OFFLINE_UNKNOWN_CARDS: ("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    Setting.OFFLINE_LOCAL_AUTHORIZE: ("AuthCtrlr", "LocalAuthorizeOffline"),
    # Seconds between meter values during a transaction: TransactionEvent(Updated)
    # samples. AlignedDataCtrlr.Interval is clock-aligned, also outside transactions.
    Setting.METER_INTERVAL: ("SampledDataCtrlr", "TxUpdatedInterval"),
    Setting.CONNECTION_TIMEOUT: ("TxCtrlr", "EVConnectionTimeOut"),
    # No FREE_VEND_ID_TAG: without authorization 2.0.1 sends no idToken (or NoAuthorization).
}
# The charger switches between three phases and one on request (numberPhases): ReadOnly.
PHASE_SWITCH_VARIABLE = "SmartChargingCtrlr.Phases3to1"
# Read after every boot: the neutral settings' variables and what the model uses by meaning.
BOOT_VARIABLES = (*(".".join(names) for names in SETTING_VARIABLES.values()), PHASE_SWITCH_VARIABLE)


# 2.0.1 firmware statuses -> the neutral (1.6) ones the model keeps; the 1.6 names map
# to themselves. The 2.0.1-only ones fall into the phase they belong to: a download
# scheduled or paused is still the download (Downloading); a verified signature ends
# it (Downloaded), an invalid one fails it (DownloadFailed); an installation scheduled
# or rebooting is the installation (Installing), a failed verification fails it.
_FIRMWARE_STATUS = {
    "DownloadScheduled": "Downloading",
    "DownloadPaused": "Downloading",
    "SignatureVerified": "Downloaded",
    "InvalidSignature": "DownloadFailed",
    "InstallScheduled": "Installing",
    "InstallRebooting": "Installing",
    "InstallVerificationFailed": "InstallationFailed",
}
# 2.0.1 log upload statuses -> the neutral (1.6) diagnostics statuses: every refusal
# or failure is UploadFailed; AcceptedCanceled (this upload replaces one under way)
# is Uploading.
_LOG_STATUS = {
    "BadMessage": "UploadFailed",
    "NotSupportedOperation": "UploadFailed",
    "PermissionDenied": "UploadFailed",
    "UploadFailure": "UploadFailed",
    "AcceptedCanceled": "Uploading",
}


def firmware_status(value: str) -> str:
    """The neutral firmware status of a 2.0.1 FirmwareStatusNotification's status."""
    return _FIRMWARE_STATUS.get(value, value)


def log_status(value: str) -> str:
    """The neutral diagnostics status of a 2.0.1 LogStatusNotification's status."""
    return _LOG_STATUS.get(value, value)


def reported_settings(configuration: Mapping[str, str]) -> ReportedSettings:
    """What a 2.0.1 charger's variables (``Component.Variable``, any case) say, by meaning."""
    lock = ".".join(SETTING_VARIABLES[Setting.AUTHORIZATION_REQUIRED])
    return ReportedSettings(
        authorization_required=flag(reported_value(configuration, lock)),
        phase_switching=flag(reported_value(configuration, PHASE_SWITCH_VARIABLE)) is True,
    )


# How many variables the charger takes per message (asked once when not known).
_BATCH_LIMITS = tuple(
    ITEMS_PER_MESSAGE.format(action) for action in ("GetVariables", "SetVariables")
)


def mapped_first(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` with the variables the mapping reads (:data:`BOOT_VARIABLES`), and the
    charger's ItemsPerMessage, first.

    A full report may hold more variables than the model keeps: those it needs
    must not be the ones left out.
    """
    wanted = {name.casefold() for name in (*BOOT_VARIABLES, *_BATCH_LIMITS)}
    first = {key: value for key, value in values.items() if key.casefold() in wanted}
    return first | {key: value for key, value in values.items() if key not in first}


def setting_variable(setting: Setting, profile: QuirkProfile) -> str | None:
    """``Component.Variable`` of ``setting`` on a 2.0.1 charger; None if none."""
    del profile  # standard variables: the same for every vendor
    names = SETTING_VARIABLES.get(setting)
    return None if names is None else ".".join(names)


def charger_info(boot: dict[str, Any]) -> ChargerInfo:
    """Who the charger is, from its BootNotification."""
    station = boot["chargingStation"]
    return ChargerInfo(
        vendor=station["vendorName"],
        model=station["model"],
        serial=station.get("serialNumber"),
        firmware=station.get("firmwareVersion"),
        meter_type=None,
        meter_serial=None,
    )


def id_token_info(status: AuthorizationStatus) -> dict[str, Any]:
    """The idTokenInfo of an answer (2.0.1 spells the statuses as the neutral values)."""
    return {"status": status.value}


# ChargingStateEnumType -> ours, while the transaction runs.
_CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,  # authorized, no car yet
}


def connector_status(value: str, connector: Connector) -> ConnectorStatus:
    """A 2.0.1 ConnectorStatusEnumType as ours.

    Occupied is a car plugged in: what the connector already shows if that is a
    plugged-in state (charging, suspended ...: the transaction says which),
    finishing after a transaction ended, else preparing.
    """
    match value:
        case "Available":
            return ConnectorStatus.AVAILABLE
        case "Reserved":
            return ConnectorStatus.RESERVED
        case "Unavailable":
            return ConnectorStatus.INOPERATIVE
        case "Faulted":
            return ConnectorStatus.FAULTED
    if connector.status in PLUGGED_IN:
        return connector.status
    return ConnectorStatus.PREPARING


def charging_state(value: str | None, *, ended: bool) -> ConnectorStatus | None:
    """The connector's status from a TransactionEvent's chargingState (None: unchanged)."""
    if value is None:
        return None
    if ended:
        return None if value == "Idle" else ConnectorStatus.FINISHING
    return _CHARGING_STATE.get(value)


def limit_in_force(composite: dict[str, Any]) -> float | None:
    """The limit in force now (A) in a GetCompositeSchedule answer; None if no limit."""
    return schedule_limit(composite.get("schedule") or {})


def charging_profile(charger: Charger, request: LimitRequest) -> tuple[int, dict[str, Any]]:
    """(evseId, chargingProfile) of SetChargingProfile for our limit.

    As in 1.6: a TxDefaultProfile on the whole station (evseId 0); a TxProfile of
    the running transaction for chargers whose profile says so; with a charging
    window, one weekly recurring profile of the lower of window and limit.
    """
    quirks = charger.profile
    schedule: dict[str, Any] = {
        "id": quirks.limit_profile_id,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": request.amps}],
    }
    if request.phases is not None:
        schedule["chargingSchedulePeriod"][0]["numberPhases"] = request.phases
    profile: dict[str, Any] = {
        "id": quirks.limit_profile_id,
        "stackLevel": quirks.limit_stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [schedule],
    }
    if (window := request.window) is not None:
        assert request.now is not None
        profile["chargingProfileKind"] = "Recurring"
        profile["recurrencyKind"] = "Weekly"
        schedule["startSchedule"] = window.week_start(request.now).astimezone(UTC).isoformat()
        schedule["chargingSchedulePeriod"] = window.periods(request.amps)
    return tx_profile_target(charger, profile, lambda t: t.transaction_id), profile


def id_token(value: str) -> dict[str, Any]:
    """An idToken of a card we know: its UID (ISO 14443)."""
    return {"idToken": value, "type": "ISO14443"}


def local_list(id_tags: Sequence[str]) -> list[dict[str, Any]]:
    """SendLocalList entries: each card accepted."""
    return [{"idToken": id_token(tag), "idTokenInfo": {"status": "Accepted"}} for tag in id_tags]
