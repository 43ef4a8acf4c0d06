"""Energy management of one central system: charge modes, solar surplus, the main fuse.

What Wallbox's Eco-Smart, Power Boost and Power Sharing did, for every charger
of the central system. It runs on the state changes of the site's sensors and
of the chargers (no polling; a timer only where a hold ends or a sensor goes
stale), decides with the pure functions of :mod:`.model.energy` and
:mod:`.model.sharing`, and hands each charger's current to its controller,
whose limit path coalesces, sends and verifies it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
import math
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, State, callback
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_DISCHARGE_POSITIVE,
    CONF_BATTERY_FIRST,
    CONF_BATTERY_POWER,
    CONF_FALLBACK_CURRENT,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER,
    CONF_HOUSE_CURRENT,
    CONF_REACTION,
    CONF_SITE_LIMIT,
    CONF_SUPPLY_PHASES,
    CONF_SUPPLY_VOLTAGE,
    CONF_TIMING,
)
from .model.control import LimitStatus
from .model.energy import (
    DEFAULT_REACTION,
    REACTIONS,
    SOLAR_MODES,
    ChargeControl,
    ChargeMode,
    ChargerFacts,
    Reason,
    Timing,
    decide_solar,
)
from .model.meter import PHASES
from .model.sharing import Claim, share, site_budget_a, whole_amps
from .model.status import ConnectorStatus
from .repairs import set_issue

if TYPE_CHECKING:
    from .hub import OcppHub, RegisteredCharger

_LOGGER = logging.getLogger(__name__)

# Decisions at most this often (seconds): a burst of messages makes one decision.
MIN_DECISION_GAP_S = 1.0
# Amps per phase kept free below the main fuse (meters and chargers are not exact).
SITE_RESERVE_A = 1.0
# A car counts as present in these states (Finishing: the session is over).
_CAR_PRESENT = frozenset(
    {
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
    }
)
_POWER_SCALE = {UnitOfPower.WATT: 1.0, UnitOfPower.KILO_WATT: 1000.0, UnitOfPower.MEGA_WATT: 1e6}
# Seconds a car takes to follow a new current (a reading older than that predates it).
_SETTLE_S = 5.0
# A phase carries the car's current when it reads more than this.
_PHASE_IN_USE_A = 1.0


@dataclass(frozen=True, slots=True)
class Site:
    """The central system's energy settings (its options)."""

    grid_entity: str | None = None
    grid_export_positive: bool = False
    battery_entity: str | None = None
    battery_discharge_positive: bool = True
    battery_first: bool = True
    phases: int = 3
    voltage_v: float = 230.0
    timing: Timing = REACTIONS[DEFAULT_REACTION]
    fallback_a: float | None = None
    limit_a: float | None = None
    house_entities: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Site:
        """Read the options (missing ones take the defaults)."""
        base = REACTIONS.get(options.get(CONF_REACTION, ""), REACTIONS[DEFAULT_REACTION])
        fallback = options.get(CONF_FALLBACK_CURRENT)
        limit = options.get(CONF_SITE_LIMIT)
        return cls(
            grid_entity=options.get(CONF_GRID_POWER) or None,
            grid_export_positive=bool(options.get(CONF_GRID_EXPORT_POSITIVE, False)),
            battery_entity=options.get(CONF_BATTERY_POWER) or None,
            battery_discharge_positive=bool(options.get(CONF_BATTERY_DISCHARGE_POSITIVE, True)),
            battery_first=bool(options.get(CONF_BATTERY_FIRST, True)),
            phases=3 if int(options.get(CONF_SUPPLY_PHASES, 3)) == 3 else 1,
            voltage_v=float(options.get(CONF_SUPPLY_VOLTAGE, 230.0)),
            timing=Timing.from_dict(options.get(CONF_TIMING) or {}, base),
            fallback_a=float(fallback) if fallback else None,
            limit_a=float(limit) if limit else None,
            house_entities=tuple(options.get(CONF_HOUSE_CURRENT) or ()),
        )

    @property
    def entities(self) -> list[str]:
        """Every sensor the decisions read."""
        found = [self.grid_entity, self.battery_entity, *self.house_entities]
        return [entity for entity in found if entity]


@dataclass(slots=True)
class _Reading:
    """A sensor's last usable value and when it last reported."""

    value: float | None = None
    at: float | None = None
    problem: str | None = None  # why there is no value ("unavailable", "stale", ...)


