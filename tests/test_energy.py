"""Energy management: charge modes, solar surplus, phases, fallback, the main fuse.

A real central system and real simulated chargers over 127.0.0.1; the grid meter
and the house's current sensors are Home Assistant states the test sets, as a
smart meter integration would. The energy manager's clock is the test's: time is
moved on explicitly and Home Assistant's timers fired for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from chargersim import ChargerBehaviour, SimulatedCharger
from chargersim.v201 import SimulatedCharger as SimulatedCharger201
from custom_components.ocpp_hub.const import (
    CONF_BATTERY_FIRST,
    CONF_BATTERY_POWER,
    CONF_GRID_POWER,
    CONF_HOUSE_CURRENT,
    CONF_PING_INTERVAL,
    CONF_REACTION,
    CONF_SITE_LIMIT,
    CONF_SITE_RESERVE,
    CONF_SUPPLY_PHASES,
    CONF_TIMING,
    DOMAIN,
)
from custom_components.ocpp_hub.hub import OcppHub

from .conftest import (
    BOTH_VERSIONS,
    CARD_ALICE,
    V16,
    AnyCharger,
    CentralSystemUnderTest,
    SimVersion,
    charger_subentry,
)
from .helpers import state_of, wait_for, wait_for_state

GRID = "sensor.grid_power"
HOUSE = ["sensor.current_l1", "sensor.current_l2", "sensor.current_l3"]
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# The delays the tests count with (the presets are tuned with benchmarks/replay.py).
TIMING = {
    "start_delay_s": 60,
    "stop_delay_s": 120,
    "min_on_s": 300,
    "min_off_s": 300,
    "adjust_interval_s": 60,
    "phase_hold_s": 600,
    "stale_after_s": 300,
}


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """A single-phase site with a grid meter; no pings (time jumps)."""
    return {
        CONF_PING_INTERVAL: 0,
        CONF_GRID_POWER: GRID,
        CONF_SUPPLY_PHASES: 1,
        CONF_REACTION: "custom",
        CONF_TIMING: TIMING,
    }


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """Two chargers: Garage (wb1) and Carport (wb3)."""
    return [charger_subentry("wb1", "Garage"), charger_subentry("wb3", "Carport")]


@dataclass
class Site:
    """The house around the chargers: its meter, the clock, the simulated chargers."""

    hass: HomeAssistant
    central_system: CentralSystemUnderTest
    now: datetime = T0
    # The OCPP version the chargers speak (1.6 unless a test runs on both).
    version: SimVersion = V16
    chargers: dict[str, AnyCharger] = field(default_factory=dict)
    transactions: dict[str, int] = field(default_factory=dict)

    @property
    def hub(self) -> OcppHub:
        hub: OcppHub = self.central_system.entry.runtime_data
        return hub

    def clock(self) -> datetime:
        return self.now

    async def grid(self, watts: float | str, unit: str = "W") -> None:
        """What the grid meter reads (positive: importing)."""
        self.hass.states.async_set(
            GRID, str(watts), {"device_class": "power", "unit_of_measurement": unit}
        )
        await self.decided()

    async def house(self, *amps: float) -> None:
        """The current on each phase at the grid connection."""
        for entity, value in zip(HOUSE, amps, strict=True):
            self.hass.states.async_set(
                entity, str(value), {"device_class": "current", "unit_of_measurement": "A"}
            )
        await self.decided()

    async def advance(self, seconds: float, *, report: bool = True) -> None:
        """Move the clock on and fire Home Assistant's timers that came due.

        Timers run on the loop's clock, which the test does not move: every timer
        set since the test began is fired (one set for later than the clock says
        fires early, decides nothing new, and sets itself again). The meters
        report again (the same values) every 30 s on the way, unless ``report``
        is false.
        """
        while seconds > 0:
            await self.settled()
            step = min(seconds, 30.0) if report else seconds
            seconds -= step
            self.now += timedelta(seconds=step)
            async_fire_time_changed(self.hass, dt_util.utcnow() + (self.now - T0))
            await self.hass.async_block_till_done()
            if report:
                # A meter reports every few seconds, most often the same value again.
                for entity in (GRID, *HOUSE):
                    if (state := self.hass.states.get(entity)) is not None:
                        self.hass.states.async_set(entity, state.state, state.attributes)
            await self.decided()

    async def plug(
        self,
        identity: str,
        *,
        behaviour: ChargerBehaviour | None = None,
        phases: int | None = None,
    ) -> AnyCharger:
        """A booted charger with a car plugged in and a transaction running."""
        charger = self.version.simulator(
            self.central_system.url, identity, behaviour=behaviour, phases=phases
        )
        await charger.connect()
        await charger.boot()
        await charger.status(1, "Available")
        name = self.name(identity)
        await wait_for(
            lambda: state_of(self.hass, f"sensor.{name}_offline_protection") != "unknown"
        )
        self.hub.chargers[identity].controller.limit_interval = 0
        await charger.status(1, "Preparing")
        started = await charger.start_transaction(1, CARD_ALICE, 0)
        if isinstance(charger, SimulatedCharger):  # 2.0.1: the charger names it
            self.transactions[identity] = started["transactionId"]
        await charger.status(1, "Charging")
        self.chargers[identity] = charger
        await self.hass.async_block_till_done()
        return charger

    async def decided(self) -> None:
        """Wait for the energy manager's decision on what just changed (at most 1 s later)."""
        await self.hass.async_block_till_done()
        await wait_for(lambda: not self.hub.energy._queued)
        await self.hass.async_block_till_done()

    async def settled(self) -> None:
        """Wait until no call to a charger is on its way (firing timers would time it out)."""

        def idle() -> bool:
            tasks = [r.controller._limit_task for r in self.hub.chargers.values()]
            handlers = [self.hub.server.handler(i) for i in self.hub.chargers]
            calls = [h.session._pending for h in handlers if h is not None]
            return all(task is None or task.done() for task in tasks) and not any(calls)

        await self.hass.async_block_till_done()
        await wait_for(idle)

    @staticmethod
    def name(identity: str) -> str:
        return {"wb1": "garage", "wb3": "carport"}[identity]

    async def draw(self, identity: str, watts: float, *currents: float) -> None:
        """The charger's meter: what the car draws now."""
        charger = self.chargers[identity]
        if isinstance(charger, SimulatedCharger201):
            await charger.meter_values(1, power_w=watts, currents=list(currents) or None)
        else:
            await charger.meter_values(
                1,
                transaction_id=self.transactions[identity],
                power_w=watts,
                currents=list(currents) or None,
            )
        await self.decided()

    async def mode(self, identity: str, mode: str) -> None:
        await self.hass.services.async_call(
            "select",
            "select_option",
            {ATTR_ENTITY_ID: f"select.{self.name(identity)}_charge_mode", "option": mode},
            blocking=True,
        )
        await self.decided()

    def reason(self, identity: str) -> str:
        return state_of(self.hass, f"sensor.{self.name(identity)}_charge_mode_status")

    def attrs(self, identity: str) -> dict[str, Any]:
        state = self.hass.states.get(f"sensor.{self.name(identity)}_charge_mode_status")
        assert state is not None
        return dict(state.attributes)

    def limit(self, identity: str) -> float:
        return self.chargers[identity].current_limit(1)

    def profiles(self, identity: str) -> list[dict[str, Any]]:
        return [
            self.version.profile_sent(payload)[1]
            for action, payload in self.chargers[identity].received
            if action == "SetChargingProfile"
        ]


