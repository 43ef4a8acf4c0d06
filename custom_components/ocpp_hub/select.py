"""Select: the charge mode (Fast, Solar, Minimum + solar, Off) of each charger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .model.energy import ChargeMode
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppSelectDescription(OcppHubEntityDescription, SelectEntityDescription):
    """A select of a charger."""


SELECTS: tuple[OcppSelectDescription, ...] = (
    OcppSelectDescription(
        # Our own setting: it can be changed while the charger is offline (it applies
        # when the charger is back).
        key="charge_mode",
        translation_key="charge_mode",
        options=[mode.value for mode in ChargeMode],
        value_fn=lambda ch, _: ch.owner.control.mode.value,
        topics=frozenset({Topic.CONTROL}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charge mode of every charger, now and when chargers appear."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[SelectEntity]:
        return list(build_entities(registered, list(connector_ids), SELECTS, OcppHubSelect))

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubSelect(OcppHubEntity, SelectEntity):
    """The charge mode: what the energy manager does with this charger."""

    entity_description: OcppSelectDescription

    @property
    def current_option(self) -> str | None:
        """The mode in force."""
        value: str | None = self._value
        return value

    async def async_select_option(self, option: str) -> None:
        """Change the mode at once (the energy manager decides again)."""
        self.controller.set_charge_mode(ChargeMode(option))
