"""Pause and resume without ending the session; auto-lock after the car is unplugged.

Both replace what the Wallbox app stops doing under OCPP. A real central system and
a real simulated Wallbox over 127.0.0.1; time is moved on for the auto-lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import CONF_PING_INTERVAL

from .conftest import CARD_ALICE, CentralSystemUnderTest
from .helpers import state_of, wait_for, wait_for_state
from .test_control import connected_charger, registered, set_limit, switch

PAUSE = "switch.garage_pause"
LOCK = "switch.garage_lock"
AUTO_LOCK = "number.garage_auto_lock_after"


@pytest.fixture
async def charging(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> AsyncIterator[tuple[SimulatedCharger, int]]:
    """wb1 charging Alice's car with a 16 A limit in force."""
    charger = await connected_charger(hass, central_system)
    registered(central_system).controller.limit_interval = 0
    await set_limit(hass, 16)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    tx = (await charger.start_transaction(1, CARD_ALICE, 0))["transactionId"]
    await charger.status(1, "Charging")
    await wait_for_state(hass, "binary_sensor.garage_charging", STATE_ON)
    yield charger, tx
    await charger.close()


async def _pause(hass: HomeAssistant, charger: SimulatedCharger) -> None:
    """Turn Pause on and wait until the charger has 0 A in force, verified."""
    await switch(hass, PAUSE, True)
    await wait_for(lambda: charger.current_limit(1) == 0)
    # The read-back that verifies it finishes the send (nothing else is on its way).
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")


def _limits_sent(charger: SimulatedCharger) -> list[float]:
    return [
        call["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for action, call in charger.received
        if action == "SetChargingProfile"
    ]


async def test_pause_keeps_the_session_and_resumes_at_the_limit(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    charging: tuple[SimulatedCharger, int],
) -> None:
    """Pause: 0 A, the same transaction; resume: 16 A again; never a RemoteStop."""
    charger, tx = charging
    await _pause(hass, charger)
    await wait_for_state(hass, PAUSE, STATE_ON)
    pause = hass.states.get(PAUSE)
    assert pause is not None
    assert pause.attributes["reason"] == "paused"
    assert charger.connectors[1].transaction_id == tx
    assert state_of(hass, "number.garage_current_limit") == "0"

    await switch(hass, PAUSE, False)
    await wait_for(lambda: charger.current_limit(1) == 16)
    await wait_for_state(hass, PAUSE, STATE_OFF)
    assert state_of(hass, "number.garage_current_limit") == "16"
    assert charger.connectors[1].transaction_id == tx
    assert "RemoteStopTransaction" not in {action for action, _ in charger.received}
    assert _limits_sent(charger)[-2:] == [0, 16]


async def test_a_charger_that_lost_the_pause_gets_it_again(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    charging: tuple[SimulatedCharger, int],
) -> None:
    """Paused, the charger forgets its profiles (a swap, a factory reset): at its next boot
    the 0 A limit is sent again, so the pause holds."""
    charger, _ = charging
    await _pause(hass, charger)
    await charger.close()
    charger.charging_profiles = []
    assert charger.current_limit(1) == 32
    await charger.connect()
    await charger.boot()
    await wait_for(lambda: charger.current_limit(1) == 0)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert state_of(hass, PAUSE) == STATE_ON


async def test_a_limit_set_while_paused_waits_for_the_resume(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    charging: tuple[SimulatedCharger, int],
) -> None:
    """A solar automation moving the limit does not end the owner's pause."""
    charger, _ = charging
    await _pause(hass, charger)
    sent = len(_limits_sent(charger))
    await set_limit(hass, 10)
    controller = registered(central_system).controller
    # Nothing on its way: still paused at 0 A.
    assert controller._limit_task is None or controller._limit_task.done()
    assert registered(central_system).charger.owner.limit.requested_a == 0
    assert len(_limits_sent(charger)) == sent
    assert charger.current_limit(1) == 0
    number = hass.states.get("number.garage_current_limit")
    assert number is not None
    assert number.attributes["resume_limit"] == 10
    await switch(hass, PAUSE, False)
    await wait_for(lambda: charger.current_limit(1) == 10)


async def test_resume_without_a_limit_clears_the_profile(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """No limit before the pause: resuming removes ours, the charger's maximum applies."""
    charger = await connected_charger(hass, central_system)
    tx = (await charger.start_transaction(1, CARD_ALICE, 0))["transactionId"]
    await charger.status(1, "Charging")
    await _pause(hass, charger)
    await switch(hass, PAUSE, False)
    assert await charger.wait_for_call("ClearChargingProfile") is not None
    await wait_for(lambda: charger.current_limit(1) == 32)
    assert charger.connectors[1].transaction_id == tx
    await charger.close()


async def test_quick_pause_and_resume_settle(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Pause and resume at once, with no limit before: back to the charger's maximum."""
    charger = await connected_charger(hass, central_system)
    await charger.start_transaction(1, CARD_ALICE, 0)
    await switch(hass, PAUSE, True)
    await switch(hass, PAUSE, False)
    await wait_for(lambda: charger.current_limit(1) == 32)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    limit = registered(central_system).charger.owner.limit
    assert limit.requested_a is None
    assert limit.failures == 0
    await charger.close()


async def test_a_failed_resume_stays_paused(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    charging: tuple[SimulatedCharger, int],
) -> None:
    """The charger refuses the resume: the switch still says paused, and can be tried again."""
    charger, _ = charging
    await _pause(hass, charger)
    await charger.close()  # offline: the resume cannot be sent
    await wait_for_state(hass, "binary_sensor.garage_connection", STATE_OFF)
    with pytest.raises(HomeAssistantError):
        await registered(central_system).controller.async_pause(False)
    limit = registered(central_system).charger.owner.limit
    assert limit.paused
    assert limit.resume_a == 16


async def test_pause_reason_says_who_paused(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    charging: tuple[SimulatedCharger, int],
) -> None:
    """The car full (SuspendedEV) is not the owner's pause."""
    charger, _ = charging
    await charger.status(1, "SuspendedEV")
    await wait_for(
        lambda: (
            (s := hass.states.get(PAUSE)) is not None
            and s.attributes["reason"] == "suspended_by_car"
        )
    )
    assert state_of(hass, PAUSE) == STATE_OFF


async def _set_auto_lock(hass: HomeAssistant, minutes: int) -> None:
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: AUTO_LOCK, "value": minutes}, blocking=True
    )


async def _unlocked_and_unplugged(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, minutes: int = 5
) -> SimulatedCharger:
    """Auto-lock after ``minutes``, the charger unlocked, a car plugged in and out."""
    charger = await connected_charger(hass, central_system)
    await _set_auto_lock(hass, minutes)
    await switch(hass, LOCK, False)
    await wait_for(lambda: charger.configuration_value("AuthEnabled") == "false")
    await charger.status(1, "Preparing")  # plugged in
    await charger.status(1, "Available")  # unplugged
    return charger


# Moving the clock on fires every timer due by then, the keepalive ping's timeout too:
# without pings the connection outlives the jump, as it would in real time.
NO_PINGS = pytest.mark.parametrize("entry_options", [{CONF_PING_INTERVAL: 0}])


@NO_PINGS
async def test_auto_lock_after_unplug(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Unlocked, auto-lock 5 min: unplugging starts the countdown; then the charger locks."""
    charger = await _unlocked_and_unplugged(hass, central_system)
    lock = hass.states.get(LOCK)
    assert lock is not None
    assert lock.attributes["auto_lock_minutes"] == 5
    assert lock.attributes["auto_lock_at"] is not None
    unplugged = dt_util.utcnow()
    async_fire_time_changed(hass, unplugged + timedelta(minutes=4))
    await hass.async_block_till_done()
    assert charger.configuration_value("AuthEnabled") == "false"
    async_fire_time_changed(hass, unplugged + timedelta(minutes=5, seconds=1))
    await wait_for(lambda: charger.configuration_value("AuthEnabled") == "true")
    await wait_for_state(hass, LOCK, STATE_ON)
    lock = hass.states.get(LOCK)
    assert lock is not None
    assert lock.attributes["auto_lock_at"] is None
    await charger.close()


@NO_PINGS
async def test_plugging_in_again_stops_the_countdown(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The car back before the time: the charger stays unlocked."""
    charger = await _unlocked_and_unplugged(hass, central_system)
    await charger.status(1, "Preparing")  # plugged in again
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=10))
    await hass.async_block_till_done()
    assert charger.configuration_value("AuthEnabled") == "false"
    assert state_of(hass, LOCK) == STATE_OFF
    await charger.close()