@pytest.fixture
async def site(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> AsyncIterator[Site]:
    """The site, its clock given to the energy manager; its chargers speak ``sim_version``."""
    rig = Site(hass, central_system, version=sim_version)
    rig.hub.energy.clock = rig.clock
    rig.hub.energy.min_gap = 0  # decide on every change (the throttle is a benchmark's)
    yield rig
    for charger in rig.chargers.values():
        await charger.close()


# ------------------------------------------------------------------- modes
async def test_fast_without_protection_leaves_the_charger_alone(site: Site) -> None:
    """Fast and no main fuse set: no profile at all, the charger's own maximum applies."""
    await site.plug("wb1")
    await site.grid(3000)
    assert site.reason("wb1") == "fast"
    assert state_of(site.hass, "select.garage_charge_mode") == "fast"
    assert state_of(site.hass, "sensor.garage_wanted_current") == "32"
    assert site.profiles("wb1") == []
    assert site.limit("wb1") == 32


async def test_solar_starts_after_the_start_delay_and_follows_the_surplus(site: Site) -> None:
    """Export of 2 kW: paused, then 8 A after the start delay; the current rises slowly."""
    await site.plug("wb1")
    await site.grid(-2000)
    await site.mode("wb1", "solar")
    await wait_for(lambda: site.limit("wb1") == 0)
    assert site.reason("wb1") == "starting"
    assert site.attrs("wb1")["hold_until"] == (T0 + timedelta(seconds=60)).isoformat()
    await site.advance(59)
    assert site.limit("wb1") == 0
    await site.advance(2)  # the timer of the start delay: no new reading needed
    await wait_for(lambda: site.limit("wb1") == 8)
    assert site.reason("wb1") == "surplus"
    assert state_of(site.hass, "sensor.garage_wanted_current") == "8"
    # The car draws its 8 A; another 1 kW of export: raised only after the interval.
    await site.draw("wb1", 1840)
    await site.grid(-1000)
    await site.advance(30)
    assert site.limit("wb1") == 8
    await site.advance(61)
    await wait_for(lambda: site.limit("wb1") == 12)
    # Import: lowered at once, without waiting for any interval.
    await site.draw("wb1", 2760)
    await site.grid(500)
    await wait_for(lambda: site.limit("wb1") == 9)
    assert state_of(site.hass, "switch.garage_charge") == "on"


async def test_solar_pauses_after_stop_delay_and_minimum_on_time(site: Site) -> None:
    """Too little surplus: minimum current until both holds end, then a pause held off."""
    await site.plug("wb1")
    await site.grid(-2000)
    await site.mode("wb1", "solar")
    await site.advance(61)
    await wait_for(lambda: site.limit("wb1") == 8)
    await site.draw("wb1", 1840)
    await site.grid(1000)  # a cloud: 840 W of surplus is less than 6 A
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "stopping"
    await site.advance(125)  # the stop delay is over, the minimum on time (300 s) is not
    assert site.limit("wb1") == 6
    await site.advance(170)
    assert site.limit("wb1") == 6
    await site.advance(10)
    await wait_for(lambda: site.limit("wb1") == 0)
    assert site.reason("wb1") == "waiting"
    assert site.attrs("wb1")["missing_power"] > 0
    # The sun is back at once: the minimum off time holds the pause.
    await site.draw("wb1", 0)
    await site.grid(-3000)
    assert site.reason("wb1") == "off_hold"
    await site.advance(301)
    await wait_for(lambda: site.limit("wb1") == 13)
    # The session stayed open all along.
    assert state_of(site.hass, "switch.garage_charge") == "on"


async def test_minimum_plus_solar_and_off(site: Site) -> None:
    """Minimum + solar: 6 A from the grid without surplus; Off: 0 A, the session open."""
    await site.plug("wb1")
    await site.grid(500)
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "minimum"
    await site.draw("wb1", 1380)
    await site.grid(-1000)
    await site.advance(91)
    await wait_for(lambda: site.limit("wb1") == 10)
    assert site.reason("wb1") == "surplus"
    await site.mode("wb1", "off")
    await wait_for(lambda: site.limit("wb1") == 0)
    assert site.reason("wb1") == "off"
    assert state_of(site.hass, "switch.garage_charge") == "on"
    # Back to Fast: our profile is removed, the charger's maximum applies again.
    await site.mode("wb1", "fast")
    await wait_for(lambda: site.limit("wb1") == 32)
    assert site.chargers["wb1"].charging_profiles == []


async def test_owner_limit_caps_the_mode(site: Site) -> None:
    """The Current limit number stays the ceiling in every mode."""
    await site.plug("wb1")
    await site.hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_current_limit", "value": 10},
        blocking=True,
    )
    await wait_for(lambda: site.limit("wb1") == 10)
    await site.grid(-5000)
    await site.mode("wb1", "min_solar")
    await site.advance(91)
    await wait_for(lambda: state_of(site.hass, "sensor.garage_wanted_current") == "10")
    assert site.limit("wb1") == 10
    assert state_of(site.hass, "number.garage_current_limit") == "10"


