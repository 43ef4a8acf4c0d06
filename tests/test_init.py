"""Set-up and restarts: port in use, certificate problems, state that survives a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from pathlib import Path
import socket
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.const import (
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_SSL_LEGACY,
    DOMAIN,
)

from .conftest import CentralSystemUnderTest
from .helpers import state_of, wait_for, wait_for_state
from .test_config_flow import make_certificate


async def test_port_in_use_at_startup(
    hass: HomeAssistant, config_entry: MockConfigEntry, port: int
) -> None:
    """Port taken: a repair issue and a retry; once free, it starts and the issue goes."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port))
    blocker.listen()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert str(port) in (config_entry.reason or "")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"port_in_use_{config_entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "port_in_use"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["port"] == str(port)

    blocker.close()
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"port_in_use_{config_entry.entry_id}") is None
    )
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.parametrize("problem", ["cert_unreadable", "cert_key_mismatch"])
async def test_certificate_problem_at_startup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    tmp_path: Path,
    problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A certificate that became unreadable or mismatched: translated error and a repair."""
    cert, key = make_certificate(tmp_path, "one")
    if problem == "cert_unreadable":
        cert.unlink()
    else:
        _, key = make_certificate(tmp_path, "two")
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={**config_entry.data, CONF_SSL_CERTFILE: str(cert), CONF_SSL_KEYFILE: str(key)},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"certificate_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == problem
    # Home Assistant logs the translated message.
    expected = "cannot be read" if problem == "cert_unreadable" else "does not belong"
    assert expected in caplog.text
    caplog.clear()


async def test_restart_mid_transaction(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """After a restart: last values at once, disconnected, the session continues, no jump."""
    entry = central_system.entry
    charger = SimulatedCharger(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Charging")
    tx = (await charger.start_transaction(1, "04A1B2C3", 20_000))["transactionId"]
    await charger.meter_values(1, transaction_id=tx, energy_wh=22_000, power_w=7000)
    assert state_of(hass, "sensor.garage_energy") == "22.0"

    # Home Assistant goes away (the entry unloads) and comes back with the same storage.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await charger.close()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, "binary_sensor.garage_connection") == STATE_OFF
    assert state_of(hass, "sensor.garage_status") == "charging"
    assert state_of(hass, "sensor.garage_energy") == "22.0"
    assert state_of(hass, "sensor.garage_session_energy") == "2.0"

    # The charger comes back (without rebooting) and carries on with its transaction.
    async with SimulatedCharger(central_system.url, "wb1") as again:
        await again.heartbeat()
        await wait_for_state(hass, "binary_sensor.garage_connection", STATE_ON)
        await again.meter_values(1, transaction_id=tx, energy_wh=23_000, power_w=7000)
        assert state_of(hass, "sensor.garage_session_energy") == "3.0"
        await again.stop_transaction(tx, 24_000, reason="Local")
        assert state_of(hass, "sensor.garage_session_energy") == "4.0"
        assert state_of(hass, "sensor.garage_energy") == "24.0"
        # Transaction ids continue where they were: never handed out twice.
        next_tx = (await again.start_transaction(1, "04A1B2C3", 24_000))["transactionId"]
        assert next_tx == tx + 1


async def test_state_is_saved_while_a_charger_keeps_talking(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    hass_storage: dict[str, Any],
) -> None:
    """Meter values every few seconds must not postpone saving forever."""
    key = f"{DOMAIN}.{central_system.entry.entry_id}"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        for step in range(1, 6):
            await charger.meter_values(1, energy_wh=1000 * step)
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3 * step))
            await hass.async_block_till_done()
        saved = hass_storage[key]["data"]["chargers"]["wb1"]["connectors"]["1"]["energy"]
        assert saved["total_wh"] >= 3000


async def test_plain_http_on_the_port_is_one_quiet_line(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A browser or port scanner on the OCPP port: HTTP error, one info line, no traceback."""
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", central_system.port)
    writer.write(b"GET /wb1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert b" 426 " in status_line
    await wait_for(lambda: "Refused a connection attempt" in caplog.text)
    assert "Traceback" not in caplog.text


async def test_migration_from_1_1(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """An entry of the first schema is migrated and loads; nothing else changes."""
    old = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        data={k: v for k, v in config_entry.data.items() if k != CONF_SSL_LEGACY},
        subentries_data=[
            {
                "data": {"identity": "wb1"},
                "subentry_type": "charger",
                "title": "Garage",
                "unique_id": "wb1",
            }
        ],
    )
    old.add_to_hass(hass)
    assert await hass.config_entries.async_setup(old.entry_id)
    assert old.state is ConfigEntryState.LOADED
    assert old.minor_version == 2
    assert old.data[CONF_SSL_LEGACY] is False
    assert old.data["port"] == config_entry.data["port"]
    assert hass.states.get("sensor.garage_status") is not None
    await hass.config_entries.async_unload(old.entry_id)


async def test_entry_from_a_newer_version_is_not_loaded(
    hass: HomeAssistant, config_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A downgrade does not break Home Assistant: the entry waits, with a clear message."""
    newer = MockConfigEntry(domain=DOMAIN, version=2, minor_version=1, data=config_entry.data)
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)
    assert newer.state is ConfigEntryState.MIGRATION_ERROR
    assert "has version 2 which is higher than the current version 1" in caplog.text
    caplog.clear()