class EnergyManager:
    """Decides every charger's current from its mode, the surplus and the main fuse."""

    def __init__(self, hass: HomeAssistant, hub: OcppHub) -> None:
        """Attach to ``hub``; :meth:`start` subscribes to the site's sensors."""
        self.hass = hass
        self.hub = hub
        # The clock of every hold and delay (replaced by tests and the replay benchmark).
        self.clock: Callable[[], datetime] = dt_util.utcnow
        self.site = Site.from_options(hub.entry.options)
        self._readings: dict[str, _Reading] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._queued = False
        self._ran_at = -math.inf  # the event loop's time of the last decision
        self._pending: asyncio.Handle | None = None
        self.min_gap = MIN_DECISION_GAP_S
        self._running = False
        self._last_run: float | None = None
        self._drawn: dict[str, tuple[float, float]] = {}  # car W, surplus W at the last run
        self._phases_seen: dict[str, int] = {}
        self._reported_problem: tuple[str, str] | None = None
        self.fallback: tuple[str, str] | None = None  # (sensor, problem) while falling back

    # ----------------------------------------------------------------- lifecycle
    @callback
    def start(self) -> None:
        """Follow the site's sensors and decide at once."""
        self._running = True
        self._readings = {entity: _Reading() for entity in self.site.entities}
        for entity in self._readings:
            self._read(entity, self.hass.states.get(entity))
        if self._readings:
            entities = list(self._readings)
            self._unsubscribe += [
                async_track_state_change_event(self.hass, entities, self._state_changed),
                async_track_state_report_event(self.hass, entities, self._state_reported),
            ]
        self.request()

    @callback
    def stop(self) -> None:
        """Stop following the sensors (the entry unloads or the settings change)."""
        self._running = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self._queued = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
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
        ctl = registered.charger.control
        if ctl.mode is mode:
            return
        ctl.mode = mode
        # A new mode starts from a clean slate (Solar waits for its start delay).
        ctl.on = False
        ctl.enough_since = ctl.short_since = ctl.three_since = None
        ctl.history.clear()
        self.hub.schedule_save()
        registered.charger.notify()
        self.evaluate()

    @callback
    def set_priority(self, registered: RegisteredCharger, priority: int) -> None:
        """Who pauses first when the site cannot feed every charger's minimum (lower)."""
        registered.charger.control.priority = priority
        self.hub.schedule_save()
        registered.charger.notify()
        self.evaluate()

    # ------------------------------------------------------------------- inputs
    @callback
    def _state_changed(self, event: Event[Any]) -> None:
        self._read(event.data["entity_id"], event.data["new_state"])
        self.request()

    @callback
    def _state_reported(self, event: Event[Any]) -> None:
        """The same value again: still fresh."""
        reading = self._readings.get(event.data["entity_id"])
        if reading is not None and reading.value is not None:
            reading.at = self._now()
            reading.problem = None
            self.request()

    def _read(self, entity: str, state: State | None) -> None:
        reading = self._readings.get(entity)
        if reading is None:
            return
        power = entity in (self.site.grid_entity, self.site.battery_entity)
        value, problem = _value_of(state, power=power)
        reading.value, reading.problem = value, problem
        reading.at = self._now() if value is not None else None

    def _fresh(self, entity: str | None, now: float) -> tuple[float | None, str | None]:
        """The value of ``entity`` if it is recent enough, else why not."""
        if entity is None:
            return None, None
        reading = self._readings.get(entity) or _Reading(problem="missing")
        if reading.value is None:
            return None, reading.problem or STATE_UNKNOWN
        if reading.at is not None and now - reading.at > self.site.timing.stale_after_s:
            return None, "stale"
        return reading.value, None

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
        chargers = list(self.hub.chargers.values())
        facts = {r.identity: self._facts(r) for r in chargers}
        surplus, problem = self._surplus(now, facts)
        self._count_energy(chargers, facts, surplus, elapsed)
        solar = [r for r in chargers if r.charger.control.mode in SOLAR_MODES]
        shares = self._share_surplus(solar, facts, surplus)
        for registered in chargers:
            charger = registered.charger
            ctl, fact = charger.control, facts[registered.identity]
            if charger.limit.paused:
                ctl.decide(0.0, Reason.PAUSED)
            elif ctl.mode is ChargeMode.OFF:
                ctl.decide(0.0, Reason.OFF)
            elif ctl.mode is ChargeMode.FAST:
                ctl.phases = max(fact.phases) if len(fact.phases) > 1 else None
                ctl.decide(fact.max_a, Reason.FAST)
            elif surplus is None:
                ctl.decide(self._fallback_a(fact), Reason.FALLBACK)
            else:
                decide_solar(ctl, fact, shares.get(registered.identity, 0.0), now, site.timing)
        site_problem = self._protect_site(chargers, facts, now)
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
        requested = charger.limit.requested_a
        if requested:
            max_a = min(max_a, requested)
        drawing = sum(c.power_w or 0.0 for c in charging)
        ctl = charger.control
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
        if site.grid_entity is None:
            return None, ("grid", "not_configured")
        grid, problem = self._fresh(site.grid_entity, now)
        if grid is None:
            return None, (site.grid_entity, problem or STATE_UNKNOWN)
        if site.grid_export_positive:
            grid = -grid
        battery = 0.0
        if site.battery_entity is not None:
            value, problem = self._fresh(site.battery_entity, now)
            if value is None:
                return None, (site.battery_entity, problem or STATE_UNKNOWN)
            charging = -value if site.battery_discharge_positive else value
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
                    priority=registered.charger.control.priority,
                )
            )
        if len(claims) == 1:
            return {claims[0].key: surplus}
        return share(surplus, claims)

    def _fallback_a(self, fact: ChargerFacts) -> float:
        """The safe current while a sensor is missing: the owner's choice, else the minimum."""
        if self.site.fallback_a is None:
            return fact.min_a
        return min(fact.max_a, self.site.fallback_a)

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
            session = str(running.transaction_id) if running else None
            before = charger.control.solar_share
            charger.control.count_energy(session, car_w, surplus_w, elapsed)
            fact = facts[registered.identity]
            part = 0.0
            if surplus is not None and drawn > 0:
                part = max(0.0, min(surplus, drawn)) * fact.drawing_w / drawn
            self._drawn[registered.identity] = (fact.drawing_w, part)
            if charger.control.solar_share != before:
                self.hub.schedule_save()

    def _protect_site(
        self, chargers: list[RegisteredCharger], facts: dict[str, ChargerFacts], now: float
    ) -> tuple[str, str] | None:
        """Lower the chargers so the house and they together stay below the main fuse."""
        site = self.site
        if site.limit_a is None:
            return None
        grid_a, problem = self._grid_currents(now, chargers, facts)
        if grid_a is None:
            for registered in chargers:
                ctl, fact = registered.charger.control, facts[registered.identity]
                if (ctl.target_a or 0.0) > self._fallback_a(fact):
                    ctl.decide(self._fallback_a(fact), Reason.FALLBACK)
            return problem
        drawn = self._charger_currents(chargers, facts)
        budget = site_budget_a(site.limit_a, SITE_RESERVE_A, grid_a, drawn)
        claims = [
            Claim(r.identity, facts[r.identity].min_a, ctl.target_a or 0.0, ctl.priority)
            for r in chargers
            if facts[r.identity].car and ((ctl := r.charger.control).target_a or 0.0) > 0
        ]
        caps = whole_amps(share(budget, claims), {c.key: c.minimum for c in claims})
        for registered in chargers:
            ctl, fact = registered.charger.control, facts[registered.identity]
            # Without a car a charger may have the whole headroom: a car plugged in
            # starts within it, and the next decision shares.
            cap = caps.get(registered.identity, float(math.floor(budget)))
            if (ctl.target_a or 0.0) <= cap:
                ctl.site_cap_a = ctl.site_raise_since = None  # the fuse does not bind
                continue
            # The fuse binds: lowered at once; raised only once the larger share held.
            held = ctl.site_cap_a
            if held is not None and cap > held:
                if ctl.site_raise_since is None:
                    ctl.site_raise_since = now
                if now - ctl.site_raise_since < site.timing.adjust_interval_s:
                    cap = held
                else:
                    ctl.site_raise_since = None
            else:
                ctl.site_raise_since = None
            ctl.site_cap_a = cap
            ctl.decide(cap if cap >= fact.min_a else 0.0, Reason.SITE_LIMIT, budget_a=budget)
        return None

    def _grid_currents(
        self, now: float, chargers: list[RegisteredCharger], facts: dict[str, ChargerFacts]
    ) -> tuple[list[float] | None, tuple[str, str] | None]:
        """Amps on each phase at the grid connection: measured, or from the grid power."""
        site = self.site
        if site.house_entities:
            values = []
            for entity in site.house_entities:
                value, problem = self._fresh(entity, now)
                if value is None:
                    return None, (entity, problem or STATE_UNKNOWN)
                values.append(abs(value))
            return values, None
        if site.grid_entity is None:
            return None, ("grid", "not_configured")
        grid, problem = self._fresh(site.grid_entity, now)
        if grid is None:
            return None, (site.grid_entity, problem or STATE_UNKNOWN)
        if site.grid_export_positive:
            grid = -grid
        per_phase = grid / (site.voltage_v * site.phases)
        return [per_phase] * site.phases, None

    def _charger_currents(
        self, chargers: list[RegisteredCharger], facts: dict[str, ChargerFacts]
    ) -> list[float]:
        """Amps all chargers draw together on each phase of the site."""
        total = [0.0] * self.site.phases
        for registered in chargers:
            fact = facts[registered.identity]
            for connector in registered.charger.outlets:
                if connector.status is not ConnectorStatus.CHARGING:
                    continue
                measured = [connector.currents_a.get(p) for p in PHASES[: self.site.phases]]
                if any(value is not None for value in measured):
                    for index, value in enumerate(measured):
                        total[index] += value or 0.0
                    continue
                phases = min(max(fact.phases), self.site.phases)
                amps = (connector.power_w or 0.0) / (fact.voltage_v * phases)
                for index in range(phases):
                    total[index] += amps
        return total

    # ----------------------------------------------------------------- results
    def _hand_over(self, registered: RegisteredCharger) -> None:
        """Give the controller its current; show the decision."""
        charger = registered.charger
        ctl = charger.control
        managed = ctl.mode is not ChargeMode.FAST or self.site.limit_a is not None
        if managed and charger.limit.status in (LimitStatus.NOT_APPLIED, LimitStatus.REJECTED):
            ctl.decide(ctl.target_a, Reason.NOT_APPLIED, **ctl.detail)
        target = ctl.target_a if managed else None
        registered.controller.set_energy_target(target, ctl.phases if managed else None)
        shown = (ctl.target_a, ctl.phases, ctl.reason, tuple(sorted(ctl.detail.items())))
        if shown != registered.energy_shown:
            registered.energy_shown = shown
            charger.notify()

    def _report_problem(self, problem: tuple[str, str] | None) -> None:
        """A repair issue while a sensor the decisions need is missing or stale."""
        self.fallback = problem
        if problem == self._reported_problem:
            return
        self._reported_problem = problem
        issue = f"energy_sensor_{self.hub.entry.entry_id}"
        if problem is None:
            set_issue(self.hass, issue, None)
            return
        entity, why = problem
        _LOGGER.warning("Energy management falls back to the safe current: %s is %s", entity, why)
        set_issue(
            self.hass,
            issue,
            "energy_not_configured" if why == "not_configured" else "energy_sensor",
            {"entity": entity, "problem": why, "central_system": self.hub.entry.title},
        )

    def _schedule_next(self, chargers: list[RegisteredCharger], now: float) -> None:
        """Wake up when a hold ends, a raise is due or a sensor would turn stale."""
        moments: list[float] = []
        timing = self.site.timing
        for registered in chargers:
            ctl: ChargeControl = registered.charger.control
            if (until := ctl.detail.get("hold_until")) is not None:
                moments.append(until)
            if ctl.mode in SOLAR_MODES and ctl.on and ctl.changed_at is not None:
                moments.append(ctl.changed_at + timing.adjust_interval_s)
            if ctl.mode in SOLAR_MODES and ctl.enough_since is not None:
                moments.append(ctl.enough_since + timing.start_delay_s)
            if ctl.three_since is not None:
                moments.append(ctl.three_since + timing.start_delay_s)
            if ctl.site_raise_since is not None:
                moments.append(ctl.site_raise_since + timing.adjust_interval_s)
        for reading in self._readings.values():
            if reading.at is not None:
                moments.append(reading.at + timing.stale_after_s)
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


def _value_of(state: State | None, *, power: bool) -> tuple[float | None, str | None]:
    """A sensor's number (watts for power sensors), or why there is none."""
    if state is None:
        return None, "missing"
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None, state.state
    try:
        value = float(state.state)
    except ValueError:
        return None, "not_a_number"
    if not math.isfinite(value):
        return None, "not_a_number"
    if power:
        scale = _POWER_SCALE.get(state.attributes.get("unit_of_measurement", UnitOfPower.WATT))
        if scale is None:
            return None, "unit"
        value *= scale
    return value, None


__all__ = ["EnergyManager", "Site"]
