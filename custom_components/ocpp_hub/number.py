"""Numbers: the current limit (0 A pauses), the auto-lock delay, the charging priority."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger_settings import ChargerSettings
from .controller import ChargerController
from .entity import OcppHubEntity, OcppHubEntityDescription, build_entities
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 1


def _whole_amps(amps: float) -> float:
    """Whole amps as an int, so the state reads "16" rather than "16.0"."""
    return int(amps) if amps == int(amps) else amps


async def _set_priority(controller: ChargerController, value: float) -> None:
    controller.set_priority(int(value))


@dataclass(frozen=True, kw_only=True)
class OcppNumberDescription(OcppHubEntityDescription, NumberEntityDescription):
    """A number of a charger."""

    needs_connection: bool = True  # a control: unavailable while the charger is offline
    set_fn: Callable[[ChargerController, float], Awaitable[None]]
    # The highest value where it depends on the charger (else native_max_value).
    max_fn: Callable[[ChargerController], float] | None = None


NUMBERS: tuple[OcppNumberDescription, ...] = (
    OcppNumberDescription(
        key="current_limit",
        translation_key="current_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,
        native_step=1,
        # A box, not a slider: 1-5 A cannot charge a car and is refused, and a slider
        # from 0 to 32 makes those values the easiest to hit.
        mode=NumberMode.BOX,
        value_fn=lambda ch, _: _whole_amps(
            # No limit set: the charger's own maximum applies.
            ch.owner.limit.requested_a
            if ch.owner.limit.requested_a is not None
            else ch.max_current_a
        ),
        attrs_fn=lambda ch, _: {
            "limit_status": ch.owner.limit.status.value if ch.owner.limit.status else None,
            "reported_limit": ch.owner.limit.reported_a,
            "resume_limit": ch.owner.limit.resume_a if ch.owner.limit.paused else None,
        },
        set_fn=lambda ctl, value: ctl.async_set_limit(value),
        max_fn=lambda ctl: float(ctl.max_current),
        # Without a limit: the charger's ceiling, from its configuration.
        topics=frozenset({Topic.LIMIT, Topic.CONFIGURATION}),
    ),
    OcppNumberDescription(
        # The Wallbox app's Auto-lock, which OCPP turns off: our own setting, so it
        # can be changed while the charger is offline.
        key="auto_lock",
        translation_key="auto_lock",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        native_min_value=0,
        native_max_value=240,
        native_step=1,
        mode=NumberMode.BOX,
        needs_connection=False,
        value_fn=lambda ch, _: ch.owner.auto_lock_minutes,
        set_fn=lambda ctl, value: ctl.async_set_auto_lock(int(value)),
        topics=frozenset({Topic.LOCK}),
    ),
    OcppNumberDescription(
        # Energy management: who pauses first when the main fuse cannot feed every
        # charger's minimum, and who gets the surplus first. Our own setting.
        key="charging_priority",
        translation_key="charging_priority",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=10,
        native_step=1,
        mode=NumberMode.BOX,
        needs_connection=False,
        value_fn=lambda ch, _: ch.owner.control.priority,
        set_fn=_set_priority,
        topics=frozenset({Topic.CONTROL}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers of every charger, now and when chargers appear."""

    def factory(registered: RegisteredCharger, connector_ids: Sequence[int]) -> list[NumberEntity]:
        numbers: list[NumberEntity] = []
        numbers += build_entities(registered, list(connector_ids), NUMBERS, OcppHubNumber)
        if not connector_ids:
            # The charger's own settings, as its configuration reports them.
            settings = ChargerSettings(registered, async_add_entities)
            entry.async_on_unload(settings.stop)
            numbers += settings.start()
        return numbers

    entry.runtime_data.async_register_platform(factory, async_add_entities)


class OcppHubNumber(OcppHubEntity, NumberEntity):
    """A number of the charger: the current limit, or the auto-lock delay.

    The current limit shows what the user asked for (else the charger's maximum); its
    attributes, and the Current limit status sensor, say what the charger did.
    """

    entity_description: OcppNumberDescription

    @property
    def native_value(self) -> float | None:
        """The limit asked for last, or the charger's maximum when none was set."""
        value: float | None = self._value
        return value

    @property
    def native_max_value(self) -> float:
        """The charger's hardware ceiling where it depends on it (else the description's)."""
        if self.entity_description.max_fn is not None:
            return self.entity_description.max_fn(self.controller)
        return super().native_max_value

    async def async_set_native_value(self, value: float) -> None:
        """Coalesced and verified; 1-5 A is refused (6 A is the least a car charges with).

        On a refusal the state is written again (unchanged): the frontend has moved
        its control to the refused value and snaps back to the real one.
        """
        try:
            await self.entity_description.set_fn(self.controller, value)
        except HomeAssistantError:
            self.async_write_ha_state()
            raise
