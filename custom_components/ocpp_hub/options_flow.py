"""Options of a central system: its server, energy management and the main fuse.

Server settings restart the central system; energy settings apply at once
(the energy manager reads them again, no charger is disconnected).
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import UnitOfPower
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.translation import async_get_translations
import probatio

from .const import (
    CONF_AUTO_ACCEPT,
    CONF_BATTERY_DISCHARGE_POSITIVE,
    CONF_BATTERY_FIRST,
    CONF_BATTERY_POWER,
    CONF_FALLBACK_CURRENT,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOUSE_CURRENT,
    CONF_PING_INTERVAL,
    CONF_PRICE_ENTITY,
    CONF_REACTION,
    CONF_SESSIONS_MAX_AGE_DAYS,
    CONF_SESSIONS_MAX_COUNT,
    CONF_SITE_LIMIT,
    CONF_SITE_RESERVE,
    CONF_SUPPLY_PHASES,
    CONF_SUPPLY_VOLTAGE,
    CONF_TIMING,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_PING_INTERVAL,
    DEFAULT_SITE_RESERVE_A,
    DOMAIN,
)
from .flow_fields import box
from .model.energy import DEFAULT_REACTION, REACTIONS, TIMING_FIELDS
from .model.sessions import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_SESSIONS

CUSTOM_REACTION = "custom"
CONF_BATTERY_PRIORITY = "battery_priority"
_POWER_UNITS = {UnitOfPower.WATT, UnitOfPower.KILO_WATT, UnitOfPower.MEGA_WATT}
_POWER_SENSOR = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
)
_CURRENT_SENSORS = EntitySelector(
    EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.CURRENT, multiple=True)
)


def _choice(key: str, options: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, translation_key=key, mode=SelectSelectorMode.LIST)
    )


class OcppHubOptionsFlow(OptionsFlow):
    """Server tunables (a change restarts the central system) and energy management."""

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._energy: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What to change."""
        return self.async_show_menu(step_id="init", menu_options=["server", "energy", "site"])

    def _save(self, changes: dict[str, Any], drop: tuple[str, ...] = ()) -> ConfigFlowResult:
        options = {k: v for k, v in self.config_entry.options.items() if k not in drop}
        options.update(changes)
        return self.async_create_entry(data=options)

    async def async_step_server(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Keepalive, heartbeat and whether new chargers are accepted automatically."""
        if user_input is not None:
            data: dict[str, Any] = {
                CONF_PING_INTERVAL: int(user_input[CONF_PING_INTERVAL]),
                CONF_HEARTBEAT_INTERVAL: int(user_input[CONF_HEARTBEAT_INTERVAL]),
                CONF_AUTO_ACCEPT: bool(user_input[CONF_AUTO_ACCEPT]),
                CONF_SESSIONS_MAX_COUNT: int(user_input[CONF_SESSIONS_MAX_COUNT]),
                CONF_SESSIONS_MAX_AGE_DAYS: int(user_input[CONF_SESSIONS_MAX_AGE_DAYS]),
            }
            if user_input.get(CONF_PRICE_ENTITY):
                data[CONF_PRICE_ENTITY] = user_input[CONF_PRICE_ENTITY]
            # The energy settings stay as they are (they have steps of their own).
            return self._save(data, (CONF_PRICE_ENTITY,))
        options = self.config_entry.options
        schema = probatio.Schema(
            {
                probatio.Required(
                    CONF_PING_INTERVAL,
                    default=options.get(CONF_PING_INTERVAL, DEFAULT_PING_INTERVAL),
                ): box(0, 300, "s"),
                probatio.Required(
                    CONF_HEARTBEAT_INTERVAL,
                    default=options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL),
                ): box(10, 86400, "s"),
                probatio.Required(
                    CONF_AUTO_ACCEPT, default=options.get(CONF_AUTO_ACCEPT, False)
                ): BooleanSelector(),
                probatio.Optional(CONF_PRICE_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain=["sensor", "number", "input_number"])
                ),
                probatio.Required(
                    CONF_SESSIONS_MAX_COUNT,
                    default=options.get(CONF_SESSIONS_MAX_COUNT, DEFAULT_MAX_SESSIONS),
                ): box(10, 10000),
                probatio.Required(
                    CONF_SESSIONS_MAX_AGE_DAYS,
                    default=options.get(CONF_SESSIONS_MAX_AGE_DAYS, DEFAULT_MAX_AGE_DAYS),
                ): box(1, 3650, "d"),
            }
        )
        schema = self.add_suggested_values_to_schema(
            schema, {CONF_PRICE_ENTITY: options.get(CONF_PRICE_ENTITY)}
        )
        return self.async_show_form(step_id="server", data_schema=schema)

    # ------------------------------------------------------------ energy
    def _power_sensor_errors(self, user_input: dict[str, Any]) -> dict[str, str]:
        """The power sensors chosen that cannot be read as W or kW, and why."""
        errors: dict[str, str] = {}
        for key in (CONF_GRID_POWER, CONF_BATTERY_POWER):
            if not (entity := user_input.get(key)):
                continue
            state = self.hass.states.get(entity)
            if state is None:
                errors[key] = "sensor_missing"
            elif state.attributes.get("unit_of_measurement") not in _POWER_UNITS:
                errors[key] = "power_unit"
        return errors

    async def async_step_energy(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The grid meter, the house battery, the supply and how quickly to react."""
        errors: dict[str, str] = {}
        options = self.config_entry.options
        if user_input is not None:
            errors = self._power_sensor_errors(user_input)
            if not errors:
                self._energy = {
                    CONF_GRID_POWER: user_input.get(CONF_GRID_POWER) or None,
                    CONF_GRID_EXPORT_POSITIVE: bool(user_input[CONF_GRID_EXPORT_POSITIVE]),
                    CONF_BATTERY_POWER: user_input.get(CONF_BATTERY_POWER) or None,
                    CONF_BATTERY_DISCHARGE_POSITIVE: bool(
                        user_input[CONF_BATTERY_DISCHARGE_POSITIVE]
                    ),
                    CONF_BATTERY_FIRST: user_input[CONF_BATTERY_PRIORITY] == "battery",
                    CONF_SUPPLY_PHASES: int(user_input[CONF_SUPPLY_PHASES]),
                    CONF_SUPPLY_VOLTAGE: int(user_input[CONF_SUPPLY_VOLTAGE]),
                    CONF_REACTION: user_input[CONF_REACTION],
                    CONF_FALLBACK_CURRENT: int(user_input.get(CONF_FALLBACK_CURRENT) or 0) or None,
                }
                if self._energy[CONF_GRID_POWER]:
                    return await self.async_step_energy_check()
                return await self._after_check()
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_GRID_POWER): _POWER_SENSOR,
                probatio.Required(
                    CONF_GRID_EXPORT_POSITIVE,
                    default=options.get(CONF_GRID_EXPORT_POSITIVE, False),
                ): BooleanSelector(),
                probatio.Optional(CONF_BATTERY_POWER): _POWER_SENSOR,
                probatio.Required(
                    CONF_BATTERY_DISCHARGE_POSITIVE,
                    default=options.get(CONF_BATTERY_DISCHARGE_POSITIVE, True),
                ): BooleanSelector(),
                probatio.Required(
                    CONF_BATTERY_PRIORITY,
                    default="battery" if options.get(CONF_BATTERY_FIRST, True) else "car",
                ): _choice(CONF_BATTERY_PRIORITY, ["battery", "car"]),
                probatio.Required(
                    CONF_SUPPLY_PHASES, default=str(options.get(CONF_SUPPLY_PHASES, 3))
                ): _choice(CONF_SUPPLY_PHASES, ["1", "3"]),
                probatio.Required(
                    CONF_SUPPLY_VOLTAGE, default=options.get(CONF_SUPPLY_VOLTAGE, 230)
                ): box(100, 400, "V"),
                probatio.Required(
                    CONF_REACTION, default=options.get(CONF_REACTION, DEFAULT_REACTION)
                ): _choice(CONF_REACTION, [*REACTIONS, CUSTOM_REACTION]),
                probatio.Optional(CONF_FALLBACK_CURRENT): box(0, 80, "A"),
            }
        )
        suggested = {
            CONF_GRID_POWER: options.get(CONF_GRID_POWER),
            CONF_BATTERY_POWER: options.get(CONF_BATTERY_POWER),
            CONF_FALLBACK_CURRENT: options.get(CONF_FALLBACK_CURRENT),
        }
        if user_input is not None:
            suggested.update(user_input)
        return self.async_show_form(
            step_id="energy",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_energy_check(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the grid meter reads now, in words: the owner confirms the sign."""
        if user_input is not None and CONF_GRID_EXPORT_POSITIVE in user_input:
            self._energy[CONF_GRID_EXPORT_POSITIVE] = bool(user_input[CONF_GRID_EXPORT_POSITIVE])
            return await self._after_check()
        entity = self._energy[CONF_GRID_POWER]
        state = self.hass.states.get(entity)
        reading = "-"
        meaning = "unknown"
        if state is not None:
            reading = f"{state.state} {state.attributes.get('unit_of_measurement', '')}".strip()
            try:
                value = float(state.state)
            except ValueError:
                value = None
            if value is not None:
                importing = (value > 0) != self._energy[CONF_GRID_EXPORT_POSITIVE]
                meaning = "balanced" if value == 0 else "importing" if importing else "exporting"
        schema = probatio.Schema(
            {
                probatio.Required(
                    CONF_GRID_EXPORT_POSITIVE, default=self._energy[CONF_GRID_EXPORT_POSITIVE]
                ): BooleanSelector()
            }
        )
        # The meaning in words of Home Assistant's language (placeholders are not translated).
        words = await async_get_translations(
            self.hass, self.hass.config.language, "selector", [DOMAIN]
        )
        meaning = words.get(f"component.{DOMAIN}.selector.grid_meaning.options.{meaning}", meaning)
        return self.async_show_form(
            step_id="energy_check",
            data_schema=schema,
            description_placeholders={"entity": entity, "reading": reading, "meaning": meaning},
        )

    async def _after_check(self) -> ConfigFlowResult:
        if self._energy[CONF_REACTION] == CUSTOM_REACTION:
            return await self.async_step_energy_timing()
        return self._save_energy(None)

    def _save_energy(self, timing: dict[str, float] | None) -> ConfigFlowResult:
        changes = {k: v for k, v in self._energy.items() if v is not None}
        drop = tuple(k for k, v in self._energy.items() if v is None)
        if timing is None:
            return self._save(changes, (*drop, CONF_TIMING))
        changes[CONF_TIMING] = timing
        return self._save(changes, drop)

    async def async_step_energy_timing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The seconds behind the presets, for those who want to tune them."""
        if user_input is not None:
            return self._save_energy({name: float(user_input[name]) for name in TIMING_FIELDS})
        current = self.config_entry.options.get(CONF_TIMING) or {}
        base = REACTIONS[DEFAULT_REACTION].as_dict()
        schema = probatio.Schema(
            {
                probatio.Required(name, default=current.get(name, base[name])): box(0, 7200, "s")
                for name in TIMING_FIELDS
            }
        )
        return self.async_show_form(step_id="energy_timing", data_schema=schema)

    async def async_step_site(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The main fuse, and the meter's current per phase (or the grid power)."""
        errors: dict[str, str] = {}
        options = self.config_entry.options
        if user_input is not None:
            limit = int(user_input.get(CONF_SITE_LIMIT) or 0)
            reserve = int(user_input.get(CONF_SITE_RESERVE, DEFAULT_SITE_RESERVE_A))
            house = list(user_input.get(CONF_HOUSE_CURRENT) or [])
            phases = int(options.get(CONF_SUPPLY_PHASES, 3))
            if house and len(house) != phases:
                errors[CONF_HOUSE_CURRENT] = "house_phases"
            elif limit and not house and not options.get(CONF_GRID_POWER):
                errors[CONF_SITE_LIMIT] = "site_needs_meter"
            elif limit and reserve >= limit:
                errors[CONF_SITE_RESERVE] = "reserve_too_large"
            else:
                changes: dict[str, Any] = {}
                if limit:
                    changes[CONF_SITE_LIMIT] = limit
                if house:
                    changes[CONF_HOUSE_CURRENT] = house
                if reserve != DEFAULT_SITE_RESERVE_A:
                    changes[CONF_SITE_RESERVE] = reserve
                return self._save(changes, (CONF_SITE_LIMIT, CONF_HOUSE_CURRENT, CONF_SITE_RESERVE))
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_SITE_LIMIT): box(0, 400, "A"),
                probatio.Required(
                    CONF_SITE_RESERVE,
                    default=int(options.get(CONF_SITE_RESERVE, DEFAULT_SITE_RESERVE_A)),
                ): box(0, 100, "A"),
                probatio.Optional(CONF_HOUSE_CURRENT): _CURRENT_SENSORS,
            }
        )
        suggested = {
            CONF_SITE_LIMIT: options.get(CONF_SITE_LIMIT),
            CONF_HOUSE_CURRENT: options.get(CONF_HOUSE_CURRENT),
        }
        if user_input is not None:
            suggested.update(user_input)
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"phases": str(options.get(CONF_SUPPLY_PHASES, 3))},
        )
