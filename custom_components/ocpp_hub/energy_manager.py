"""Energy management of one central system: charge modes, solar surplus, the main fuse.

What Wallbox's Eco-Smart, Power Boost and Power Sharing did, for every charger
of the central system. It runs on the state changes of the site's sensors and
of the chargers (no polling; a timer only where a hold ends or a sensor goes
stale), decides with the pure functions of :mod:`.model.energy` and
:mod:`.model.sharing` (the main fuse: :mod:`.main_fuse`), and hands each
charger's current to its controller, whose limit path coalesces, sends and
verifies it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
import logging
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .energy_site import Site, SiteMeters
from .main_fuse import MainFuse, fallback_a
from .model.charger import Topic
from .model.control import LimitStatus
from .model.energy import (
    SOLAR_MODES,
    ChargeControl,
    ChargeMode,
    ChargerFacts,
    Reason,
    decide_solar,
)
from .model.meter import PHASES
from .model.sharing import Claim, share
from .model.status import ConnectorStatus
from .registered_charger import RegisteredCharger

_LOGGER = logging.getLogger(__name__)

# Decisions at most this often (seconds): a burst of messages makes one decision.
MIN_DECISION_GAP_S = 1.0
# A car counts as present in these states (Finishing: the session is over).
_CAR_PRESENT = frozenset(
    {
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
    }
)
# Seconds a car takes to follow a new current (a reading older than that predates it).
_SETTLE_S = 5.0
# A phase carries the car's current when it reads more than this.
_PHASE_IN_USE_A = 1.0


class EnergyManager:
    """Decides every charger's current from its mode, the surplus and the main fuse."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        chargers: Mapping[str, RegisteredCharger],
        save: Callable[[], None],
        fallback_changed: Callable[[tuple[str, str] | None], None],
    ) -> None:
        """Decide for ``chargers`` with ``entry``'s settings; :meth:`start` follows the sensors.

        ``save`` saves the chargers soon; ``fallback_changed`` hears of a sensor the
        decisions miss (and of its return).
        """
        self.hass = hass
        self.chargers = chargers
        self._save = save
        self._fallback_changed = fallback_changed
        # The clock of every hold and delay (replaced by tests and the replay benchmark).
        self.clock: Callable[[], datetime] = dt_util.utcnow
        self.site = Site.from_options(entry.options)
        self.meters = SiteMeters(hass, self.site, self._now, self.request)
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._queued = False
        self._ran_at = -math.inf  # the event loop's time of the last decision
        self._pending: asyncio.Handle | None = None
        self.min_gap = MIN_DECISION_GAP_S
        self._running = False
        self._last_run: float | None = None
        self._drawn: dict[str, tuple[float, float]] = {}  # car W, surplus W at the last run
        self._phases_seen: dict[str, int] = {}
        self.fuse = MainFuse()
        self.fallback: tuple[str, str] | None = None  # (sensor, problem) while falling back

    # ----------------------------------------------------------------- lifecycle
    @callback
    def start(self) -> None:
        """Follow the site's sensors and decide at once."""
        self._running = True
        self.meters = SiteMeters(self.hass, self.site, self._now, self.request)
        self.meters.start()
        self.request()

    @callback
    def stop(self) -> None:
        """Stop following the sensors (the entry unloads or the settings change)."""
        self._running = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self._queued = False
        self.meters.stop()
        if self._cancel_timer:
            self._cancel_timer()
            self._cancel_timer = None

    @callback
    def configure(self, options: Mapping[str, Any]) -> None:
        """New settings from the options flow: no restart of the central system needed."""
        self.stop()
        self.site = Site.from_options(options)
        self.start()

    @callback
    def forget(self, identity: str) -> None:
        """A charger was removed."""
        self._drawn.pop(identity, None)
        self._phases_seen.pop(identity, None)
        self.request()

    @callback
    def set_mode(self, registered: RegisteredCharger, mode: ChargeMode) -> None:
        """The owner chose a charge mode: it applies at once and survives restarts."""
        registered.controller.set_charge_mode(mode)

    @callback
    def set_priority(self, registered: RegisteredCharger, priority: int) -> None:
        """Who pauses first when the site cannot feed every charger's minimum (lower)."""
        registered.controller.set_priority(priority)

    def _now(self) -> float:
        return self.clock().timestamp()

    @callback
    def request(self) -> None:
        """Decide again soon: at once, but at most once per second.

        Every message of every charger asks; a burst (or hundreds of chargers)
        makes one decision, not one per message.
        """
        if self._queued or not self._running:
            return
        self._queued = True
        loop = self.hass.loop
        wait = self._ran_at + self.min_gap - loop.time()
        if wait > 0:
            self._pending = loop.call_later(wait, self._run)
        else:
            self._pending = loop.call_soon(self._run)

    @callback
    def _run(self) -> None:
        self._queued = False
        self._pending = None
        if self._running:
            self._ran_at = self.hass.loop.time()
            self.evaluate()

    # ----------------------------------------------------------------- deciding
    @callback
    def evaluate(self) -> None:
        """Decide every charger's current now and hand it to the limit path."""
        now = self._now()
        elapsed = 0.0 if self._last_run is None else max(0.0, now - self._last_run)
        self._last_run = now
        site = self.site
        chargers = list(self.chargers.values())
        facts = {r.identity: self._facts(r) for r in chargers}
        surplus, problem = self._surplus(now, facts)
        self._count_energy(chargers, facts, surplus, elapsed)
        solar = [r for r in chargers if r.charger.owner.control.mode in SOLAR_MODES]
        shares = self._share_surplus(solar, facts, surplus)
        for registered in chargers:
            charger = registered.charger
            ctl, fact = charger.owner.control, facts[registered.identity]
            if charger.owner.limit.paused:
                ctl.decide(0.0, Reason.PAUSED)
            elif ctl.mode is ChargeMode.OFF:
                ctl.decide(0.0, Reason.OFF)
            elif ctl.mode is ChargeMode.FAST:
                ctl.phases = max(fact.phases) if len(fact.phases) > 1 else None
                ctl.decide(fact.max_a, Reason.FAST)
            elif surplus is None:
                ctl.decide(fallback_a(site, fact), Reason.FALLBACK)
            else:
                decide_solar(ctl, fact, shares.get(registered.identity, 0.0), now, site.timing)
        site_problem = self.fuse.protect(site, self.meters, chargers, facts, now)
        # The grid reading matters only to chargers in a solar mode.
        self._report_problem((problem if solar else None) or site_problem)
        for registered in chargers:
            self._hand_over(registered)
        self._schedule_next(chargers, now)

    def _facts(self, registered: RegisteredCharger) -> ChargerFacts:
        charger = registered.charger
        site = self.site
        charging = [c for c in charger.outlets if c.status is ConnectorStatus.CHARGING]
        in_use = max(
            (sum(c.currents_a.get(p, 0.0) > _PHASE_IN_USE_A for p in PHASES) for c in charging),
            default=0,
        )
        if in_use:
            self._phases_seen[registered.identity] = in_use
        if charger.phase_switching and site.phases == 3:
            phases: tuple[int, ...] = (1, 3)
        else:
            phases = (min(site.phases, self._phases_seen.get(registered.identity, site.phases)),)
        max_a = float(charger.max_current_a)
        requested = charger.owner.limit.requested_a
        if requested:
            max_a = min(max_a, requested)
        drawing = sum(c.power_w or 0.0 for c in charging)
        ctl = charger.owner.control
        if charging and ctl.target_a:
            # A car takes its offer (a little less, as meters read it) or, limited by
            # itself, clearly less. A reading from before our last change predates the
            # car's new current, which the grid meter already shows.
            per_amp = (ctl.phases or in_use or phases[0]) * site.voltage_v
            offered = ctl.target_a * per_amp
            sampled = [c.last_sample_at for c in charging if c.last_sample_at is not None]
            stale = ctl.changed_at is not None and (
                not sampled or max(sampled).timestamp() < ctl.changed_at + _SETTLE_S
            )
            if stale or drawing >= offered - per_amp:
                drawing = max(drawing, offered)
        return ChargerFacts(
            min_a=float(charger.profile.min_current_a),
            max_a=max_a,
            phases=phases,
            voltage_v=site.voltage_v,
            car=any(c.status in _CAR_PRESENT for c in charger.outlets),
            drawing_w=drawing,
        )

    def _surplus(
        self, now: float, facts: dict[str, ChargerFacts]
    ) -> tuple[float | None, tuple[str, str] | None]:
        """Watts the chargers may use from the site's surplus (with what they draw now)."""
        site = self.site
        grid, missing = self.meters.grid_w(now)
        if grid is None:
            return None, missing
        charging, missing = self.meters.battery_w(now)
        if charging is None:
            return None, missing
        # Battery first: what charges it stays with it; a discharge never feeds the car.
        battery = min(charging, 0.0) if site.battery_first else charging
        drawn = sum(f.drawing_w for f in facts.values())
        return drawn - grid + battery, None

    def _share_surplus(
        self,
        solar: list[RegisteredCharger],
        facts: dict[str, ChargerFacts],
        surplus: float | None,
    ) -> dict[str, float]:
        """The surplus split between the chargers in a solar mode with a car."""
        if surplus is None:
            return {}
        claims = []
        for registered in solar:
            fact = facts[registered.identity]
            if not fact.car:
                continue
            claims.append(
                Claim(
                    registered.identity,
                    minimum=fact.watts(fact.min_a, min(fact.phases)),
                    wanted=fact.watts(fact.max_a, max(fact.phases)),
                    priority=registered.charger.owner.control.priority,
                )
            )
        if len(claims) == 1:
            return {claims[0].key: surplus}
        return share(surplus, claims)

    def _count_energy(
        self,
        chargers: list[RegisteredCharger],
        facts: dict[str, ChargerFacts],
        surplus: float | None,
        elapsed: float,
    ) -> None:
        """Add the time since the last run to each session's energy and its surplus part."""
        drawn = sum(f.drawing_w for f in facts.values())
        for registered in chargers:
            charger = registered.charger
            car_w, surplus_w = self._drawn.get(registered.identity, (0.0, 0.0))
            running = next((c.transaction for c in charger.outlets if c.transaction), None)
            session = running.transaction_id if running else None
            before = charger.owner.control.solar_share
            charger.owner.control.count_energy(session, car_w, surplus_w, elapsed)
            fact = facts[registered.identity]
            part = 0.0
            if surplus is not None and drawn > 0:
                part = max(0.0, min(surplus, drawn)) * fact.drawing_w / drawn
            self._drawn[registered.identity] = (fact.drawing_w, part)
            if charger.owner.control.solar_share != before:
                self._save()

    # ----------------------------------------------------------------- results
    def _hand_over(self, registered: RegisteredCharger) -> None:
        """Give the controller its current; show the decision."""
        charger = registered.charger
        ctl = charger.owner.control
        managed = ctl.mode is not ChargeMode.FAST or self.site.limit_a is not None
        if managed and charger.owner.limit.status in (
            LimitStatus.NOT_APPLIED,
            LimitStatus.REJECTED,
        ):
            ctl.decide(ctl.target_a, Reason.NOT_APPLIED, **ctl.detail)
        target = ctl.target_a if managed else None
        registered.controller.set_energy_target(target, ctl.phases if managed else None)
        shown = (
            ctl.target_a,
            ctl.phases,
            ctl.reason,
            tuple(sorted(ctl.detail.items())),
            ctl.solar_share,
            round(ctl.charged_wh, -1),
        )
        if shown != registered.energy_shown:
            registered.energy_shown = shown
            charger.notify(Topic.CONTROL)

    def _report_problem(self, problem: tuple[str, str] | None) -> None:
        """Falling back while a sensor the decisions need is missing or stale: say so."""
        if problem == self.fallback:
            return
        self.fallback = problem
        if problem is not None:
            entity, why = problem
            _LOGGER.warning(
                "Energy management falls back to the safe current: %s is %s", entity, why
            )
        self._fallback_changed(problem)

    def _schedule_next(self, chargers: list[RegisteredCharger], now: float) -> None:
        """Wake up when a hold ends, a raise is due or a sensor would turn stale."""
        moments: list[float] = []
        timing = self.site.timing
        for registered in chargers:
            ctl: ChargeControl = registered.charger.owner.control
            if (until := ctl.detail.get("hold_until")) is not None:
                moments.append(until)
            if ctl.mode in SOLAR_MODES and ctl.on and ctl.changed_at is not None:
                moments.append(ctl.changed_at + timing.adjust_interval_s)
            if ctl.mode in SOLAR_MODES and ctl.enough_since is not None:
                moments.append(ctl.enough_since + timing.start_delay_s)
            if ctl.three_since is not None:
                moments.append(ctl.three_since + timing.start_delay_s)
            if ctl.fuse.change_since is not None:
                moments.append(ctl.fuse.change_since + timing.adjust_interval_s)
        moments += self.meters.stale_at()
        future = [moment for moment in moments if moment > now]
        if self._cancel_timer:
            self._cancel_timer()
            self._cancel_timer = None
        if future:
            self._cancel_timer = async_call_later(
                self.hass, min(future) - now + 0.01, self._timer_fired
            )

    @callback
    def _timer_fired(self, _now: datetime) -> None:
        self._cancel_timer = None
        self.request()


__all__ = ["EnergyManager"]