async def test_mode_and_priority_survive_a_restart(
    hass: HomeAssistant, site: Site, central_system: CentralSystemUnderTest
) -> None:
    """The select and the priority come back after Home Assistant restarts the entry."""
    await site.mode("wb1", "solar")
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_charging_priority", "value": 8},
        blocking=True,
    )
    entry = central_system.entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, "select.garage_charge_mode") == "solar"
    assert state_of(hass, "number.garage_charging_priority") == "8"
    assert state_of(hass, "select.carport_charge_mode") == "fast"


# ---------------------------------------------------------------- fallback
async def test_unavailable_grid_meter_falls_back_and_raises_a_repair(site: Site) -> None:
    """No grid reading: the safe current (the minimum) and a repair; both go when it is back."""
    await site.plug("wb1")
    await site.grid(-3000)
    await site.mode("wb1", "solar")
    await site.advance(61)
    await wait_for(lambda: site.limit("wb1") == 13)
    await site.grid("unavailable")
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "fallback"
    issue_id = f"energy_sensor_{site.central_system.entry.entry_id}"
    issue = ir.async_get(site.hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "energy_sensor"  # "... is unavailable", in words
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["entity"] == GRID
    await site.grid("not a number")
    await wait_for(
        lambda: (
            (i := ir.async_get(site.hass).async_get_issue(DOMAIN, issue_id)) is not None
            and i.translation_key == "energy_sensor_invalid"
        )
    )
    assert site.limit("wb1") == 6
    await site.grid(-3000)
    assert site.reason("wb1") != "fallback"
    assert ir.async_get(site.hass).async_get_issue(DOMAIN, issue_id) is None


async def test_silent_grid_meter_goes_stale(site: Site) -> None:
    """A meter that stops reporting is not trusted after the stale time."""
    await site.plug("wb1")
    await site.grid(-3000)
    await site.mode("wb1", "solar")
    await site.advance(61)
    await wait_for(lambda: site.limit("wb1") == 13)
    await site.advance(250, report=False)
    assert site.reason("wb1") == "surplus"
    await site.advance(60, report=False)  # 310 s after the last report: stale (300 s)
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "fallback"
    assert site.attrs("wb1")["mode"] == "solar"
    issue_id = f"energy_sensor_{site.central_system.entry.entry_id}"
    issue = ir.async_get(site.hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "energy_sensor_stale"


async def test_grid_meter_in_kilowatts(site: Site) -> None:
    """-2.3 kW is 2300 W of export: 10 A on one phase."""
    await site.plug("wb1")
    await site.grid(-2.3, "kW")
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 10)


# ------------------------------------------------------------------ phases
@pytest.fixture
def three_phase_options(entry_options: dict[str, Any]) -> None:
    entry_options[CONF_SUPPLY_PHASES] = 3


@BOTH_VERSIONS
@pytest.mark.usefixtures("three_phase_options")
async def test_phase_switching_where_the_charger_supports_it(site: Site) -> None:
    """One phase while the surplus is small, three once it pays for 6 A on three.

    A 1.6 charger says it can (ConnectorSwitch3to1PhaseSupported), a 2.0.1 one too
    (SmartChargingCtrlr.Phases3to1); each gets numberPhases in its profile.
    """
    await site.plug("wb1", behaviour=ChargerBehaviour(phase_switching=True), phases=3)
    await site.grid(-2000)
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 8)
    period = site.profiles("wb1")[-1]["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert period["numberPhases"] == 1
    assert site.attrs("wb1")["phases"] == 1
    # Plenty of sun: three phases after the start delay... and the phase hold.
    await site.draw("wb1", 1840, 8.0, 0.0, 0.0)
    await site.grid(-5000)  # 6840 W in all
    await site.advance(61)
    assert site.attrs("wb1")["phases"] == 1  # the phase hold (600 s) is not over
    await site.advance(540)
    await wait_for(lambda: site.attrs("wb1")["phases"] == 3)
    await wait_for(lambda: site.limit("wb1") == 9)
    period = site.profiles("wb1")[-1]["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert period["numberPhases"] == 3


@BOTH_VERSIONS
@pytest.mark.usefixtures("three_phase_options")
async def test_no_phase_switching_on_a_wallbox(site: Site) -> None:
    """A charger that cannot switch keeps its phases: no numberPhases.

    A Wallbox says ConnectorSwitch3to1PhaseSupported=false; the 2.0.1 station
    SmartChargingCtrlr.Phases3to1=false.
    """
    await site.plug("wb1", phases=3)
    await site.grid(-5000)
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 7)  # 5000 W / (3 x 230 V)
    period = site.profiles("wb1")[-1]["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert "numberPhases" not in period
    assert site.attrs("wb1")["phases"] is None


# --------------------------------------------------------------- main fuse
@pytest.fixture
def fuse_options(entry_options: dict[str, Any]) -> None:
    entry_options.update({CONF_SUPPLY_PHASES: 3, CONF_SITE_LIMIT: 20, CONF_HOUSE_CURRENT: HOUSE})


@pytest.mark.usefixtures("fuse_options")
async def test_house_load_step_lowers_both_chargers_at_once(site: Site) -> None:
    """A 20 A fuse: two Fast chargers share the headroom; a load step lowers both at once."""
    await site.house(5, 4, 3)
    await site.plug("wb1", phases=3)
    await site.plug("wb3", phases=3)
    await wait_for(lambda: site.limit("wb1") == 7 and site.limit("wb3") == 7)
    assert site.reason("wb1") == "site_limit"
    # The oven: +5 A on L1. 20 - 1 reserve - 10 = 9 A for both: not 6 A each, so the
    # charger with the lower priority pauses and the other takes the 9 A.
    await site.hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.carport_charging_priority", "value": 8},
        blocking=True,
    )
    await site.house(10, 4, 3)  # no time passes: the reaction is to the reading itself
    await wait_for(lambda: site.limit("wb1") == 0)
    assert site.reason("wb1") == "site_limit"
    assert site.attrs("wb1")["site_budget"] == 9
    assert site.limit("wb3") == 7  # a share rises only after the raise interval
    await site.advance(91)
    await wait_for(lambda: site.limit("wb3") == 9)
    # The oven is off: the paused charger comes back after the raise interval
    # (hysteresis); the other one is lowered to its share at once.
    await site.house(5, 4, 3)
    await wait_for(lambda: site.limit("wb3") == 7)
    await site.advance(30)
    assert site.limit("wb1") == 0
    await site.advance(61)
    await wait_for(lambda: site.limit("wb1") == 7)
    assert site.limit("wb3") == 7


@pytest.mark.usefixtures("fuse_options")
async def test_a_larger_margin_below_the_fuse(site: Site) -> None:
    """The owner keeps 4 A free for load steps: the charger gets 4 A less."""
    await site.house(5, 4, 3)
    await site.plug("wb1", phases=3)
    await wait_for(lambda: site.limit("wb1") == 14)  # 20 - 1 (default margin) - 5
    entry = site.central_system.entry
    result = await _options(site.hass, entry.entry_id, "site")
    result = await site.hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_LIMIT: 20, CONF_SITE_RESERVE: 20, CONF_HOUSE_CURRENT: HOUSE}
    )
    assert result["errors"] == {CONF_SITE_RESERVE: "reserve_too_large"}
    result = await site.hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_LIMIT: 20, CONF_SITE_RESERVE: 4, CONF_HOUSE_CURRENT: HOUSE}
    )
    assert result["type"] == "create_entry"
    assert entry.options[CONF_SITE_RESERVE] == 4
    # 14 A still fits under the fuse itself (15 A): the charger moves into the new
    # margin after the adjust interval, like a raise; a load step past the fuse would
    # lower it at once.
    await site.decided()
    assert site.limit("wb1") == 14
    await site.advance(91)
    await wait_for(lambda: site.limit("wb1") == 11)
    assert site.attrs("wb1")["site_budget"] == 11
    await site.house(10, 4, 3)  # 20 - 10 leaves 10 A: past the fuse, so at once
    await wait_for(lambda: site.limit("wb1") == 6)


