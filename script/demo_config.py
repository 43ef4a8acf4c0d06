"""Write the Home Assistant configuration of script/demo (only what is missing).

Usage: .venv-demo/bin/python script/demo_config.py CONFIG_DIR [--port N]

Creates, in CONFIG_DIR, each of these that does not exist yet, so that a second
run keeps whatever the user changed:

- ``configuration.yaml``: name, location, units, time zone and country (so no
  onboarding step asks) and a few integrations that need no network (no
  ``default_config``: it brings cloud, mobile_app and the multicast discovery
  integrations).
- ``.storage/auth`` + ``.storage/auth_provider.homeassistant`` + ``.storage/person``:
  an owner ``demo`` with password ``demo`` (written together, or not at all).
- ``.storage/onboarding``: every onboarding step done.
- ``.storage/core.config_entries``: one OCPP Hub central system on port 9000 with
  the charger ``wallbox-demo`` registered as the subentry "Wallbox Pulsar Plus",
  with a password (``CHARGER_PASSWORD``) and the simulator's RFID card on its card list.
- ``.storage/energy``: that charger as an individual device of the energy dashboard.
- ``.storage/lovelace`` and ``.storage/lovelace_dashboards`` + ``.storage/lovelace.charger``:
  the repository's ``dashboards/charger.yaml`` as the Overview (the first page after
  login) and as the dashboard "Charger" in the sidebar, both editable in the UI.
- ``custom_components/ocpp_hub``: a symlink to the repository's integration.

And at every run ``.storage/http``: Home Assistant's web server on 127.0.0.1 only, on
the port given with --port (8123 by default). Since 2026.11 Home Assistant keeps its
HTTP settings in this store, as its UI does; an ``http:`` block in configuration.yaml
would be migrated as a trial that Home Assistant reverts, restarting, unless the owner
confirms it within five minutes.

The formats are those of Home Assistant 2026.11.0 (the store versions below are
the ``STORAGE_VERSION``/``STORAGE_VERSION_MINOR`` constants of auth/auth_store.py,
auth/providers/homeassistant.py, components/onboarding, components/person,
components/energy/data.py, components/http/config.py and config_entries.py); the
HTTP settings are completed by Home Assistant's own schema.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import sys
from typing import Any
import uuid

import bcrypt
import yaml

REPO = Path(__file__).resolve().parent.parent

USERNAME = "demo"
PASSWORD = "demo"
OCPP_PORT = 9000
CHARGER_IDENTITY = "wallbox-demo"
CHARGER_NAME = "Wallbox Pulsar Plus"
# The RFID card the simulated user presents (chargersim --id-tag). OCPP Hub locks a
# charger by default, so the demo registers it on the charger's card list.
DEMO_CARD = "0A1B2C3D"
# The charger's password (Basic auth), as the owner would have typed it into the
# myWallbox app; script/demo hands it to the simulator (CHARGERSIM_PASSWORD).
CHARGER_PASSWORD = "demo-wallbox-password"
# Fixed ids (ULID-like, as Home Assistant makes them): entity unique ids and
# the hub's storage key contain the entry id, so they stay the same after --reset.
ENTRY_ID = "01JDEM00CPPHVB0ENTRY000001"
SUBENTRY_ID = "01JDEM00CPPHVB0WA11B0X0001"
# What Home Assistant names the charger's entities (device name + entity name).
ENERGY_SENSOR = "sensor.wallbox_pulsar_plus_energy"
POWER_SENSOR = "sensor.wallbox_pulsar_plus_charging_power"

CONFIGURATION_YAML = """\
# Home Assistant for the OCPP Hub demo. Written once by script/demo; yours to edit
# (script/demo --reset starts over). Everything listens on 127.0.0.1 only.
homeassistant:
  name: OCPP Hub demo
  latitude: 52.3731
  longitude: 4.8922
  elevation: 0
  unit_system: metric
  currency: EUR
  country: NL
  language: en
  time_zone: {time_zone}

# The web server (127.0.0.1 only, and its port) is set in .storage/http by script/demo.

# Loaded besides Home Assistant's defaults (frontend, automation, script, person,
# backup, ...). Not default_config: it brings cloud, mobile_app, zeroconf, ssdp, ...
config:
isal:
history:
logbook:
energy:
search:

