"""Charger settings as configuration numbers: the charger's value, changed and read back.

A real central system in Home Assistant and a real simulated Wallbox over 127.0.0.1.
"""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest

from chargersim import ChargerBehaviour
from chargersim.charger import default_configuration
from custom_components.ocpp_hub.csms.port import Setting

from .conftest import CentralSystemUnderTest
from .helpers import state_of, wait_for, wait_for_state
from .test_control import connected_charger

SAMPLE = "number.garage_meter_value_sample_interval"
TIMEOUT = "number.garage_car_connection_timeout"


def _behaviour(*, readonly: bool = False, **extra: str) -> ChargerBehaviour:
    configuration = default_configuration()
    configuration["MeterValueSampleInterval"] = ("60", readonly)
    behaviour = ChargerBehaviour(configuration=configuration)
    behaviour.responses.update(extra)
    return behaviour


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: entity_id, "value": value}, blocking=True
    )


async def test_settings_appear_with_the_configuration(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Nothing before the charger reported its configuration; then its values, as config."""
    assert hass.states.get(SAMPLE) is None
    assert hass.states.get(TIMEOUT) is None
    charger = await connected_charger(hass, central_system, behaviour=_behaviour())
    try:
        await wait_for_state(hass, SAMPLE, "60")
        assert state_of(hass, TIMEOUT) == "60"
        entry = er.async_get(hass).async_get(SAMPLE)
        assert entry is not None
        assert entry.entity_category is er.EntityCategory.CONFIG
        assert entry.unique_id == f"{central_system.entry.entry_id}_wb1_meter_value_sample_interval"
        state = hass.states.get(SAMPLE)
        assert state is not None
        assert state.attributes["unit_of_measurement"] == "s"
        assert state.attributes["reboot_required"] is False
    finally:
        await charger.close()


async def test_no_entity_for_a_key_the_charger_does_not_report(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The default Wallbox has no MeterValueSampleInterval: no number for it."""
    charger = await connected_charger(hass, central_system)
    try:
        await wait_for(lambda: hass.states.get(TIMEOUT) is not None)
        assert hass.states.get(SAMPLE) is None
    finally:
        await charger.close()


async def test_change_accepted_and_read_back(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Set 30 s: ChangeConfiguration, then GetConfiguration of the key; 30 is what it reports."""
    behaviour = _behaviour()
    behaviour.reboot_required_keys.add("ConnectionTimeOut")
    charger = await connected_charger(hass, central_system, behaviour=behaviour)
    try:
        await wait_for_state(hass, SAMPLE, "60")
        charger.received.clear()
        await _set(hass, SAMPLE, 30)
        assert charger.configuration_value("MeterValueSampleInterval") == "30"
        assert state_of(hass, SAMPLE) == "30"
        actions = [(a, p) for a, p in charger.received]
        assert actions == [
            ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"}),
            ("GetConfiguration", {"key": ["MeterValueSampleInterval"]}),
        ]
        # A key that needs a reboot says so until the charger booted again.
        await _set(hass, TIMEOUT, 120)
        assert state_of(hass, TIMEOUT) == "120"
        state = hass.states.get(TIMEOUT)
        assert state is not None
        assert state.attributes["reboot_required"] is True
        await charger.boot()
        await wait_for(
            lambda: (
                (s := hass.states.get(TIMEOUT)) is not None
                and s.attributes["reboot_required"] is False
            )
        )
    finally:
        await charger.close()


@pytest.mark.parametrize(
    "behaviour",
    [_behaviour(readonly=True), _behaviour(ChangeConfiguration="Rejected")],
    ids=["read-only", "rejected"],
)
async def test_refused_change_shows_the_charger_value(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, behaviour: ChargerBehaviour
) -> None:
    """A refusal is a translated error; the state stays what the charger reports."""
    charger = await connected_charger(hass, central_system, behaviour=behaviour)
    try:
        await wait_for_state(hass, SAMPLE, "60")
        with pytest.raises(HomeAssistantError, match="refused to set MeterValueSampleInterval"):
            await _set(hass, SAMPLE, 30)
        assert charger.configuration_value("MeterValueSampleInterval") == "60"
        assert state_of(hass, SAMPLE) == "60"
    finally:
        await charger.close()


async def test_unavailable_while_offline(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Offline, nothing could set it: unavailable; back online, the charger's value."""
    charger = await connected_charger(hass, central_system, behaviour=_behaviour())
    await wait_for_state(hass, SAMPLE, "60")
    await charger.close()
    await wait_for_state(hass, SAMPLE, STATE_UNAVAILABLE)
    await wait_for_state(hass, TIMEOUT, STATE_UNAVAILABLE)
    registered = central_system.entry.runtime_data.chargers["wb1"]
    with pytest.raises(HomeAssistantError, match="is not connected"):
        await registered.controller.async_set_setting(Setting.METER_INTERVAL, "30")
    charger = await connected_charger(hass, central_system, behaviour=_behaviour())
    try:
        await wait_for_state(hass, SAMPLE, "60")
    finally:
        await charger.close()


async def test_setting_the_charger_has_no_name_for(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A generic 1.6 charger has no lock setting: changing it is refused, nothing is sent."""
    charger = await connected_charger(hass, central_system, vendor="Generic Co", model="GC-1")
    try:
        controller = central_system.entry.runtime_data.chargers["wb1"].controller
        assert controller.setting_name(Setting.AUTHORIZATION_REQUIRED) is None
        sent = len(charger.received)
        with pytest.raises(HomeAssistantError, match="authorization_required"):
            await controller.async_set_setting(Setting.AUTHORIZATION_REQUIRED, "true")
        assert len(charger.received) == sent
    finally:
        await charger.close()
