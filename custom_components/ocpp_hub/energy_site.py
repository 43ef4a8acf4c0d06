"""The site around the chargers: its energy settings and its meters' readings.

:class:`Site` is the central system's energy options; :class:`SiteMeters` follows
the grid, battery and current sensors on their state changes and reports (a
meter that repeats its value is still fresh) and says what they read now, or
which one is missing and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import math
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, State, callback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)

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
    CONF_SITE_RESERVE,
    CONF_SUPPLY_PHASES,
    CONF_SUPPLY_VOLTAGE,
    CONF_TIMING,
    DEFAULT_SITE_RESERVE_A,
)
from .model.energy import DEFAULT_REACTION, REACTIONS, Timing

_POWER_SCALE = {UnitOfPower.WATT: 1.0, UnitOfPower.KILO_WATT: 1000.0, UnitOfPower.MEGA_WATT: 1e6}
# (sensor, why) when a reading the decisions need is missing.
type Missing = tuple[str, str]


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
    #: Amps kept free below the fuse for a load step until the chargers are lowered.
    reserve_a: float = DEFAULT_SITE_RESERVE_A
    house_entities: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Site:
        """Read the options (missing ones take the defaults)."""
        base = REACTIONS.get(options.get(CONF_REACTION, ""), REACTIONS[DEFAULT_REACTION])
        fallback = options.get(CONF_FALLBACK_CURRENT)
        limit = options.get(CONF_SITE_LIMIT)
        reserve = options.get(CONF_SITE_RESERVE)
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
            reserve_a=DEFAULT_SITE_RESERVE_A if reserve is None else float(reserve),
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


class SiteMeters:
    """The site's sensors as the energy manager reads them."""

    def __init__(
        self, hass: HomeAssistant, site: Site, now: Callable[[], float], changed: Callable[[], None]
    ) -> None:
        """Follow ``site``'s sensors; ``changed`` is called on every report."""
        self.hass = hass
        self.site = site
        self._now = now
        self._changed = changed
        self._readings = {entity: _Reading() for entity in site.entities}
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @callback
    def start(self) -> None:
        """Read the sensors now and follow them."""
        for entity in self._readings:
            self._read(entity, self.hass.states.get(entity))
        if self._readings:
            entities = list(self._readings)
            self._unsubscribe += [
                async_track_state_change_event(self.hass, entities, self._state_changed),
                async_track_state_report_event(self.hass, entities, self._state_reported),
            ]

    @callback
    def stop(self) -> None:
        """Stop following the sensors."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    @callback
    def _state_changed(self, event: Event[Any]) -> None:
        self._read(event.data["entity_id"], event.data["new_state"])
        self._changed()

    @callback
    def _state_reported(self, event: Event[Any]) -> None:
        """The same value again: still fresh."""
        reading = self._readings.get(event.data["entity_id"])
        if reading is not None and reading.value is not None:
            reading.at = self._now()
            reading.problem = None
            self._changed()

    def _read(self, entity: str, state: State | None) -> None:
        reading = self._readings[entity]
        power = entity in (self.site.grid_entity, self.site.battery_entity)
        value, problem = _value_of(state, power=power)
        reading.value, reading.problem = value, problem
        reading.at = self._now() if value is not None else None

    def fresh(self, entity: str, now: float) -> tuple[float | None, Missing | None]:
        """The value of ``entity`` if it is recent enough, else which and why not."""
        reading = self._readings.get(entity) or _Reading(problem="missing")
        if reading.value is None:
            return None, (entity, reading.problem or STATE_UNKNOWN)
        if reading.at is not None and now - reading.at > self.site.timing.stale_after_s:
            return None, (entity, "stale")
        return reading.value, None

    def stale_at(self) -> list[float]:
        """When each reading turns stale unless its sensor reports again."""
        stale_after = self.site.timing.stale_after_s
        return [r.at + stale_after for r in self._readings.values() if r.at is not None]

    def grid_w(self, now: float) -> tuple[float | None, Missing | None]:
        """What the house imports (W, negative: exports), or which sensor is missing why."""
        site = self.site
        if site.grid_entity is None:
            return None, ("grid", "not_configured")
        grid, missing = self.fresh(site.grid_entity, now)
        if grid is None:
            return None, missing
        return (-grid if site.grid_export_positive else grid), None

    def battery_w(self, now: float) -> tuple[float | None, Missing | None]:
        """What the house battery takes (W, negative: gives), 0 without one."""
        site = self.site
        if site.battery_entity is None:
            return 0.0, None
        value, missing = self.fresh(site.battery_entity, now)
        if value is None:
            return None, missing
        return (-value if site.battery_discharge_positive else value), None

    def grid_currents(self, now: float) -> tuple[list[float] | None, Missing | None]:
        """Amps on each phase at the grid connection: measured, or from the grid power."""
        site = self.site
        if site.house_entities:
            values = []
            for entity in site.house_entities:
                value, missing = self.fresh(entity, now)
                if value is None:
                    return None, missing
                values.append(abs(value))
            return values, None
        grid, missing = self.grid_w(now)
        if grid is None:
            return None, missing
        return [grid / (site.voltage_v * site.phases)] * site.phases, None


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
