"""Actions, registered once, targeting charger devices (never a free-text id)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .csms.port import Capability
from .hub import OcppHub
from .registered_charger import RegisteredCharger
from .session_export import session_as_dict

ATTR_CONNECTOR_ID = "connector_id"
ATTR_CURRENT = "current"
ATTR_POWER = "power"
ATTR_HARD = "hard"
ATTR_CONFIRM = "confirm_while_charging"
ATTR_START = "start"
ATTR_END = "end"
ATTR_KEYS = "keys"
ATTR_KEY = "key"
ATTR_VALUE = "value"
ATTR_MESSAGE = "message"
ATTR_VENDOR_ID = "vendor_id"
ATTR_MESSAGE_ID = "message_id"
ATTR_DATA = "data"
ATTR_LOCATION = "location"
ATTR_RETRIEVE_DATE = "retrieve_date"
ATTR_UID = "uid"
ATTR_NAME = "name"

NOMINAL_VOLTAGE = 230.0

_DEVICE = {probatio.Required(ATTR_DEVICE_ID): cv.string}
_CONNECTOR = {
    probatio.Optional(ATTR_CONNECTOR_ID): probatio.All(probatio.Coerce(int), probatio.Range(min=1))
}
TRIGGERABLE = [
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
]

type Handler = Callable[[RegisteredCharger, ServiceCall], Awaitable[ServiceResponse]]


def charger_for_device(hass: HomeAssistant, device_id: str) -> RegisteredCharger:
    """The registered charger behind a device, or a translated validation error."""
    device = dr.async_get(hass).async_get(device_id)
    entry = (
        hass.config_entries.async_get_entry(device.config_entry_id)
        if device is not None and device.config_entry_id is not None
        else None
    )
    if (
        device is not None
        and entry is not None
        and entry.domain == DOMAIN
        and entry.state is ConfigEntryState.LOADED
    ):
        hub: OcppHub = entry.runtime_data
        for registered in hub.chargers.values():
            if registered.device_identifier in device.identifiers:
                return registered
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_charger",
        translation_placeholders={"device_id": device_id},
    )


def _amps_for_power(registered: RegisteredCharger, watts: float) -> float:
    """Watts to amps with the phases and voltage the charger last reported."""
    connector = registered.charger.connector(1)
    phases = sum(1 for current in connector.currents_a.values() if current > 0.5) or 1
    voltage = next(iter(connector.voltages_v.values()), NOMINAL_VOLTAGE) or NOMINAL_VOLTAGE
    return int(watts / (voltage * phases))


async def _start(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    await registered.controller.async_start_charging(call.data.get(ATTR_CONNECTOR_ID, 1))
    return None


async def _stop(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    await registered.controller.async_stop_charging(call.data.get(ATTR_CONNECTOR_ID))
    return None


async def _set_limit(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    if ATTR_CURRENT in call.data:
        amps = float(call.data[ATTR_CURRENT])
    elif ATTR_POWER in call.data:
        amps = _amps_for_power(registered, float(call.data[ATTR_POWER]))
    else:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="limit_missing")
    await registered.controller.async_set_limit(amps)
    return None


async def _clear_limit(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    await registered.controller.async_clear_limit()
    return None


async def _reboot(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    await registered.controller.async_reboot(
        hard=call.data[ATTR_HARD], confirm_while_charging=call.data[ATTR_CONFIRM]
    )
    return None


async def _get_sessions(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    start, end = _aware(call.data.get(ATTR_START)), _aware(call.data.get(ATTR_END))
    currency = registered.sessions.book.currency
    sessions = registered.sessions.sessions(start, end)
    return {"sessions": [session_as_dict(record, currency) for record in sessions]}


def _aware(when: datetime | None) -> datetime | None:
    """A date-time from the action; without a time zone it is Home Assistant's."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=dt_util.get_default_time_zone())


