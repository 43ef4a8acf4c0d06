"""Unknown chargers: held Pending, shown as a discovery card, added in one click."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from websockets.exceptions import InvalidStatus

from chargersim import SimulatedCharger
from chargersim.v201 import SimulatedCharger as Charger201
from custom_components.ocpp_hub.const import (
    CONF_AUTO_ACCEPT,
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    CONF_PROTOCOL,
    DOMAIN,
    MAX_PENDING_APPROVALS,
)

from .conftest import BOTH_VERSIONS, CentralSystemUnderTest, SimVersion
from .helpers import charger_device, state_of, wait_for


def discovery_flows(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Discovery cards of the integration in progress."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
    ]


# A StatusNotification of connector 1, Available, in each version's words.
STATUS_FRAME = {
    "ocpp1.6": '[2, "s1", "StatusNotification", '
    '{"connectorId": 1, "status": "Available", "errorCode": "NoError"}]',
    "ocpp2.0.1": '[2, "s1", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", '
    '"connectorStatus": "Available", "evseId": 1, "connectorId": 1}]',
}


@BOTH_VERSIONS
async def test_unknown_charger_is_held_then_added(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Pending at boot; the card names it; one click adds it and it is accepted at once."""
    charger = sim_version.simulator(
        central_system.url, "carport", serial="WB-999", firmware="5.15.7", model="CPB1-S-2-4"
    )
    await charger.connect()
    answer = await charger.boot()
    assert answer["status"] == "Pending"
    assert answer["interval"] > 0
    # Nothing but boot and heartbeat is served before the owner says yes.
    reply = await charger.send_raw(STATUS_FRAME[sim_version.name])
    assert reply is not None
    assert reply[:3] == [4, "s1", "SecurityError"]
    await hass.async_block_till_done(wait_background_tasks=True)

    flows = discovery_flows(hass)
    assert len(flows) == 1
    flow = flows[0]
    assert flow["step_id"] == "approve"
    issue_id = f"charger_waiting_{central_system.entry.entry_id}_carport"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "identity": "carport",
        "model": "Wall Box Chargers CPB1-S-2-4",
        "address": "127.0.0.1",
    }
    assert flow["context"]["title_placeholders"] == {
        "identity": "carport",
        "model": "Wall Box Chargers CPB1-S-2-4",
    }
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.FORM  # still asking
    placeholders = result["description_placeholders"]
    assert placeholders["serial"] == "WB-999"
    assert placeholders["firmware"] == "5.15.7"
    assert placeholders["address"] == "127.0.0.1"

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"name": "Carport", "password_choice": "none"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "charger_added"
    subentries = [s for s in central_system.entry.subentries.values() if s.unique_id == "carport"]
    assert len(subentries) == 1
    assert subentries[0].title == "Carport"
    assert CONF_PASSWORD_HASH not in subentries[0].data
    assert CONF_PROTOCOL not in subentries[0].data  # automatic, the default

    # The central system asks it to boot again right away: accepted now.
    trigger = await charger.wait_for_call("TriggerMessage")
    assert trigger == {"requestedMessage": "BootNotification"}
    await wait_for(
        lambda: charger.last_boot is not None and charger.last_boot["status"] == "Accepted"
    )
    await charger.status(1, "Available")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, "binary_sensor.carport_connection") == "on"
    assert state_of(hass, "sensor.carport_status") == "available"
    device = charger_device(hass, central_system.entry.entry_id, "carport")
    assert device is not None
    assert device.serial_number == "WB-999"
    assert discovery_flows(hass) == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await charger.close()


async def test_approve_with_a_version(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The approval offers the OCPP version (automatic first); the choice pins the charger."""
    charger = Charger201(central_system.url, "carport", subprotocols=["ocpp2.0.1", "ocpp1.6"])
    await charger.connect()
    assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flow = discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested == {"ocpp_version": "automatic"}
    # A mistake keeps the version chosen.
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"password": "short", "ocpp_version": "ocpp201"}
    )
    assert result["errors"] == {"password": "weak_password"}
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["ocpp_version"] == "ocpp201"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"password_choice": "none", "ocpp_version": "ocpp201"}
    )
    assert result["reason"] == "charger_added"
    subentry = next(s for s in central_system.entry.subentries.values() if s.unique_id == "carport")
    assert subentry.data[CONF_PROTOCOL] == "ocpp2.0.1"
    # It speaks the version chosen: it stays connected and boots again, accepted.
    await wait_for(
        lambda: charger.last_boot is not None and charger.last_boot["status"] == "Accepted"
    )
    await charger.close()


async def test_approved_as_another_version_it_must_reconnect(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Approved as 1.6 while it speaks 2.0.1 only: disconnected, and refused as it is."""
    charger = Charger201(central_system.url, "carport")  # offers ocpp2.0.1 only
    await charger.connect()
    assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flow = discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"password_choice": "none", "ocpp_version": "ocpp16"}
    )
    assert result["reason"] == "charger_added"
    subentry = next(s for s in central_system.entry.subentries.values() if s.unique_id == "carport")
    assert subentry.data[CONF_PROTOCOL] == "ocpp1.6"
    await charger.wait_closed(timeout=5)
    assert "TriggerMessage" not in [action for action, _ in charger.received]
    with pytest.raises(InvalidStatus) as err:
        await Charger201(central_system.url, "carport").connect()
    assert err.value.response.status_code == 400
    await charger.close()


