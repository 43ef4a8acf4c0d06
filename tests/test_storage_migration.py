"""Stored data of the previous version (store 1.1: transaction ids as numbers) still loads.

The chargers' store and the sessions' store as the version before text
transaction ids wrote them: a 1.6 Wallbox (wb1) with two sessions, the last
still in the charger's state, and a 2.0.1 charger (wb2) whose transactions
carried the charger's own id beside our number, one finished and one running.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_hub.const import DOMAIN
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.storage import MINOR_VERSION, migrate_chargers

from .helpers import charger_device

T0 = datetime(2026, 11, 30, 10, tzinfo=UTC)
ALICE_AS_SENT = "C3B2A104"


def _at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def _transaction(number: int, start: float, stop: float | None, own: str | None = None) -> Any:
    """A transaction as the chargers' store 1.1 held it."""
    return {
        "transaction_id": number,
        "connector_id": 1,
        "id_tag": ALICE_AS_SENT,
        "meter_start_wh": 1000.0,
        "started_at": _at(start),
        "meter_last_wh": 3500.0,
        "stopped_at": None if stop is None else _at(stop),
        "meter_stop_wh": None if stop is None else 3500.0,
        "stop_reason": None if stop is None else "EVDisconnected",
        "charger_transaction_id": own,
    }


def _record(number: int, start: float) -> dict[str, Any]:
    """A finished session as the sessions' store 1.1 held it."""
    return {
        "transaction_id": number,
        "connector_id": 1,
        "started_at": _at(start),
        "ended_at": _at(start + 1),
        "energy_wh": 2500.0,
        "id_tag": ALICE_AS_SENT,
        "started_by": "card",
        "card_name": "Alice",
        "max_power_w": 7400.0,
        "charging_s": 3000.0,
        "stop_reason": "EVDisconnected",
        "cost": None,
    }


def _charger(profile: str, configuration: dict[str, str], **connector: Any) -> dict[str, Any]:
    return {
        "info": {"vendor": "Wall Box Chargers" if profile == "wallbox" else "Alfen BV"},
        "profile": profile,
        "connectors": {"1": {"status": "available", "power_w": 0.0, **connector}},
        "configuration": configuration,
        "lock_wanted": True,
    }


def _old_stores(entry_id: str) -> dict[str, Any]:
    chargers = {
        "wb1": _charger(
            "wallbox",
            {"AuthEnabled": "false", "chargingALimitConn1": "16"},
            last_transaction=_transaction(41, 25, 26),
        ),
        "wb2": _charger(
            "generic",
            {"AuthCtrlr.Enabled": "true"},
            transaction=_transaction(43, 47, None, own="f3a9-running"),
            last_transaction=_transaction(42, 45, 46, own="e1b7-finished"),
        ),
    }
    # The energy manager's figures of the running session (Solar share).
    chargers["wb2"]["control"] = {
        "mode": "solar",
        "priority": 5,
        "session": "43",
        "charged_wh": 2500.0,
        "surplus_wh": 2000.0,
    }
    sessions = {
        "wb1": {
            "history": [_record(41, 25), _record(40, 1)],
            "recent": [[40, 1, _at(1)], [41, 1, _at(25)]],
            "card_totals": {"04A1B2C3": 5000.0},
        },
        "wb2": {
            "history": [_record(42, 45)],
            "trackers": {
                "1": {
                    "transaction_id": 43,
                    "started_at": _at(47),
                    "max_power_w": 11000.0,
                    "charging_s": 600.0,
                    "cost": 0.75,
                    "last_energy_wh": 2500.0,
                }
            },
            "recent": [[42, 1, _at(45)]],
        },
    }
    key = f"{DOMAIN}.{entry_id}"
    return {
        key: {"version": 1, "key": key, "data": {"next_transaction_id": 44, "chargers": chargers}},
        f"{key}.sessions": {
            "version": 1,
            "minor_version": 1,
            "key": f"{key}.sessions",
            "data": {"chargers": sessions},
        },
    }


async def test_sessions_of_the_previous_version_are_kept(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Every session and transaction comes back once, with text ids and its figures."""
    hass_storage.update(_old_stores(config_entry.entry_id))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    hub: OcppHub = config_entry.runtime_data

    wb1 = hub.chargers["wb1"]
    assert [r.transaction_id for r in wb1.sessions.history.records] == ["41", "40"]
    assert wb1.charger.connector(1).last_transaction is not None
    assert wb1.charger.connector(1).last_transaction.transaction_id == "41"
    # The configuration kept says, by meaning: free vend, a 16 A ceiling.
    assert wb1.charger.locked is False
    assert wb1.charger.max_current_a == 16
    assert wb1.sessions.card_energy_wh("04A1B2C3") == 5000.0

    wb2 = hub.chargers["wb2"]
    running = wb2.charger.connector(1).transaction
    assert running is not None
    assert running.transaction_id == "f3a9-running"  # later events name it so
    assert wb2.sessions.trackers[1].transaction_id == "f3a9-running"
    assert wb2.sessions.trackers[1].max_power_w == 11000.0  # measured before the upgrade
    assert wb2.sessions.trackers[1].cost == 0.75
    control = wb2.charger.owner.control
    assert (control.session, control.charged_wh, control.surplus_wh) == (
        "f3a9-running",
        2500.0,
        2000.0,
    )
    assert [r.transaction_id for r in wb2.sessions.history.records] == ["e1b7-finished"]

    device = charger_device(hass, config_entry.entry_id, "wb1")
    assert device is not None
    response = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"device_id": device.id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert [s["start"] for s in response["sessions"]] == [_at(25), _at(1)]  # type: ignore[union-attr,index]
    events = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.garage_sessions",
            "start_date_time": T0,
            "end_date_time": T0 + timedelta(days=2),
        },
        blocking=True,
        return_response=True,
    )
    assert len(events["calendar.garage_sessions"]["events"]) == 2  # type: ignore[arg-type]

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    for key in (f"{DOMAIN}.{config_entry.entry_id}", f"{DOMAIN}.{config_entry.entry_id}.sessions"):
        assert hass_storage[key]["minor_version"] == MINOR_VERSION
    saved = hass_storage[f"{DOMAIN}.{config_entry.entry_id}"]["data"]
    assert saved["next_transaction_id"] == 44
    stored = saved["chargers"]["wb2"]["connectors"]["1"]["last_transaction"]
    assert stored["transaction_id"] == "e1b7-finished"
    assert "charger_transaction_id" not in stored


def test_what_the_migration_cannot_read_stays_as_it_was() -> None:
    """Damaged parts are left for the loaders (which drop them and say so)."""
    data: dict[str, Any] = {
        "chargers": {
            "a": "not a charger",
            "b": {"connectors": {"1": "x", "2": {"transaction": {"transaction_id": None}}}},
            "c": {"connectors": [], "configuration": "x"},
        }
    }
    renamed: dict[str, dict[str, str]] = {}
    migrate_chargers(data, renamed)
    assert data["chargers"]["b"]["connectors"]["2"]["transaction"] == {"transaction_id": None}
    assert renamed == {}


async def test_a_damaged_store_of_the_previous_version_does_not_stop_the_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Stored content that is not a mapping: the central system starts, the owner is told."""
    key = f"{DOMAIN}.{config_entry.entry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": ["garbage"]}
    hass_storage[f"{key}.sessions"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{key}.sessions",
        "data": None,
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"storage_{config_entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "storage_damaged"
