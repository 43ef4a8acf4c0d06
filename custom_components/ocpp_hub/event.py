"""Event: a card was presented at the charger, and whether it was accepted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppEventDescription(OcppHubEntityDescription, EventEntityDescription):
    """An event entity of a charger."""


EVENTS: tuple[OcppEventDescription, ...] = (
    OcppEventDescription(
        key="card_presented",
        translation_key="card_presented",
        event_types=["accepted", "rejected"],
        value_fn=lambda ch, _: ch.decision_count,
        topics=frozenset({Topic.CARD}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of every charger."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[OcppHubEvent]:
        return build_entities(registered, list(connector_ids), EVENTS, OcppHubEvent)

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubEvent(OcppHubEntity, EventEntity):
    """Fires for every authorization decision, with the normalised idTag and card name."""

    entity_description: OcppEventDescription

    @callback
    def _charger_changed(self) -> None:
        count = self._charger.decision_count
        if count == self._value:
            return
        self._value = count
        decision = self._charger.decisions[-1]
        self._trigger_event(
            "accepted" if decision.accepted else "rejected",
            {
                "id_tag": decision.id_tag,
                "card_name": decision.card_name,
                "status": decision.status,
                "learned": decision.learned,
            },
        )
        self.async_write_ha_state()
