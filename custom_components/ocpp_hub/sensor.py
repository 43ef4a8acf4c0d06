"""Sensors: status, status LED, power, energy, session, and diagnostics.

The platform: its entities are built from the descriptions of
:mod:`.sensor_descriptions` (what the charger reports), :mod:`.command_sensors`
(what became of our commands), :mod:`.energy_sensors` (the energy manager's
decision), :mod:`.session_sensors` (the last session) and :mod:`.card_energy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import StateType

from .card_energy import CardEnergySensors
from .command_sensors import COMMAND_SENSORS
from .energy_sensors import ENERGY_SENSORS, EnergySensor
from .entity import OcppHubEntity, build_entities
from .hub import OcppHubConfigEntry
from .registered_charger import RegisteredCharger
from .sensor_descriptions import CONNECTOR_SENSORS, READING_SENSORS, OcppSensorDescription
from .session_sensors import LAST_SESSION_SENSORS, LastSessionSensor

PARALLEL_UPDATES = 0

# Every sensor of a charger and of its connectors, in this order.
SENSORS: tuple[OcppSensorDescription, ...] = (
    *READING_SENSORS,
    *COMMAND_SENSORS,
    *CONNECTOR_SENSORS,
)

# How often a clock-driven value is read again (it is written only when it changed).
CLOCK_INTERVAL = timedelta(seconds=30)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every charger, now and when chargers or connectors appear."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[SensorEntity]:
        sensors: list[SensorEntity] = []
        sensors += build_entities(registered, list(connector_ids), SENSORS, OcppHubSensor)
        sensors += build_entities(registered, list(connector_ids), ENERGY_SENSORS, EnergySensor)
        if not connector_ids:
            priced = entry.runtime_data.sessions.price_entity is not None
            sensors += [
                LastSessionSensor(registered, description)
                for description in LAST_SESSION_SENSORS
                if priced or description.key != "last_session_cost"
            ]
            cards = CardEnergySensors(hass, registered, async_add_entities)
            entry.async_on_unload(cards.stop)
            sensors += cards.start()
        return sensors

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubSensor(OcppHubEntity, SensorEntity):
    """A sensor that shows one value of the charger model."""

    entity_description: OcppSensorDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The value read at the last change."""
        value: StateType | datetime = self._value
        return value

    async def async_added_to_hass(self) -> None:
        """Follow the charger, and the clock where the value depends on it."""
        await super().async_added_to_hass()
        if self.entity_description.clock:
            self.async_on_remove(
                async_track_time_interval(self.hass, self._clock_ticked, CLOCK_INTERVAL)
            )

    @callback
    def _clock_ticked(self, _now: datetime) -> None:
        self._charger_changed()
