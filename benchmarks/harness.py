"""A real Home Assistant core in this process, with OCPP Hub and the websocket API.

:func:`start_hass` builds the instance the way ``homeassistant.bootstrap`` does
(``core.HomeAssistant`` on a config dir, the loader, the registries of
``async_load_base_functionality``, the core integrations, the core config with
its auth manager), then sets up only what the benchmark needs instead of the
default integrations: ``http`` and ``websocket_api`` on 127.0.0.1 (so a real
websocket client can subscribe, as the frontend does) and one ``ocpp_hub``
config entry with its charger subentries. No recorder, no frontend.

The event loop should come from :func:`new_event_loop`, which uses Home
Assistant's own :func:`~homeassistant.runner.create_event_loop` (its executor,
exception handler and monotonic clock; debug off), as ``hass`` does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
import gc
import logging
import os
from pathlib import Path
import socket
import sys
from types import MappingProxyType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Import the repository's custom_components package before Home Assistant's loader
# looks for one: the loader then finds ocpp_hub there (see the root conftest.py).
from homeassistant import bootstrap, config_entries, core, loader  # noqa: E402
from homeassistant.auth.const import GROUP_ID_ADMIN  # noqa: E402
from homeassistant.auth.models import TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN  # noqa: E402
from homeassistant.components.http.config import DATA_STORE as HTTP_CONFIG_STORE  # noqa: E402
from homeassistant.core_config import async_process_ha_core_config  # noqa: E402
from homeassistant.runner import create_event_loop  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402

import custom_components  # noqa: E402
from custom_components.ocpp_hub.const import (  # noqa: E402
    CONF_AUTO_ACCEPT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PATH_PREFIX,
    CONF_PING_INTERVAL,
    CONF_PORT,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_hub.hub import OcppHub  # noqa: E402

_LOGGER = logging.getLogger(__name__)

assert custom_components.__path__[0] == str(REPO_ROOT / "custom_components")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def settled_rss() -> int:
    """RSS after a full garbage collection (so that cycles do not blur a delta)."""
    gc.collect()
    return rss_bytes()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An event loop as ``homeassistant.runner`` makes it (debug off)."""
    return create_event_loop(debug=False)


def charger_identity(index: int) -> str:
    """The identity of simulated charger ``index``."""
    return f"cp{index}"


@dataclass(slots=True)
class HassUnderTest:
    """A running Home Assistant with one OCPP Hub entry."""

    hass: core.HomeAssistant
    entry: config_entries.ConfigEntry[OcppHub]
    ocpp_port: int
    api_port: int
    token: str
    registered: int
    rss_before_entry: int
    rss_after_entry: int
    setup_seconds: float

    @property
    def hub(self) -> OcppHub:
        """The entry's runtime: server, chargers, storage."""
        return self.entry.runtime_data

    @property
    def ocpp_url(self) -> str:
        """The URL chargers are configured with (identity appended)."""
        return f"ws://127.0.0.1:{self.ocpp_port}/"

    @property
    def api_url(self) -> str:
        """Home Assistant's websocket API."""
        return f"ws://127.0.0.1:{self.api_port}/api/websocket"

    def entity_ids(self, key: str) -> dict[str, int]:
        """entity_id -> charger index, for the charger-level entity ``key`` (e.g. power)."""
        from homeassistant.helpers import entity_registry as er

        registry = er.async_get(self.hass)
        found: dict[str, int] = {}
        for index in range(self.registered):
            unique_id = f"{self.entry.entry_id}_{charger_identity(index)}_{key}"
            entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
            if entity_id is not None:
                found[entity_id] = index
        return found


def _entry(ocpp_port: int, chargers: int) -> config_entries.ConfigEntry[OcppHub]:
    subentries = [
        config_entries.ConfigSubentryData(
            data={CONF_IDENTITY: charger_identity(i)},
            subentry_type=SUBENTRY_CHARGER,
            title=charger_identity(i),
            unique_id=charger_identity(i),
        )
        for i in range(chargers)
    ]
    return config_entries.ConfigEntry(
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: ocpp_port,
            CONF_PATH_PREFIX: "",
            CONF_SSL_CERTFILE: "",
            CONF_SSL_KEYFILE: "",
        },
        discovery_keys=MappingProxyType({}),
        domain=DOMAIN,
        minor_version=1,
        options={CONF_PING_INTERVAL: 20, CONF_HEARTBEAT_INTERVAL: 300, CONF_AUTO_ACCEPT: False},
        source=config_entries.SOURCE_USER,
        subentries_data=subentries,
        title=f"OCPP central system (port {ocpp_port})",
        unique_id=str(ocpp_port),
        version=1,
    )


