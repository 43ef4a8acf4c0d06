"""What the replay measures: the site, the cars' ground truth, the integrated metrics.

* :class:`Site`: the house's connection (voltage, phases, main fuse) and the chargers on it;
* :func:`car_power_w`, :func:`car_phases`, :func:`car_currents`: what the simulator's
  cars really draw (the seam to ``chargersim``);
* :func:`phase_currents`: the current per phase at the grid connection;
* :class:`Metrics`: energy, surplus share, import and export integrated second by
  second, and the time above the site limit (how many separate times, the longest,
  and the seconds in which a car's current on an overloaded phase rose).

Pure: no Home Assistant, no event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chargersim import SimulatedCharger


@dataclass(slots=True)
class Site:
    """The house's connection and the chargers on it."""

    voltage: float = 230.0
    phases: int = 3
    #: Main fuse, A per phase (0 = none).
    site_limit_a: float = 25.0
    #: The charger's own ceiling (chargingALimitConn1) and phases.
    charger_limit_a: float = 16.0
    charger_phases: int = 3
    #: Amps kept free below the fuse for load steps (site option ``site_reserve``).
    site_reserve_a: float = 1.0
    #: Energy manager's reaction speed (site option ``reaction``).
    reaction: str = "balanced"
    #: The charger switches between 1 and 3 phases (ConnectorSwitch3to1PhaseSupported).
    phase_switching: bool = False


# -- the cars' ground truth ---------------------------------------------------------------


def car_power_w(charger: SimulatedCharger, connector_id: int = 1) -> float:
    """The power (W) the simulator's car draws now (its ramp included)."""
    return float(charger.car(connector_id).power_w)


def car_phases(charger: SimulatedCharger, connector_id: int = 1) -> int:
    """On how many phases (L1.., in order) the car draws now."""
    return int(charger.car(connector_id).phases_in_use)


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Metrics:
    """Integrated over the replayed steps."""

    step_s: float
    site_limit_a: float
    car_wh: float = 0.0
    car_from_surplus_wh: float = 0.0
    import_wh: float = 0.0
    import_house_alone_wh: float = 0.0
    export_wh: float = 0.0
    plugged_s: float = 0.0
    above_limit_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    above_limit_any_s: float = 0.0
    #: Separate times above the site limit, and the longest of them (s).
    above_limit_events: int = 0
    above_limit_longest_s: float = 0.0
    #: Seconds above the limit while the cars' current on an overloaded phase rose:
    #: what the controller itself caused (the rest is the reaction to a house step).
    above_limit_rising_s: float = 0.0
    _above_run_s: float = 0.0
    _car_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_phase_a: float = 0.0

    def add(
        self,
        solar: float,
        house: list[float],
        car: float,
        phase_a: list[float],
        seconds: float | None = None,
        *,
        car_a: list[float] | None = None,
    ) -> None:
        """``seconds`` (default: a step) of solar (W), house (W per phase), the cars (W),
        grid current per phase (A), the cars' current per phase (A)."""
        seconds = self.step_s if seconds is None else seconds
        hours = seconds / 3600
        house_total = sum(house)
        surplus = max(0.0, solar - house_total)
        grid = house_total - solar + car
        self.car_wh += car * hours
        self.car_from_surplus_wh += min(car, surplus) * hours
        self.import_wh += max(0.0, grid) * hours
        self.export_wh += max(0.0, -grid) * hours
        self.import_house_alone_wh += max(0.0, house_total - solar) * hours
        self.plugged_s += seconds
        over = rising = False
        car_a = car_a or [0.0, 0.0, 0.0]
        for phase, amps in enumerate(phase_a):
            self.max_phase_a = max(self.max_phase_a, amps)
            if self.site_limit_a and amps > self.site_limit_a:
                self.above_limit_s[phase] += seconds
                over = True
                rising = rising or car_a[phase] > self._car_a[phase] + 0.05
        self._car_a = list(car_a)
        if rising:
            self.above_limit_rising_s += seconds
        if over:
            self.above_limit_any_s += seconds
            if not self._above_run_s:
                self.above_limit_events += 1
            self._above_run_s += seconds
            self.above_limit_longest_s = max(self.above_limit_longest_s, self._above_run_s)
        else:
            self._above_run_s = 0.0


def phase_currents(site: Site, solar: float, house: list[float], car_a: list[float]) -> list[float]:
    """The magnitude of the current per phase at the grid connection (A)."""
    v = site.voltage
    return [abs(house[p] / v - solar / (3 * v) + car_a[p]) for p in range(3)]


def car_currents(chargers: list[SimulatedCharger], voltage: float) -> tuple[float, list[float]]:
    """All cars together: power (W) and current per phase (A)."""
    total = 0.0
    amps = [0.0, 0.0, 0.0]
    for charger in chargers:
        watts = car_power_w(charger)
        phases = car_phases(charger)
        total += watts
        for p in range(phases):
            amps[p] += watts / (voltage * phases)
    return total, amps
