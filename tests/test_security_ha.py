"""Security review, second round: what the owner sees and chooses in Home Assistant."""

from __future__ import annotations

import asyncio
import json
import logging

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.const import (
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_hub.csms.auth import check_password, hash_password, password_acceptable
from custom_components.ocpp_hub.hub import OcppHub

from .conftest import PASSWORD, CentralSystemUnderTest, charger_subentry
from .helpers import wait_for
from .test_discovery import discovery_flows


def hub_of(central_system: CentralSystemUnderTest) -> OcppHub:
    """The running hub of the central system under test."""
    hub = central_system.entry.runtime_data
    assert isinstance(hub, OcppHub)
    return hub


def issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    """A repair issue of the integration, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_new_charger_gets_a_generated_password_shown_once(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Adding a charger by hand generates a strong password by default; it works on the charger."""
    entry = central_system.entry
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "carport", "name": "Carport"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "password"
    generated = result["description_placeholders"]["password"]
    assert password_acceptable(generated)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = next(s for s in entry.subentries.values() if s.unique_id == "carport")
    assert check_password(generated, subentry.data[CONF_PASSWORD_HASH])
    with pytest.raises(InvalidStatus):
        await SimulatedCharger(central_system.url, "carport").connect()
    async with SimulatedCharger(central_system.url, "carport", password=generated) as charger:
        assert (await charger.boot())["status"] == "Accepted"
    assert issue(hass, f"no_password_{entry.entry_id}_carport") is None


async def test_short_own_password_is_refused_and_none_is_a_choice_with_a_repair(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """An own password under 16 characters is refused; no password only by choice, with a repair."""
    entry = central_system.entry
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "carport", "password": "1234"}
    )
    assert result["errors"] == {"password": "weak_password"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "carport", "password_choice": "own"}
    )
    assert result["errors"] == {"password": "password_missing"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "carport", "password_choice": "none"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    issue_id = f"no_password_{entry.entry_id}_carport"
    assert issue(hass, issue_id) is not None
    subentry = next(s for s in entry.subentries.values() if s.unique_id == "carport")
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_PASSWORD_HASH: hash_password(PASSWORD)}
    )
    await hass.async_block_till_done()
    assert issue(hass, issue_id) is None


@pytest.mark.parametrize(
    "subentries", [[charger_subentry("old", password_hash=hash_password("short-pw"))]]
)
async def test_existing_short_password_keeps_working_with_a_repair(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A password set before the OCPP rule still logs in; the owner is told to replace it."""
    async with SimulatedCharger(central_system.url, "old", password="short-pw") as charger:
        assert (await charger.boot())["status"] == "Accepted"
    assert issue(hass, f"weak_password_{central_system.entry.entry_id}_old") is not None


async def test_approving_generates_a_password_and_the_charger_must_return_with_it(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Approval by default: a generated password, shown once; the waiting charger is closed."""
    charger = SimulatedCharger(central_system.url, "carport")
    await charger.connect()
    assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flow = discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"name": "Carport"})
    assert result["step_id"] == "approve_password"
    generated = result["description_placeholders"]["password"]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["reason"] == "charger_added"
    await charger.wait_closed(timeout=5)
    async with SimulatedCharger(central_system.url, "carport", password=generated) as again:
        assert (await again.boot())["status"] == "Accepted"
    await charger.close()


