"""Charging sessions of every charger of a central system: followed, kept, saved.

Each registered charger gets a :class:`ChargerSessions`, which listens to the
charger's model: while a transaction runs it measures it (peak power, time
charging, cost at the price of the moment), and when the charger reports the
transaction stopped (also late, after an outage, with past timestamps) the session
joins the charger's history, once. Histories and running measurements are saved in
a store of their own (``ocpp_hub.<entry id>.sessions``), so a Home Assistant
restart in the middle of a session loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import (
    CONF_PRICE_ENTITY,
    CONF_SESSIONS_MAX_AGE_DAYS,
    CONF_SESSIONS_MAX_COUNT,
    DOMAIN,
)
from .controller import ChargerController
from .csms.port import Setting
from .delayed_save import DelayedSave
from .model.charger import Connector, Transaction
from .model.rfid import Card, find_card, normalise
from .model.sessions import (
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_MAX_SESSIONS,
    SessionHistory,
    SessionRecord,
    SessionTracker,
    StartedBy,
)
from .storage import Renamed, SessionsFile

_LOGGER = logging.getLogger(__name__)

# Running measurements are saved every few minutes (flash wear); Home Assistant's stop
# saves them too. A finished session is saved at once.
_SAVE_DELAY = 300.0
_RECENT_KEYS = 20
_SAVE_DELAY_FINISHED = 1.0


class ChargerSessions:
    """The sessions of one charger: the running ones measured, the finished ones kept."""

    def __init__(self, book: SessionBook, controller: ChargerController) -> None:
        """Follow ``controller``'s charger, with what was stored for it."""
        self.book = book
        self.controller = controller
        self.charger = controller.charger
        self.history = SessionHistory(book.max_sessions, book.max_age)
        self.trackers: dict[int, SessionTracker] = {}
        self._listeners: list[Callable[[], None]] = []
        saved = book.saved.get(controller.identity, {})
        damaged = self.history.restore(saved.get("history", []))
        # Wh per card (normalised uid), of every session recorded: never less when the
        # bounded history drops a session.
        self.card_totals: dict[str, float] = {}
        if "card_totals" in saved:
            self.card_totals = _card_totals(saved["card_totals"])
        else:  # stored before card totals existed: what the history holds
            cards = controller.cards()
            for record in self.history.records:
                if record.started_by is StartedBy.CARD:
                    self._count(find_card(cards, record.id_tag), record.energy_wh)
        if damaged:
            _LOGGER.warning(
                "%d stored session(s) of %s could not be read and were dropped",
                damaged,
                controller.name,
            )
        for connector_id, data in (saved.get("trackers") or {}).items():
            try:
                self.trackers[int(connector_id)] = SessionTracker.from_dict(data)
            except KeyError, TypeError, ValueError:
                continue
        # Bounds lowered in the options apply at once, not at the next session.
        self.history.prune(dt_util.utcnow())
        # What was recorded already: the history, and the last sessions recorded (also
        # those the bounds dropped at once), so that none is counted twice after a restart.
        self._recent: list[tuple[str, int, datetime]] = _recent_keys(saved.get("recent"))
        self._keys = {record.key for record in self.history.records} | set(self._recent)
        self.unsubscribe = self.charger.add_listener(self.charger_changed)
        self.charger_changed()

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when a session finished; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def charger_changed(self) -> None:
        """Measure running transactions; keep the ones that stopped."""
        charger = self.charger
        now = dt_util.utcnow()
        finished = False
        changed = False
        for connector in charger.outlets:
            # The finished one first: its measurements before a new session's replace them.
            if self._finished(connector, now):
                finished = True
            if connector.transaction is not None and self._measure(
                connector, connector.transaction, now
            ):
                changed = True
        if finished:
            self.book.schedule_save(_SAVE_DELAY_FINISHED)
            for listener in list(self._listeners):
                listener()
        elif changed:
            self.book.schedule_save(_SAVE_DELAY)

    def _measure(self, connector: Connector, transaction: Transaction, now: datetime) -> bool:
        """The running transaction as it is now; whether its measurements changed."""
        cid = connector.connector_id
        tracker = self.trackers.get(cid)
        new = tracker is None or tracker.transaction_id != transaction.transaction_id
        if tracker is None or new:
            tracker = SessionTracker(
                transaction.transaction_id, transaction.started_at, last_energy_wh=0.0
            )
            self.trackers[cid] = tracker
        changed = tracker.update(
            now,
            transaction.energy_wh,
            # At the start the connector may still show the previous session's power.
            None if new else connector.power_w,
            connector.charging is True,
            self.book.price(),
        )
        return new or changed

    def _finished(self, connector: Connector, now: datetime) -> bool:
        """Keep the connector's last transaction if it stopped and is not kept yet."""
        last = connector.last_transaction
        if last is None or last.stopped_at is None:
            return False
        key = (last.transaction_id, last.connector_id, last.started_at)
        if key in self._keys:
            return False
        cid = connector.connector_id
        tracker = self.trackers.get(cid)
        if tracker is None or tracker.transaction_id != last.transaction_id:
            tracker = SessionTracker(last.transaction_id, last.started_at)
        else:
            del self.trackers[cid]
        tracker.update(last.stopped_at, last.energy_wh, None, False, self.book.price())
        started_by, card = self._who(last.id_tag)
        record = SessionRecord(
            transaction_id=last.transaction_id,
            connector_id=last.connector_id,
            started_at=last.started_at,
            ended_at=last.stopped_at,
            energy_wh=last.energy_wh,
            id_tag=last.id_tag,
            started_by=started_by,
            card_name=card.name if card else None,
            max_power_w=tracker.max_power_w,
            charging_s=tracker.charging_s,
            stop_reason=last.stop_reason,
            cost=None if tracker.cost is None else round(tracker.cost, 4),
        )
        self._keys.add(key)
        self._recent = [*self._recent, key][-_RECENT_KEYS:]
        # Counted when recorded, even if the bounds drop it from the history at once.
        self._count(card, record.energy_wh)
        return self.history.add(record, now) or card is not None

    def _count(self, card: Card | None, energy_wh: float) -> None:
        if card is not None:
            self.card_totals[card.uid] = self.card_totals.get(card.uid, 0.0) + max(0.0, energy_wh)

    def card_energy_wh(self, uid: str) -> float:
        """The energy of every session recorded for the card with ``uid`` (normalised)."""
        return self.card_totals.get(uid, 0.0)

    def _who(self, id_tag: str) -> tuple[StartedBy, Card | None]:
        """How a session with ``id_tag`` was started, and the card."""
        controller = self.controller
        tag = normalise(id_tag)
        # What the charger sends as idTag when no authorization is needed (if it says).
        free_vend_tag = controller.setting_value(Setting.FREE_VEND_ID_TAG)
        if free_vend_tag and tag == normalise(free_vend_tag):
            return StartedBy.FREE_VEND, None
        if tag == normalise(controller.remote_id_tag()):
            if self.charger.locked is False:
                return StartedBy.FREE_VEND, None
            return StartedBy.REMOTE, None
        return StartedBy.CARD, find_card(controller.cards(), id_tag)

    def sessions(self, start: datetime | None, end: datetime | None) -> list[SessionRecord]:
        """Finished sessions overlapping [start, end), newest first."""
        return self.history.between(start, end)

    def as_dict(self) -> dict[str, Any]:
        """For the store."""
        return {
            "history": self.history.as_list(),
            "trackers": {str(cid): t.as_dict() for cid, t in self.trackers.items()},
            "card_totals": dict(self.card_totals),
            "recent": [[tx, cid, started.isoformat()] for tx, cid, started in self._recent],
        }


