"""Shapes that other tools rely on: evcc's Home Assistant charger, the Energy dashboard."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from chargersim import SimulatedCharger

from .conftest import CARD_ALICE, CentralSystemUnderTest
from .helpers import state_of

# evcc's charger status letters, and our status states that map to each
# (configured in evcc as statusA / statusB / statusC, see the README).
EVCC_STATUS = {
    "A": {"available", "reserved", "inoperative", "faulted"},
    "B": {"preparing", "suspended_ev", "suspended_evse", "finishing"},
    "C": {"charging"},
}


async def test_evcc_home_assistant_charger(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    entity_registry: er.EntityRegistry,
) -> None:
    """status, enabled/enable, maxcurrent, power, energy and phase currents fit evcc."""
    status = hass.states.get("sensor.garage_status")
    assert status is not None
    options = set(status.attributes["options"])
    assert options == set().union(*EVCC_STATUS.values())  # every state has a letter
    # enabled / enable: a switch with on/off.
    assert hass.states.get("switch.garage_charge") is not None
    # maxcurrent: a number in amperes.
    limit = hass.states.get("number.garage_current_limit")
    assert limit is not None
    assert limit.attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
    # Phase currents exist (disabled by default: enable them for evcc).
    for phase in ("l1", "l2", "l3"):
        entry = entity_registry.async_get(f"sensor.garage_current_{phase}")
        assert entry is not None
        assert entry.unit_of_measurement == "A"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(1, "Charging")
        tx = (await charger.start_transaction(1, CARD_ALICE, 1000))["transactionId"]
        await charger.meter_values(1, transaction_id=tx, energy_wh=2500, power_w=7200)
        assert state_of(hass, "sensor.garage_status") in EVCC_STATUS["C"]
        assert state_of(hass, "switch.garage_charge") == "on"
        assert float(state_of(hass, "sensor.garage_charging_power")) == 7200  # W
        assert float(state_of(hass, "sensor.garage_energy")) == 2.5  # kWh


async def test_energy_dashboard_device_consumption(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Energy (kWh, total increasing) and power (W, measurement) as the dashboard needs."""
    energy = hass.states.get("sensor.garage_energy")
    power = hass.states.get("sensor.garage_charging_power")
    assert energy is not None
    assert power is not None
    assert energy.attributes["device_class"] == SensorDeviceClass.ENERGY
    assert energy.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert power.attributes["device_class"] == SensorDeviceClass.POWER
    assert power.attributes["state_class"] == SensorStateClass.MEASUREMENT
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
