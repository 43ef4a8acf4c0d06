"""Charge modes and the surplus controller's decisions for one charger.

Pure: the surplus this charger may use and the time come in; the current it
should get (and on how many phases) comes out with the reason, which a sensor
shows. Home Assistant's glue (``energy_manager.py``) feeds it sensor states
and sends the result through the verified limit path; site sharing and the
main fuse are in :mod:`.sharing`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
import math
from typing import Any

from .sharing import FuseCap


class ChargeMode(StrEnum):
    """What the owner chose for a charger (values are the select's options)."""

    FAST = "fast"  # as much as the charger and the site allow
    SOLAR = "solar"  # only surplus; paused when there is none
    MIN_SOLAR = "min_solar"  # the minimum current always, surplus on top
    OFF = "off"  # no charging; the session stays open


SOLAR_MODES = frozenset({ChargeMode.SOLAR, ChargeMode.MIN_SOLAR})


class Reason(StrEnum):
    """Why the charger gets the current it gets (values are a sensor's states)."""

    FAST = "fast"
    SURPLUS = "surplus"
    WAITING = "waiting"  # too little surplus to start
    STARTING = "starting"  # enough surplus: starts after the start delay
    OFF_HOLD = "off_hold"  # paused; stays so for the minimum off time
    STOPPING = "stopping"  # too little surplus: minimum current until the holds end
    MINIMUM = "minimum"  # Minimum + solar without surplus
    SITE_LIMIT = "site_limit"
    FALLBACK = "fallback"  # a sensor the decision needs is unavailable or stale
    OFF = "off"
    NO_CAR = "no_car"
    PAUSED = "paused"  # the owner's Pause switch
    NOT_APPLIED = "not_applied"  # the charger did not apply the current it was given


@dataclass(frozen=True, slots=True)
class Timing:
    """How quickly the controller reacts (seconds)."""

    start_delay_s: float  # surplus must last this long before charging starts
    stop_delay_s: float  # too little surplus for this long before charging pauses
    min_on_s: float  # once started, charging runs at least this long
    min_off_s: float  # once paused, charging stays paused at least this long
    adjust_interval_s: float  # at most one small change of the current per interval
    phase_hold_s: float  # at least this long between two phase switches
    stale_after_s: float  # a sensor silent for longer than this is not trusted

    def as_dict(self) -> dict[str, float]:
        """The seconds by name (the advanced options step)."""
        return {name: getattr(self, name) for name in TIMING_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Timing) -> Timing:
        """``base`` with the seconds ``data`` names."""
        values = base.as_dict()
        for name in TIMING_FIELDS:
            if isinstance(data.get(name), int | float) and data[name] >= 0:
                values[name] = float(data[name])
        return cls(**values)


TIMING_FIELDS = (
    "start_delay_s",
    "stop_delay_s",
    "min_on_s",
    "min_off_s",
    "adjust_interval_s",
    "phase_hold_s",
    "stale_after_s",
)

REACTIONS: dict[str, Timing] = {
    "responsive": Timing(15, 60, 120, 120, 15, 300, 120),
    "balanced": Timing(30, 120, 300, 300, 30, 600, 300),
    "gentle": Timing(120, 300, 600, 600, 120, 1200, 600),
}
DEFAULT_REACTION = "balanced"


@dataclass(frozen=True, slots=True)
class ChargerFacts:
    """What the decision needs to know about one charger now."""

    min_a: float  # the least current that charges (6 A)
    max_a: float  # the most: the charger's ceiling, or the owner's limit if lower
    phases: tuple[int, ...]  # phase counts it can charge on: (1,), (3,) or (1, 3)
    voltage_v: float
    car: bool  # a car is plugged in (a session can run)
    drawing_w: float  # what it draws now

    def watts(self, amps: float, phases: int) -> float:
        """Power at ``amps`` per phase on ``phases`` phases."""
        return amps * phases * self.voltage_v

    def amps(self, watts: float, phases: int) -> float:
        """Whole amps per phase that ``watts`` pays for (never more than the maximum)."""
        return float(min(self.max_a, math.floor(max(0.0, watts) / (phases * self.voltage_v))))


@dataclass(slots=True)
class ChargeControl:
    """A charger's charge mode, and what the controller decided for it."""

    mode: ChargeMode = ChargeMode.FAST
    priority: int = 5  # who pauses first when the site cannot feed everyone (0: first)
    # The decision: None = not managed (the owner's limit alone applies).
    target_a: float | None = None
    phases: int | None = None
    reason: Reason | None = None
    detail: dict[str, float] = field(default_factory=dict)
    # Memory of the surplus controller (monotonic seconds of the manager's clock).
    on: bool = False
    switched_at: float | None = None  # when charging last started or paused
    changed_at: float | None = None  # when the current last changed
    phases_at: float | None = None  # when the phases last switched
    enough_since: float | None = None
    short_since: float | None = None
    three_since: float | None = None  # enough surplus for three phases since
    history: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=64))
    # The site's share for this charger under the main fuse.
    fuse: FuseCap = field(default_factory=FuseCap)
    # The running session's energy, and how much of it came from surplus.
    session: str | None = None
    charged_wh: float = 0.0
    surplus_wh: float = 0.0

    @property
    def solar_share(self) -> float | None:
        """Percent of the session's energy that came from surplus."""
        if self.session is None or self.charged_wh < 1:
            return None
        return round(100 * min(1.0, self.surplus_wh / self.charged_wh), 1)

    def count_energy(self, session: str | None, car_w: float, surplus_w: float, dt: float) -> None:
        """Add ``dt`` seconds of charging at ``car_w``, of which surplus covered ``surplus_w``."""
        if session is None:
            return  # the last session's figures stay until the next one starts
        if session != self.session:
            self.session = session
            self.charged_wh = self.surplus_wh = 0.0
        if dt <= 0 or car_w <= 0:
            return
        self.charged_wh += car_w * dt / 3600
        self.surplus_wh += min(car_w, max(0.0, surplus_w)) * dt / 3600

    def decide(self, target_a: float | None, reason: Reason, **detail: float) -> None:
        """Record a decision (the phases stay as they are).

        Watts are kept to 10 W and times as the moment a hold ends, so that the
        details change only when something a person would notice did.
        """
        self.target_a = target_a
        self.reason = reason
        self.detail = {
            key: round(value, -1) if key.endswith("_w") else round(value)
            for key, value in detail.items()
        }

    def as_dict(self) -> dict[str, Any]:
        """What survives a restart: the owner's choices and the session's surplus share."""
        return {
            "mode": self.mode.value,
            "priority": self.priority,
            "session": self.session,
            "charged_wh": round(self.charged_wh, 1),
            "surplus_wh": round(self.surplus_wh, 1),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargeControl:
        """Restore from storage (unknown values fall back to the defaults)."""
        mode = data.get("mode")
        priority = data.get("priority")
        session = data.get("session")
        return cls(
            mode=ChargeMode(mode)
            if isinstance(mode, str) and mode in ChargeMode
            else ChargeMode.FAST,
            priority=int(priority) if isinstance(priority, int) else 5,
            session=session if isinstance(session, str) else None,
            charged_wh=_number(data.get("charged_wh")),
            surplus_wh=_number(data.get("surplus_wh")),
        )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def _since(then: float | None, now: float) -> float:
    return math.inf if then is None else now - then


def decide_solar(
    ctl: ChargeControl, facts: ChargerFacts, surplus_w: float, now: float, timing: Timing
) -> None:
    """Solar and Minimum + solar: the current from ``surplus_w`` (what this charger may use).

    ``surplus_w`` includes what the charger draws now. Charging starts when the
    surplus pays for the minimum current for the start delay (and the minimum off
    time is over); it pauses when it did not for the stop delay (and the minimum
    on time is over). While on, the current follows what the surplus paid for
    most of the adjust interval (its median), once per interval; a drop of more
    than an amp (a cloud) lowers it at once.
    """
    minimum_mode = ctl.mode is ChargeMode.MIN_SOLAR
    if ctl.history and math.floor(ctl.history[-1][0]) == math.floor(now):
        ctl.history.pop()  # one reading per second: a burst of messages is one moment
    ctl.history.append((now, surplus_w))
    while ctl.history and now - ctl.history[0][0] > timing.adjust_interval_s:
        ctl.history.popleft()
    if not facts.car:
        ctl.on = False
        ctl.enough_since = ctl.short_since = None
        ctl.decide(facts.min_a if minimum_mode else 0.0, Reason.NO_CAR)
        return
    phases = _choose_phases(ctl, facts, surplus_w, now, timing)
    amps = facts.amps(surplus_w, phases)
    enough = amps >= facts.min_a
    if minimum_mode:
        ctl.on = True
        ctl.enough_since = ctl.short_since = None
        if enough:
            _follow(ctl, facts, phases, amps, now=now, timing=timing, surplus_w=surplus_w)
        else:
            _set(ctl, facts.min_a, now)
            ctl.decide(ctl.target_a, Reason.MINIMUM, surplus_w=surplus_w)
        return
    if not ctl.on:
        missing = facts.watts(facts.min_a, min(facts.phases)) - surplus_w
        if not enough:
            ctl.enough_since = None
            ctl.decide(0.0, Reason.WAITING, missing_w=max(0.0, missing), surplus_w=surplus_w)
            return
        if ctl.enough_since is None:
            ctl.enough_since = now
        off_left = timing.min_off_s - _since(ctl.switched_at, now)
        start_left = timing.start_delay_s - (now - ctl.enough_since)
        if off_left > 0:
            ctl.decide(0.0, Reason.OFF_HOLD, hold_until=now + off_left, surplus_w=surplus_w)
        elif start_left > 0:
            ctl.decide(0.0, Reason.STARTING, hold_until=now + start_left, surplus_w=surplus_w)
        else:
            ctl.on = True
            ctl.switched_at = now
            ctl.enough_since = None
            _set(ctl, amps, now)
            ctl.decide(ctl.target_a, Reason.SURPLUS, surplus_w=surplus_w)
        return
    if enough:
        ctl.short_since = None
        _follow(ctl, facts, phases, amps, now=now, timing=timing, surplus_w=surplus_w)
        return
    if ctl.short_since is None:
        ctl.short_since = now
    hold = max(
        timing.stop_delay_s - (now - ctl.short_since),
        timing.min_on_s - _since(ctl.switched_at, now),
    )
    if hold > 0:
        _set(ctl, facts.min_a, now)
        ctl.decide(ctl.target_a, Reason.STOPPING, hold_until=now + hold, surplus_w=surplus_w)
        return
    ctl.on = False
    ctl.switched_at = now
    ctl.short_since = None
    _set(ctl, 0.0, now)
    missing = facts.watts(facts.min_a, min(facts.phases)) - surplus_w
    ctl.decide(0.0, Reason.WAITING, missing_w=max(0.0, missing), surplus_w=surplus_w)


def _follow(
    ctl: ChargeControl,
    facts: ChargerFacts,
    phases: int,
    amps: float,
    *,
    now: float,
    timing: Timing,
    surplus_w: float,
) -> None:
    """While charging: the median of the interval, once per interval; a cloud at once."""
    current = ctl.target_a or 0.0
    if current < facts.min_a or amps < current - 1:
        _set(ctl, max(amps, facts.min_a), now)  # a cloud: down at once
    elif amps != current and _since(ctl.changed_at, now) >= timing.adjust_interval_s:
        # What the surplus paid for most of the interval (a passing dip or peak does not count).
        values = sorted(value for _, value in ctl.history)
        steady = max(facts.min_a, facts.amps(values[len(values) // 2], phases))
        if steady != current:
            _set(ctl, steady, now)
    ctl.decide(ctl.target_a, Reason.SURPLUS, surplus_w=surplus_w)


def _set(ctl: ChargeControl, amps: float, now: float) -> None:
    if ctl.target_a != amps:
        ctl.target_a = amps
        ctl.changed_at = now


def _choose_phases(
    ctl: ChargeControl, facts: ChargerFacts, surplus_w: float, now: float, timing: Timing
) -> int:
    """Three phases while the surplus pays for the minimum on three, else one.

    Only where the charger can switch; a switch waits for the phase hold, and a
    switch up also for the start delay (down is not delayed: it saves import).
    """
    if len(facts.phases) == 1:
        ctl.phases = None
        return facts.phases[0]
    current = ctl.phases or max(facts.phases)
    three = surplus_w >= facts.watts(facts.min_a, 3)
    if not three:
        ctl.three_since = None
    elif ctl.three_since is None:
        ctl.three_since = now
    wanted = 3 if three and now - (ctl.three_since or now) >= timing.start_delay_s else 1
    if current == 3 and three:
        wanted = 3
    if wanted != current and _since(ctl.phases_at, now) >= timing.phase_hold_s:
        ctl.phases_at = now
        ctl.changed_at = now
        current = wanted
    ctl.phases = current
    return current
