"""OCPP Hub: Home Assistant as the local OCPP central system for EV chargers."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_PORT,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_SSL_LEGACY,
    DOMAIN,
    ENERGY_OPTIONS,
    STORAGE_VERSION,
)
from .csms.tls import TlsError, server_context
from .hub import OcppHub, OcppHubConfigEntry
from .repairs import set_issue
from .services import async_setup_services, charger_for_device
from .session_export import SessionsCsvView
from .sessions import sessions_storage_key

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions and its CSV download (once, for every entry)."""
    async_setup_services(hass)
    hass.http.register_view(SessionsCsvView(charger_for_device))
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: OcppHubConfigEntry) -> bool:
    """Bring an entry from an earlier schema to the current one.

    1.1 -> 1.2: the TLS legacy switch is stored explicitly (off).
    Home Assistant itself refuses an entry of a newer major version (a downgrade)
    before calling this, and leaves it unloaded with an error in the log.
    """
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(
            entry, data={CONF_SSL_LEGACY: False, **entry.data}, minor_version=2
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OcppHubConfigEntry) -> bool:
    """Start one central system and the entities of its chargers."""
    ssl_context: ssl.SSLContext | None = None
    certfile = entry.data.get(CONF_SSL_CERTFILE)
    certificate_issue = f"certificate_{entry.entry_id}"
    if certfile:
        try:
            ssl_context = await hass.async_add_executor_job(
                server_context,
                certfile,
                entry.data.get(CONF_SSL_KEYFILE),
                entry.data.get(CONF_SSL_LEGACY, False),
            )
        except TlsError as err:
            set_issue(
                hass,
                certificate_issue,
                err.problem.value,
                {"certfile": certfile},
                severity=ir.IssueSeverity.ERROR,
            )
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key=err.problem.value,
                translation_placeholders={"certfile": certfile},
            ) from None
    set_issue(hass, certificate_issue, None)

    hub = OcppHub(hass, entry, ssl_context)
    port_issue = f"port_in_use_{entry.entry_id}"
    try:
        await hub.async_start()
    except OSError as err:
        port = str(entry.data[CONF_PORT])
        set_issue(
            hass,
            port_issue,
            "port_in_use",
            {"port": port, "error": err.strerror or str(err)},
            severity=ir.IssueSeverity.ERROR,
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_in_use",
            translation_placeholders={"port": port, "error": err.strerror or str(err)},
        ) from err
    set_issue(hass, port_issue, None)

    entry.runtime_data = hub
    snapshot = _server_settings(entry)
    energy = _energy_settings(entry)

    async def _async_entry_updated(hass: HomeAssistant, entry: OcppHubConfigEntry) -> None:
        # Chargers added or removed, energy settings changed: no restart.
        # Server settings changed: reload.
        nonlocal energy
        if _server_settings(entry) != snapshot:
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return
        if _energy_settings(entry) != energy:
            energy = _energy_settings(entry)
            entry.runtime_data.energy.configure(entry.options)
        entry.runtime_data.async_sync_subentries()

    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _server_settings(entry: OcppHubConfigEntry) -> tuple[dict[str, Any], dict[str, Any]]:
    options = {k: v for k, v in entry.options.items() if k not in ENERGY_OPTIONS}
    return dict(entry.data), options


def _energy_settings(entry: OcppHubConfigEntry) -> dict[str, Any]:
    return {k: v for k, v in entry.options.items() if k in ENERGY_OPTIONS}


async def async_unload_entry(hass: HomeAssistant, entry: OcppHubConfigEntry) -> bool:
    """Stop the central system: close every charger connection and the port."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: OcppHubConfigEntry) -> None:
    """The central system is deleted: its stored chargers and sessions go with it."""
    for key in (f"{DOMAIN}.{entry.entry_id}", sessions_storage_key(entry.entry_id)):
        await Store[dict[str, Any]](hass, STORAGE_VERSION, key).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: OcppHubConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Deleting a charger's device from the UI removes the charger (its sub-entry).

    It is disconnected; if it connects again it waits for approval like a
    stranger. Devices that no longer belong to a charger simply go.
    """
    hub = entry.runtime_data
    for registered in hub.chargers.values():
        if registered.device_identifier in device.identifiers:
            hass.config_entries.async_remove_subentry(entry, registered.subentry_id)
            break
    return True
