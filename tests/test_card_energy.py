"""Energy per card: a sensor per card, the sum of its sessions, never counted twice.

A real central system in Home Assistant and a real simulated Wallbox over 127.0.0.1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.const import (
    CONF_PING_INTERVAL,
    CONF_SESSIONS_MAX_AGE_DAYS,
    CONF_SESSIONS_MAX_COUNT,
    DOMAIN,
)
from custom_components.ocpp_hub.hub import OcppHub

from .conftest import CARD_ALICE, CentralSystemUnderTest, charger_subentry
from .helpers import state_of, wait_for_state

CARD_BOB = "0A0B0C0D"
ALICE = "sensor.garage_energy_alice"
BOB = "sensor.garage_energy_bob"


def _card(uid: str, name: str) -> dict[str, Any]:
    return {"uid": uid, "name": name, "enabled": True}


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """wb1 (Garage) with Alice's and Bob's cards."""
    return [
        charger_subentry(
            "wb1", "Garage", cards=[_card(CARD_ALICE, "Alice"), _card(CARD_BOB, "Bob")]
        )
    ]


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """At most two sessions kept: the totals must outlive the history."""
    return {CONF_PING_INTERVAL: 20, CONF_SESSIONS_MAX_COUNT: 2}


def _hub(central_system: CentralSystemUnderTest) -> OcppHub:
    hub: OcppHub = central_system.entry.runtime_data
    return hub


async def _session(charger: SimulatedCharger, id_tag: str, start_wh: int, end_wh: int) -> int:
    start = datetime.now(UTC) - timedelta(minutes=30)
    tx: int = (await charger.start_transaction(1, id_tag, start_wh, timestamp=start))[
        "transactionId"
    ]
    await charger.meter_values(1, transaction_id=tx, energy_wh=end_wh, power_w=7_000)
    await charger.stop_transaction(tx, end_wh, reason="EVDisconnected")
    return tx


async def test_energy_per_card(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """Alice 5 + 1 kWh, Bob 2 kWh (the Wallbox sends the UIDs byte-reversed); remote: nobody's."""
    assert state_of(hass, ALICE) == "0.0"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await _session(charger, "C3B2A104", 10_000, 15_000)
        await _session(charger, "0D0C0B0A", 15_000, 17_000)
        await _session(charger, CARD_ALICE, 17_000, 18_000)
        remote = _hub(central_system).remote_id_tag(_hub(central_system).chargers["wb1"])
        await _session(charger, remote, 18_000, 21_000)
        await hass.async_block_till_done()
    assert state_of(hass, ALICE) == "6.0"
    assert state_of(hass, BOB) == "2.0"
    state = hass.states.get(ALICE)
    assert state is not None
    assert state.attributes["friendly_name"] == "Garage Energy Alice"
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["unit_of_measurement"] == "kWh"
    entry = er.async_get(hass).async_get(ALICE)
    assert entry is not None
    assert entry.unique_id == f"{central_system.entry.entry_id}_wb1_energy_card_{CARD_ALICE}"
    assert entry.config_subentry_id == next(iter(central_system.entry.subentries))