logger:
  default: warning
  logs:
    custom_components.ocpp_hub: info
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _host_time_zone() -> str:
    """The host's IANA time zone (from /etc/localtime), or UTC."""
    try:
        target = Path("/etc/localtime").resolve(strict=True)
    except OSError:
        return "UTC"
    parts = target.parts
    if "zoneinfo" in parts:
        name = "/".join(parts[parts.index("zoneinfo") + 1 :])
        if name and not name.startswith(("posix/", "right/")):
            return "UTC" if name in ("Etc/UTC", "UCT", "Etc/UCT", "Zulu") else name
    return "UTC"


def _store(key: str, version: int, data: Any, minor_version: int = 1) -> dict[str, Any]:
    return {"version": version, "minor_version": minor_version, "key": key, "data": data}


def _auth_files() -> dict[str, dict[str, Any]]:
    """The owner ``demo``: auth store, its homeassistant credentials and its person."""
    user_id = uuid.uuid4().hex
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=12))
    auth = {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": "Demo",
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [
            {"id": "system-admin", "name": "Administrators"},
            {"id": "system-users", "name": "Users"},
            {"id": "system-read-only", "name": "Read Only"},
        ],
        "credentials": [
            {
                "id": uuid.uuid4().hex,
                "user_id": user_id,
                "auth_provider_type": "homeassistant",
                "auth_provider_id": None,
                "data": {"username": USERNAME},
            }
        ],
        "refresh_tokens": [],
    }
    provider = {"users": [{"username": USERNAME, "password": base64.b64encode(hashed).decode()}]}
    person: dict[str, Any] = {
        "items": [
            {
                "id": "demo",
                "name": "Demo",
                "user_id": user_id,
                "device_trackers": [],
                "picture": None,
            }
        ]
    }
    return {
        "auth": _store("auth", 1, auth),
        "auth_provider.homeassistant": _store("auth_provider.homeassistant", 1, provider),
        "person": _store("person", 2, person),
    }


def _password_hash(password: str) -> str:
    """The integration's own salted hash (its protocol layer needs no Home Assistant)."""
    sys.path.insert(0, str(REPO))
    from custom_components.ocpp_hub.csms.auth import hash_password  # noqa: PLC0415

    return hash_password(password)


def _config_entries() -> dict[str, Any]:
    now = _now()
    entry = {
        "created_at": now,
        "data": {
            "host": "127.0.0.1",
            "port": OCPP_PORT,
            "path_prefix": "",
            "ssl_certfile": "",
            "ssl_keyfile": "",
        },
        "discovery_keys": {},
        "disabled_by": None,
        "domain": "ocpp_hub",
        "entry_id": ENTRY_ID,
        "minor_version": 1,
        "modified_at": now,
        "options": {"ping_interval": 20, "heartbeat_interval": 300, "auto_accept": False},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [
            {
                "data": {
                    "identity": CHARGER_IDENTITY,
                    "password_hash": _password_hash(CHARGER_PASSWORD),
                    "cards": [{"uid": DEMO_CARD, "name": "Demo card", "enabled": True}],
                },
                "subentry_id": SUBENTRY_ID,
                "subentry_type": "charger",
                "title": CHARGER_NAME,
                "unique_id": CHARGER_IDENTITY,
            }
        ],
        "title": f"OCPP central system (port {OCPP_PORT})",
        "unique_id": str(OCPP_PORT),
        "version": 1,
    }
    return _store("core.config_entries", 1, {"entries": [entry]}, minor_version=5)


def _dashboards() -> dict[str, dict[str, Any]]:
    """The charger dashboard as the Overview and as a sidebar dashboard (storage mode)."""
    config = yaml.safe_load((REPO / "dashboards" / "charger.yaml").read_text(encoding="utf-8"))
    dashboard = {
        "id": "charger",
        "url_path": "charger",
        "title": "Charger",
        "icon": "mdi:ev-station",
        "show_in_sidebar": True,
        "require_admin": False,
        "mode": "storage",
    }
    return {
        "lovelace": _store("lovelace", 1, {"config": config}),
        "lovelace_dashboards": _store("lovelace_dashboards", 1, {"items": [dashboard]}),
        "lovelace.charger": _store("lovelace.charger", 1, {"config": config}),
    }


