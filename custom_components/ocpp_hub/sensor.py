"""Sensors: status, status LED, power, energy, session, and diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .card_energy import CardEnergySensors
from .energy_sensors import ENERGY_SENSORS, EnergySensor
from .entity import (
    OcppHubEntity,
    OcppHubEntityDescription,
    OcppHubSessionEntity,
    build_entities,
)
from .hub import OcppHubConfigEntry
from .model.charger import Charger, Connector, Topic
from .model.control import LearnStatus, LimitStatus, ProtectionStatus, RebootResult
from .model.led import LedColour
from .model.sessions import SessionRecord
from .model.status import ConnectorStatus
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0

# What the sensors read (see OcppHubEntityDescription.topics).
METER = frozenset({Topic.METER})
STATUS = frozenset({Topic.STATUS})
# Power: the readings; 0 W once the status says it stopped (and it is connected).
POWER = frozenset({Topic.METER, Topic.STATUS, Topic.CONNECTION})
SESSION_ENERGY = frozenset({Topic.SESSION, Topic.METER})
# The LED: connection and start-up, status, authorization, and the lock (vendor
# profile, configuration, the owner's setting).
LED = frozenset(
    {
        Topic.CONNECTION,
        Topic.BOOT,
        Topic.STATUS,
        Topic.SESSION,
        Topic.LOCK,
        Topic.CONFIGURATION,
    }
)

# OCPP 1.6 ChargePointErrorCode values, as snake_case states.
ERROR_CODES = [
    "no_error",
    "connector_lock_failure",
    "ev_communication_error",
    "ground_failure",
    "high_temperature",
    "internal_error",
    "local_list_conflict",
    "other_error",
    "over_current_failure",
    "over_voltage",
    "power_meter_failure",
    "power_switch_failure",
    "reader_failure",
    "reset_failure",
    "under_voltage",
    "weak_signal",
]


def _snake(value: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


def error_state(connector: Connector) -> str | None:
    """The connector's error code as a state (None if the charger reported one we do not know)."""
    if connector.status is None:
        return None
    if connector.error_code is None:
        return "no_error"
    state = _snake(connector.error_code)
    return state if state in ERROR_CODES else "other_error"


def _kwh(wh: float | None) -> float | None:
    # 10 Wh steps: what the display shows, and one state write less per meter value.
    return None if wh is None else round(wh / 1000, 2)


def _session_energy(connector: Connector) -> float | None:
    session = connector.session
    return None if session is None else _kwh(session.energy_wh)