async def test_wrong_password_issue_is_one_per_charger_and_cleared_on_success(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Wrong passwords from two addresses: one issue for wb2; the right password clears it."""
    server = hub_of(central_system).server
    server.auth_throttle.base = 0.0
    for address in ("127.0.0.1", "127.0.0.2"):
        for attempt in range(5):
            with pytest.raises(InvalidStatus):
                await connect(
                    central_system.url + "wb2",
                    subprotocols=["ocpp1.6"],
                    additional_headers={"Authorization": f"Basic d2IyOnd{attempt}"},
                    local_addr=(address, 0),
                )
    issues = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith("wrong_password_")
    ]
    assert issues == [f"wrong_password_{central_system.entry.entry_id}_wb2"]
    async with SimulatedCharger(central_system.url, "wb2", password=PASSWORD) as charger:
        assert (await charger.boot())["status"] == "Accepted"
    assert issue(hass, issues[0]) is None


async def boot_from(central_system: CentralSystemUnderTest, identity: str, address: str) -> None:
    """An unknown charger at ``address`` boots (and is told Pending), then hangs up."""
    async with connect(
        central_system.url + identity, subprotocols=["ocpp1.6"], local_addr=(address, 0)
    ) as ws:
        payload = {"chargePointVendor": "[Fix](https://ev.il)", "chargePointModel": "<b>M</b>"}
        await ws.send(json.dumps([2, "b", "BootNotification", payload]))
        answer = json.loads(await ws.recv())
        assert answer[2]["status"] == "Pending"


@pytest.mark.parametrize("entry_options", [{"auto_accept": False}])
async def test_a_flood_from_one_address_keeps_a_charger_from_another(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The real charger's card stays while strangers from another address fill the slots."""
    await boot_from(central_system, "real", "127.0.0.2")
    for n in range(10):
        await boot_from(central_system, f"stranger{n}", "127.0.0.1")
    await hass.async_block_till_done(wait_background_tasks=True)
    shown = {f["context"]["title_placeholders"]["identity"] for f in discovery_flows(hass)}
    assert "real" in shown
    assert "stranger9" in shown


async def test_charger_texts_are_not_markdown(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A vendor that is a Markdown link is shown as text in the approval card and the repair."""
    await boot_from(central_system, "carport", "127.0.0.1")
    await hass.async_block_till_done(wait_background_tasks=True)
    flow = discovery_flows(hass)[0]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    vendor = result["description_placeholders"]["vendor"]
    assert vendor == "\\[Fix\\](https:\\/\\/ev.il)"
    assert result["description_placeholders"]["model"] == "\\<b\\>M\\<\\/b\\>"
    waiting = issue(hass, f"charger_waiting_{central_system.entry.entry_id}_carport")
    assert waiting is not None
    assert waiting.translation_placeholders is not None
    assert "[Fix](" not in waiting.translation_placeholders["model"]
    assert "[Fix](" not in flow["context"]["title_placeholders"]["model"]


async def test_a_stranger_without_boot_gets_no_cards(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """Posing as wb1 without booting: asked to boot, no SendLocalList even when cards change."""
    caplog.set_level(logging.INFO, logger="custom_components.ocpp_hub")
    async with connect(central_system.url + "wb1", subprotocols=["ocpp1.6"]) as ws:
        await wait_for(lambda: hub_of(central_system).server.handler("wb1") is not None)
        hub_of(central_system).chargers["wb1"].controller.cards_changed()
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame[2] == "TriggerMessage"
        await ws.send(json.dumps([3, frame[1], {"status": "Rejected"}]))
        await wait_for(lambda: "did not boot on this connection" in caplog.text)
        hub_of(central_system).chargers["wb1"].controller.cards_changed()
        await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
        # Nothing was queued before the answer to its own call: no cards, no configuration.
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))[:2] == [3, "hb"]
    await wait_for(lambda: hub_of(central_system).server.handler("wb1") is None)


async def test_approval_and_settings_refuse_short_passwords_then_recover(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A short password on approval or in the settings is refused; a valid one goes through."""
    charger = SimulatedCharger(central_system.url, "carport")
    await charger.connect()
    assert (await charger.boot())["status"] == "Pending"
    await hass.async_block_till_done(wait_background_tasks=True)
    flow_id = discovery_flows(hass)[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"password": "short"})
    assert result["errors"] == {"password": "weak_password"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"password_choice": "own"})
    assert result["errors"] == {"password": "password_missing"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"password": PASSWORD})
    assert result["reason"] == "charger_added"
    await charger.wait_closed(timeout=5)
    await charger.close()

    entry = central_system.entry
    subentry_id = next(sid for sid, s in entry.subentries.items() if s.unique_id == "carport")
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"password": "short", "remote_id_tag": "MYTAG"}
    )
    assert result["errors"] == {"password": "weak_password"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"password": "x" * 41, "remote_id_tag": "MYTAG"}
    )
    assert result["errors"] == {"password": "weak_password"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"password": "ä" * 20, "remote_id_tag": "MYTAG"}
    )
    assert result["errors"] == {"password": "weak_password"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"password": "y" * 40, "remote_id_tag": "MYTAG"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert check_password("y" * 40, entry.subentries[subentry_id].data[CONF_PASSWORD_HASH])


@pytest.mark.parametrize(
    ("change", "counts"),
    [("nothing", True), ("removed", False), ("password changed", False)],
)
async def test_a_password_checked_while_the_charger_changed_does_not_count(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, change: str, counts: bool
) -> None:
    """wb2's password is being checked (scrypt, in an executor) when the owner removes wb2 or
    gives it a new password: the old password, right when the check began, does not count."""
    hub = hub_of(central_system)
    entry = central_system.entry
    subentry = next(s for s in entry.subentries.values() if s.unique_id == "wb2")
    new_hash = hash_password("a brand new password for wb2")
    check = asyncio.ensure_future(hub.backend.verify_password("wb2", PASSWORD))
    await asyncio.sleep(0)  # the check has read the registration and is hashing
    assert not check.done()
    # The change is applied before the check can resume (no await until the check is awaited);
    # the entry's update listener would do the same a moment later.
    if change == "removed":
        assert hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    elif change == "password changed":
        hass.config_entries.async_update_subentry(
            entry, subentry, data={**subentry.data, CONF_PASSWORD_HASH: new_hash}
        )
    hub.async_sync_subentries()
    assert await check is counts
    await hass.async_block_till_done()
