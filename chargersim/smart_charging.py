"""Smart-charging arithmetic: installed charging profiles and the limit in force.

Pure functions over the list of `InstalledProfile` a charger holds: which
schedule period is in force (ChargePointMaxProfile, then TxProfile or else
TxDefaultProfile, highest stackLevel first), the current it allows, the
``numberPhases`` it asks for, whether a new profile is acceptable, and the
composite schedule a GetCompositeSchedule answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

__all__ = [
    "PHASE_SWITCH_KEY",
    "InstalledProfile",
    "Period",
    "check_profile",
    "composite_period",
    "install_profile",
    "matching_profiles",
    "offered_phases",
    "parse_time",
    "periods_in_force",
    "requested_phases",
    "without_tx_profiles",
]

JSONDict = dict[str, Any]
Period = tuple[float, JSONDict]  # (limit in A, chargingSchedulePeriod)
#: When the transaction on a connector started (for Relative profiles), if one runs.
TransactionStart = Callable[[int], datetime | None]

#: The configuration key of a charger that can switch between 3 and 1 phases.
PHASE_SWITCH_KEY: Final = "ConnectorSwitch3to1PhaseSupported"


@dataclass
class InstalledProfile:
    connector_id: int
    profile: JSONDict
    installed_at: datetime


@dataclass(frozen=True)
class Supply:
    """The electrical supply, to convert a limit in W to A."""

    phases: int
    voltage: float


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def periods_in_force(
    profiles: Iterable[InstalledProfile],
    connector_id: int,
    now: datetime,
    *,
    supply: Supply,
    transaction_start: TransactionStart,
) -> list[Period]:
    """(limit in A, chargingSchedulePeriod) of the ChargePointMaxProfile and
    the TxProfile (or else the TxDefaultProfile) in force, highest stackLevel
    first. Connector 0 means the whole charge point."""
    installed = list(profiles)

    def limit(cid: int, purpose: str) -> Period | None:
        candidates = [
            p
            for p in installed
            if p.connector_id == cid and p.profile.get("chargingProfilePurpose") == purpose
        ]
        candidates.sort(key=lambda p: int(p.profile.get("stackLevel", 0)), reverse=True)
        for candidate in candidates:
            found = _schedule_limit(candidate, now, supply, transaction_start)
            if found is not None:
                return found
        return None

    found = [limit(0, "ChargePointMaxProfile")]
    if connector_id > 0:
        found.append(
            limit(connector_id, "TxProfile")
            or limit(connector_id, "TxDefaultProfile")
            or limit(0, "TxDefaultProfile")
        )
    return [f for f in found if f is not None]


def _schedule_limit(
    installed: InstalledProfile,
    now: datetime,
    supply: Supply,
    transaction_start: TransactionStart,
) -> Period | None:
    profile = installed.profile
    valid_from = parse_time(profile.get("validFrom"))
    valid_to = parse_time(profile.get("validTo"))
    if (valid_from and now < valid_from) or (valid_to and now >= valid_to):
        return None
    schedule = cast(JSONDict, profile.get("chargingSchedule", {}))
    kind = profile.get("chargingProfileKind")
    start = parse_time(schedule.get("startSchedule")) or installed.installed_at
    if kind == "Relative":
        start = transaction_start(installed.connector_id) or now
    elapsed = (now - start).total_seconds()
    if kind == "Recurring" and elapsed >= 0:
        period = 7 * 86400 if profile.get("recurrencyKind") == "Weekly" else 86400
        elapsed %= period
    duration = schedule.get("duration")
    if elapsed < 0 or (isinstance(duration, int | float) and elapsed >= duration):
        return None
    periods = sorted(schedule.get("chargingSchedulePeriod", []), key=lambda p: p["startPeriod"])
    current = [p for p in periods if p["startPeriod"] <= elapsed]
    if not current:
        return None
    limit = float(current[-1]["limit"])
    if schedule.get("chargingRateUnit") == "W":
        phases = int(current[-1].get("numberPhases", supply.phases))
        limit /= supply.voltage * max(phases, 1)
    return limit, current[-1]


def requested_phases(periods: Iterable[Mapping[str, Any]]) -> int | None:
    """The fewest ``numberPhases`` among charging schedule periods; None if none has one."""
    asked = [int(p["numberPhases"]) for p in periods if p.get("numberPhases") is not None]
    return min(asked) if asked else None


def offered_phases(phases: int, periods: Iterable[Period], *, switching: bool) -> int:
    """The phases a connector offers: the supply's phases; if the charger can switch
    phases, at most the ``numberPhases`` of the periods in force. Without that
    support ``numberPhases`` is ignored, as on a Wallbox."""
    if switching:
        asked = requested_phases(period for _, period in periods)
        if asked is not None:
            phases = min(phases, asked)
    return max(1, phases)


def composite_period(
    limit: float, periods: Iterable[Period], unit: str, supply: Supply
) -> JSONDict:
    """The one chargingSchedulePeriod of a composite schedule in ``unit`` (A or W)."""
    phases = requested_phases(p for _, p in periods)
    if unit == "W":
        limit = limit * supply.voltage * (phases or supply.phases)
    # The schema wants multiples of 0.1.
    period: JSONDict = {"startPeriod": 0, "limit": round(limit, 1)}
    return period | ({"numberPhases": phases} if phases else {})


def check_profile(
    connector_id: int,
    profile: JSONDict,
    *,
    transaction_id: int | str | None,
    connector_exists: bool,
    max_stack_level: int | None,
    allowed_units: str | None,
) -> str:
    """The status a real charger would answer to SetChargingProfile."""
    purpose = profile.get("chargingProfilePurpose")
    if connector_id != 0 and not connector_exists:
        return "Rejected"
    if purpose == "ChargePointMaxProfile" and connector_id != 0:
        return "Rejected"
    if purpose == "TxProfile":
        if transaction_id is None:
            return "Rejected"
        wanted = profile.get("transactionId")
        if wanted is not None and wanted != transaction_id:
            return "Rejected"
    if max_stack_level is not None and int(profile.get("stackLevel", 0)) > max_stack_level:
        return "Rejected"
    unit = profile.get("chargingSchedule", {}).get("chargingRateUnit")
    if allowed_units is not None:
        allowed = {"A" if u.strip() == "Current" else "W" for u in allowed_units.split(",")}
        if unit not in allowed:
            return "Rejected"
    return "Accepted"


def install_profile(
    profiles: Iterable[InstalledProfile], connector_id: int, profile: JSONDict, now: datetime
) -> list[InstalledProfile]:
    """The profiles after installing one: it replaces the one with its id, and the
    one with its purpose and stackLevel on its connector."""
    profile_id = profile.get("chargingProfileId")
    purpose = profile.get("chargingProfilePurpose")
    stack = profile.get("stackLevel")
    kept = [
        p
        for p in profiles
        if p.profile.get("chargingProfileId") != profile_id
        and not (
            p.connector_id == connector_id
            and p.profile.get("chargingProfilePurpose") == purpose
            and p.profile.get("stackLevel") == stack
        )
    ]
    return [*kept, InstalledProfile(connector_id, profile, now)]


def matching_profiles(
    profiles: Iterable[InstalledProfile], criteria: JSONDict
) -> list[InstalledProfile]:
    """The profiles a ClearChargingProfile with these criteria clears."""

    def matches(p: InstalledProfile) -> bool:
        if "id" in criteria and p.profile.get("chargingProfileId") != criteria["id"]:
            return False
        if "connectorId" in criteria and p.connector_id != criteria["connectorId"]:
            return False
        purpose = criteria.get("chargingProfilePurpose")
        if purpose is not None and p.profile.get("chargingProfilePurpose") != purpose:
            return False
        stack = criteria.get("stackLevel")
        return stack is None or p.profile.get("stackLevel") == stack

    return [p for p in profiles if matches(p)]


def without_tx_profiles(
    profiles: Iterable[InstalledProfile], connector_id: int
) -> list[InstalledProfile]:
    """The profiles once the transaction on a connector ended: its TxProfiles go."""
    return [
        p
        for p in profiles
        if not (
            p.connector_id == connector_id
            and p.profile.get("chargingProfilePurpose") == "TxProfile"
        )
    ]
