"""What a charger's subentry holds besides its identity: cards, remote idTag, charging window."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant

from .const import CONF_CARDS, CONF_REMOTE_ID_TAG, CONF_SCHEDULE, DEFAULT_REMOTE_ID_TAG
from .model.rfid import Card, normalise
from .model.schedule import ChargingWindow

_LOGGER = logging.getLogger(__name__)


def remote_id_tag(subentry: ConfigSubentry) -> str:
    """The idTag Home Assistant uses for remote starts on this charger."""
    return str(subentry.data.get(CONF_REMOTE_ID_TAG) or DEFAULT_REMOTE_ID_TAG)


def cards(subentry: ConfigSubentry) -> list[Card]:
    """The charger's card list."""
    return [Card.from_dict(c) for c in subentry.data.get(CONF_CARDS, [])]


def add_card(
    hass: HomeAssistant, entry: ConfigEntry, subentry: ConfigSubentry, uid: str, name: str | None
) -> Card:
    """Add a card to the charger's list (no restart of anything; ValueError: no card UID)."""
    listed = cards(subentry)
    card = Card(uid=normalise(uid), name=name or f"Card {len(listed) + 1}")
    _write_cards(hass, entry, subentry, [*listed, card])
    return card


def remove_card(
    hass: HomeAssistant, entry: ConfigEntry, subentry: ConfigSubentry, uid: str
) -> bool:
    """Remove a card (matched as entered or as presented); False if not found."""
    listed = cards(subentry)
    kept = [c for c in listed if not (c.uid == normalise(uid) or c.matches(uid))]
    if len(kept) == len(listed):
        return False
    _write_cards(hass, entry, subentry, kept)
    return True


def _write_cards(
    hass: HomeAssistant, entry: ConfigEntry, subentry: ConfigSubentry, listed: list[Card]
) -> None:
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_CARDS: [c.as_dict() for c in listed]}
    )


def charging_window(subentry: ConfigSubentry) -> ChargingWindow | None:
    """The charging window of a charger's settings (None: none, or not readable)."""
    data = subentry.data.get(CONF_SCHEDULE)
    if not data:
        return None
    try:
        return ChargingWindow.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        _LOGGER.warning("The charging schedule of %s is not readable: %s", subentry.title, err)
        return None
