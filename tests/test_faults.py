"""Faults: nothing lost, nothing counted twice, no charger blocks another."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import DOMAIN
from custom_components.ocpp_hub.csms.server import CentralSystem, ServerConfig
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.model.charger import Charger

from .conftest import (
    BOTH_VERSIONS,
    PASSWORD,
    CentralSystemUnderTest,
    SimVersion,
    free_port,
    meter_during_transaction,
    stop_transaction,
)
from .helpers import state_of, wait_for
from .test_hostile import Backend


@BOTH_VERSIONS
async def test_offline_backlog_counts_once(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Queued MeterValues and an offline StopTransaction arrive late: right, and once."""
    now = datetime.now(UTC)
    charger = sim_version.simulator(central_system.url, "wb1")
    async with charger:
        await charger.boot()
        await charger.status(1, "Charging")
        await charger.start_transaction(1, "04A1B2C3", 10_000, timestamp=now - timedelta(hours=2))
        await meter_during_transaction(
            charger, 1, energy_wh=11_000, timestamp=now - timedelta(minutes=90)
        )
    # Offline for an hour; it reconnects and delivers what it queued, oldest first.
    async with charger:
        for minutes, energy in ((80, 11_500), (70, 12_000), (60, 12_500)):
            await meter_during_transaction(
                charger, 1, energy_wh=energy, timestamp=now - timedelta(minutes=minutes)
            )
        await stop_transaction(
            charger, 1, 13_000, reason="EVDisconnected", timestamp=now - timedelta(minutes=50)
        )
        # The charger repeats its queue (it never saw our answers, say): no double count.
        backlog = charger.transaction_messages[-4:]
        for message in (backlog[0], backlog[1], backlog[3]):
            await charger.resend(message)
    assert state_of(hass, "sensor.garage_energy") == "13.0"
    assert state_of(hass, "sensor.garage_session_energy") == "3.0"
    assert 65 <= float(state_of(hass, "sensor.garage_session_duration")) <= 75  # minutes


async def test_wrong_clock_does_not_corrupt_sessions(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charger clock hours ahead: the receive time is used; both show in diagnostics."""
    future = datetime.now(UTC) + timedelta(hours=6)
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        tx = (await charger.start_transaction(1, "04A1B2C3", 0, timestamp=future))["transactionId"]
        await charger.meter_values(1, transaction_id=tx, energy_wh=500, timestamp=future)
        assert float(state_of(hass, "sensor.garage_session_duration")) < 60
        model: Charger = central_system.entry.runtime_data.chargers["wb1"].charger
        skew = model.clock_skew_s
        assert skew is not None
        assert 6 * 3600 - 60 < skew < 6 * 3600 + 60
        assert state_of(hass, "sensor.garage_session_energy") == "0.5"


async def test_pending_calls_fail_clearly_when_home_assistant_stops(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A command waiting for the charger when the entry unloads fails with a reason."""
    charger = SimulatedCharger(
        central_system.url, "wb1", behaviour=ChargerBehaviour(responses={"Reset": "timeout"})
    )
    await charger.connect()
    await charger.boot()
    hub: OcppHub = central_system.entry.runtime_data
    reboot = asyncio.ensure_future(hub.chargers["wb1"].controller.async_reboot())
    await charger.wait_for_call("Reset")
    assert await hass.config_entries.async_unload(central_system.entry.entry_id)
    with pytest.raises(HomeAssistantError, match="disconnected before answering Reset"):
        await reboot
    await charger.close()


async def test_a_silent_charger_blocks_nobody(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """One charger never answers our calls; the other is served at once."""
    silent = SimulatedCharger(
        central_system.url,
        "wb1",
        behaviour=ChargerBehaviour(responses={"Reset": "timeout"}),
    )
    await silent.connect()
    await silent.boot()
    lively = SimulatedCharger(central_system.url, "wb2", password=PASSWORD)
    await lively.connect()
    await lively.boot()
    hub: OcppHub = central_system.entry.runtime_data
    stuck = asyncio.ensure_future(hub.chargers["wb1"].controller.async_reboot())
    await silent.wait_for_call("Reset")
    async with asyncio.timeout(5):
        await hub.chargers["wb2"].controller.async_reboot()
    assert not stuck.done()
    stuck.cancel()
    await silent.close()
    await lively.close()


async def test_two_hundred_chargers_reconnect_at_once() -> None:
    """200 chargers connecting and booting at the same moment are all served."""
    backend = Backend()
    backend.chargers = {f"ev{i}": Charger(f"ev{i}") for i in range(200)}
    config = ServerConfig(host="127.0.0.1", port=free_port(), ping_interval=None)
    config.max_connections_per_address = 250
    central = CentralSystem(config, backend)
    await central.start()

    async def one(i: int) -> str:
        async with connect(
            f"ws://127.0.0.1:{central.port}/ev{i}", subprotocols=["ocpp1.6"], open_timeout=30
        ) as ws:
            await ws.send(
                json.dumps(
                    [
                        2,
                        "b",
                        "BootNotification",
                        {"chargePointVendor": "V", "chargePointModel": "M"},
                    ]
                )
            )
            while True:  # skip the central system's own calls (GetConfiguration)
                frame = json.loads(await ws.recv())
                if frame[0] == 3 and frame[1] == "b":
                    return str(frame[2]["status"])

    try:
        async with asyncio.timeout(60):
            results = await asyncio.gather(*(one(i) for i in range(200)))
        assert results == ["Accepted"] * 200
        await wait_for(lambda: not central.handlers, timeout=10)
        assert all(not backend.chargers[f"ev{i}"].connected for i in range(200))
    finally:
        await central.stop()


async def test_corrupt_storage_is_reported_and_rebuilt(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A storage file that is not what we wrote: start anyway, say so, rebuild."""
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}",
        "data": {"next_transaction_id": "garbage", "chargers": {"wb1": {"connectors": "x"}}},
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "binary_sensor.garage_connection") == "off"
    url = f"ws://127.0.0.1:{config_entry.data['port']}/"
    async with SimulatedCharger(url, "wb1") as charger:
        await charger.boot()
        tx = (await charger.start_transaction(1, "04A1B2C3", 0))["transactionId"]
        assert tx >= 1
    from homeassistant.helpers import issue_registry as ir

    assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_{config_entry.entry_id}")
    await hass.config_entries.async_unload(config_entry.entry_id)