async def _unlock(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    await registered.controller.async_unlock(call.data.get(ATTR_CONNECTOR_ID, 1))
    return None


async def _get_configuration(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    keys = call.data.get(ATTR_KEYS) or None
    values, unknown = await registered.controller.run_if_supported(
        Capability.CONFIGURATION_KEYS, "GetConfiguration", lambda h: h.get_configuration(keys)
    )
    return {"configuration": dict(values), "unknown_keys": list(unknown)}


async def _change_configuration(
    registered: RegisteredCharger, call: ServiceCall
) -> ServiceResponse:
    key, value = call.data[ATTR_KEY], call.data[ATTR_VALUE]
    status = await registered.controller.run_if_supported(
        Capability.CONFIGURATION_KEYS,
        "ChangeConfiguration",
        lambda h: h.change_configuration(key, value),
    )
    return {"status": status, "reboot_required": status == "RebootRequired"}


async def _trigger(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    message, connector = call.data[ATTR_MESSAGE], call.data.get(ATTR_CONNECTOR_ID)
    await registered.controller.run(lambda h: h.trigger_message(message, connector))
    return None


async def _data_transfer(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    answer = await registered.controller.run_if_supported(
        Capability.DATA_TRANSFER,
        "DataTransfer",
        lambda h: h.data_transfer(
            call.data[ATTR_VENDOR_ID], call.data.get(ATTR_MESSAGE_ID), call.data.get(ATTR_DATA)
        ),
    )
    return {"status": answer.get("status"), "data": answer.get("data")}


async def _update_firmware(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    when: datetime = call.data.get(ATTR_RETRIEVE_DATE) or datetime.now(UTC)
    await registered.controller.run_if_supported(
        Capability.FIRMWARE,
        "UpdateFirmware",
        lambda h: h.update_firmware(call.data[ATTR_LOCATION], when),
    )
    return None


async def _get_diagnostics(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    file_name = await registered.controller.run_if_supported(
        Capability.FIRMWARE, "GetDiagnostics", lambda h: h.get_diagnostics(call.data[ATTR_LOCATION])
    )
    return {"file_name": file_name}


async def _add_card(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    try:
        card = registered.controller.add_card(call.data[ATTR_UID], call.data.get(ATTR_NAME))
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_card",
            translation_placeholders={"uid": call.data[ATTR_UID], "error": str(err)},
        ) from err
    return {"uid": card.uid, "name": card.name}


async def _remove_card(registered: RegisteredCharger, call: ServiceCall) -> ServiceResponse:
    if not registered.controller.remove_card(call.data[ATTR_UID]):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_card",
            translation_placeholders={"uid": call.data[ATTR_UID]},
        )
    return None


SERVICES: dict[str, tuple[Handler, dict[Any, Any], SupportsResponse]] = {
    "start_charging": (_start, _CONNECTOR, SupportsResponse.NONE),
    "stop_charging": (_stop, _CONNECTOR, SupportsResponse.NONE),
    "set_current_limit": (
        _set_limit,
        {
            probatio.Exclusive(ATTR_CURRENT, "limit"): probatio.All(
                probatio.Coerce(float), probatio.Range(min=0)
            ),
            probatio.Exclusive(ATTR_POWER, "limit"): probatio.All(
                probatio.Coerce(float), probatio.Range(min=0)
            ),
        },
        SupportsResponse.NONE,
    ),
    "clear_current_limit": (_clear_limit, {}, SupportsResponse.NONE),
    "reboot": (
        _reboot,
        {
            probatio.Optional(ATTR_HARD, default=False): cv.boolean,
            probatio.Optional(ATTR_CONFIRM, default=False): cv.boolean,
        },
        SupportsResponse.NONE,
    ),
    "unlock_connector": (_unlock, _CONNECTOR, SupportsResponse.NONE),
    "get_sessions": (
        _get_sessions,
        {probatio.Optional(ATTR_START): cv.datetime, probatio.Optional(ATTR_END): cv.datetime},
        SupportsResponse.ONLY,
    ),
    "get_configuration": (
        _get_configuration,
        {probatio.Optional(ATTR_KEYS): probatio.All(cv.ensure_list, [cv.string])},
        SupportsResponse.ONLY,
    ),
    "change_configuration": (
        _change_configuration,
        {probatio.Required(ATTR_KEY): cv.string, probatio.Required(ATTR_VALUE): cv.string},
        SupportsResponse.OPTIONAL,
    ),
    "trigger_message": (
        _trigger,
        {probatio.Required(ATTR_MESSAGE): probatio.In(TRIGGERABLE), **_CONNECTOR},
        SupportsResponse.NONE,
    ),
    "data_transfer": (
        _data_transfer,
        {
            probatio.Required(ATTR_VENDOR_ID): cv.string,
            probatio.Optional(ATTR_MESSAGE_ID): cv.string,
            probatio.Optional(ATTR_DATA): cv.string,
        },
        SupportsResponse.OPTIONAL,
    ),
    "update_firmware": (
        _update_firmware,
        {
            probatio.Required(ATTR_LOCATION): cv.string,
            probatio.Optional(ATTR_RETRIEVE_DATE): cv.datetime,
        },
        SupportsResponse.NONE,
    ),
    "get_diagnostics": (
        _get_diagnostics,
        {probatio.Required(ATTR_LOCATION): cv.string},  # FTP is usual: not only http(s)
        SupportsResponse.OPTIONAL,
    ),
    "add_card": (
        _add_card,
        {probatio.Required(ATTR_UID): cv.string, probatio.Optional(ATTR_NAME): cv.string},
        SupportsResponse.OPTIONAL,
    ),
    "remove_card": (_remove_card, {probatio.Required(ATTR_UID): cv.string}, SupportsResponse.NONE),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action of the integration (once, from async_setup)."""
    for name, (handler, fields, supports_response) in SERVICES.items():

        async def _call(call: ServiceCall, handler: Handler = handler) -> ServiceResponse:
            registered = charger_for_device(hass, call.data[ATTR_DEVICE_ID])
            return await handler(registered, call)

        hass.services.async_register(
            DOMAIN,
            name,
            _call,
            schema=probatio.Schema({**_DEVICE, **fields}),
            supports_response=supports_response,
        )