async def test_totals_outlive_the_history_and_a_restart(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Three sessions, two kept; a restart and a repeated StopTransaction count nothing again."""
    entry = central_system.entry
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        for number in range(3):
            await _session(charger, CARD_ALICE, number * 1000, (number + 1) * 1000)
        tx = await _session(charger, CARD_BOB, 3000, 3500)
        await hass.async_block_till_done()
    registered = _hub(central_system).chargers["wb1"]
    assert len(registered.sessions.history.records) == 2  # one of Alice's was dropped
    assert state_of(hass, ALICE) == "3.0"
    assert state_of(hass, BOB) == "0.5"

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, ALICE) == "3.0"
    assert state_of(hass, BOB) == "0.5"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        # The charger never got our answer to the last stop and sends it again.
        await charger.stop_transaction(tx, 3500, reason="EVDisconnected")
        await _session(charger, CARD_BOB, 3500, 4000)
        await hass.async_block_till_done()
    assert state_of(hass, ALICE) == "3.0"
    assert state_of(hass, BOB) == "1.0"


async def test_cards_added_renamed_and_removed(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A card added later gets its sensor, a removed one goes; a new name after a reload."""
    hub = _hub(central_system)
    registered = hub.chargers["wb1"]
    hub.add_card(registered, "11223344", "Carol")
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.garage_energy_carol") == "0.0"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await _session(charger, "44332211", 0, 4000)
        await hass.async_block_till_done()
    await wait_for_state(hass, "sensor.garage_energy_carol", "4.0")

    subentry = next(iter(central_system.entry.subentries.values()))
    cards = [
        {**card, "name": "Robert"} if card["uid"] == CARD_BOB else card
        for card in subentry.data["cards"]
    ]
    hass.config_entries.async_update_subentry(
        central_system.entry, subentry, data={**subentry.data, "cards": cards}
    )
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(central_system)
    registered = hub.chargers["wb1"]
    state = hass.states.get(BOB)
    assert state is not None
    assert state.attributes["friendly_name"] == "Garage Energy Robert"

    registry = er.async_get(hass)
    assert hub.remove_card(registered, "11223344")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garage_energy_carol") is None
    assert not [
        e
        for e in er.async_entries_for_config_entry(registry, central_system.entry.entry_id)
        if e.unique_id.endswith("11223344")
    ]
    # The same card again: its total continues (total_increasing never goes down).
    hub.add_card(registered, "11223344", "Carol")
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.garage_energy_carol") == "4.0"


@pytest.mark.parametrize(
    "subentries",
    [
        [
            charger_subentry(
                "wb1",
                "Garage",
                cards=[
                    _card(uid, name)
                    for uid, name in (
                        (CARD_ALICE, "Alice"),
                        (CARD_BOB, "Bob"),
                        ("11223344", "Carol"),
                        ("55667788", "Dave"),
                    )
                ],
            )
        ]
    ],
)
async def test_more_than_three_cards_are_disabled_by_default(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Four cards: four sensors in the registry, none enabled until the owner says so."""
    registry = er.async_get(hass)
    entries = [
        e
        for e in er.async_entries_for_config_entry(registry, central_system.entry.entry_id)
        if e.translation_key == "card_energy"
    ]
    assert len(entries) == 4
    assert all(e.disabled_by is er.RegistryEntryDisabler.INTEGRATION for e in entries)
    assert hass.states.get(ALICE) is None


async def test_totals_of_a_store_from_before_are_its_history(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: Any
) -> None:
    """Upgrading: a store without card totals starts them from the sessions it kept."""
    session = {
        "transaction_id": 7,
        "connector_id": 1,
        "started_at": "2026-11-30T10:00:00+00:00",
        "ended_at": "2026-11-30T11:00:00+00:00",
        "energy_wh": 2500.0,
        "id_tag": "C3B2A104",
        "started_by": "card",
        "card_name": "Alice",
    }
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}.sessions"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}.sessions",
        "data": {"chargers": {"wb1": {"history": [session], "card_totals_": None}}},
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, ALICE) == "2.5"
    assert state_of(hass, BOB) == "0.0"
    assert await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.parametrize("entry_options", [{CONF_PING_INTERVAL: 20, CONF_SESSIONS_MAX_AGE_DAYS: 1}])
async def test_a_session_older_than_the_bound_counts_once(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A session from before a holiday, beyond the age bound: counted once, not at every start."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        start = datetime.now(UTC) - timedelta(days=3)
        tx = (await charger.start_transaction(1, CARD_ALICE, 0, timestamp=start))["transactionId"]
        await charger.stop_transaction(tx, 5_000, timestamp=start + timedelta(hours=2))
        await hass.async_block_till_done()
    # Dropped from the history at once (older than a day), but counted, and shown.
    await wait_for_state(hass, ALICE, "5.0")
    for _ in range(2):
        assert await hass.config_entries.async_reload(central_system.entry.entry_id)
        await hass.async_block_till_done()
        assert state_of(hass, ALICE) == "5.0"
