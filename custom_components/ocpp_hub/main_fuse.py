"""Main-fuse protection: the chargers lowered so that the house and they stay below the fuse.

The energy manager first decides each charger's current from its mode; the
main fuse then caps those currents with what the grid meter's phase currents
leave under the main fuse, shared by priority.
"""

from __future__ import annotations

import math

from .energy_site import Site, SiteMeters
from .model.energy import ChargerFacts, Reason
from .model.meter import PHASES
from .model.sharing import Claim, follow_fuse, share, site_budget_a, whole_amps
from .model.status import ConnectorStatus
from .registered_charger import RegisteredCharger


def fallback_a(site: Site, fact: ChargerFacts) -> float:
    """The safe current while a sensor is missing: the owner's choice, else the minimum."""
    if site.fallback_a is None:
        return fact.min_a
    return min(fact.max_a, site.fallback_a)


class MainFuse:
    """Caps the chargers' currents with what the house leaves under the main fuse.

    Keeps one memory between decisions: the chargers' currents when the meter's
    latest reading arrived. The meter and the chargers report at different moments,
    and a car still ramping up reads more at its charger than in the meter's older
    reading; counted at the lower of then and now, the house is never taken for
    less than it is.
    """

    def __init__(self) -> None:
        """Nothing read yet."""
        self._reading: tuple[float, ...] = ()
        self._drawn_then: list[float] = []

    def protect(
        self,
        site: Site,
        meters: SiteMeters,
        chargers: list[RegisteredCharger],
        facts: dict[str, ChargerFacts],
        now: float,
    ) -> tuple[str, str] | None:
        """Lower the chargers so the house and they together stay below the main fuse."""
        if site.limit_a is None:
            return None
        grid_a, problem = meters.grid_currents(now)
        if grid_a is None:
            for registered in chargers:
                ctl, fact = registered.charger.owner.control, facts[registered.identity]
                if (ctl.target_a or 0.0) > fallback_a(site, fact):
                    ctl.decide(fallback_a(site, fact), Reason.FALLBACK)
            return problem
        drawn = charger_currents(site, chargers, facts)
        if (reading := tuple(grid_a)) != self._reading:
            self._reading, self._drawn_then = reading, drawn
        drawn = [min(a, b) for a, b in zip(drawn, self._drawn_then, strict=True)]
        budget = site_budget_a(site.limit_a, site.reserve_a, grid_a, drawn)
        hard = site_budget_a(site.limit_a, 0.0, grid_a, drawn)
        claims = [
            Claim(r.identity, facts[r.identity].min_a, ctl.target_a or 0.0, ctl.priority)
            for r in chargers
            if facts[r.identity].car and ((ctl := r.charger.owner.control).target_a or 0.0) > 0
        ]
        minimums = {c.key: c.minimum for c in claims}
        caps = whole_amps(share(budget, claims), minimums)
        hard_caps = whole_amps(share(hard, claims), minimums)
        for registered in chargers:
            ctl, fact = registered.charger.owner.control, facts[registered.identity]
            # Without a car a charger may have the whole headroom: a car plugged in
            # starts within it, and the next decision shares.
            cap = caps.get(registered.identity, float(math.floor(budget)))
            hard_cap = hard_caps.get(registered.identity, float(math.floor(hard)))
            wanted = ctl.target_a or 0.0
            ctl.fuse = follow_fuse(
                ctl.fuse, wanted, cap, hard_cap, now=now, wait_s=site.timing.adjust_interval_s
            )
            if (held := ctl.fuse.cap_a) is not None and held < wanted:
                ctl.decide(held if held >= fact.min_a else 0.0, Reason.SITE_LIMIT, budget_a=budget)
        return None


def charger_currents(
    site: Site, chargers: list[RegisteredCharger], facts: dict[str, ChargerFacts]
) -> list[float]:
    """Amps all chargers draw together on each phase of the site."""
    total = [0.0] * site.phases
    for registered in chargers:
        fact = facts[registered.identity]
        for connector in registered.charger.outlets:
            if connector.status is not ConnectorStatus.CHARGING:
                continue
            measured = [connector.currents_a.get(p) for p in PHASES[: site.phases]]
            if any(value is not None for value in measured):
                for index, value in enumerate(measured):
                    total[index] += value or 0.0
                continue
            phases = min(max(fact.phases), site.phases)
            amps = (connector.power_w or 0.0) / (fact.voltage_v * phases)
            for index in range(phases):
                total[index] += amps
    return total
