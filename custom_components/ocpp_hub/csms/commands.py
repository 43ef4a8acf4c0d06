"""The central system's calls that read the same in every OCPP version, but for field names.

:class:`Commands` holds them: our current limit (a charging profile, cleared by
its id, verified with GetCompositeSchedule), DataTransfer, and how an answer's
status becomes success or :class:`~.errors.CallFailed`. A version's commands
name its fields (:class:`LimitWords`) and add the calls that differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..model.charger import Charger
from .errors import CallFailed, FailureReason
from .port import LimitRequest
from .session import Session

_MAX_LIMIT = 1e9  # A or W: a larger limit in a composite schedule is not an answer
# Statuses that say the charger cannot do it at all (rather than will not now).
_NOT_SUPPORTED = frozenset({"NotSupported", "NotImplemented", "UnknownConnector"})


@dataclass(frozen=True, slots=True)
class LimitWords:
    """How a version spells our current limit's calls."""

    target: str  # the connector / EVSE a profile or a schedule is for
    profile: str  # SetChargingProfile's profile
    profile_id: str  # ClearChargingProfile's id of our profile
    schedule: str  # GetCompositeSchedule's answer: the schedule
    # The charger's target and profile of our limit.
    build: Callable[[Charger, LimitRequest], tuple[int, dict[str, Any]]]


def expect_status(
    answer: dict[str, Any], action: str, accepted: tuple[str, ...], detail: str = ""
) -> str:
    """Return the status of an answer, raising :class:`CallFailed` unless accepted."""
    status = str(answer.get("status", ""))
    if status in accepted:
        return status
    reason = FailureReason.NOT_SUPPORTED if status in _NOT_SUPPORTED else FailureReason.REJECTED
    raise CallFailed(action, reason, f"{detail}: {status}" if detail else status)


def schedule_limit(schedule: dict[str, Any], action: str = "GetCompositeSchedule") -> float | None:
    """The limit in force now (A) of a composite schedule; None if it has no period."""
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods:
        return None
    first = min(periods, key=lambda p: p.get("startPeriod", 0))
    limit = float(first["limit"])
    if not 0 <= limit <= _MAX_LIMIT:  # also refuses NaN
        raise CallFailed(action, FailureReason.INVALID_RESPONSE, f"limit {limit}")
    return limit


class Commands:
    """Our calls to the charger of one session that every version makes alike."""

    session: Session
    charger: Charger | None
    LIMIT: ClassVar[LimitWords]

    # ------------------------------------------------------------ current limit
    async def set_limit(self, request: LimitRequest) -> float | None:
        """SetChargingProfile (raises unless Accepted), then the limit in force, if readable."""
        assert self.charger is not None
        words = self.LIMIT
        target, profile = words.build(self.charger, request)
        answer = await self.session.call(
            "SetChargingProfile", {words.target: target, words.profile: profile}
        )
        expect_status(answer, "SetChargingProfile", ("Accepted",))
        try:
            return await self.limit_in_force(1)
        except CallFailed:
            return None

    async def clear_limit(self) -> bool:
        """ClearChargingProfile of our limit; False when the charger had none (Unknown)."""
        assert self.charger is not None
        answer = await self.session.call(
            "ClearChargingProfile", {self.LIMIT.profile_id: self.charger.profile.limit_profile_id}
        )
        status = expect_status(answer, "ClearChargingProfile", ("Accepted", "Unknown"))
        return status == "Accepted"

    async def limit_in_force(self, connector_id: int = 1, duration: int = 60) -> float | None:
        """The current limit in force now (A), from GetCompositeSchedule; None if no limit."""
        words = self.LIMIT
        answer = await self.session.call(
            "GetCompositeSchedule",
            {words.target: connector_id, "duration": duration, "chargingRateUnit": "A"},
        )
        expect_status(answer, "GetCompositeSchedule", ("Accepted",))
        return schedule_limit(answer.get(words.schedule) or {})

    # ------------------------------------------------------------ vendor-specific
    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """A vendor-specific request; returns the charger's answer (status and data)."""
        payload: dict[str, Any] = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        answer = await self.session.call("DataTransfer", payload)
        expect_status(answer, "DataTransfer", ("Accepted",))
        return answer
