"""Energy per card: one sensor per card of a charger, the energy of its sessions.

The Wallbox app shows how much each user charged; under OCPP the central system
must. Each card of a charger's list gets a sensor that adds up the energy of the
charger's finished sessions started with that card. The total is kept in the
sessions store (added to once, when a session is recorded), so it never goes
down when the bounded history drops old sessions: it can feed the Energy
dashboard as an individual device.

The sensors follow the card list: a card added later gets its sensor at once; a
removed card's sensor is removed from the entity registry, as core integrations
do with what no longer exists upstream (an unavailable entity would stay forever,
with nothing that could bring it back). Its long-term statistics stay in the
recorder, and its total in the store: the same card added again continues it.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import Platform, UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .entity import OcppHubSessionEntity
from .model.rfid import Card
from .registered_charger import RegisteredCharger

# More cards than this: their sensors are disabled by default (the owner enables some).
MAX_ENABLED_CARDS = 3


@dataclass(frozen=True, kw_only=True)
class CardSensorDescription(SensorEntityDescription):
    """A sensor per card; its name has the card's name in it."""

    name_placeholders: tuple[str, ...] = ("card",)


CARD_ENERGY = CardSensorDescription(
    key="card_energy",
    translation_key="card_energy",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)


def card_unique_key(uid: str) -> str:
    """The part of a card sensor's unique id after entry and identity."""
    return f"energy_card_{uid}"


class CardEnergySensor(OcppHubSessionEntity, SensorEntity):
    """The energy of a charger's sessions started with one card."""

    entity_description = CARD_ENERGY

    def __init__(self, registered: RegisteredCharger, card: Card, *, enabled: bool) -> None:
        """One per card of the charger's list."""
        super().__init__(registered, card_unique_key(card.uid))
        self.uid = card.uid
        self._attr_translation_placeholders = {"card": card.name}
        self._attr_entity_registry_enabled_default = enabled
        self._value = self._read()

    def _read(self) -> float:
        return round(self._registered.sessions.card_energy_wh(self.uid) / 1000, 3)

    @property
    def native_value(self) -> float:
        """kWh of the card's sessions (0 before the first one)."""
        return self._value

    async def async_added_to_hass(self) -> None:
        """Follow the finished sessions."""
        await super().async_added_to_hass()
        self._value = self._read()

    @callback
    def _sessions_changed(self) -> None:
        # Another card's session changes nothing here: no state written.
        if (value := self._read()) != self._value:
            self._value = value
            self.async_write_ha_state()


class CardEnergySensors:
    """The card energy sensors of one charger, in step with its card list."""

    def __init__(
        self,
        hass: HomeAssistant,
        registered: RegisteredCharger,
        add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        """Follow ``registered``'s cards; :meth:`start` gives the first sensors."""
        self.hass = hass
        self.registered = registered
        self.add_entities = add_entities
        self.sensors: dict[str, CardEnergySensor] = {}

    def start(self) -> list[CardEnergySensor]:
        """The sensors of the cards now (stale ones removed); then follow changes."""
        self.registered.card_listeners.append(self.cards_changed)
        return self._sync()

    def stop(self) -> None:
        """Stop following the card list (the entry unloads)."""
        if self.cards_changed in self.registered.card_listeners:
            self.registered.card_listeners.remove(self.cards_changed)

    @callback
    def cards_changed(self) -> None:
        """Cards added or removed without a reload (a new name shows after a reload)."""
        if not self.registered.adding_entities():
            return
        if new := self._sync():
            self.add_entities(new, config_subentry_id=self.registered.subentry_id)

    def _sync(self) -> list[CardEnergySensor]:
        cards = {card.uid: card for card in self.registered.controller.cards()}
        enabled = len(cards) <= MAX_ENABLED_CARDS
        new = []
        for uid, card in cards.items():
            if uid not in self.sensors:
                self.sensors[uid] = sensor = CardEnergySensor(
                    self.registered, card, enabled=enabled
                )
                new.append(sensor)
        for uid in [uid for uid in self.sensors if uid not in cards]:
            del self.sensors[uid]
        self._remove_stale(set(cards))
        return new

    def _remove_stale(self, uids: set[str]) -> None:
        """Registry entries of cards no longer in the list (also removed while unloaded)."""
        registry = er.async_get(self.hass)
        registered = self.registered
        prefix = f"{registered.entry_id}_{registered.identity}_{card_unique_key('')}"
        wanted = {f"{prefix}{uid}" for uid in uids}
        for entry in er.async_entries_for_config_entry(registry, registered.entry_id):
            if (
                entry.domain == Platform.SENSOR
                and entry.platform == DOMAIN
                and entry.unique_id.startswith(prefix)
                and entry.unique_id not in wanted
            ):
                registry.async_remove(entry.entity_id)
