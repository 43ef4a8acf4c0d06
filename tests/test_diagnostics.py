"""Diagnostics download: useful, and without passwords, card numbers or serials."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from chargersim import SimulatedCharger

from .conftest import CentralSystemUnderTest
from .helpers import charger_device


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
) -> None:
    """The entry and device downloads show state and frames, never secrets."""
    async with SimulatedCharger(central_system.url, "wb1", serial="SERIAL-4711") as charger:
        await charger.boot()
        await charger.authorize("C3B2A104")
        tx = (await charger.start_transaction(1, "C3B2A104", 100))["transactionId"]
        await charger.meter_values(1, transaction_id=tx, energy_wh=500, power_w=3000)
        async with SimulatedCharger(central_system.url, "unknown-one") as stranger:
            await stranger.boot()
            result = await get_diagnostics_for_config_entry(hass, hass_client, central_system.entry)
            device = charger_device(hass, central_system.entry.entry_id, "wb1")
            assert device is not None
            device_result = await get_diagnostics_for_device(
                hass, hass_client, central_system.entry, device
            )
    text = json.dumps(result) + json.dumps(device_result)
    for secret in ("C3B2A104", "04A1B2C3", "SERIAL-4711", "scrypt$"):
        assert secret not in text
    garage = next(c for c in result["chargers"] if c["identity"] == "wb1")
    assert garage["profile"] == "wallbox"
    assert garage["remote_address"] == "**REDACTED**"
    assert any("MeterValues" in f["frame"] for f in garage["last_frames"])
    assert next(c for c in result["chargers"] if c["identity"] == "wb2")["password_required"]
    assert [p["identity"] for p in result["pending_approvals"]] == ["unknown-one"]
    assert device_result["identity"] == "wb1"
    assert device_result["state"]["connectors"]["1"]["transaction"]["id_tag"] == "**REDACTED**"
    decisions = device_result["recent_card_decisions"]
    assert [d["status"] for d in decisions] == ["Accepted"]  # Authorize + its start: one
    assert decisions[0]["card_name"] == "Alice"


async def test_delete_charger_device_from_the_ui(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Deleting a charger's device removes the charger; it then waits for approval again."""
    assert await async_setup_component(hass, "config", {})
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    client = await hass_ws_client(hass)
    response = await client.remove_device(device.id)
    assert response["success"]
    await hass.async_block_till_done()
    assert not any(s.unique_id == "wb1" for s in central_system.entry.subentries.values())
    assert dr.async_get(hass).async_get(device.id) is None
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        assert (await charger.boot())["status"] == "Pending"