@BOTH_VERSIONS
async def test_approve_with_password_makes_it_reconnect(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """A password set on approval applies at once: the charger must come back with it."""
    charger = sim_version.simulator(central_system.url, "carport")
    await charger.connect()
    assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flow = discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"name": "Carport", "password": "s3cret-pass-long-enough"}
    )
    assert result["reason"] == "charger_added"
    await charger.wait_closed(timeout=5)
    with pytest.raises(InvalidStatus):
        await sim_version.simulator(central_system.url, "carport").connect()
    async with sim_version.simulator(
        central_system.url, "carport", password="s3cret-pass-long-enough"
    ) as again:
        assert (await again.boot())["status"] == "Accepted"
    await charger.close()


async def test_charger_that_reconnects_without_booting_is_asked_who_it_is(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """An unknown charger that skips BootNotification is asked for one, then shown."""
    async with SimulatedCharger(central_system.url, "quiet") as charger:
        reply = await charger.send_raw(
            '[2, "h1", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-01T10:00:00Z", "sampledValue": [{"value": "1"}]}]}]'
        )
        assert reply is not None
        assert reply[2] == "SecurityError"
        assert await charger.wait_for_call("TriggerMessage") == {
            "requestedMessage": "BootNotification"
        }
        # boots counts the BootNotification as sent; the card follows its answer.
        await wait_for(lambda: charger.boots == 1)
        await wait_for(lambda: len(discovery_flows(hass)) == 1)


@pytest.mark.parametrize("entry_options", [{CONF_AUTO_ACCEPT: True}])
async def test_auto_accept(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """With the option on, a new charger is registered and accepted at its first boot."""
    async with SimulatedCharger(central_system.url, "newcomer") as charger:
        assert (await charger.boot())["status"] == "Accepted"
        await charger.status(1, "Charging")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert state_of(hass, "sensor.newcomer_status") == "charging"
    assert any(s.unique_id == "newcomer" for s in central_system.entry.subentries.values())
    assert discovery_flows(hass) == []


@pytest.mark.parametrize("entry_options", [{CONF_AUTO_ACCEPT: False}])
async def test_pending_approvals_are_bounded(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A flood of unknown identities leaves at most a few cards: the newest ones."""
    chargers = [SimulatedCharger(central_system.url, f"stranger{i}") for i in range(8)]
    for charger in chargers:
        await charger.connect()
        assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flows = discovery_flows(hass)
    assert len(flows) == MAX_PENDING_APPROVALS
    shown = {f["context"]["title_placeholders"]["identity"] for f in flows}
    assert shown == {f"stranger{i}" for i in range(8 - MAX_PENDING_APPROVALS, 8)}
    waiting = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("charger_waiting_")
    ]
    assert len(waiting) == MAX_PENDING_APPROVALS  # the dropped ones' repairs went too
    for charger in chargers:
        await charger.close()


@BOTH_VERSIONS
async def test_removed_charger_is_disconnected_and_held_again(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Removing a charger closes its connection and removes its device; it must be approved again."""
    charger = sim_version.simulator(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()
    subentry_id = next(
        sid for sid, s in central_system.entry.subentries.items() if s.data[CONF_IDENTITY] == "wb1"
    )
    assert hass.config_entries.async_remove_subentry(central_system.entry, subentry_id)
    await charger.wait_closed(timeout=5)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.garage_status") is None
    assert charger_device(hass, central_system.entry.entry_id, "wb1") is None
    async with sim_version.simulator(central_system.url, "wb1") as again:
        assert (await again.boot())["status"] == "Pending"
    await charger.close()
