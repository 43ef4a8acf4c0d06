"""Switches: lock (authorization required), charge (start/stop), available."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .controller import ChargerController
from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Charger, Connector, Topic
from .model.status import ConnectorStatus
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppSwitchDescription(OcppHubEntityDescription, SwitchEntityDescription):
    """A switch: its state comes from what the charger reports, not from the last command."""

    needs_connection: bool = True  # a control: unavailable while the charger is offline

    turn_fn: Callable[[ChargerController, bool, int], Awaitable[Any]]


def _charging(charger: Charger, connector: Connector) -> bool | None:
    del connector
    if not charger.connectors:
        return None
    return any(c.transaction is not None for c in charger.outlets)


def _available(_: Charger, connector: Connector) -> bool | None:
    if connector.status is None:
        return None
    return connector.status is not ConnectorStatus.INOPERATIVE


async def _turn_charging(controller: ChargerController, on: bool, connector_id: int) -> None:
    if on:
        await controller.async_start_charging(connector_id)
    else:
        await controller.async_stop_charging()


def _pause_reason(charger: Charger, _: Connector) -> dict[str, Any]:
    """Why the car does not charge although a session is open, as far as is known."""
    if charger.owner.limit.paused:
        return {"reason": "paused"}
    statuses = {c.status for c in charger.outlets if c.transaction}
    if ConnectorStatus.SUSPENDED_EV in statuses:
        return {"reason": "suspended_by_car"}
    if ConnectorStatus.SUSPENDED_EVSE in statuses:
        window = charger.owner.schedule
        if window is not None and window.limit_at(dt_util.now(), window.inside_a) < 6:
            return {"reason": "schedule"}  # outside the charging window
        return {"reason": "suspended_by_charger"}  # a 0 A limit, or the charger's own
    return {"reason": None}


async def _turn_available(controller: ChargerController, on: bool, connector_id: int) -> None:
    del connector_id
    await controller.async_set_available(on)


SWITCHES: tuple[OcppSwitchDescription, ...] = (
    OcppSwitchDescription(
        key="lock",
        translation_key="lock",
        value_fn=lambda ch, _: ch.locked,
        attrs_fn=lambda ch, _: {
            "wanted": "locked" if ch.owner.lock_wanted else "unlocked",
            "auto_lock_minutes": ch.owner.auto_lock_minutes,
            "auto_lock_at": ch.owner.auto_lock_due.isoformat() if ch.owner.auto_lock_due else None,
        },
        turn_fn=lambda ctl, on, _: ctl.async_set_locked(on),
        # The vendor profile and configuration say whether the charger is locked.
        topics=frozenset({Topic.LOCK, Topic.BOOT, Topic.CONFIGURATION}),
    ),
    OcppSwitchDescription(
        # Named "Charge" (what it does), beside the "Charging" binary sensor (what is).
        # The key, and so the unique id, stays "charging": existing installs keep
        # their entity id (switch.NAME_charging) through the entity registry.
        key="charging",
        translation_key="charge",
        value_fn=_charging,
        turn_fn=_turn_charging,
        topics=frozenset({Topic.SESSION}),
    ),
    OcppSwitchDescription(
        # Keeps the session open (0 A); off resumes at the limit from before.
        key="pause",
        translation_key="pause",
        value_fn=lambda ch, _: ch.owner.limit.paused,
        attrs_fn=_pause_reason,
        turn_fn=lambda ctl, on, _: ctl.async_pause(on),
        topics=frozenset({Topic.LIMIT, Topic.STATUS, Topic.SESSION, Topic.SCHEDULE}),
    ),
    OcppSwitchDescription(
        key="available",
        translation_key="available",
        entity_category=EntityCategory.CONFIG,
        value_fn=_available,
        # Answered "Scheduled": the change waits for the running session to end.
        attrs_fn=lambda ch, _: {
            "scheduled": None
            if ch.owner.availability_scheduled is None
            else ("available" if ch.owner.availability_scheduled else "out_of_service")
        },
        turn_fn=_turn_available,
        topics=frozenset({Topic.STATUS, Topic.AVAILABILITY}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of every charger, now and when chargers appear."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[OcppHubSwitch]:
        return build_entities(registered, list(connector_ids), SWITCHES, OcppHubSwitch)

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubSwitch(OcppHubEntity, SwitchEntity):
    """A switch whose state is the charger's reported truth."""

    entity_description: OcppSwitchDescription

    @property
    def is_on(self) -> bool | None:
        """The value read at the last change."""
        value: bool | None = self._value
        return value

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Send the command; the state follows when the charger reports it."""
        await self.entity_description.turn_fn(self.controller, True, self.connector_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Send the command; the state follows when the charger reports it."""
        await self.entity_description.turn_fn(self.controller, False, self.connector_id)
