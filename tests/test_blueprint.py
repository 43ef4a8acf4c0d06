"""The solar surplus blueprint, run by Home Assistant's own automation engine.

The blueprint is loaded from the repository through Home Assistant's blueprint
machinery and instantiated as an automation. For the control logic the
charger's "Current limit" is a template number (a real number entity, so
``number.set_value`` really runs); grid power and the charging sensor are plain
states; time is frozen and moved on in steps, firing the time pattern trigger.
One test drives OCPP Hub's own number and a simulated Wallbox end to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from chargersim import SimulatedCharger

from .conftest import CentralSystemUnderTest
from .helpers import state_of, wait_for

BLUEPRINT = (
    Path(__file__).parent.parent / "blueprints" / "automation" / "ocpp_hub" / "solar_surplus.yaml"
)
BLUEPRINT_PATH = "ocpp_hub/solar_surplus.yaml"
GRID = "sensor.grid_power"
LIMIT = "number.current_limit"
CHARGING = "binary_sensor.charging"
SET_VALUE_EVENT = "test_current_limit_set"
# Between two firings of the time pattern, so that each 30 s step fires it once.
T0 = datetime(2026, 6, 1, 12, 0, 15, tzinfo=UTC)


@dataclass
class Rig:
    """A charger's current limit, a grid meter and the automation driving them."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    writes: list[float] = field(default_factory=list)

    async def set_grid(self, watts: float | str, unit: str = "W") -> None:
        """What the grid meter reads now."""
        self.hass.states.async_set(
            GRID, str(watts), {"device_class": "power", "unit_of_measurement": unit}
        )
        await self.hass.async_block_till_done()

    async def set_charging(self, charging: bool) -> None:
        """What the charger's charging sensor says now."""
        self.hass.states.async_set(CHARGING, "on" if charging else "off", {})
        await self.hass.async_block_till_done()

    async def set_limit(self, amps: float) -> None:
        """The user (or a previous run) sets the limit; not counted as the automation's."""
        await self.hass.services.async_call(
            "number", "set_value", {"entity_id": LIMIT, "value": amps}, blocking=True
        )
        await self.hass.async_block_till_done()
        self.writes.clear()

    @property
    def limit(self) -> float:
        """The current limit now."""
        state = self.hass.states.get(LIMIT)
        assert state is not None
        return float(state.state)

    async def wait(self, seconds: float = 30) -> None:
        """Let time pass; the time pattern fires."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done()

    async def run(self) -> list[float]:
        """One control period (30 s); the values the automation wrote in it."""
        self.writes.clear()
        await self.wait(30)
        return list(self.writes)


async def start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    *,
    limit: float | None,
    grid_w: float,
    number_max: float = 32,
    charging: bool | None = None,
    **inputs: Any,
) -> Rig:
    """The limit (and charging state) as of 10 minutes ago; the automation set up now.

    ``limit=None`` leaves the limit unknown, as on a charger never given one.
    The 10 minutes put the limit's last change beyond the minimum on / off times.
    The first run is in the next 30 s (the time pattern fires on :00 and :30).
    """
    freezer.move_to(T0 - timedelta(minutes=10))
    await hass.async_add_executor_job(install_blueprint, hass, tmp_path)

    rig = Rig(hass, freezer)
    hass.bus.async_listen(SET_VALUE_EVENT, lambda event: rig.writes.append(event.data["value"]))
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "number": [
                        {
                            "name": "Current limit",
                            "min": 0,
                            "max": number_max,
                            "step": 1,
                            "unit_of_measurement": "A",
                            "set_value": [
                                {"event": SET_VALUE_EVENT, "event_data": {"value": "{{ value }}"}}
                            ],
                        }
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()
    if limit is not None:
        await rig.set_limit(limit)
    if charging is not None:
        await rig.set_charging(charging)
        inputs.setdefault("charging", CHARGING)

    freezer.move_to(T0)
    await rig.set_grid(grid_w)
    inputs = {"grid_power": GRID, "current_limit": LIMIT, "phases": "1", **inputs}
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Solar surplus",
                "use_blueprint": {"path": BLUEPRINT_PATH, "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    automation = hass.states.get("automation.solar_surplus")
    assert automation is not None
    assert automation.state == "on"
    assert rig.writes == []
    return rig


@pytest.fixture(autouse=True)
async def automations_stopped(hass: HomeAssistant) -> AsyncIterator[None]:
    """Turn the automations off after each test, so that no time trigger outlives it."""
    yield
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


def install_blueprint(hass: HomeAssistant, config_dir: Path) -> None:
    """Home Assistant's config directory is a temporary one holding the blueprint."""
    hass.config.config_dir = str(config_dir)
    target = Path(hass.config.path("blueprints", "automation", "ocpp_hub"))
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)


