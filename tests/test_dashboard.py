"""The example dashboard dashboards/charger.yaml: core cards, and entity ids that exist.

The dashboard is written for the demo's charger "Wallbox Pulsar Plus"; its header tells
users to replace ``wallbox_pulsar_plus`` with their charger's slug. Both are checked
against the entities the integration really creates: for a charger of that name, and,
after the replacement, for another charger ("Garage").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util.yaml import load_yaml_dict, parse_yaml
import pytest

from chargersim import SimulatedCharger

from .conftest import CentralSystemUnderTest, charger_subentry
from .helpers import charger_device, wait_for_state

DASHBOARD = Path(__file__).parent.parent / "dashboards" / "charger.yaml"
SLUG = "wallbox_pulsar_plus"
DEMO_IDENTITY = "wallbox-demo"

# What the dashboard must show.
EXPECTED_CARD_TYPES = {
    "heading",
    "tile",
    "gauge",
    "history-graph",
    "entities",
    "statistic",
    "statistics-graph",
}
# Cards of Home Assistant's frontend that the dashboard may use (no custom: cards).
CORE_CARD_TYPES = EXPECTED_CARD_TYPES | {"grid", "vertical-stack", "horizontal-stack"}


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """The demo's charger, and a second one to check the search-and-replace advice."""
    return [
        charger_subentry(DEMO_IDENTITY, "Wallbox Pulsar Plus"),
        charger_subentry("wb1", "Garage"),
    ]


def _load() -> dict[str, Any]:
    return load_yaml_dict(str(DASHBOARD))


def _cards(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every card of the dashboard: of its views, their sections, and nested in stacks."""

    def walk(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield card
        for child in [*card.get("cards", []), *([card["card"]] if "card" in card else [])]:
            yield from walk(child)

    for view in config["views"]:
        for card in view.get("cards", []):
            yield from walk(card)
        for section in view.get("sections", []):
            for card in section.get("cards", []):
                yield from walk(card)


def _entity_ids(node: Any) -> set[str]:
    """Every entity id the configuration refers to (``entity`` / ``entities``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "entity" and isinstance(value, str):
                found.add(value)
            elif key == "entities" and isinstance(value, list):
                found.update(item for item in value if isinstance(item, str))
            found |= _entity_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _entity_ids(item)
    return found


def _charger_entities(hass: HomeAssistant, entry_id: str, identity: str) -> set[str]:
    """The enabled entities of one charger's device."""
    device = charger_device(hass, entry_id, identity)
    assert device is not None, f"no device for {identity}"
    return {
        entry.entity_id
        for entry in er.async_entries_for_device(er.async_get(hass), device.id)
        if entry.disabled_by is None
    }


def test_dashboard_is_valid_yaml_with_core_cards() -> None:
    """One sections view of core cards: tiles with features, gauge, graphs, entities."""
    config = _load()
    assert isinstance(config["views"], list)
    assert len(config["views"]) == 1
    cards = list(_cards(config))
    types = {card["type"] for card in cards}
    assert types >= EXPECTED_CARD_TYPES, f"missing: {EXPECTED_CARD_TYPES - types}"
    assert types <= CORE_CARD_TYPES, f"not core cards: {types - CORE_CARD_TYPES}"

    tiles = {card["entity"]: card for card in cards if card["type"] == "tile"}
    for switch in (f"switch.{SLUG}_charge", f"switch.{SLUG}_lock"):
        assert {"type": "toggle"} in tiles[switch]["features"], switch
    limit_features = [f["type"] for f in tiles[f"number.{SLUG}_current_limit"]["features"]]
    assert "numeric-input" in limit_features
    assert f"sensor.{SLUG}_status" in tiles
    assert f"sensor.{SLUG}_status_led" in tiles
    mode_features = [f["type"] for f in tiles[f"select.{SLUG}_charge_mode"]["features"]]
    assert "select-options" in mode_features
    assert f"sensor.{SLUG}_charge_mode_status" in tiles

    (gauge,) = (card for card in cards if card["type"] == "gauge")
    assert gauge["entity"] == f"sensor.{SLUG}_charging_power"
    # W (the sensor's unit): the demo's single-phase 32 A Pulsar Plus, not 11 kW.
    assert (gauge["min"], gauge["max"]) == (0, 7400)
    assert all(0 <= step < gauge["max"] for step in gauge["severity"].values())
    # Statistic cards share a row: their names are short enough to be shown whole.
    for card in (card for card in cards if card["type"] == "statistic"):
        assert len(card["name"]) <= 10, card["name"]
    assert set(gauge["severity"]) == {"green", "yellow", "red"}

    (history,) = (card for card in cards if card["type"] == "history-graph")
    assert history["hours_to_show"] == 6
    assert _entity_ids(history) == {
        f"sensor.{SLUG}_charging_power",
        f"number.{SLUG}_current_limit",
    }

    (entities,) = (card for card in cards if card["type"] == "entities")
    assert _entity_ids(entities) >= {
        f"sensor.{SLUG}_session_energy",
        f"sensor.{SLUG}_session_duration",
        f"sensor.{SLUG}_last_reboot",
        f"sensor.{SLUG}_offline_protection",
    }


def test_dashboard_header_explains_the_entity_ids() -> None:
    """The comment at the top says what to replace."""
    header = DASHBOARD.read_text(encoding="utf-8").split("\ntitle:", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines() if line.strip())
    assert SLUG in header


async def test_every_entity_exists_on_the_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Each referenced entity belongs to the charger "Wallbox Pulsar Plus" and has a state."""
    referenced = _entity_ids(_load())
    assert referenced
    assert all(SLUG in entity_id for entity_id in referenced)
    mine = _charger_entities(hass, central_system.entry.entry_id, DEMO_IDENTITY)
    assert referenced <= mine, f"not entities of the charger: {sorted(referenced - mine)}"

    async with SimulatedCharger(central_system.url, DEMO_IDENTITY) as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await wait_for_state(hass, f"binary_sensor.{SLUG}_connection", "on")
        for entity_id in sorted(referenced):
            state = hass.states.get(entity_id)
            assert state is not None, f"{entity_id} has no state"
            assert state.state != STATE_UNAVAILABLE, f"{entity_id} is unavailable"


async def test_search_and_replace_fits_another_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Replacing the slug, as the header says, gives the entities of charger "Garage"."""
    text = DASHBOARD.read_text(encoding="utf-8").replace(SLUG, "garage")
    referenced = _entity_ids(parse_yaml(text))
    garage = _charger_entities(hass, central_system.entry.entry_id, "wb1")
    assert referenced <= garage, f"not entities of Garage: {sorted(referenced - garage)}"
