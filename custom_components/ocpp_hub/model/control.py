"""What became of our commands: reboot outcomes, current limits, offline protection.

The charger's own portal cannot tell whether a remote restart worked; a central
system can: Reset answered, socket closed, BootNotification back (or not by a
deadline). Likewise a current limit can be accepted and ignored. These records
keep the truth so entities can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class RebootResult(StrEnum):
    """Outcome of a reboot we asked for (values are Home Assistant states)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


@dataclass(slots=True)
class RebootRecord:
    """The last reboot we asked for."""

    requested_at: datetime
    hard: bool
    result: RebootResult = RebootResult.PENDING
    finished_at: datetime | None = None
    detail: str | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from the request to the charger's return (succeeded only)."""
        if self.result is not RebootResult.SUCCEEDED or self.finished_at is None:
            return None
        return round((self.finished_at - self.requested_at).total_seconds(), 1)

    def finish(self, result: RebootResult, now: datetime, detail: str | None = None) -> None:
        """Record the outcome."""
        self.result = result
        self.finished_at = now
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and diagnostics."""
        return {
            "requested_at": self.requested_at.isoformat(),
            "hard": self.hard,
            "result": self.result.value,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RebootRecord:
        """Restore from storage."""
        finished = data.get("finished_at")
        return cls(
            requested_at=datetime.fromisoformat(data["requested_at"]),
            hard=bool(data.get("hard")),
            result=RebootResult(data.get("result", "failed")),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            detail=data.get("detail"),
        )


class LimitStatus(StrEnum):
    """Whether the charger really applies the current limit we set."""

    PENDING = "pending"
    APPLIED = "applied"
    NOT_APPLIED = "not_applied"
    REJECTED = "rejected"


@dataclass(slots=True)
class LimitState:
    """The current limit the user wants and what the charger does with it."""

    requested_a: float | None = None
    status: LimitStatus | None = None
    reported_a: float | None = None  # what GetCompositeSchedule says is in force
    sent_a: float | None = None  # what we last sent (the owner's limit, or lower)
    failures: int = 0  # consecutive times the limit was not applied
    # Paused by the owner: 0 A is asked for, and resume_a (None: no limit) comes back.
    paused: bool = False
    resume_a: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {"requested_a": self.requested_a, "paused": self.paused, "resume_a": self.resume_a}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LimitState:
        """Restore the wanted limit and pause (the verification starts over)."""
        resume = data.get("resume_a")
        return cls(
            requested_a=data.get("requested_a"),
            paused=bool(data.get("paused", False)),
            resume_a=None if resume is None else float(resume),
        )


class LearnStatus(StrEnum):
    """The Learn card window (values are Home Assistant states)."""

    IDLE = "idle"
    WAITING = "waiting"
    LEARNED = "learned"
    TIMED_OUT = "timed_out"


@dataclass(slots=True)
class LearnState:
    """Whether the next card presented is being learned, and how it ended."""

    status: LearnStatus = LearnStatus.IDLE
    until: datetime | None = None  # while waiting: when the window closes
    card_name: str | None = None  # learned: the name the card was given
    id_tag: str | None = None


class ProtectionStatus(StrEnum):
    """Offline protection: no charging by unknown cards while the charger is offline."""

    ACTIVE = "active"
    NEEDS_REBOOT = "needs_reboot"
    NOT_SUPPORTED = "not_supported"