@pytest.mark.usefixtures("fuse_options")
async def test_a_charger_that_needs_less_gives_the_rest(site: Site) -> None:
    """Minimum + solar at 6 A beside a Fast charger: Fast gets the rest of the headroom."""
    await site.house(2, 2, 2)
    await site.grid(500)
    await site.plug("wb1", phases=3)
    await site.plug("wb3", phases=3)
    await wait_for(lambda: site.limit("wb1") == 8 and site.limit("wb3") == 8)  # (20 - 1 - 2) / 2
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 6)
    await site.advance(91)
    await wait_for(lambda: site.limit("wb3") == 11)  # 20 - 1 - 2 - 6


@pytest.mark.usefixtures("fuse_options")
async def test_unknown_house_current_limits_everyone_to_the_safe_current(site: Site) -> None:
    """Main fuse protection without a reading: every charger at the safe current."""
    await site.house(5, 4, 3)
    await site.plug("wb1", phases=3)
    await wait_for(lambda: site.limit("wb1") == 14)
    site.hass.states.async_set(HOUSE[1], "unavailable")
    await site.hass.async_block_till_done()
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "fallback"


# ------------------------------------------------------------------ options
async def _options(hass: HomeAssistant, entry_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step
    return dict(result)


async def test_energy_options_apply_without_a_restart(site: Site) -> None:
    """The grid meter in kW is checked, its sign explained; chargers stay connected."""
    hass = site.hass
    charger = await site.plug("wb1")
    hass.states.async_set("sensor.meter_amps", "3", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.meter_kw", "-1.5", {"unit_of_measurement": "kW"})
    entry = site.central_system.entry
    result = await _options(hass, entry.entry_id, "energy")
    form = {
        "grid_export_positive": False,
        "battery_discharge_positive": True,
        "battery_priority": "car",
        "supply_phases": "1",
        "supply_voltage": 230,
        "reaction": "custom",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "grid_power_entity": "sensor.meter_amps"}
    )
    assert result["errors"] == {"grid_power_entity": "power_unit"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "grid_power_entity": "sensor.nothing"}
    )
    assert result["errors"] == {"grid_power_entity": "sensor_missing"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "grid_power_entity": "sensor.meter_kw"}
    )
    # The check: what the meter reads now, in words.
    assert result["step_id"] == "energy_check"
    assert result["description_placeholders"] == {
        "entity": "sensor.meter_kw",
        "reading": "-1.5 kW",
        "meaning": "sending power to the grid",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_export_positive": False}
    )
    assert result["step_id"] == "energy_timing"
    timing = {
        "start_delay_s": 10,
        "stop_delay_s": 20,
        "min_on_s": 30,
        "min_off_s": 40,
        "adjust_interval_s": 50,
        "phase_hold_s": 60,
        "stale_after_s": 70,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], timing)
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options[CONF_GRID_POWER] == "sensor.meter_kw"
    assert entry.options["battery_first"] is False
    assert entry.options[CONF_PING_INTERVAL] == 0  # the server's options are kept
    assert site.hub.energy.site.timing.start_delay_s == 10
    assert site.hub.energy.site.timing.stale_after_s == 70
    # No restart: the same connection, and the new meter is followed at once.
    assert charger.connected
    assert site.central_system.entry.runtime_data is site.hub
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 6)  # 1.5 kW: 6 A, the minimum


