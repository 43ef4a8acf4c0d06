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

from ..model.charger import Charger, Transaction
from .errors import CallFailed, FailureReason
from .port import Capability, LimitRequest
from .session import Session

_MAX_LIMIT = 1e9  # A or W: a larger limit in a composite schedule is not an answer
# Statuses that say the charger cannot do it at all (rather than will not now).
_NOT_SUPPORTED = frozenset({"NotSupported", "NotImplemented", "UnknownConnector"})


@dataclass(frozen=True, slots=True)
class LimitWords:
    """How a version spells our current limit's calls (in this order)."""

    target: str  # the connector / EVSE a profile or a schedule is for
    profile: str  # SetChargingProfile's profile
    profile_id: str  # ClearChargingProfile's id of our profile
    schedule: str  # GetCompositeSchedule's answer: the schedule


def tx_profile_target(
    charger: Charger, profile: dict[str, Any], transaction_id: Callable[[Transaction], object]
) -> int:
    """Where our limit goes: 0 (the whole charger) or, for chargers that need it, a TxProfile.

    Chargers whose quirk profile says so get a TxProfile of the running transaction
    (``transaction_id`` names it as the charger knows it) on its connector, while one runs.
    """
    running = next((c for c in charger.outlets if c.transaction), None)
    if not charger.profile.limit_as_tx_profile or running is None or not running.transaction:
        return 0
    profile["chargingProfilePurpose"] = "TxProfile"
    profile["transactionId"] = transaction_id(running.transaction)
    return running.connector_id


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
    #: What only some versions can do: the ones this version can.
    CAPABILITIES: ClassVar[frozenset[Capability]]
    LIMIT: ClassVar[LimitWords]

    @staticmethod
    def limit_profile(charger: Charger, request: LimitRequest) -> tuple[int, dict[str, Any]]:
        """The charger's target (connector or EVSE) and profile of our limit."""
        raise NotImplementedError

    def supports(self, capability: Capability) -> bool:
        """Whether this version can do ``capability``."""
        return capability in self.CAPABILITIES

    # ------------------------------------------------------------ current limit
    async def set_limit(self, request: LimitRequest) -> float | None:
        """SetChargingProfile (raises unless Accepted), then the limit in force, if readable."""
        assert self.charger is not None
        words = self.LIMIT
        target, profile = self.limit_profile(self.charger, request)
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
