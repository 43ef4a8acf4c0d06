"""The sensors of what the owner wants and what became of our commands (``charger.owner``).

The last reboot's outcome, offline protection, the current limit's status, the
Learn card window and the charging window: descriptions the sensor platform
(:mod:`.sensor`) builds its entities from, next to those of
:mod:`.sensor_descriptions`.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.util import dt as dt_util

from .model.charger import Charger, Topic
from .model.control import LearnStatus, LimitStatus, ProtectionStatus, RebootResult
from .sensor_descriptions import OcppSensorDescription


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


COMMAND_SENSORS: tuple[OcppSensorDescription, ...] = (
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
)