async def test_the_grid_check_speaks_home_assistants_language(site: Site) -> None:
    """The meter's meaning in the check is in Home Assistant's language, not English."""
    hass = site.hass
    hass.config.language = "de"
    hass.states.async_set("sensor.meter_w", "2000", {"unit_of_measurement": "W"})
    result = await _options(hass, site.central_system.entry.entry_id, "energy")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "grid_power_entity": "sensor.meter_w",
            "battery_priority": "car",
            "supply_phases": "1",
            "supply_voltage": 230,
            "reaction": "balanced",
        },
    )
    assert result["step_id"] == "energy_check"
    assert result["description_placeholders"]["meaning"] == "bezieht Strom aus dem Netz"


async def test_site_options(site: Site) -> None:
    """The main fuse needs a current sensor per phase, or the grid meter."""
    hass = site.hass
    entry = site.central_system.entry
    result = await _options(hass, entry.entry_id, "site")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_LIMIT: 25, CONF_HOUSE_CURRENT: HOUSE[:2]}
    )
    assert result["errors"] == {CONF_HOUSE_CURRENT: "house_phases"}  # a 1-phase supply
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_LIMIT: 25, CONF_HOUSE_CURRENT: HOUSE[:1]}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert site.hub.energy.site.limit_a == 25
    assert site.hub.energy.site.house_entities == (HOUSE[0],)
    # Without the grid meter and without current sensors there is nothing to protect with.
    hass.config_entries.async_update_entry(entry, options={CONF_PING_INTERVAL: 0})
    await hass.async_block_till_done()
    result = await _options(hass, entry.entry_id, "site")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_LIMIT: 25}
    )
    assert result["errors"] == {CONF_SITE_LIMIT: "site_needs_meter"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    assert CONF_SITE_LIMIT not in entry.options


async def test_solar_mode_without_grid_meter_raises_a_repair(
    hass: HomeAssistant, site: Site
) -> None:
    """A Solar mode with no grid meter set: the safe current, and a repair that says so."""
    entry = site.central_system.entry
    hass.config_entries.async_update_entry(entry, options={CONF_PING_INTERVAL: 0})
    await hass.async_block_till_done()
    await site.plug("wb1")
    await site.mode("wb1", "solar")
    await wait_for(lambda: site.limit("wb1") == 6)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"energy_sensor_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "energy_not_configured"
    await site.mode("wb1", "fast")
    await wait_for(lambda: site.limit("wb1") == 32)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"energy_sensor_{entry.entry_id}") is None


