"""The sensors of what a charger reports: status, LED, power, energy, session, meter, errors.

The descriptions the sensor platform (:mod:`.sensor`) builds its entities from:
what the charger said, per charger and per connector. What the owner wants and
what became of our commands are in :mod:`.command_sensors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import re

from homeassistant.components.sensor import (
    SensorDeviceClass,
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

from .entity import OcppHubEntityDescription
from .model.charger import Charger, Connector, Topic
from .model.led import LedColour
from .model.status import ConnectorStatus

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


def _connector_energy(connector: Connector) -> float | None:
    counter = connector.energy
    return _kwh(counter.total_wh if counter.last_register_wh is not None else None)


# The charger as a whole (the sensors of our commands follow them in the platform).
READING_SENSORS: tuple[OcppSensorDescription, ...] = (
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
)

# Per connector, on chargers with more than one.
CONNECTOR_SENSORS: tuple[OcppSensorDescription, ...] = (
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
