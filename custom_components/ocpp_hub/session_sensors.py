"""The sensors of a charger's last finished session: energy, duration, card, cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import UnitOfEnergy, UnitOfTime
from homeassistant.helpers.typing import StateType

from .entity import OcppHubSessionEntity
from .model.sessions import SessionRecord
from .registered_charger import RegisteredCharger


@dataclass(frozen=True, kw_only=True)
class LastSessionSensorDescription(SensorEntityDescription):
    """A value of the charger's last finished session."""

    value_fn: Callable[[SessionRecord], StateType]


LAST_SESSION_SENSORS: tuple[LastSessionSensorDescription, ...] = (
    LastSessionSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda r: r.energy_kwh,
    ),
    LastSessionSensorDescription(
        key="last_session_duration",
        translation_key="last_session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda r: round(r.duration.total_seconds() / 60),
    ),
    LastSessionSensorDescription(
        key="last_session_card",
        translation_key="last_session_card",
        value_fn=lambda r: r.card_name,
    ),
    LastSessionSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda r: r.cost,
    ),
)


class LastSessionSensor(OcppHubSessionEntity, SensorEntity):
    """One value of the last finished session; attributes say when it was."""

    entity_description: LastSessionSensorDescription

    def __init__(
        self, registered: RegisteredCharger, description: LastSessionSensorDescription
    ) -> None:
        """One per description and charger."""
        super().__init__(registered, description.key)
        self.entity_description = description
        if description.device_class is SensorDeviceClass.MONETARY:
            # Costs are in Home Assistant's currency.
            self._attr_native_unit_of_measurement = registered.sessions.book.currency

    @property
    def native_value(self) -> StateType:
        """The value of the last session (unknown before the first one)."""
        last = self._registered.sessions.history.last
        return None if last is None else self.entity_description.value_fn(last)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """When the last session started and ended, and how it was started."""
        last = self._registered.sessions.history.last
        if last is None:
            return None
        return {
            "started": last.started_at.isoformat(),
            "ended": last.ended_at.isoformat(),
            "started_by": str(last.started_by),
            "id_tag": last.id_tag,
        }
