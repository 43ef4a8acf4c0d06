"""What the owner wants of a charger, and what became of the commands that carry it out.

The lock and auto-lock, the current limit and pause, the charge mode, the
charging window; the reboot we asked for, offline protection, an availability
change the charger scheduled, the Learn card window and the central system's
answers to cards presented. The protocol and Home Assistant layers record these
through the ``apply_*`` methods; the charger's own reports are in
:class:`~.charger.Charger`, which holds one of these as its ``owner``. Both tell
the same listeners (the charger's), each ``apply_*`` method with one notification.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from .control import (
    LearnState,
    LimitState,
    LimitStatus,
    ProtectionStatus,
    RebootRecord,
    RebootResult,
)
from .energy import ChargeControl
from .schedule import ChargingWindow
from .topics import Notify, Topic


@dataclass(frozen=True, slots=True)
class CardDecision:
    """A card (idTag) presented at the charger and what the central system answered."""

    id_tag: str
    card_name: str | None
    accepted: bool
    status: str  # the OCPP AuthorizationStatus sent
    at: datetime
    learned: bool = False


class OwnerState:
    """The owner's wishes for one charger and the outcome of our commands."""

    def __init__(self, notify: Notify) -> None:
        """The defaults of a charger just registered: locked, no limit, no window.

        ``notify`` tells the charger's listeners what changed (:meth:`.Listeners.notify`).
        """
        self.notify = notify
        self.lock_wanted = True
        # Minutes after the car is unplugged before the charger locks again (0: never).
        self.auto_lock_minutes = 0
        self.auto_lock_due: datetime | None = None  # when it locks again (counting down)
        # Charge mode and priority, and what the energy manager decided.
        self.control = ChargeControl()
        # The owner's charging window (from the charger's settings, not saved here).
        self.schedule: ChargingWindow | None = None
        self.reboot: RebootRecord | None = None
        self.limit = LimitState()
        self.protection: ProtectionStatus | None = None
        self.protection_keys: list[str] = []
        # ChangeAvailability answered Scheduled: the state it will take after the session.
        self.availability_scheduled: bool | None = None
        self.learn = LearnState()
        self.decisions: deque[CardDecision] = deque(maxlen=20)
        self.decision_count = 0

    def apply_reboot_requested(self, hard: bool, now: datetime) -> None:
        """The charger accepted our Reset: its return is now awaited."""
        self.reboot = RebootRecord(requested_at=now, hard=hard)
        self.notify(Topic.REBOOT)

    def apply_reboot_outcome(self, result: RebootResult, now: datetime, detail: str = "") -> None:
        """A reboot was refused, or did not come back by the deadline."""
        if self.reboot is None or self.reboot.result is not RebootResult.PENDING:
            self.reboot = RebootRecord(requested_at=now, hard=False)
        self.reboot.finish(result, now, detail or None)
        self.notify(Topic.REBOOT)

    def apply_limit(
        self,
        *,
        requested_a: float | None = None,
        status: LimitStatus | None = None,
        reported_a: float | None = None,
        sent_a: float | None = None,
    ) -> None:
        """What we asked for as current limit, and what the charger does with it."""
        if requested_a is not None:
            self.limit.requested_a = requested_a
        if sent_a is not None:
            self.limit.sent_a = sent_a
        if status is not None:
            self.limit.status = status
            if status is LimitStatus.APPLIED:
                self.limit.failures = 0
            elif status is not LimitStatus.PENDING:
                self.limit.failures += 1
        if reported_a is not None:
            self.limit.reported_a = reported_a
        self.notify(Topic.LIMIT)

    def apply_protection(self, status: ProtectionStatus, keys: list[str]) -> None:
        """The result of applying offline protection at boot."""
        self.protection = status
        self.protection_keys = list(keys)
        self.notify(Topic.PROTECTION)

    def apply_availability_scheduled(self, operative: bool | None) -> None:
        """The charger will become (in)operative after its session (None: nothing pending)."""
        self.availability_scheduled = operative
        self.notify(Topic.AVAILABILITY)

    def apply_lock_wanted(self, locked: bool) -> None:
        """The owner locked or unlocked the charger."""
        self.lock_wanted = locked
        self.notify(Topic.LOCK)

    def apply_auto_lock(self, minutes: int) -> None:
        """The owner set how long after unplugging the charger locks again (0: never)."""
        self.auto_lock_minutes = minutes
        self.notify(Topic.LOCK)

    def apply_schedule(self, window: ChargingWindow | None) -> None:
        """The owner set (or removed) the charging window."""
        self.schedule = window
        self.notify(Topic.SCHEDULE)

    def apply_pause(self, paused: bool, resume_a: float | None) -> None:
        """The owner paused (0 A, the session stays open) or resumed charging."""
        self.limit.paused = paused
        self.limit.resume_a = resume_a
        self.notify(Topic.LIMIT)

    def apply_learning(self, learn: LearnState) -> None:
        """The Learn card window opened, learned a card or closed without one."""
        self.learn = learn
        self.notify(Topic.LEARN)

    def apply_card_decision(self, decision: CardDecision) -> None:
        """Record an authorization decision (shown by the Card presented event)."""
        self.decisions.append(decision)
        self.decision_count += 1
        self.notify(Topic.CARD)

    def check_limit_followed(self, offered_a: float) -> None:
        """A charger that offers more than our applied limit is ignoring it (fw 6.4.x).

        No notification: the caller's meter notification carries it.
        """
        limit = self.limit
        sent = limit.sent_a if limit.sent_a is not None else limit.requested_a
        if limit.status is LimitStatus.APPLIED and sent is not None and offered_a > sent + 1.0:
            limit.status = LimitStatus.NOT_APPLIED
            limit.failures += 1
