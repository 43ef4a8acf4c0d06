"""Binary sensors: connection, plugged in, charging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppBinarySensorDescription(OcppHubEntityDescription, BinarySensorEntityDescription):
    """A binary sensor of a charger or connector."""


BINARY_SENSORS: tuple[OcppBinarySensorDescription, ...] = (
    OcppBinarySensorDescription(
        key="connection",
        translation_key="connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        value_fn=lambda ch, _: ch.connected,
        attrs_fn=lambda ch, _: {"disconnect_reason": ch.disconnect_reason},
        topics=frozenset({Topic.CONNECTION}),
    ),
    OcppBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda ch, _: ch.plugged_in,
        topics=frozenset({Topic.STATUS}),
    ),
    OcppBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=lambda ch, _: ch.charging,
        topics=frozenset({Topic.STATUS}),
    ),
    OcppBinarySensorDescription(
        key="plugged_in",
        translation_key="connector_plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        per_connector=True,
        value_fn=lambda _, c: c.plugged_in,
        topics=frozenset({Topic.STATUS}),
    ),
    OcppBinarySensorDescription(
        key="charging",
        translation_key="connector_charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        per_connector=True,
        value_fn=lambda _, c: c.charging,
        topics=frozenset({Topic.STATUS}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every charger, now and when chargers or connectors appear."""

    def factory(
        registered: RegisteredCharger, connector_ids: Sequence[int]
    ) -> list[OcppHubBinarySensor]:
        return build_entities(registered, list(connector_ids), BINARY_SENSORS, OcppHubBinarySensor)

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubBinarySensor(OcppHubEntity, BinarySensorEntity):
    """A binary sensor that shows one value of the charger model."""

    entity_description: OcppBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The value read at the last change."""
        value: bool | None = self._value
        return value