async def start_hass(config_dir: Path, chargers: int) -> HassUnderTest:
    """Start Home Assistant in ``config_dir`` with ``chargers`` registered chargers."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    config: dict[str, Any] = {}
    hass = core.HomeAssistant(str(config_dir))
    loader.async_setup(hass)
    hass.config.skip_pip = True
    # As bootstrap.async_from_config_dict, without the default integrations.
    hass.config_entries = config_entries.ConfigEntries(hass, config)
    await loader.async_get_custom_components(hass)
    await bootstrap.async_load_base_functionality(hass)
    for domain in sorted(bootstrap.CORE_INTEGRATIONS):
        if not await async_setup_component(hass, domain, config):
            raise RuntimeError(f"core integration {domain} failed to set up")
    await async_process_ha_core_config(hass, {})

    api_port = free_port()
    http_config = {"http": {"server_host": ["127.0.0.1"], "server_port": api_port}}
    for domain, conf in (("http", http_config), ("websocket_api", {})):
        if not await async_setup_component(hass, domain, conf):
            raise RuntimeError(f"{domain} failed to set up")
    # Since 2026.10 an http: configuration is a trial that Home Assistant reverts (and
    # restarts for) unless it is confirmed within five minutes: confirm it, as the UI does.
    http_store = hass.data[HTTP_CONFIG_STORE]
    if http_store.pending is not None:
        await http_store.async_promote_pending()
    # The integration and its platforms (and the entity components they need) are
    # imported before the baseline, so that the memory measured for the entry is the
    # chargers' and not one-time imports.
    integration = await loader.async_get_integration(hass, DOMAIN)
    component = await integration.async_get_component()
    platforms = [str(platform) for platform in getattr(component, "PLATFORMS", [])]
    for platform in platforms:
        await async_setup_component(hass, platform, config)
        await integration.async_get_platform(platform)
    await hass.async_block_till_done()
    rss_before = settled_rss()

    ocpp_port = free_port()
    entry = _entry(ocpp_port, chargers)
    await hass.config_entries.async_add(entry)
    await hass.async_block_till_done()
    if entry.state is not config_entries.ConfigEntryState.LOADED:
        raise RuntimeError(f"ocpp_hub entry did not load: {entry.state} {entry.reason}")
    await hass.async_start()
    await hass.async_block_till_done()
    rss_after = settled_rss()

    user = await hass.auth.async_create_user("benchmark", group_ids=[GROUP_ID_ADMIN])
    refresh = await hass.auth.async_create_refresh_token(
        user,
        client_name="OCPP Hub benchmark",
        token_type=TOKEN_TYPE_LONG_LIVED_ACCESS_TOKEN,
        access_token_expiration=timedelta(hours=2),
    )
    token = hass.auth.async_create_access_token(refresh)
    return HassUnderTest(
        hass=hass,
        entry=entry,
        ocpp_port=ocpp_port,
        api_port=api_port,
        token=token,
        registered=chargers,
        rss_before_entry=rss_before,
        rss_after_entry=rss_after,
        setup_seconds=loop.time() - began,
    )


async def disable_entities(under_test: HassUnderTest, keys: list[str]) -> int:
    """Disable the chargers' entities with these description keys (as a user can), reload.

    An experiment: fewer entities that change with every MeterValues means fewer
    state writes. Returns how many entities were disabled.
    """
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(under_test.hass)
    prefix = f"{under_test.entry.entry_id}_"
    suffixes = tuple(f"_{key}" for key in keys)
    disabled = 0
    for entry in list(registry.entities.values()):
        if entry.unique_id.startswith(prefix) and entry.unique_id.endswith(suffixes):
            registry.async_update_entity(entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER)
            disabled += 1
    await under_test.hass.config_entries.async_reload(under_test.entry.entry_id)
    await under_test.hass.async_block_till_done()
    return disabled


async def stop_hass(under_test: HassUnderTest) -> None:
    """Stop Home Assistant (unloads the entry: every charger connection is closed)."""
    await under_test.hass.async_stop()