# ------------------------------------------------------------ more of the site
BATTERY = "sensor.battery_power"


async def _battery(site: Site, watts: float) -> None:
    """The house battery (Home Assistant's sign: positive while discharging)."""
    site.hass.states.async_set(
        BATTERY, str(watts), {"device_class": "power", "unit_of_measurement": "W"}
    )
    await site.decided()


@pytest.mark.parametrize(("battery_first", "expected"), [(True, 6), (False, 13)])
async def test_house_battery_first_or_car_first(
    hass: HomeAssistant, site: Site, battery_first: bool, expected: float
) -> None:
    """1 kW exported while the battery takes 2 kW: the car gets 1 kW, or all 3 kW."""
    entry = site.central_system.entry
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_BATTERY_POWER: BATTERY,
            CONF_BATTERY_FIRST: battery_first,
        },
    )
    await hass.async_block_till_done()
    await site.plug("wb1")
    await _battery(site, -2000)  # charging the battery
    await site.grid(-1000)
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == expected)
    # A discharging battery never feeds the car, whoever comes first.
    await site.draw("wb1", expected * 230)
    await _battery(site, 2500)
    await site.grid(0)
    await wait_for(lambda: site.limit("wb1") == 6)
    assert site.reason("wb1") == "minimum"


async def test_solar_share_of_the_session(site: Site) -> None:
    """An hour on surplus, then an hour half from the grid: 75 % of the energy from surplus."""
    await site.plug("wb1")
    await site.grid(-2300)
    await site.mode("wb1", "min_solar")
    await wait_for(lambda: site.limit("wb1") == 10)
    await site.draw("wb1", 2300)
    await site.grid(0)  # the car takes all of the export
    await site.advance(3600)
    await site.grid(1150)  # a cloud: half of the car's 2300 W from the grid
    await site.advance(3600)
    await site.grid(1150)
    share = float(state_of(site.hass, "sensor.garage_solar_share"))
    assert 74 <= share <= 76, share
    state = site.hass.states.get("sensor.garage_solar_share")
    assert state is not None
    assert state.attributes["session_energy"] == pytest.approx(4.6, abs=0.1)