class SessionBook:
    """The sessions of every charger of one central system, and their store."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, renamed: Renamed) -> None:
        """Read the bounds and the price entity from the entry's options.

        ``renamed``: transaction ids the chargers' store changed when it was migrated.
        """
        self.hass = hass
        self.entry = entry
        self.store = SessionsFile(hass, sessions_storage_key(entry.entry_id), renamed)
        self.saved: dict[str, Any] = {}
        self.chargers: dict[str, ChargerSessions] = {}
        self.max_sessions = int(entry.options.get(CONF_SESSIONS_MAX_COUNT, DEFAULT_MAX_SESSIONS))
        self.max_age = timedelta(
            days=int(entry.options.get(CONF_SESSIONS_MAX_AGE_DAYS, DEFAULT_MAX_AGE_DAYS))
        )
        self.price_entity: str | None = entry.options.get(CONF_PRICE_ENTITY) or None
        self._saver = DelayedSave(hass, self.store, self.data_to_save)

    async def async_load(self) -> None:
        """What was stored (nothing on the first start)."""
        data = await self.store.async_load()
        chargers = (data or {}).get("chargers")
        self.saved = chargers if isinstance(chargers, dict) else {}

    def track(self, controller: ChargerController) -> ChargerSessions:
        """Follow the sessions of a charger the owner registered (through its controller)."""
        sessions = ChargerSessions(self, controller)
        self.chargers[controller.identity] = sessions
        return sessions

    def untrack(self, identity: str, *, forget: bool) -> None:
        """Stop following a charger; ``forget`` drops its history too (charger removed)."""
        sessions = self.chargers.pop(identity, None)
        if sessions is not None:
            sessions.unsubscribe()
        if forget:
            self.saved.pop(identity, None)
            self.schedule_save(_SAVE_DELAY_FINISHED)

    def price(self) -> float | None:
        """The price per kWh now, from the configured entity (None if none or unknown)."""
        if self.price_entity is None:
            return None
        state = self.hass.states.get(self.price_entity)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        try:
            return float(state.state)
        except ValueError:
            return None

    @property
    def currency(self) -> str:
        """The currency costs are in: Home Assistant's configured one."""
        return self.hass.config.currency

    def schedule_save(self, delay: float) -> None:
        """Save within ``delay`` seconds (a save already due sooner is kept)."""
        self._saver.schedule(delay)

    def data_to_save(self) -> dict[str, Any]:
        """Everything to store: kept data of chargers not loaded now, and the live ones."""
        chargers = dict(self.saved)
        chargers.update({i: s.as_dict() for i, s in self.chargers.items()})
        return {"chargers": chargers}

    async def async_stop(self) -> None:
        """Stop following every charger and save."""
        for sessions in self.chargers.values():
            sessions.unsubscribe()
        await self.store.async_save(self.data_to_save())


def _recent_keys(data: Any) -> list[tuple[str, int, datetime]]:
    """Stored keys of the last recorded sessions; what cannot be read is left out."""
    keys = []
    for item in data if isinstance(data, list) else []:
        try:
            tx, cid, started = item
            keys.append(
                (str(tx), int(cid), dt_util.parse_datetime(str(started), raise_on_error=True))
            )
        except TypeError, ValueError:
            continue
    return keys[-_RECENT_KEYS:]


def _card_totals(data: Any) -> dict[str, float]:
    """Stored card totals; what cannot be read is left out."""
    if not isinstance(data, dict):
        return {}
    totals = {}
    for uid, wh in data.items():
        if isinstance(uid, str) and isinstance(wh, int | float) and wh >= 0:
            totals[uid] = float(wh)
    return totals


def sessions_storage_key(entry_id: str) -> str:
    """The store of an entry's sessions (removed with the entry)."""
    return f"{DOMAIN}.{entry_id}.sessions"
