"""The stored state of one central system: its chargers' models and the transaction counter."""

from __future__ import annotations

from collections.abc import Callable
import logging
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .delayed_save import DelayedSave
from .model.charger import Charger
from .model.storage_format import charger_from_dict
from .storage import ChargersFile, Renamed

_LOGGER = logging.getLogger(__name__)

SAVE_DELAY = 10.0


class ChargerStore:
    """What must survive a restart: each charger's model, the next transaction id.

    A charger's stored model is kept while it is not registered (yet), so that
    nothing is lost between a restart and the subentries being read.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        live: Callable[[], dict[str, dict[str, Any]]],
        damaged: Callable[[str], None],
    ) -> None:
        """``live``: the registered chargers' models to save; ``damaged``: what was lost."""
        self.entry = entry
        self.store = ChargersFile(hass, f"{DOMAIN}.{entry.entry_id}")
        self._live = live
        self._damaged = damaged
        self._next_transaction_id = 1
        self._saved: dict[str, Any] = {}
        self._saver = DelayedSave(hass, self.store, self.data_to_save)

    @property
    def renamed(self) -> Renamed:
        """Transaction ids that loading older stored data changed (for the sessions)."""
        return self.store.renamed

    async def async_load(self) -> None:
        """Read what was stored; what cannot be read is reported and left out."""
        data = await self.store.async_load()
        try:
            self._restore(data or {})
        except (TypeError, ValueError, AttributeError) as err:
            self._storage_damaged(f"unreadable content ({err})")
        if data is None and self.entry.subentries:
            # Chargers are registered but nothing was stored (a lost or corrupt file,
            # which Home Assistant set aside): never hand out an old transaction id again.
            self._next_transaction_id = int(time.time())

    def _restore(self, data: dict[str, Any]) -> None:
        self._next_transaction_id = int(data.get("next_transaction_id", 1))
        chargers = data.get("chargers") or {}
        if not isinstance(chargers, dict):
            raise TypeError("chargers is not a mapping")
        self._saved = {}
        for identity, saved in chargers.items():
            try:
                charger_from_dict(identity, saved)
            except (TypeError, ValueError, AttributeError, KeyError) as err:
                self._storage_damaged(f"charger {identity} ({err})")
                continue
            self._saved[identity] = saved

    def _storage_damaged(self, what: str) -> None:
        """Start with what could be read; tell the owner what was lost."""
        _LOGGER.warning("Stored state of %s is damaged: %s; rebuilt", self.entry.title, what)
        if self._next_transaction_id <= 1:
            self._next_transaction_id = int(time.time())
        self._damaged(what)

    def charger(self, identity: str) -> Charger:
        """The stored model of a charger, or a new one."""
        saved = self._saved.get(identity)
        return charger_from_dict(identity, saved) if saved else Charger(identity)

    def forget(self, identity: str) -> None:
        """A charger was removed: its stored model goes at the next save."""
        self._saved.pop(identity, None)

    def data_to_save(self) -> dict[str, Any]:
        """Everything to store: chargers not registered now as read, and the live ones."""
        chargers = dict(self._saved)
        chargers.update(self._live())
        return {"next_transaction_id": self._next_transaction_id, "chargers": chargers}

    @callback
    def schedule_save(self, delay: float = SAVE_DELAY) -> None:
        """Save within ``delay`` seconds (a save already due sooner is kept)."""
        self._saver.schedule(delay)

    async def async_save(self) -> None:
        """Save now."""
        await self.store.async_save(self.data_to_save())

    def next_transaction_id(self) -> int:
        """A new transaction id, saved promptly so it is never handed out twice."""
        value = self._next_transaction_id
        self._next_transaction_id += 1
        self.schedule_save(delay=1.0)
        return value
