"""Sensors of the energy manager's decision: the current it wants, why, and the solar share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfElectricCurrent
from homeassistant.helpers.typing import StateType

from .entity import OcppHubEntity, OcppHubEntityDescription
from .model.charger import Charger, Connector, Topic
from .model.energy import Reason


@dataclass(frozen=True, kw_only=True)
class EnergySensorDescription(OcppHubEntityDescription, SensorEntityDescription):
    """A sensor of what the energy manager decided for a charger."""


def _reason_details(charger: Charger, _: Connector) -> dict[str, Any]:
    """The figures behind the reason: surplus, what is missing, when a hold ends."""
    ctl = charger.owner.control
    detail = ctl.detail
    until = detail.get("hold_until")
    return {
        "mode": ctl.mode.value,
        "surplus_power": detail.get("surplus_w"),
        "missing_power": detail.get("missing_w"),
        "hold_until": datetime.fromtimestamp(until, UTC).isoformat() if until else None,
        "site_budget": detail.get("budget_a"),
        "phases": ctl.phases,
    }


def _whole(amps: float | None) -> float | None:
    """Whole amps as an int, so the state reads "16" rather than "16.0"."""
    return int(amps) if amps is not None and amps == int(amps) else amps


def _share_details(charger: Charger, _: Connector) -> dict[str, Any]:
    ctl = charger.owner.control
    return {
        "session_energy": round(ctl.charged_wh / 1000, 2) if ctl.session else None,
        "surplus_energy": round(ctl.surplus_wh / 1000, 2) if ctl.session else None,
    }


ENERGY_SENSORS: tuple[EnergySensorDescription, ...] = (
    EnergySensorDescription(
        key="charge_mode_reason",
        translation_key="charge_mode_reason",
        device_class=SensorDeviceClass.ENUM,
        options=[reason.value for reason in Reason],
        value_fn=lambda ch, _: ch.owner.control.reason.value if ch.owner.control.reason else None,
        attrs_fn=_reason_details,
        topics=frozenset({Topic.CONTROL}),
    ),
    EnergySensorDescription(
        key="wanted_current",
        translation_key="wanted_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=0,
        value_fn=lambda ch, _: _whole(ch.owner.control.target_a),
        topics=frozenset({Topic.CONTROL}),
    ),
    EnergySensorDescription(
        key="solar_share",
        translation_key="solar_share",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda ch, _: ch.owner.control.solar_share,
        attrs_fn=_share_details,
        # The energy manager counts the session's energy without notifying: it shows
        # with the charger's next meter values (as before topics).
        topics=frozenset({Topic.CONTROL, Topic.METER, Topic.SESSION}),
    ),
)


class EnergySensor(OcppHubEntity, SensorEntity):
    """One figure of the energy manager's decision for a charger."""

    entity_description: EnergySensorDescription

    @property
    def native_value(self) -> StateType:
        """The value read at the last change."""
        value: StateType = self._value
        return value