async def test_a_charger_ignoring_its_current_says_so(site: Site) -> None:
    """Accepted but not applied (Wallbox 6.4.x): the status says *not applied*."""
    await site.plug("wb1", behaviour=ChargerBehaviour(ignore_charging_limits=True))
    await site.grid(-2300)
    await site.mode("wb1", "min_solar")
    await site.settled()
    await wait_for(lambda: site.reason("wb1") == "not_applied")
    assert state_of(site.hass, "sensor.garage_current_limit_status") == "not_applied"
    assert state_of(site.hass, "sensor.garage_wanted_current") == "10"


@pytest.fixture
def fuse_from_power_options(entry_options: dict[str, Any]) -> None:
    entry_options.update({CONF_SUPPLY_PHASES: 3, CONF_SITE_LIMIT: 20})


@pytest.mark.usefixtures("fuse_from_power_options")
async def test_main_fuse_from_the_grid_power_alone(site: Site) -> None:
    """No current sensors: the grid power spread over three phases is the house's load."""
    await site.grid(6900)  # 10 A on each phase
    await site.plug("wb1", phases=3)
    await wait_for(lambda: site.limit("wb1") == 9)  # 20 - 1 - 10
    assert site.reason("wb1") == "site_limit"


@pytest.mark.usefixtures("fuse_options")
async def test_the_fuse_does_not_wait_for_the_limit_interval(site: Site) -> None:
    """A profile a moment ago: the fuse's lowering goes out at once all the same."""
    await site.house(5, 4, 3)
    await site.plug("wb1", phases=3)
    await wait_for(lambda: site.limit("wb1") == 14)
    site.hub.chargers["wb1"].controller.limit_interval = 3600  # never, in this test
    await site.house(12, 4, 3)  # the oven
    await wait_for(lambda: site.limit("wb1") == 7)
    await wait_for_state(site.hass, "sensor.garage_current_limit_status", "applied")
