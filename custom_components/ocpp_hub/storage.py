"""The stores of a central system, and how data stored by older versions is brought up.

Two stores per config entry: the chargers (``ocpp_hub.<entry id>``: their model,
see :mod:`.model.storage_format`) and their sessions (``ocpp_hub.<entry id>.sessions``).
Home Assistant calls the migration when the stored version is older than ours;
what a migration cannot read is left as it was, for the loaders to drop.

Minor version 2 (both stores): transaction ids are text. A 1.6 transaction keeps
its number (in decimal); a 2.0.1 transaction, stored under our number with the
charger's own id beside it, takes the charger's id, in the chargers' store and
in that charger's sessions (loaded after the chargers). The chargers' store also
gains what their configuration says by meaning (``settings``), read from the
configuration kept in 1.6's names and in 2.0.1's (the registry of versions,
:func:`.csms.versions.reported_settings`, knows both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import STORAGE_VERSION
from .csms.versions import reported_settings

# Both stores: 2 = transaction ids as text, the chargers' settings by meaning.
MINOR_VERSION = 2
# Per charger identity: transaction ids the migration changed (old -> new).
type Renamed = dict[str, dict[str, str]]


class _MigratedFile(Store[dict[str, Any]]):
    """A store whose data of minor version 1 `_migrate` brings up, noting in `renamed`."""

    renamed: Renamed

    def _migrate(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring data of minor version 1 up (a newer minor version is read as it is)."""
        # Damaged content is left as it is: the loaders report it and start afresh.
        if old_major_version == 1 and old_minor_version < 2 and isinstance(old_data, dict):
            self._migrate(old_data)
        return old_data


class ChargersFile(_MigratedFile):
    """The chargers of a central system (their model, as saved)."""

    def __init__(self, hass: HomeAssistant, key: str) -> None:
        """The store ``key``; :attr:`renamed` fills when a load migrates it."""
        super().__init__(hass, STORAGE_VERSION, key, minor_version=MINOR_VERSION)
        self.renamed = {}

    def _migrate(self, data: dict[str, Any]) -> None:
        migrate_chargers(data, self.renamed)


class SessionsFile(_MigratedFile):
    """The sessions of every charger of a central system."""

    def __init__(self, hass: HomeAssistant, key: str, renamed: Renamed) -> None:
        """The store ``key``; ``renamed``: what the chargers' migration changed."""
        super().__init__(
            hass,
            STORAGE_VERSION,
            key,
            minor_version=MINOR_VERSION,
            serialize_in_event_loop=False,  # thousands of sessions: JSON off the loop
        )
        self.renamed = renamed

    def _migrate(self, data: dict[str, Any]) -> None:
        migrate_sessions(data, self.renamed)


def _text_id(value: Any, renamed: Mapping[str, str]) -> Any:
    """A stored transaction id as text (renamed if it was); anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return renamed.get(value, value) if isinstance(value, str) else value


def migrate_chargers(data: dict[str, Any], renamed: Renamed) -> None:
    """Chargers' store 1.1 -> 1.2, in place; ``renamed`` learns the ids that changed."""
    chargers = data.get("chargers")
    for identity, charger in chargers.items() if isinstance(chargers, dict) else ():
        if not isinstance(charger, dict):
            continue
        changed: dict[str, str] = {}
        connectors = charger.get("connectors")
        for connector in connectors.values() if isinstance(connectors, dict) else ():
            for field in ("transaction", "last_transaction"):
                transaction = connector.get(field) if isinstance(connector, dict) else None
                if isinstance(transaction, dict):
                    _migrate_transaction(transaction, changed)
        if changed:
            renamed[identity] = changed
            # The energy manager's running session (its solar share) goes by the id too.
            control = charger.get("control")
            if isinstance(control, dict) and control.get("session") in changed:
                control["session"] = changed[control["session"]]
        configuration = charger.get("configuration")
        if isinstance(configuration, dict) and "settings" not in charger:
            values = {k: v for k, v in configuration.items() if isinstance(v, str)}
            settings = reported_settings("ocpp1.6", values).as_dict()
            if settings["authorization_required"] is None:  # 2.0.1: a standard variable
                settings["authorization_required"] = reported_settings(
                    "ocpp2.0.1", values
                ).authorization_required
            charger["settings"] = settings


def _migrate_transaction(transaction: dict[str, Any], changed: dict[str, str]) -> None:
    """Our number as text, or the 2.0.1 charger's own id where it was kept beside it."""
    number = _text_id(transaction.get("transaction_id"), {})
    own = transaction.pop("charger_transaction_id", None)
    if isinstance(own, str) and own:
        if isinstance(number, str):
            changed[number] = own
        number = own
    transaction["transaction_id"] = number


def migrate_sessions(data: dict[str, Any], renamed: Renamed) -> None:
    """Sessions' store 1.1 -> 1.2, in place: ids as text, renamed as the chargers' were."""
    chargers = data.get("chargers")
    for identity, sessions in chargers.items() if isinstance(chargers, dict) else ():
        if not isinstance(sessions, dict):
            continue
        changed = renamed.get(identity, {})
        history = sessions.get("history")
        trackers = sessions.get("trackers")
        for item in [
            *(history if isinstance(history, list) else ()),
            *(trackers.values() if isinstance(trackers, dict) else ()),
        ]:
            if isinstance(item, dict) and "transaction_id" in item:
                item["transaction_id"] = _text_id(item["transaction_id"], changed)
        recent = sessions.get("recent")
        for key in recent if isinstance(recent, list) else ():
            if isinstance(key, list) and key:
                key[0] = _text_id(key[0], changed)
