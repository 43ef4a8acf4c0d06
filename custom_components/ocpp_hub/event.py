"""Events: a card was presented at the charger (accepted or not); the charger reported something."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Charger, Topic
from .model.reports import ReportKind
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppEventDescription(OcppHubEntityDescription, EventEntityDescription):
    """An event entity of a charger: ``value_fn`` counts what happened, ``latest_fn`` says it."""

    latest_fn: Callable[[Charger], tuple[str, dict[str, Any]]]


def _card_decision(charger: Charger) -> tuple[str, dict[str, Any]]:
    decision = charger.owner.decisions[-1]
    return "accepted" if decision.accepted else "rejected", {
        "id_tag": decision.id_tag,
        "card_name": decision.card_name,
        "status": decision.status,
        "learned": decision.learned,
    }


def _charger_report(charger: Charger) -> tuple[str, dict[str, Any]]:
    report = charger.reports.last[-1]
    return report.kind.value, {"name": report.name, "value": report.value}


EVENTS: tuple[OcppEventDescription, ...] = (
    OcppEventDescription(
        key="card_presented",
        translation_key="card_presented",
        event_types=["accepted", "rejected"],
        value_fn=lambda ch, _: ch.owner.decision_count,
        latest_fn=_card_decision,
        topics=frozenset({Topic.CARD}),
    ),
    OcppEventDescription(
        key="charger_report",
        translation_key="charger_report",
        entity_category=EntityCategory.DIAGNOSTIC,
        event_types=[kind.value for kind in ReportKind],
        value_fn=lambda ch, _: ch.reports.count,
        latest_fn=_charger_report,
        topics=frozenset({Topic.REPORT}),
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
    """Fires for every new decision or report of its charger, with what it said."""

    entity_description: OcppEventDescription

    @callback
    def _charger_changed(self) -> None:
        description = self.entity_description
        count = description.value_fn(self._charger, self._charger.main)
        if count == self._value:
            return
        self._value = count
        self._trigger_event(*description.latest_fn(self._charger))
        self.async_write_ha_state()
