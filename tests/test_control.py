"""Controls end to end: reboot, start/stop, availability, unlock, current limit, lock, cards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import CONF_CARDS, DOMAIN
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.registered_charger import RegisteredCharger

from .conftest import (
    BOTH_VERSIONS,
    CARD_ALICE,
    V16,
    AnyCharger,
    CentralSystemUnderTest,
    SimVersion,
)
from .helpers import charger_device, state_of, wait_for, wait_for_state

ALICE_ON_THE_WIRE = "C3B2A104"  # a Wallbox reads UIDs little-endian


def registered(central_system: CentralSystemUnderTest, identity: str = "wb1") -> RegisteredCharger:
    """The hub's record of a registered charger."""
    hub: OcppHub = central_system.entry.runtime_data
    return hub.chargers[identity]


async def connected_station(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    version: SimVersion,
    **kwargs: Any,
) -> AnyCharger:
    """A booted wb1 of either version whose set-up after boot has finished."""
    charger = version.simulator(central_system.url, "wb1", **kwargs)
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
    return charger


async def answering(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    version: SimVersion,
    action: str,
    answer: str,
) -> AnyCharger:
    """A booted wb1 of ``version`` that answers ``action`` with ``answer`` (a status, error...)."""
    behaviour = ChargerBehaviour(responses={action: answer})
    return await connected_station(hass, central_system, version, behaviour=behaviour)


async def connected_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, **kwargs: Any
) -> SimulatedCharger:
    """A booted 1.6 wb1 whose set-up after boot has finished."""
    charger = await connected_station(hass, central_system, V16, **kwargs)
    assert isinstance(charger, SimulatedCharger)
    return charger