def _session_duration(connector: Connector) -> int | None:
    """Whole minutes (so the state changes once a minute, not with every message)."""
    session = connector.session
    if session is None:
        return None
    return int(session.duration(datetime.now(UTC)).total_seconds() // 60)


def _reboot_attributes(charger: Charger) -> dict[str, object]:
    reboot = charger.owner.reboot
    if reboot is None:
        return {}
    return {
        "requested_at": reboot.requested_at.isoformat(),
        "finished_at": reboot.finished_at.isoformat() if reboot.finished_at else None,
        "duration_s": reboot.duration_s,
        "hard": reboot.hard,
        "detail": reboot.detail,
    }


def _phase_current(phase: str) -> OcppSensorDescription:
    return OcppSensorDescription(
        key=f"current_{phase.lower()}",
        translation_key=f"current_{phase.lower()}",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda _, c: c.currents_a.get(phase),
        topics=METER,
    )


@dataclass(frozen=True, kw_only=True)
class OcppSensorDescription(OcppHubEntityDescription, SensorEntityDescription):
    """A sensor of a charger or connector.

    ``clock``: the value depends on the time too (not only on the charger's
    messages), so it is read again on a timer of its own.
    """

    clock: bool = False


# How often a clock-driven value is read again (it is written only when it changed).
CLOCK_INTERVAL = timedelta(seconds=30)


def _status(_: Charger, connector: Connector) -> str | None:
    return connector.status.value if connector.status else None


def _led(charger: Charger, connector: Connector) -> str | None:
    colour = charger.led(connector)
    return colour.value if colour else None


def _status_sensor(*, per_connector: bool) -> OcppSensorDescription:
    return OcppSensorDescription(
        key="status",
        translation_key="connector_status" if per_connector else "status",
        device_class=SensorDeviceClass.ENUM,
        options=[s.value for s in ConnectorStatus],
        value_fn=_status,
        per_connector=per_connector,
        topics=STATUS,
    )


def _led_sensor(*, per_connector: bool) -> OcppSensorDescription:
    return OcppSensorDescription(
        key="status_led",
        translation_key="connector_status_led" if per_connector else "status_led",
        device_class=SensorDeviceClass.ENUM,
        options=[c.value for c in LedColour],
        value_fn=_led,
        per_connector=per_connector,
        topics=LED,
    )


def _power_sensor(
    value_fn: Callable[[Charger, Connector], float | None], *, per_connector: bool
) -> OcppSensorDescription:
    return OcppSensorDescription(
        key="power",
        translation_key="connector_power" if per_connector else "power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=value_fn,
        per_connector=per_connector,
        topics=POWER,
    )


def _energy_sensor(
    key: str,
    value_fn: Callable[[Charger, Connector], float | None],
    *,
    per_connector: bool,
    topics: frozenset[Topic] = METER,
) -> OcppSensorDescription:
    return OcppSensorDescription(
        key=key,
        translation_key=f"connector_{key}" if per_connector else key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=value_fn,
        per_connector=per_connector,
        topics=topics,
    )


def _power(charger: Charger, power_w: float | None, charging: bool | None) -> float | None:
    """The reported power; 0 W for a connected charger that says it is not charging.

    A charger that sends no meter values while idle would otherwise show Unknown.
    """
    if power_w is None and charger.connected and charging is False:
        return 0.0
    return power_w


# States of the Last reboot and Current limit status sensors before anything happened.
NEVER_REBOOTED = "never"
NO_LIMIT = "no_limit"


def _limit_status(charger: Charger) -> str | None:
    limit = charger.owner.limit
    if limit.status is not None:
        return limit.status.value
    return NO_LIMIT if limit.requested_a is None else None


SCHEDULE_STATES = ["off", "in_window", "outside_window"]


def _schedule_state(charger: Charger) -> str:
    window = charger.owner.schedule
    if window is None:
        return "off"
    return "in_window" if window.in_window(dt_util.now()) else "outside_window"


def _schedule_attributes(charger: Charger) -> dict[str, Any]:
    window = charger.owner.schedule
    if window is None:
        return {"next_change": None}
    return {
        # "Charging allowed until 06:00" / "Next window 22:00": when it changes next.
        "next_change": window.next_change(dt_util.now()).isoformat(),
        "current_in_window": window.inside_a,
        "current_outside_window": window.outside_a,
    }


def _connector_energy(connector: Connector) -> float | None:
    counter = connector.energy
    return _kwh(counter.total_wh if counter.last_register_wh is not None else None)


SENSORS: tuple[OcppSensorDescription, ...] = (
    _status_sensor(per_connector=False),
    _led_sensor(per_connector=False),
    _power_sensor(lambda ch, _: _power(ch, ch.power_w, ch.charging), per_connector=False),
    _energy_sensor("energy", lambda ch, _: _kwh(ch.energy_wh), per_connector=False),
    _energy_sensor(
        "session_energy",
        lambda _, c: _session_energy(c),
        per_connector=False,
        topics=SESSION_ENERGY,
    ),
    OcppSensorDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda _, c: _session_duration(c),
        # Whole minutes that move with the clock, not with the next message.
        clock=True,
        topics=frozenset({Topic.SESSION}),
    ),
    *(_phase_current(phase) for phase in ("L1", "L2", "L3")),
    OcppSensorDescription(
        key="voltage",
        translation_key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda _, c: next(iter(c.voltages_v.values()), None),
        topics=METER,
    ),
    OcppSensorDescription(
        key="current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        # Chargers offer whole amps: "32 A", not "32.00 A".
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, c: c.current_offered_a,
        topics=METER,
    ),
    OcppSensorDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda ch, _: ch.last_heartbeat,
        topics=frozenset({Topic.HEARTBEAT}),
    ),
    OcppSensorDescription(
        key="error_code",
        translation_key="error_code",
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, c: error_state(c),
        topics=STATUS,
    ),
    OcppSensorDescription(
        key="reboot_result",
        translation_key="reboot_result",
        device_class=SensorDeviceClass.ENUM,
        options=[*(r.value for r in RebootResult), NEVER_REBOOTED],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda ch, _: ch.owner.reboot.result.value if ch.owner.reboot else NEVER_REBOOTED,
        attrs_fn=lambda ch, _: _reboot_attributes(ch),
        topics=frozenset({Topic.REBOOT}),
    ),
    OcppSensorDescription(
        key="offline_protection",
        translation_key="offline_protection",
        device_class=SensorDeviceClass.ENUM,
        options=[p.value for p in ProtectionStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda ch, _: ch.owner.protection.value if ch.owner.protection else None,
        attrs_fn=lambda ch, _: {"keys": list(ch.owner.protection_keys)},
        topics=frozenset({Topic.PROTECTION}),
    ),
    OcppSensorDescription(
        key="limit_status",
        translation_key="limit_status",
        device_class=SensorDeviceClass.ENUM,
        options=[*(s.value for s in LimitStatus), NO_LIMIT],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda ch, _: _limit_status(ch),
        attrs_fn=lambda ch, _: {
            "requested_limit": ch.owner.limit.requested_a,
            "reported_limit": ch.owner.limit.reported_a,
        },
        topics=frozenset({Topic.LIMIT}),
    ),
    OcppSensorDescription(
        key="card_learning",
        translation_key="card_learning",
        device_class=SensorDeviceClass.ENUM,
        options=[s.value for s in LearnStatus],
        # Not diagnostic: it answers the Learn card button, so it sits with the sensors.
        value_fn=lambda ch, _: ch.owner.learn.status.value,
        attrs_fn=lambda ch, _: {
            "ends_at": ch.owner.learn.until.isoformat() if ch.owner.learn.until else None,
            "card_name": ch.owner.learn.card_name,
            "id_tag": ch.owner.learn.id_tag,
        },
        topics=frozenset({Topic.LEARN}),
    ),
    OcppSensorDescription(
        key="charging_schedule",
        translation_key="charging_schedule",
        device_class=SensorDeviceClass.ENUM,
        options=SCHEDULE_STATES,
        value_fn=lambda ch, _: _schedule_state(ch),
        attrs_fn=lambda ch, _: _schedule_attributes(ch),
        # In or out of the window moves with the clock.
        clock=True,
        topics=frozenset({Topic.SCHEDULE}),
    ),
    # Per connector, on chargers with more than one.
    _status_sensor(per_connector=True),
    _led_sensor(per_connector=True),
    _power_sensor(lambda ch, c: _power(ch, c.power_w, c.charging), per_connector=True),
    _energy_sensor("energy", lambda _, c: _connector_energy(c), per_connector=True),
    _energy_sensor(
        "session_energy",
        lambda _, c: _session_energy(c),
        per_connector=True,
        topics=SESSION_ENERGY,
    ),
)


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