def _write_json(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    # Home Assistant writes its private stores (auth, onboarding) mode 0600.
    tmp.chmod(0o600)
    tmp.replace(path)


# What script/demo of Home Assistant 2026.2 wrote; 2026.11 would migrate it as a trial.
_OLD_HTTP_BLOCK = """http:
  server_host: 127.0.0.1
  # script/demo --port N sets the variable; 8123 otherwise.
  server_port: !env_var OCPP_HUB_DEMO_HA_PORT 8123
"""


def write_http_store(config_dir: Path, port: int) -> None:
    """Home Assistant's web server on 127.0.0.1:``port``, stored as confirmed settings."""
    from homeassistant.components.http.config import (  # noqa: PLC0415 - the demo venv's
        HTTP_STORAGE_SCHEMA,
        STORAGE_MINOR_VERSION,
        STORAGE_VERSION,
    )

    path = config_dir / ".storage" / "http"
    stored: dict[str, Any] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8")).get("data", {}).get("stable", {})
    wanted = {k: v for k, v in stored.items() if k not in ("created_at", "error", "error_message")}
    wanted.update(server_host=["127.0.0.1"], server_port=port)
    stable = {**HTTP_STORAGE_SCHEMA(wanted), "created_at": _now(), "error": None}
    stable["error_message"] = None
    data = {"stable": stable, "pending": None, "yaml_migration_done": True}
    _write_json(path, _store("http", STORAGE_VERSION, data, minor_version=STORAGE_MINOR_VERSION))


def write_config(config_dir: Path) -> list[str]:
    """Create what is missing in ``config_dir``; return what was created."""
    created: list[str] = []
    config_dir.mkdir(parents=True, exist_ok=True)
    storage = config_dir / ".storage"

    yaml_path = config_dir / "configuration.yaml"
    if not yaml_path.exists():
        yaml_path.write_text(
            CONFIGURATION_YAML.format(time_zone=_host_time_zone()), encoding="utf-8"
        )
        created.append("configuration.yaml")
    else:
        text = yaml_path.read_text(encoding="utf-8")
        if _OLD_HTTP_BLOCK in text:
            yaml_path.write_text(text.replace(_OLD_HTTP_BLOCK, ""), encoding="utf-8")
            created.append("configuration.yaml without its http: block (now in .storage/http)")

    auth_keys = ("auth", "auth_provider.homeassistant")
    present = [key for key in auth_keys if (storage / key).exists()]
    if not present:
        for key, content in _auth_files().items():
            if key == "person" and (storage / key).exists():
                continue
            _write_json(storage / key, content)
            created.append(f".storage/{key}")
    elif len(present) != len(auth_keys):
        print(
            f"demo_config: only {present} exist in {storage}; users left alone "
            "(script/demo --reset starts over)",
            file=sys.stderr,
        )

    simple = {
        "onboarding": _store(
            "onboarding", 4, {"done": ["user", "core_config", "analytics", "integration"]}
        ),
        "core.config_entries": _config_entries(),
        "energy": _store(
            "energy",
            1,
            {
                "energy_sources": [],
                "device_consumption": [
                    {"stat_consumption": ENERGY_SENSOR, "stat_rate": POWER_SENSOR}
                ],
                "device_consumption_water": [],
            },
            minor_version=2,
        ),
    }
    if not any((storage / key).exists() for key in ("lovelace", "lovelace_dashboards")):
        simple.update(_dashboards())
    for key, content in simple.items():
        if not (storage / key).exists():
            _write_json(storage / key, content)
            created.append(f".storage/{key}")

    link = config_dir / "custom_components" / "ocpp_hub"
    if not link.exists() and not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        target = REPO / "custom_components" / "ocpp_hub"
        # Relative, so the repository can move.
        link.symlink_to(os.path.relpath(target, link.parent.resolve()), target_is_directory=True)
        created.append("custom_components/ocpp_hub -> " + str(target))
    return created


def main(argv: list[str]) -> int:
    """Entry point."""
    port = 8123
    if len(argv) == 4 and argv[2] == "--port" and argv[3].isdigit():
        port = int(argv[3])
    elif len(argv) != 2:
        print(f"usage: {argv[0]} CONFIG_DIR [--port N]", file=sys.stderr)
        return 2
    config_dir = Path(argv[1]).absolute()
    created = write_config(config_dir)
    write_http_store(config_dir, port)
    for item in created:
        print(f"demo_config: created {item}", file=sys.stderr)
    if not created:
        print(f"demo_config: {config_dir} is complete; nothing written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
