"""Constants of the OCPP Hub integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "ocpp_hub"

# Central system (config entry data).
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_PATH_PREFIX: Final = "path_prefix"
CONF_SSL_CERTFILE: Final = "ssl_certfile"
CONF_SSL_KEYFILE: Final = "ssl_keyfile"
CONF_SSL_LEGACY: Final = "ssl_legacy"

# Central system (options).
CONF_PING_INTERVAL: Final = "ping_interval"
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
CONF_AUTO_ACCEPT: Final = "auto_accept"
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_SESSIONS_MAX_COUNT: Final = "sessions_max_count"
CONF_SESSIONS_MAX_AGE_DAYS: Final = "sessions_max_age_days"

# Charger (subentry data).
SUBENTRY_CHARGER: Final = "charger"
CONF_IDENTITY: Final = "identity"
CONF_PASSWORD: Final = "password"
CONF_PASSWORD_HASH: Final = "password_hash"
CONF_REMOTE_ID_TAG: Final = "remote_id_tag"
CONF_CARDS: Final = "cards"
CONF_SCHEDULE: Final = "schedule"
# The subprotocol the charger must speak ("ocpp1.6", "ocpp2.0.1"); absent: the newest offered.
CONF_PROTOCOL: Final = "protocol"
DEFAULT_REMOTE_ID_TAG: Final = "HOMEASSISTANT"

DEFAULT_PORT: Final = 9000
DEFAULT_PING_INTERVAL: Final = 20
DEFAULT_HEARTBEAT_INTERVAL: Final = 300
MAX_PENDING_APPROVALS: Final = 5

STORAGE_VERSION: Final = 1

# Energy management (central system options; a change does not restart the server).
CONF_GRID_POWER: Final = "grid_power_entity"
CONF_GRID_EXPORT_POSITIVE: Final = "grid_export_positive"
CONF_BATTERY_POWER: Final = "battery_power_entity"
CONF_BATTERY_DISCHARGE_POSITIVE: Final = "battery_discharge_positive"
CONF_BATTERY_FIRST: Final = "battery_first"
CONF_SUPPLY_PHASES: Final = "supply_phases"
CONF_SUPPLY_VOLTAGE: Final = "supply_voltage"
CONF_REACTION: Final = "reaction"
CONF_TIMING: Final = "timing"
CONF_FALLBACK_CURRENT: Final = "fallback_current"
CONF_SITE_LIMIT: Final = "site_limit"
CONF_HOUSE_CURRENT: Final = "house_current_entities"
CONF_SITE_RESERVE: Final = "site_reserve"
DEFAULT_SITE_RESERVE_A: Final = 1
ENERGY_OPTIONS: Final = frozenset(
    {
        CONF_GRID_POWER,
        CONF_GRID_EXPORT_POSITIVE,
        CONF_BATTERY_POWER,
        CONF_BATTERY_DISCHARGE_POSITIVE,
        CONF_BATTERY_FIRST,
        CONF_SUPPLY_PHASES,
        CONF_SUPPLY_VOLTAGE,
        CONF_REACTION,
        CONF_TIMING,
        CONF_FALLBACK_CURRENT,
        CONF_SITE_LIMIT,
        CONF_HOUSE_CURRENT,
        CONF_SITE_RESERVE,
    }
)