async def test_blueprint_loads_and_documents_every_input(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The blueprint imports into Home Assistant and every setting explains itself."""
    await hass.async_add_executor_job(install_blueprint, hass, tmp_path)
    assert await async_setup_component(hass, "automation", {})

    blueprint = await async_get_blueprints(hass).async_get_blueprint(BLUEPRINT_PATH)
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) == {
        "grid_power",
        "invert",
        "current_limit",
        "charging",
        "phases",
        "voltage",
        "min_current",
        "max_current",
        "hysteresis_w",
        "min_on_minutes",
        "min_off_minutes",
        "update_interval",
    }
    for name, spec in blueprint.inputs.items():
        assert spec.get("description"), f"input {name} has no description"
        assert spec.get("name"), f"input {name} has no name"
    defaults = {name: spec.get("default") for name, spec in blueprint.inputs.items()}
    assert defaults["voltage"] == 230
    assert defaults["min_current"] == 6
    assert defaults["max_current"] == 16
    assert defaults["hysteresis_w"] == 300
    assert defaults["min_on_minutes"] == defaults["min_off_minutes"] == 5
    assert defaults["update_interval"] == "/30"

    raw = load_yaml_dict(str(BLUEPRINT))
    assert raw["mode"] == "single"
    assert raw["max_exceeded"] == "silent"


async def test_export_starts_charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Exporting 2300 W on one phase at 230 V starts the paused charger at 10 A."""
    rig = await start(hass, freezer, tmp_path, limit=0, grid_w=-2300)
    assert await rig.run() == [10]
    assert rig.limit == 10
    # The car now takes the surplus; the grid is balanced: nothing changes.
    await rig.set_grid(0)
    assert await rig.run() == []
    assert rig.limit == 10


async def test_three_phases(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """On three phases the same surplus is a third of the current per phase."""
    rig = await start(hass, freezer, tmp_path, limit=0, grid_w=-6900, phases="3")
    assert await rig.run() == [10]


async def test_import_lowers_then_pauses_after_the_minimum_on_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A cloud: the limit drops to the minimum at once, and pauses only after 5 minutes."""
    rig = await start(hass, freezer, tmp_path, limit=0, grid_w=-2300)
    assert await rig.run() == [10]
    await rig.set_grid(1000)  # 10 A - 1000 W / 230 V = 5.65 A: below 6 A
    assert await rig.run() == [6]
    # Still importing at 6 A, but the limit changed less than 5 minutes ago.
    for _ in range(9):
        assert await rig.run() == []
    assert rig.limit == 6
    assert await rig.run() == [0]  # 5 minutes after the change
    assert rig.limit == 0


async def test_pause_holds_for_the_minimum_off_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """After a pause the sun may come back: charging resumes only after 5 minutes."""
    rig = await start(hass, freezer, tmp_path, limit=6, grid_w=1000)
    assert await rig.run() == [0]
    await rig.set_grid(-2300)
    for _ in range(9):  # 4.5 minutes
        assert await rig.run() == []
    assert rig.limit == 0
    assert await rig.run() == [10]


@pytest.mark.parametrize(
    ("grid_w", "expected"),
    [
        (-200, []),  # 10.87 A -> 10 A: no change at all
        (100, []),  # 9.57 A -> 9 A: 1 A is 230 W, under the 300 W hysteresis
        (-300, []),  # 11.3 A -> 11 A: 230 W again
        (-460, [12]),  # 12 A: 460 W
        (400, [8]),  # 8.26 A -> 8 A: 460 W
    ],
)
async def test_hysteresis(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    grid_w: float,
    expected: list[float],
) -> None:
    """Small wobbles of the surplus leave the limit alone; larger ones move it."""
    rig = await start(hass, freezer, tmp_path, limit=10, grid_w=grid_w)
    assert await rig.run() == expected


async def test_hysteresis_is_configurable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """With no hysteresis every whole amp of surplus is used."""
    rig = await start(hass, freezer, tmp_path, limit=10, grid_w=100, hysteresis_w=0)
    assert await rig.run() == [9]


@pytest.mark.parametrize(
    ("number_max", "inputs", "expected"),
    [
        (32, {}, 16),  # the blueprint's default maximum
        (32, {"max_current": 20}, 20),
        (13, {}, 13),  # the charger's own maximum is lower
    ],
)
async def test_large_surplus_is_capped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    *,
    number_max: float,
    inputs: dict[str, Any],
    expected: float,
) -> None:
    """A huge surplus charges at the maximum current, never above it."""
    rig = await start(
        hass, freezer, tmp_path, limit=10, grid_w=-10000, number_max=number_max, **inputs
    )
    assert await rig.run() == [expected]
    assert await rig.run() == []


async def test_limit_above_the_maximum_is_brought_down(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A limit set by hand above the maximum is corrected even within the hysteresis."""
    rig = await start(hass, freezer, tmp_path, limit=17, grid_w=-5000, hysteresis_w=1000)
    assert await rig.run() == [16]


async def test_inverted_meter_in_kilowatts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A meter showing export as +2.3 kW works with "Invert grid power"."""
    rig = await start(hass, freezer, tmp_path, limit=0, grid_w=0, invert=True)
    await rig.set_grid(2.3, unit="kW")
    assert await rig.run() == [10]


async def test_charging_sensor_off_counts_as_drawing_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A car that is not charging does not hold the limit at 16 A on surplus it does not take."""
    rig = await start(hass, freezer, tmp_path, limit=16, grid_w=-2300, charging=False)
    assert await rig.run() == [10]


async def test_without_charging_sensor_the_limit_counts_as_drawn(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """Without the sensor, the same export means the car could take even more."""
    rig = await start(hass, freezer, tmp_path, limit=16, grid_w=-2300)
    assert await rig.run() == []
    assert rig.limit == 16


async def test_minimum_on_time_counts_from_when_charging_began(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """A car charging for 10 minutes may be paused at once, even right after a change."""
    rig = await start(hass, freezer, tmp_path, limit=10, grid_w=-2300, charging=True)
    await rig.set_limit(8)  # a recent change of the limit
    await rig.set_grid(2000)
    assert await rig.run() == [0]


@pytest.mark.parametrize("grid_state", ["unavailable", "unknown", "not a number"])
async def test_unknown_grid_power_changes_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, grid_state: str
) -> None:
    """Without a meter reading the limit stays where it is, and nothing logs an error."""
    rig = await start(hass, freezer, tmp_path, limit=10, grid_w=-2300)
    await rig.set_grid(grid_state)
    assert await rig.run() == []
    assert rig.limit == 10


async def test_unavailable_charger_is_left_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """While the charger is offline the automation does not try to set its limit."""
    rig = await start(hass, freezer, tmp_path, limit=10, grid_w=-2300)
    hass.states.async_set(LIMIT, "unavailable", {})
    assert await rig.run() == []


@pytest.mark.parametrize(("grid_w", "expected"), [(-2300, [10]), (500, [0])])
async def test_a_limit_never_set_is_taken_over(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    grid_w: float,
    expected: list[float],
) -> None:
    """A charger nobody limited yet (running at full power) is brought under control."""
    rig = await start(hass, freezer, tmp_path, limit=None, grid_w=grid_w)
    state = hass.states.get(LIMIT)
    assert state is not None
    assert state.state == "unknown"
    assert await rig.run() == expected
    assert rig.limit == expected[0]
    await rig.set_grid(0)  # balanced now: the limit, being known, is left alone
    assert await rig.run() == []


async def test_every_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    """With "Every minute" the limit is recalculated once a minute, not twice."""
    rig = await start(hass, freezer, tmp_path, limit=0, grid_w=-2300, update_interval="0")
    runs = [await rig.run(), await rig.run()]
    assert sorted(runs) == [[], [10]]


async def test_drives_a_real_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, tmp_path: Path
) -> None:
    """End to end: 2300 W of export gives a connected Wallbox a 10 A limit over OCPP."""
    charger = SimulatedCharger(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "number.garage_current_limit") != "unavailable")
    await wait_for(lambda: state_of(hass, "binary_sensor.garage_charging") == "off")
    hass.states.async_set(GRID, "-2300", {"device_class": "power", "unit_of_measurement": "W"})
    await hass.async_add_executor_job(install_blueprint, hass, tmp_path)
    inputs = {
        "grid_power": GRID,
        "current_limit": "number.garage_current_limit",
        "charging": "binary_sensor.garage_charging",
        "phases": "1",
        "min_off_minutes": 0,
    }
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Solar surplus",
                "use_blueprint": {"path": BLUEPRINT_PATH, "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    # One control period, as the time pattern would run it (conditions included).
    await hass.services.async_call(
        "automation",
        "trigger",
        {"entity_id": "automation.solar_surplus", "skip_condition": False},
        blocking=True,
    )
    await wait_for(lambda: charger.current_limit(1) == 10)
    assert state_of(hass, "number.garage_current_limit") == "10"
    await charger.close()
