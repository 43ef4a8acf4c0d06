"""Buttons: reboot (with a verified outcome), unlock connector, learn the next card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import ChargerController
from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppButtonDescription(OcppHubEntityDescription, ButtonEntityDescription):
    """A button and what it does."""

    needs_connection: bool = True  # a control: unavailable while the charger is offline
    topics: frozenset[Topic] | None = frozenset()  # no value: only the connection

    press_fn: Callable[[ChargerController, int], Awaitable[Any]]


async def _learn(controller: ChargerController, connector_id: int) -> None:
    del connector_id
    controller.start_learning()


BUTTONS: tuple[OcppButtonDescription, ...] = (
    OcppButtonDescription(
        key="reboot",
        translation_key="reboot",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda ch, _: None,
        press_fn=lambda ctl, _: ctl.async_reboot(),
    ),
    OcppButtonDescription(
        key="unlock",
        translation_key="unlock",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda ch, _: None,
        press_fn=lambda ctl, cid: ctl.async_unlock(cid),
    ),
    OcppButtonDescription(
        key="learn_card",
        translation_key="learn_card",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda ch, _: None,
        press_fn=_learn,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every charger, now and when chargers appear."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[OcppHubButton]:
        return build_entities(registered, list(connector_ids), BUTTONS, OcppHubButton)

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubButton(OcppHubEntity, ButtonEntity):
    """A button that sends a command to its charger."""

    entity_description: OcppButtonDescription

    async def async_press(self) -> None:
        """Run the command; failures raise a translated error."""
        await self.entity_description.press_fn(self.controller, self.connector_id)