async def test_auto_lock_is_off_by_default_and_kept(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Off (0) at first; the setting survives a restart and can be set while offline."""
    assert state_of(hass, AUTO_LOCK) == "0"  # no charger connected: still settable
    await _set_auto_lock(hass, 15)
    assert await hass.config_entries.async_reload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, AUTO_LOCK) == "15"


@NO_PINGS
async def test_auto_lock_survives_a_restart(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Home Assistant restarts during the countdown: the charger still locks on time."""
    charger = await _unlocked_and_unplugged(hass, central_system)
    unplugged = dt_util.utcnow()
    await charger.close()
    assert await hass.config_entries.async_reload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    # The countdown came back with the charger's state (its Lock switch is unavailable
    # while the charger is offline, so the model says it).
    assert registered(central_system).charger.owner.auto_lock_due is not None
    assert not registered(central_system).charger.owner.lock_wanted
    async_fire_time_changed(hass, unplugged + timedelta(minutes=5, seconds=1))
    await hass.async_block_till_done()
    assert registered(central_system).charger.owner.lock_wanted
    # Offline meanwhile: it is applied when the charger comes back.
    charger = await connected_charger(hass, central_system)
    await wait_for(lambda: charger.configuration_value("AuthEnabled") == "true")
    await charger.close()


@NO_PINGS
async def test_changing_the_delay_during_the_countdown(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A new delay restarts the countdown from now; 0 stops it."""
    charger = await _unlocked_and_unplugged(hass, central_system)
    model = registered(central_system).charger
    first = model.owner.auto_lock_due
    assert first is not None
    await _set_auto_lock(hass, 30)
    assert model.owner.auto_lock_due is not None
    assert model.owner.auto_lock_due - first > timedelta(minutes=20)
    await _set_auto_lock(hass, 0)
    assert model.owner.auto_lock_due is None
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await hass.async_block_till_done()
    assert not model.owner.lock_wanted
    await charger.close()


async def test_a_limit_the_charger_refuses_at_its_boot(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Paused, the charger lost its profile and now refuses profiles: shown as refused."""
    charger = await connected_charger(hass, central_system)
    await _pause(hass, charger)
    await charger.close()
    behaviour = ChargerBehaviour()
    behaviour.responses["SetChargingProfile"] = "Rejected"
    charger = await connected_charger(hass, central_system, behaviour=behaviour)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "rejected")
    assert state_of(hass, PAUSE) == STATE_ON  # still what the owner wants
    await charger.close()