@pytest.fixture
async def wallbox(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> AsyncIterator[AnyCharger]:
    """A connected simulated Wallbox with default behaviour (1.6 unless on BOTH_VERSIONS)."""
    charger = await connected_station(hass, central_system, sim_version)
    yield charger
    await charger.close()


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button the way the frontend does."""
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True)


async def switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Turn a switch on or off the way the frontend does."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def set_limit(hass: HomeAssistant, value: float, *, blocking: bool = True) -> None:
    """Move the current limit slider."""
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_current_limit", "value": value},
        blocking=blocking,
    )


# ------------------------------------------------------------------ reboot


def reboot_events(hass: HomeAssistant) -> list[Event]:
    """Collect the integration's reboot-finished events."""
    events: list[Event] = []

    @callback
    def _record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(f"{DOMAIN}_reboot_finished", _record)
    return events


@BOTH_VERSIONS
async def test_reboot_succeeds(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Reset accepted, socket closed, boot again: the result says so, with the time it took."""
    events = reboot_events(hass)
    boots = wallbox.boots
    await press(hass, "button.garage_reboot")
    assert await wallbox.wait_for_call("Reset") == sim_version.soft_reset
    assert state_of(hass, "sensor.garage_last_reboot") == "pending"
    await wait_for(lambda: wallbox.boots > boots)
    await wait_for_state(hass, "sensor.garage_last_reboot", "succeeded")
    attributes = hass.states.get("sensor.garage_last_reboot").attributes  # type: ignore[union-attr]
    assert attributes["duration_s"] is not None
    assert attributes["duration_s"] >= 0
    assert [e.data["result"] for e in events] == ["succeeded"]


@BOTH_VERSIONS
async def test_reboot_rejected(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
) -> None:
    """A charger that refuses to reboot: a translated error, and the result shows it."""
    charger = await answering(hass, central_system, sim_version, "Reset", "Rejected")
    with pytest.raises(HomeAssistantError, match="Garage refused Reset"):
        await press(hass, "button.garage_reboot")
    assert state_of(hass, "sensor.garage_last_reboot") == "rejected"
    await charger.close()


@BOTH_VERSIONS
async def test_reboot_that_never_comes_back(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Accepted but no BootNotification by the deadline: failed, event, repair issue."""
    charger = await connected_station(
        hass, central_system, sim_version, behaviour=ChargerBehaviour(reboot_delay=None)
    )
    registered(central_system).controller.reboot_deadline = 0.5
    events = reboot_events(hass)
    await press(hass, "button.garage_reboot")
    await wait_for_state(hass, "sensor.garage_last_reboot", "failed")
    assert [e.data["result"] for e in events] == ["failed"]
    issue_id = f"reboot_failed_{central_system.entry.entry_id}_wb1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await charger.close()
    # It comes back later after all: the next reboot that works clears the repair.
    again = await connected_station(hass, central_system, sim_version)
    registered(central_system).controller.reboot_deadline = 30
    await press(hass, "button.garage_reboot")
    await wait_for_state(hass, "sensor.garage_last_reboot", "succeeded")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await again.close()


@BOTH_VERSIONS
async def test_reboot_while_charging_needs_confirmation(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """The button refuses while charging; the action with confirmation goes ahead."""
    await wallbox.status(1, "Preparing")
    await wallbox.start_transaction(1, CARD_ALICE, 0)
    await wallbox.status(1, "Charging")
    await wait_for_state(hass, "sensor.garage_status", "charging")
    with pytest.raises(ServiceValidationError, match="is charging") as refused:
        await press(hass, "button.garage_reboot")
    # What to do in the words of the UI, not the action's field names.
    assert "turn off the charger's Charge switch" in str(refused.value)
    assert "ocpp_hub." not in str(refused.value)
    assert "confirm_while_charging" not in str(refused.value)
    assert not any(action == "Reset" for action, _ in wallbox.received)
    await registered(central_system).controller.async_reboot(confirm_while_charging=True)
    assert await wallbox.wait_for_call("Reset") == sim_version.soft_reset


# ------------------------------------------------------- start/stop, availability


@BOTH_VERSIONS
async def test_start_and_stop_charging(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """The Charging switch follows the real transaction, started with a stable idTag."""
    await wallbox.status(1, "Preparing")
    assert state_of(hass, "switch.garage_charge") == STATE_OFF
    await switch(hass, "switch.garage_charge", True)
    request = await wallbox.wait_for_call(sim_version.remote_start)
    request.pop("remoteStartId", None)  # 2.0.1: a number the charger repeats
    assert request == sim_version.remote_start_payload("HOMEASSISTANT", 1)
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    # Home Assistant's own start is no card presented at the charger.
    assert not registered(central_system).charger.owner.decisions
    await switch(hass, "switch.garage_charge", False)
    await wallbox.wait_for_call(sim_version.remote_stop)
    await wait_for_state(hass, "switch.garage_charge", STATE_OFF)
    with pytest.raises(ServiceValidationError, match="no charging session"):
        await switch(hass, "switch.garage_charge", False)


async def test_start_charging_without_a_car(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """No car plugged in: the charger waits in Preparing, then gives up; nothing charges.

    Like a real charger: RemoteStartTransaction accepted, Preparing for at most
    ConnectionTimeOut seconds, then Available again without a transaction.
    """
    behaviour = ChargerBehaviour()
    behaviour.configuration["ConnectionTimeOut"] = ("0.5", False)
    charger = await connected_charger(hass, central_system, behaviour=behaviour)
    await switch(hass, "switch.garage_charge", True)
    await wait_for_state(hass, "sensor.garage_status", "preparing")
    assert state_of(hass, "switch.garage_charge") == STATE_OFF
    await wait_for_state(hass, "sensor.garage_status", "available")
    assert state_of(hass, "switch.garage_charge") == STATE_OFF
    assert state_of(hass, "sensor.garage_charging_power") == "0.0"
    assert registered(central_system).charger.connector(1).transaction is None
    # Asked again, and the car is plugged in while the charger waits: it charges.
    behaviour.configuration["ConnectionTimeOut"] = ("30", False)
    await switch(hass, "switch.garage_charge", True)
    await wait_for_state(hass, "sensor.garage_status", "preparing")
    await charger.status(1, "Preparing")  # the car
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    await wait_for_state(hass, "sensor.garage_status", "charging")
    await charger.close()


@BOTH_VERSIONS
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("Rejected", "refused {action}"),
        ("error", "answered {action} with an error"),
        ("timeout", "did not answer {action} in time"),
    ],
)
async def test_start_charging_failures(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    answer: str,
    message: str,
) -> None:
    """Every failure is a translated error naming the charger; the switch stays truthful."""
    hub: OcppHub = central_system.entry.runtime_data
    hub.server.config.call_timeout = 0.5
    charger = await answering(hass, central_system, sim_version, sim_version.remote_start, answer)
    message = message.format(action=sim_version.remote_start)
    with pytest.raises(HomeAssistantError, match=f"Garage {message}"):
        await switch(hass, "switch.garage_charge", True)
    assert state_of(hass, "switch.garage_charge") == STATE_OFF
    await charger.close()


CONTROLS = (
    "button.garage_reboot",
    "button.garage_unlock_connector",
    "button.garage_learn_card",
    "switch.garage_lock",
    "switch.garage_charge",
    "switch.garage_available",
    "number.garage_current_limit",
)


async def test_commands_to_an_offline_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Nothing is sent into the void: a clear error says the charger is not connected.

    The controls of a charger that is not connected are unavailable (so the Lock
    cannot look changed, nor Available show a control for an unknown state); the
    actions, which automations call, raise the translated error.
    """
    for entity_id in CONTROLS:
        assert state_of(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    # Readings stay: the connection and what was last reported.
    assert state_of(hass, "binary_sensor.garage_connection") == STATE_OFF
    assert state_of(hass, "sensor.garage_last_reboot") == "never"
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    with pytest.raises(HomeAssistantError, match="Garage is not connected"):
        await hass.services.async_call(DOMAIN, "reboot", {"device_id": device.id}, blocking=True)
    with pytest.raises(HomeAssistantError, match="Garage is not connected"):
        await hass.services.async_call(
            DOMAIN, "set_current_limit", {"device_id": device.id, "current": 10}, blocking=True
        )
    with pytest.raises(HomeAssistantError, match="Garage is not connected"):
        await registered(central_system).controller.async_set_limit(10)


@BOTH_VERSIONS
async def test_controls_follow_the_connection(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
) -> None:
    """Controls become available when the charger connects, unavailable when it leaves."""
    charger = await connected_station(hass, central_system, sim_version)
    for entity_id in CONTROLS:
        assert state_of(hass, entity_id) != STATE_UNAVAILABLE, entity_id
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    await charger.close()
    for entity_id in CONTROLS:
        await wait_for_state(hass, entity_id, STATE_UNAVAILABLE)
    # The lock wanted is kept, and applied at the next connection.
    assert registered(central_system).charger.owner.lock_wanted is True


@BOTH_VERSIONS
async def test_availability(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Available off: ChangeAvailability Inoperative; the switch follows the status."""
    assert state_of(hass, "switch.garage_available") == STATE_ON
    await switch(hass, "switch.garage_available", False)
    assert await wallbox.wait_for_call("ChangeAvailability") == sim_version.all_inoperative
    await wait_for_state(hass, "switch.garage_available", STATE_OFF)
    await switch(hass, "switch.garage_available", True)
    await wait_for_state(hass, "switch.garage_available", STATE_ON)


async def test_unlock_not_supported(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A tethered cable cannot be unlocked: a clear error, not a crash."""
    charger = await connected_charger(
        hass,
        central_system,
        behaviour=ChargerBehaviour(responses={"UnlockConnector": "NotSupported"}),
    )
    with pytest.raises(HomeAssistantError, match="Garage cannot unlock its connector"):
        await press(hass, "button.garage_unlock_connector")
    await charger.close()


@pytest.mark.parametrize(
    ("model", "answer"),
    [("PLP1-0-2-4", "NotSupported"), ("CMX2-0-2-4", "NotSupported"), ("CPB1-S-2-4", "Unlocked")],
)
async def test_unlock_a_tethered_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, model: str, answer: str
) -> None:
    """A Pulsar Plus has a fixed cable: it answers NotSupported, said in plain words.

    A Copper SB (a socket) releases the cable.
    """
    charger = await connected_charger(hass, central_system, model=model)
    if answer == "NotSupported":
        with pytest.raises(HomeAssistantError) as refused:
            await press(hass, "button.garage_unlock_connector")
        assert str(refused.value) == (
            "Charger Garage cannot unlock its connector: its cable is fixed (tethered), "
            "so there is nothing to release"
        )
    else:
        await press(hass, "button.garage_unlock_connector")
    assert await charger.wait_for_call("UnlockConnector") == {"connectorId": 1}
    await charger.close()


# ------------------------------------------------------------ current limit


def profiles_sent(charger: AnyCharger) -> list[dict[str, Any]]:
    """The SetChargingProfile payloads the charger received."""
    return [p for a, p in charger.received if a == "SetChargingProfile"]


@BOTH_VERSIONS
async def test_current_limit_applied_and_verified(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """A TxDefaultProfile in amps, checked with GetCompositeSchedule."""
    await set_limit(hass, 16)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    (payload,) = profiles_sent(wallbox)
    connector_id, profile = sim_version.profile_sent(payload)
    assert connector_id == 0
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["stackLevel"] == 0
    assert profile["chargingSchedule"]["chargingRateUnit"] == "A"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16
    assert state_of(hass, "number.garage_current_limit") == "16"
    assert wallbox.current_limit(1) == 16


@BOTH_VERSIONS
async def test_rapid_changes_coalesce(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Twenty slider moves become at most two profiles; the last value wins."""
    registered(central_system).controller.limit_interval = 0.5
    for amps in range(6, 26):
        await set_limit(hass, amps)
    await wait_for(lambda: wallbox.current_limit(1) == 25, timeout=5)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    sent = profiles_sent(wallbox)
    assert len(sent) <= 2
    _, last = sim_version.profile_sent(sent[-1])
    assert last["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 25


@BOTH_VERSIONS
async def test_limit_accepted_but_ignored(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Accepted and not applied (firmware 6.4.x): shown, and a repair after repeated failures."""
    charger = await connected_station(
        hass, central_system, sim_version, behaviour=ChargerBehaviour(ignore_charging_limits=True)
    )
    controller = registered(central_system).controller
    controller.limit_interval = 0
    issue_id = f"limit_not_applied_{central_system.entry.entry_id}_wb1"
    for amps in (10, 12, 14):
        await set_limit(hass, amps)
        await wait_for_state(hass, "sensor.garage_current_limit_status", "not_applied")
        await wait_for(lambda: controller._limit_task is None or controller._limit_task.done())
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await charger.close()


@BOTH_VERSIONS
async def test_limit_validation(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
) -> None:
    """1-5 A cannot charge a car: refused with a clear message; 0 pauses."""
    wallbox = await connected_station(hass, central_system, sim_version)
    with pytest.raises(ServiceValidationError, match="between 6 A and 32 A"):
        await set_limit(hass, 3)
    await set_limit(hass, 0)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert wallbox.current_limit(1) == 0
    await wallbox.close()


# ------------------------------------------------------------ lock and cards


@BOTH_VERSIONS
async def test_locked_charger_accepts_only_known_cards(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Locked: Alice's card (either byte order) charges, a stranger's does not; events say so."""
    events: list[tuple[str, dict[str, Any]]] = []

    @callback
    def _event(event: Event) -> None:
        state = event.data["new_state"]
        # Only fired events (Home Assistant may rewrite the state, e.g. on a device rename).
        if (
            event.data["entity_id"] == "event.garage_card_presented"
            and state is not None
            and state.attributes.get("event_type")
        ):
            events.append((state.attributes["event_type"], dict(state.attributes)))

    hass.bus.async_listen("state_changed", _event)
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    # An event entity's state is the time of its event, to the millisecond: present the
    # cards at least a millisecond apart, as people do.
    status = sim_version.card_status
    assert status(await wallbox.authorize(ALICE_ON_THE_WIRE)) == "Accepted"
    await asyncio.sleep(0.002)
    assert status(await wallbox.authorize(CARD_ALICE.lower())) == "Accepted"
    await asyncio.sleep(0.002)
    assert status(await wallbox.authorize("DEADBEEF")) == "Invalid"
    await asyncio.sleep(0.002)
    started = await wallbox.start_transaction(1, "DEADBEEF", 0)
    assert status(started) == "Invalid"
    await hass.async_block_till_done()
    # The StartTransaction right after that Authorize is the same presentation: one event.
    assert [e[0] for e in events] == ["accepted", "accepted", "rejected"]
    assert events[0][1]["card_name"] == "Alice"
    assert events[2][1]["id_tag"] == "DEADBEEF"


@BOTH_VERSIONS
async def test_unlock_gives_free_vend(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Unlocking sets AuthEnabled=false on a Wallbox (read back); anyone may charge."""
    await switch(hass, "switch.garage_lock", False)
    assert await wallbox.wait_for_call(sim_version.write_setting) is not None
    assert wallbox.configuration_value(sim_version.lock) == "false"
    await wait_for_state(hass, "switch.garage_lock", STATE_OFF)
    assert state_of(hass, "sensor.garage_status_led") == "green"
    assert sim_version.card_status(await wallbox.authorize("DEADBEEF")) == "Accepted"
    await switch(hass, "switch.garage_lock", True)
    await wait_for_state(hass, "switch.garage_lock", STATE_ON)
    assert state_of(hass, "sensor.garage_status_led") == "yellow"


@BOTH_VERSIONS
async def test_lock_reapplied_at_boot(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """A charger that forgot the lock (AuthEnabled=false) is locked again when it boots."""
    behaviour = ChargerBehaviour()
    behaviour.configuration[sim_version.lock] = ("false", False)
    charger = await connected_station(hass, central_system, sim_version, behaviour=behaviour)
    await wait_for(lambda: charger.configuration_value(sim_version.lock) == "true")
    await wait_for_state(hass, "switch.garage_lock", STATE_ON)
    await charger.close()


@BOTH_VERSIONS
async def test_learn_card(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Learn: the next card presented is added to the list and accepted from then on."""
    status = sim_version.card_status
    await press(hass, "button.garage_learn_card")
    assert status(await wallbox.authorize("11223344")) == "Accepted"
    subentry = central_system.entry.subentries[registered(central_system).subentry_id]
    uids = [c["uid"] for c in subentry.data[CONF_CARDS]]
    assert "11223344" in uids
    # The window closed with that card: a further stranger is refused.
    assert status(await wallbox.authorize("55667788")) == "Invalid"
    assert status(await wallbox.authorize("11223344")) == "Accepted"


# ------------------------------------------------------------ offline protection


@BOTH_VERSIONS
async def test_offline_protection_applied_at_boot(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Unknown cards cannot charge offline; the user's cards are in the local list."""
    await wait_for_state(hass, "sensor.garage_offline_protection", "active")
    assert wallbox.configuration_value(sim_version.offline_unknown_cards) == "false"
    assert wallbox.configuration_value(sim_version.offline_local_authorize) == "true"
    changes = [
        sim_version.settings_written(p)
        for a, p in wallbox.received
        if a == sim_version.write_setting
    ]
    assert changes[0] == {sim_version.offline_unknown_cards: "false"}
    (local_list,) = [p for a, p in wallbox.received if a == "SendLocalList"]
    assert local_list["updateType"] == "Full"
    assert sim_version.local_list_tags(local_list) == [ALICE_ON_THE_WIRE]


@BOTH_VERSIONS
async def test_offline_protection_needs_reboot(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """RebootRequired becomes a visible state and a repair issue naming the key."""
    charger = await connected_station(
        hass,
        central_system,
        sim_version,
        behaviour=ChargerBehaviour(reboot_required_keys={sim_version.offline_unknown_cards}),
    )
    await wait_for_state(hass, "sensor.garage_offline_protection", "needs_reboot")
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"offline_protection_{central_system.entry.entry_id}_wb1"
    )
    assert issue is not None
    assert issue.translation_key == "offline_protection_needs_reboot"
    assert issue.translation_placeholders == {
        "charger": "Garage",
        "keys": sim_version.offline_unknown_cards,
    }
    await charger.close()


@BOTH_VERSIONS
async def test_offline_protection_refused(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """A charger that rejects the keys is shown as not protected, with the exact keys."""
    charger = await answering(
        hass, central_system, sim_version, sim_version.write_setting, "Rejected"
    )
    await wait_for_state(hass, "sensor.garage_offline_protection", "not_supported")
    state = hass.states.get("sensor.garage_offline_protection")
    assert state is not None
    assert state.attributes["keys"] == [sim_version.offline_unknown_cards]
    await charger.close()
    await asyncio.sleep(0)


async def test_free_vend_on_a_charger_without_such_mode(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Unlocked generic charger: plugging in starts a charge from the central system."""
    charger = await connected_charger(hass, central_system, vendor="Generic Co", model="GC-1")
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    await charger.status(1, "Preparing")
    await asyncio.sleep(0.1)
    assert not any(a == "RemoteStartTransaction" for a, _ in charger.received)  # locked
    await charger.status(1, "Available")
    await switch(hass, "switch.garage_lock", False)
    assert state_of(hass, "switch.garage_lock") == STATE_OFF
    await charger.status(1, "Preparing")
    assert await charger.wait_for_call("RemoteStartTransaction") == {
        "idTag": "HOMEASSISTANT",
        "connectorId": 1,
    }
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    await charger.close()


@BOTH_VERSIONS
async def test_lock_setting_survives_a_restart(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Unlocked stays unlocked after Home Assistant restarts, and is re-applied at boot."""
    await switch(hass, "switch.garage_lock", False)
    await wait_for_state(hass, "switch.garage_lock", STATE_OFF)
    await wallbox.close()
    assert await hass.config_entries.async_reload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    behaviour = ChargerBehaviour()  # a charger that forgot: AuthEnabled=true again
    charger = await connected_station(hass, central_system, sim_version, behaviour=behaviour)
    await wait_for(lambda: charger.configuration_value(sim_version.lock) == "false")
    await wait_for_state(hass, "switch.garage_lock", STATE_OFF)
    await charger.close()


@BOTH_VERSIONS
async def test_limit_ignored_in_practice(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: AnyCharger
) -> None:
    """Applied on paper, but the charger offers more current: shown as not applied."""
    await set_limit(hass, 10)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    await wallbox.meter_values(1, current_offered=32)
    assert state_of(hass, "sensor.garage_current_limit_status") == "not_applied"


@BOTH_VERSIONS
async def test_availability_scheduled_while_charging(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: AnyCharger
) -> None:
    """Out of service asked during a session: Scheduled is shown until it happens."""
    await wallbox.status(1, "Preparing")
    await switch(hass, "switch.garage_charge", True)
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    await switch(hass, "switch.garage_available", False)
    state = hass.states.get("switch.garage_available")
    assert state is not None
    assert state.state == STATE_ON  # still charging: the charger has not changed yet
    assert state.attributes["scheduled"] == "out_of_service"
    await switch(hass, "switch.garage_charge", False)
    await wait_for_state(hass, "switch.garage_available", STATE_OFF)
    assert hass.states.get("switch.garage_available").attributes["scheduled"] is None  # type: ignore[union-attr]


@BOTH_VERSIONS
async def test_limit_as_tx_profile_where_the_charger_needs_it(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """A profile that wants TxProfile gets one for the running transaction."""
    charger = registered(central_system).charger
    charger.profile = dataclasses.replace(charger.profile, limit_as_tx_profile=True)
    await wallbox.status(1, "Preparing")
    await switch(hass, "switch.garage_charge", True)
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    await set_limit(hass, 10)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    (payload,) = profiles_sent(wallbox)
    transaction = charger.connector(1).transaction
    assert transaction is not None
    connector_id, profile = sim_version.profile_sent(payload)
    assert connector_id == 1
    assert profile["chargingProfilePurpose"] == "TxProfile"
    # By the id the charger knows the transaction by (a 2.0.1 charger names its own).
    # (1.6 numbers it: our id in decimal is that number.)
    assert str(profile["transactionId"]) == transaction.transaction_id


@BOTH_VERSIONS
async def test_set_up_goes_on_when_the_configuration_cannot_be_read(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """GetConfiguration refused: offline protection and the lock are applied anyway."""
    charger = await answering(
        hass, central_system, sim_version, sim_version.read_settings, "NotImplemented"
    )
    assert any(a == "SendLocalList" for a, _ in charger.received)
    assert charger.configuration_value(sim_version.offline_unknown_cards) == "false"
    await charger.close()


@BOTH_VERSIONS
async def test_refused_limit_shows_the_limit_in_force_again(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: AnyCharger
) -> None:
    """3 A is refused: the number writes its real state again, so the frontend snaps back.

    It is a box (typing 3 is deliberate), in whole amps without a decimal.
    """
    state = hass.states.get("number.garage_current_limit")
    assert state is not None
    assert state.state == "32"
    assert state.attributes["mode"] == "box"
    assert (state.attributes["min"], state.attributes["max"], state.attributes["step"]) == (
        0,
        32,
        1,
    )
    before = state.last_reported
    with pytest.raises(ServiceValidationError, match="between 6 A and 32 A"):
        await set_limit(hass, 3)
    after = hass.states.get("number.garage_current_limit")
    assert after is not None
    assert after.state == "32"
    assert after.last_reported > before  # written again, unchanged: the control shows 32 A
    assert profiles_sent(wallbox) == []


@BOTH_VERSIONS
async def test_learn_card_says_what_it_is_doing(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    wallbox: AnyCharger,
) -> None:
    """Pressing Learn card shows it waits (until when); then the card, or that none came."""
    assert state_of(hass, "sensor.garage_card_learning") == "idle"
    await press(hass, "button.garage_learn_card")
    state = hass.states.get("sensor.garage_card_learning")
    assert state is not None
    assert state.state == "waiting"
    ends_at = datetime.fromisoformat(state.attributes["ends_at"])
    assert timedelta(seconds=50) < ends_at - datetime.now(UTC) <= timedelta(seconds=60)
    await wallbox.authorize("11223344")
    state = hass.states.get("sensor.garage_card_learning")
    assert state is not None
    assert state.state == "learned"
    assert state.attributes["id_tag"] == "11223344"
    assert state.attributes["card_name"] == "Card 2"
    assert state.attributes["ends_at"] is None
    # Again, and no card comes: when the minute is over, the sensor says so.
    await press(hass, "button.garage_learn_card")
    assert state_of(hass, "sensor.garage_card_learning") == "waiting"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.garage_card_learning") == "timed_out"
    assert sim_version.card_status(await wallbox.authorize("55667788")) == "Invalid"


async def test_a_16_security_event_is_a_charger_report(
    hass: HomeAssistant, wallbox: SimulatedCharger
) -> None:
    """A 1.6 charger with the security extension reports a security event the same way."""
    frame = (
        '[2,"sec1","SecurityEventNotification",'
        '{"type":"InvalidFirmwareSignature","timestamp":"2026-12-02T09:00:00Z",'
        '"techInfo":"bootloader"}]'
    )
    assert await wallbox.send_raw(frame) == [3, "sec1", {}]
    entity = "event.garage_charger_report"
    await wait_for(lambda: hass.states.get(entity).attributes.get("event_type") == "security")  # type: ignore[union-attr]
    state = hass.states.get(entity)
    assert state is not None
    assert state.attributes["name"] == "InvalidFirmwareSignature"
    assert state.attributes["value"] == "bootloader"


# ------------------------------------------------------- firmware and diagnostics


def recorded(monkeypatch: pytest.MonkeyPatch, model: Any, method: str) -> list[str]:
    """The statuses the model is given through ``method``, in order."""
    seen: list[str] = []
    original = getattr(model, method)

    def _record(status: str) -> None:
        seen.append(status)
        original(status)

    monkeypatch.setattr(model, method, _record)
    return seen


@BOTH_VERSIONS
async def test_firmware_update_and_diagnostics_upload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    wallbox: AnyCharger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The actions reach the charger in its version; its progress shows, in the same words."""
    model = registered(central_system).charger
    firmware = recorded(monkeypatch, model, "apply_firmware_status")
    uploads = recorded(monkeypatch, model, "apply_diagnostics_status")
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "update_firmware",
        {"device_id": device.id, "location": "https://example.com/fw.bin"},
        blocking=True,
    )
    result = await hass.services.async_call(
        DOMAIN,
        "get_diagnostics",
        {"device_id": device.id, "location": "ftp://127.0.0.1/diag/"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    assert str(result["file_name"]).startswith(f"{wallbox.serial}-diagnostics-")
    if isinstance(wallbox, SimulatedCharger):  # 1.6
        assert await wallbox.wait_for_call("UpdateFirmware") == {
            "location": "https://example.com/fw.bin",
            "retrieveDate": ANY,
        }
        assert await wallbox.wait_for_call("GetDiagnostics") == {
            "location": "ftp://127.0.0.1/diag/"
        }
    else:
        assert await wallbox.wait_for_call("UpdateFirmware") == {
            "requestId": ANY,
            "firmware": {"location": "https://example.com/fw.bin", "retrieveDateTime": ANY},
        }
        assert await wallbox.wait_for_call("GetLog") == {
            "logType": "DiagnosticsLog",
            "requestId": ANY,
            "log": {"remoteLocation": "ftp://127.0.0.1/diag/"},
        }
    await wait_for(lambda: model.firmware_status == "Installed")
    await wait_for(lambda: model.diagnostics_status == "Uploaded")
    assert firmware == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert uploads == ["Uploading", "Uploaded"]
    await async_setup_component(hass, "diagnostics", {})
    shown = await get_diagnostics_for_device(hass, hass_client, central_system.entry, device)
    assert shown["firmware_status"] == "Installed"
    assert shown["diagnostics_status"] == "Uploaded"
