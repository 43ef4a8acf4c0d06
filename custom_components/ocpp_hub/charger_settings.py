"""Charger settings as configuration numbers: what the Wallbox app no longer sets.

Under OCPP the charger's own settings are its configuration. Where the charger
reports a setting (its configuration is read at every boot), it gets a number in
the CONFIG category: its value is what the charger reports, and setting it goes
through the charger's controller (the version names the setting), then reads
it back, so a refused value never shows as set. A charger that does not report
the setting gets no entity; one whose configuration arrives after set-up gets it
then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .csms.port import Setting
from .entity import OcppHubEntity, OcppHubEntityDescription
from .model.charger import Charger, Connector, Topic
from .registered_charger import RegisteredCharger


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class ChargerSettingDescription(OcppHubEntityDescription, NumberEntityDescription):
    """A number setting of the charger, in seconds."""

    setting: Setting
    value_fn: Callable[[Charger, Connector], Any] = lambda _ch, _c: None


def _setting(key: str, setting: Setting, minimum: int, maximum: int) -> ChargerSettingDescription:
    return ChargerSettingDescription(
        key=key,
        translation_key=key,
        setting=setting,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        entity_category=EntityCategory.CONFIG,
        native_min_value=minimum,
        native_max_value=maximum,
        native_step=1,
        mode=NumberMode.BOX,
        # A setting of the charger: nothing can set it while it is offline.
        needs_connection=True,
        # The reboot-required mark comes with the controller's notification of everyone.
        topics=frozenset({Topic.CONFIGURATION}),
    )


SETTINGS: tuple[ChargerSettingDescription, ...] = (
    # 0: no sampled meter values during a transaction.
    _setting("meter_value_sample_interval", Setting.METER_INTERVAL, 0, 3600),
    # How long the charger waits for the car after a card or a remote start.
    # (The heartbeat is no entity: the central system's option sets it at every boot.)
    _setting("connection_timeout", Setting.CONNECTION_TIMEOUT, 10, 600),
)


class ChargerSettingNumber(OcppHubEntity, NumberEntity):
    """A configuration key of the charger: shows what it reports, sets it and reads back."""

    entity_description: ChargerSettingDescription

    @property
    def native_value(self) -> float | None:
        """The value the charger reports."""
        value: float | None = self._value
        return value

    def _read(self) -> tuple[Any, dict[str, Any] | None]:
        setting = self.entity_description.setting
        value = _integer(self.controller.setting_value(setting))
        return value, {"reboot_required": self.controller.needs_reboot(setting)}

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; on a refusal the state snaps back to the reported value."""
        try:
            await self.controller.async_set_setting(
                self.entity_description.setting, str(int(value))
            )
        except HomeAssistantError:
            self.async_write_ha_state()
            raise


class ChargerSettings:
    """The setting numbers of one charger, created as its configuration reports the keys."""

    def __init__(
        self, registered: RegisteredCharger, add_entities: AddConfigEntryEntitiesCallback
    ) -> None:
        """Watch ``registered``'s configuration; :meth:`start` gives the first numbers."""
        self.registered = registered
        self.add_entities = add_entities
        self.missing = list(SETTINGS)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> list[ChargerSettingNumber]:
        """The numbers of the keys reported so far; the others when they are reported."""
        numbers = self._new()
        if self.missing:
            self._unsubscribe = self.registered.charger.add_listener(
                self._charger_changed, {Topic.CONFIGURATION}
            )
        return numbers

    def stop(self) -> None:
        """Stop watching (the entry unloads)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _new(self) -> list[ChargerSettingNumber]:
        controller = self.registered.controller
        found = [d for d in self.missing if controller.setting_value(d.setting) is not None]
        self.missing = [d for d in self.missing if d not in found]
        return [ChargerSettingNumber(self.registered, d, None) for d in found]

    @callback
    def _charger_changed(self) -> None:
        if not self.registered.adding_entities():
            return  # the configuration read at a boot may end while the entry unloads
        if numbers := self._new():
            self.add_entities(numbers, config_subentry_id=self.registered.subentry_id)
        if not self.missing:
            self.stop()
