"""The runtime of one central system entry: server, registered chargers, storage.

The hub is the application behind the protocol layer (it implements
:class:`Backend`): it knows which chargers the owner registered (config
subentries), holds their models, saves what must survive a restart, turns an
unknown charger into a discovery card, and tells the platforms when a charger
or a connector needs entities.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging
import time
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, discovery_flow, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.storage import Store

from .const import (
    CONF_AUTO_ACCEPT,
    CONF_CARDS,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PING_INTERVAL,
    CONF_PORT,
    CONF_PROTOCOL,
    CONF_REMOTE_ID_TAG,
    CONF_SCHEDULE,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_PING_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_REMOTE_ID_TAG,
    DOMAIN,
    MAX_PENDING_APPROVALS,
    STORAGE_VERSION,
    SUBENTRY_CHARGER,
)
from .controller import ChargerController
from .csms.auth import PasswordVerifier, password_acceptable
from .csms.backend import AuthorizationStatus, Registration
from .csms.logtext import untrusted
from .csms.port import ChargerPort
from .csms.server import CentralSystem, ServerConfig
from .csms.version import HandlerSettings
from .delayed_save import DelayedSave
from .energy_manager import EnergyManager
from .model.charger import Charger, ChargerInfo
from .model.control import ProtectionStatus, RebootResult
from .model.rfid import Card, normalise
from .model.schedule import ChargingWindow
from .repairs import escape_markdown, set_issue
from .sessions import ChargerSessions, SessionBook

_LOGGER = logging.getLogger(__name__)

type OcppHubConfigEntry = ConfigEntry[OcppHub]

# Creates the entities of one platform for a charger: connector_ids empty means
# the charger-level entities, otherwise the entities of those connectors.
type EntityFactory = Callable[[RegisteredCharger, Sequence[int]], Sequence[Entity]]

_SAVE_DELAY = 10.0


@dataclass(slots=True)
class RegisteredCharger:
    """A charger the owner registered (one config subentry) and its model."""

    entry_id: str
    subentry_id: str
    name: str
    password_hash: str | None
    charger: Charger
    connectors_seen: int = 0
    covered: set[tuple[int, int | None]] = field(default_factory=set)
    unsubscribe: Callable[[], None] | None = None
    device_info_of: ChargerInfo | None = None
    controller: ChargerController = field(init=False)
    sessions: ChargerSessions = field(init=False)
    cards_sent: list[dict[str, Any]] = field(default_factory=list)
    # Called when the owner changed the card list (entities that follow the cards).
    card_listeners: list[Callable[[], None]] = field(default_factory=list)
    # What the hub last reported for this charger (so each change is reported once).
    reported_reboot: tuple[datetime, RebootResult] | None = None
    reported_protection: tuple[ProtectionStatus, tuple[str, ...]] | None = None
    reported_energy_rejections: int = 0
    # The energy manager's decision as last shown (so entities hear of changes only).
    energy_shown: tuple[Any, ...] | None = None

    @property
    def identity(self) -> str:
        """The charge point identity."""
        return self.charger.identity

    @property
    def device_identifier(self) -> tuple[str, str]:
        """The device registry identifier of this charger."""
        return (DOMAIN, f"{self.entry_id}_{self.identity}")


@dataclass(slots=True)
class PendingCharger:
    """An unknown charger waiting for the owner's approval."""

    identity: str
    info: ChargerInfo
    remote_address: str | None
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


def server_config(entry: ConfigEntry, ssl_context: Any = None) -> ServerConfig:
    """The server settings of an entry (data: where it listens; options: tunables)."""
    ping = float(entry.options.get(CONF_PING_INTERVAL, DEFAULT_PING_INTERVAL))
    return ServerConfig(
        host=entry.data.get(CONF_HOST) or None,
        port=int(entry.data.get(CONF_PORT, DEFAULT_PORT)),
        path_prefix=entry.data.get(CONF_PATH_PREFIX, ""),
        ssl_context=ssl_context,
        ping_interval=ping or None,
        ping_timeout=ping or None,
        handler=HandlerSettings(
            heartbeat_interval=int(
                entry.options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)
            )
        ),
    )


class OcppHub:
    """One central system: its server, its chargers and their storage."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, ssl_context: Any = None) -> None:
        """Prepare; :meth:`async_start` loads storage and binds the port."""
        self.hass = hass
        self.entry = entry
        self.store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self.server = CentralSystem(server_config(entry, ssl_context), self)
        self.chargers: dict[str, RegisteredCharger] = {}
        self.pending: OrderedDict[str, PendingCharger] = OrderedDict()
        self._verifier = PasswordVerifier()
        self._next_transaction_id = 1
        self._saved: dict[str, Any] = {}
        self._saver = DelayedSave(hass, self.store, self._data_to_save)
        self._factories: list[tuple[EntityFactory, AddConfigEntryEntitiesCallback]] = []
        self.sessions = SessionBook(hass, entry)
        self.energy = EnergyManager(hass, self)

    # ------------------------------------------------------------- lifecycle
    async def async_start(self) -> None:
        """Restore the chargers from storage, then listen (OSError if the port is taken)."""
        data = await self.store.async_load()
        try:
            self._restore(data or {})
        except (TypeError, ValueError, AttributeError) as err:
            self._storage_damaged(f"unreadable content ({err})")
        if data is None and self.entry.subentries:
            # Chargers are registered but nothing was stored (a lost or corrupt file,
            # which Home Assistant set aside): never hand out an old transaction id again.
            self._next_transaction_id = int(time.time())
        await self.sessions.async_load()
        self.async_sync_subentries()
        await self.server.start()
        self.energy.start()

    def _restore(self, data: dict[str, Any]) -> None:
        self._next_transaction_id = int(data.get("next_transaction_id", 1))
        chargers = data.get("chargers") or {}
        if not isinstance(chargers, dict):
            raise TypeError("chargers is not a mapping")
        self._saved = {}
        for identity, saved in chargers.items():
            try:
                Charger.from_dict(identity, saved)
            except (TypeError, ValueError, AttributeError, KeyError) as err:
                self._storage_damaged(f"charger {identity} ({err})")
                continue
            self._saved[identity] = saved

    def _storage_damaged(self, what: str) -> None:
        """Start with what could be read; tell the owner what was lost."""
        _LOGGER.warning("Stored state of %s is damaged: %s; rebuilt", self.entry.title, what)
        if self._next_transaction_id <= 1:
            self._next_transaction_id = int(time.time())
        set_issue(
            self.hass,
            f"storage_{self.entry.entry_id}",
            "storage_damaged",
            {"what": what},
            persistent=False,
        )

    async def async_stop(self) -> None:
        """Close every connection and the server, and save."""
        self.energy.stop()
        await self.server.stop()
        for identity in self.pending:
            set_issue(self.hass, self._waiting_issue_id(identity), None)
        for registered in self.chargers.values():
            if registered.unsubscribe:
                registered.unsubscribe()
            registered.controller.shutdown()
        await self.sessions.async_stop()
        await self.store.async_save(self._data_to_save())

    def _data_to_save(self) -> dict[str, Any]:
        chargers = dict(self._saved)
        chargers.update({i: r.charger.as_dict() for i, r in self.chargers.items()})
        return {"next_transaction_id": self._next_transaction_id, "chargers": chargers}

    @callback
    def schedule_save(self, delay: float = _SAVE_DELAY) -> None:
        """Save within ``delay`` seconds (a save already due sooner is kept)."""
        self._saver.schedule(delay)

    # ------------------------------------------------------------- platforms
    @callback
    def async_register_platform(
        self, factory: EntityFactory, add_entities: AddConfigEntryEntitiesCallback
    ) -> None:
        """A platform's entity factory: called now for every charger, later for new ones."""
        self._factories.append((factory, add_entities))
        for registered in self.chargers.values():
            self._add_missing_entities(registered)

    @property
    def adding_entities(self) -> bool:
        """Whether platforms may add entities (not once the entry is unloading)."""
        return self.entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)

    def _add_missing_entities(self, registered: RegisteredCharger) -> None:
        """Give every platform's entities to the charger, and to each of its connectors.

        Connector entities exist once a charger has reported more than one
        connector; ``registered.covered`` remembers (platform, connector) pairs
        done, connector None standing for the charger-level entities.
        """
        count = registered.charger.connector_count
        registered.connectors_seen = count
        wanted: list[int | None] = [None, *(range(1, count + 1) if count > 1 else ())]
        for index, (factory, add_entities) in enumerate(self._factories):
            missing = [key for key in wanted if (index, key) not in registered.covered]
            if not missing:
                continue
            registered.covered.update((index, key) for key in missing)
            entities: list[Entity] = []
            if None in missing:
                entities += factory(registered, [])
            if connectors := [key for key in missing if key is not None]:
                entities += factory(registered, connectors)
            if entities:
                add_entities(entities, config_subentry_id=registered.subentry_id)

    # ------------------------------------------------------------- chargers
    @callback
    def async_sync_subentries(self) -> None:
        """Bring the registered chargers in line with the entry's subentries."""
        wanted = {
            sub.data[CONF_IDENTITY]: sub
            for sub in self.entry.subentries.values()
            if sub.subentry_type == SUBENTRY_CHARGER
        }
        for identity in list(self.chargers):
            if identity not in wanted:
                self._remove_charger(identity)
        for identity, subentry in wanted.items():
            registered = self.chargers.get(identity)
            if registered is None:
                self._report_password(self._add_charger(subentry))
                continue
            registered.name = subentry.title
            if (schedule := _schedule(subentry)) != registered.charger.schedule:
                registered.charger.apply_schedule(schedule)
                registered.controller.schedule_changed()
            if (cards := subentry.data.get(CONF_CARDS, [])) != registered.cards_sent:
                registered.cards_sent = cards
                registered.controller.cards_changed()
                for listener in list(registered.card_listeners):
                    listener()
            if registered.password_hash != subentry.data.get(CONF_PASSWORD_HASH):
                registered.password_hash = subentry.data.get(CONF_PASSWORD_HASH)
                # A connection authenticated with the old password (or none) goes.
                self.server.enforce_credentials(identity)
                set_issue(self.hass, self._issue_id("weak_password", registered), None)
            # Pinned to another version than it speaks: it reconnects and gets that one.
            self.server.enforce_protocol(identity)
            self._report_password(registered)

    def _report_password(self, registered: RegisteredCharger) -> None:
        """A charger without a password: a repair issue for as long as it has none."""
        set_issue(
            self.hass,
            self._issue_id("no_password", registered),
            None if registered.password_hash else "charger_without_password",
            {"charger": escape_markdown(registered.name)},
        )

    def _add_charger(self, subentry: ConfigSubentry) -> RegisteredCharger:
        identity = subentry.data[CONF_IDENTITY]
        saved = self._saved.get(identity)
        charger = Charger.from_dict(identity, saved) if saved else Charger(identity)
        registered = RegisteredCharger(
            entry_id=self.entry.entry_id,
            subentry_id=subentry.subentry_id,
            name=subentry.title,
            password_hash=subentry.data.get(CONF_PASSWORD_HASH),
            charger=charger,
            device_info_of=charger.info,
        )
        registered.controller = ChargerController(self.hass, self, registered)
        registered.cards_sent = subentry.data.get(CONF_CARDS, [])
        charger.schedule = _schedule(subentry)
        registered.sessions = self.sessions.track(registered)
        registered.reported_reboot = _reboot_state(charger)
        registered.reported_energy_rejections = charger.energy_rejections
        registered.unsubscribe = charger.add_listener(lambda: self._charger_changed(registered))
        self.chargers[identity] = registered
        self._add_missing_entities(registered)
        # Whoever is connected as this identity must have presented its password.
        self.server.enforce_credentials(identity)
        self._adopt_if_waiting(registered)
        return registered

    def _adopt_if_waiting(self, registered: RegisteredCharger) -> None:
        pending = self.pending.pop(registered.identity, None)
        set_issue(self.hass, self._waiting_issue_id(registered.identity), None)
        handler = self.server.handler(registered.identity)
        if pending is None or handler is None or handler.charger is not None:
            return
        # Its discovery card goes (later: the approving flow may be the one running now).
        self.hass.loop.call_soon(self._abort_discovery, registered.identity)
        # One that connected without the password was closed above (it comes back with it).
        if not handler.session.closed:
            handler.adopt(registered.charger)

    def _remove_charger(self, identity: str) -> None:
        registered = self.chargers.pop(identity)
        if registered.unsubscribe:
            registered.unsubscribe()
        registered.controller.shutdown()
        self.sessions.untrack(identity, forget=True)
        self.energy.forget(identity)
        for issue in (
            "reboot_failed",
            "limit_not_applied",
            "offline_protection",
            "energy_rejected",
            "no_password",
            "weak_password",
        ):
            set_issue(self.hass, self._issue_id(issue, registered), None)
        set_issue(self.hass, self._wrong_password_issue_id(identity), None)
        self._saved.pop(identity, None)
        self.schedule_save()
        self.hass.async_create_task(
            self.server.disconnect(identity, "charger removed"), eager_start=True
        )

    @callback
    def _charger_changed(self, registered: RegisteredCharger) -> None:
        charger = registered.charger
        if charger.info is not registered.device_info_of:
            registered.device_info_of = charger.info
            self._update_device(registered)
        if charger.connector_count != registered.connectors_seen:
            self._add_missing_entities(registered)
        registered.controller.charger_changed()
        self.energy.request()
        if (reboot := _reboot_state(charger)) != registered.reported_reboot:
            registered.reported_reboot = reboot
            self._report_reboot(registered)
        if (
            charger.protection is not None
            and (protection := (charger.protection, tuple(charger.protection_keys)))
            != registered.reported_protection
        ):
            registered.reported_protection = protection
            self._report_protection(registered)
        if (rejections := charger.energy_rejections) != registered.reported_energy_rejections:
            if rejections > registered.reported_energy_rejections:
                self._report_energy_rejected(registered, rejections)
            registered.reported_energy_rejections = rejections
        self.schedule_save()

    def _update_device(self, registered: RegisteredCharger) -> None:
        registry = dr.async_get(self.hass)
        device = registry.async_get_device_by_identifier(
            registered.device_identifier, self.entry.entry_id
        )
        if device is None:
            return
        details = device_details(registered.charger)
        registry.async_update_device(
            device.id,
            manufacturer=details.get("manufacturer"),
            model=details.get("model"),
            model_id=details.get("model_id"),
            serial_number=details.get("serial_number"),
            sw_version=details.get("sw_version"),
        )

    # ------------------------------------------------------------- Backend
    def registration(self, identity: str) -> Registration | None:
        """The registration of ``identity``, or None if it is unknown."""
        registered = self.chargers.get(identity)
        if registered is None:
            return None
        subentry = self.entry.subentries.get(registered.subentry_id)
        return Registration(
            registered.charger,
            registered.password_hash is not None,
            registered.password_hash,
            protocol=subentry.data.get(CONF_PROTOCOL) if subentry is not None else None,
        )

    async def verify_password(self, identity: str, password: str) -> bool:
        """Check a charger's password against its stored hash."""
        registered = self.chargers.get(identity)
        if registered is None or registered.password_hash is None:
            return False
        if not await self._verifier.verify(password, registered.password_hash):
            return False
        # Shorter than OCPP's 16 characters (set before the rule): works, but says so.
        set_issue(
            self.hass,
            self._issue_id("weak_password", registered),
            None if password_acceptable(password) else "weak_password",
            {"charger": escape_markdown(registered.name)},
        )
        return True

    def unknown_boot(
        self, identity: str, info: ChargerInfo, remote_address: str | None
    ) -> Charger | None:
        """An unregistered charger booted: register it (auto-accept) or ask the owner."""
        if self.entry.options.get(CONF_AUTO_ACCEPT, False):
            _LOGGER.info("Accepting new charger %s automatically", identity)
            self.hass.config_entries.async_add_subentry(
                self.entry,
                ConfigSubentry(
                    data=MappingProxyType({CONF_IDENTITY: identity}),
                    subentry_type=SUBENTRY_CHARGER,
                    title=identity,
                    unique_id=identity,
                ),
            )
            # The update listener may already have registered it (it can run eagerly).
            registered = self.chargers.get(identity) or self._add_charger(
                self.entry.subentries[self._subentry_id_of(identity)]
            )
            return registered.charger
        self._hold_for_approval(PendingCharger(identity, info, remote_address))
        return None

    def _subentry_id_of(self, identity: str) -> str:
        return next(sid for sid, sub in self.entry.subentries.items() if sub.unique_id == identity)

    def _hold_for_approval(self, pending: PendingCharger) -> None:
        new = pending.identity not in self.pending
        self.pending[pending.identity] = pending
        self.pending.move_to_end(pending.identity)
        while len(self.pending) > MAX_PENDING_APPROVALS:
            # The oldest card of the address with the most: strangers flooding from
            # one address push out only their own cards, never a charger elsewhere.
            per_address = Counter(p.remote_address for p in self.pending.values())
            crowded = max(per_address.values())
            dropped = next(
                i for i, p in self.pending.items() if per_address[p.remote_address] == crowded
            )
            del self.pending[dropped]
            self._abort_discovery(dropped)
        if not new:
            return
        set_issue(
            self.hass,
            self._waiting_issue_id(pending.identity),
            "charger_waiting",
            {
                "identity": escape_markdown(pending.identity),
                "model": escape_markdown(
                    " ".join(filter(None, (pending.info.vendor, pending.info.model))) or "?"
                ),
                "address": escape_markdown(pending.remote_address or "?"),
            },
            persistent=False,
        )
        _LOGGER.info(
            "Unknown charger %s (%s %s) from %s is waiting for approval",
            pending.identity,
            untrusted(pending.info.vendor, 40),
            untrusted(pending.info.model, 40),
            pending.remote_address,
        )
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "entry_id": self.entry.entry_id,
                "identity": pending.identity,
                "vendor": pending.info.vendor or "",
                "model": pending.info.model or "",
                "serial": pending.info.serial or "",
                "firmware": pending.info.firmware or "",
                "address": pending.remote_address or "",
            },
        )

    def _waiting_issue_id(self, identity: str) -> str:
        return f"charger_waiting_{self.entry.entry_id}_{identity}"

    def _abort_discovery(self, identity: str) -> None:
        set_issue(self.hass, self._waiting_issue_id(identity), None)
        unique_id = discovery_unique_id(self.entry.entry_id, identity)
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            if flow["context"].get("unique_id") == unique_id:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])

    def authorize(self, charger: Charger, id_tag: str, action: str) -> AuthorizationStatus:
        """The charger's controller decides (lock, cards, learn mode)."""
        return self.chargers[charger.identity].controller.authorize(id_tag, action)

    def auth_failures(self, identity: str, address: str, count: int) -> None:
        """Someone keeps presenting wrong passwords: tell the owner who and from where.

        One issue per registered charger (the latest address named), so their
        number stays bounded; it goes when the right password is presented.
        """
        if identity not in self.chargers:
            return
        set_issue(
            self.hass,
            self._wrong_password_issue_id(identity),
            "repeated_wrong_password",
            {
                "identity": escape_markdown(identity),
                "address": escape_markdown(address),
                "count": str(count),
            },
        )

    def auth_succeeded(self, identity: str, address: str) -> None:
        """The right password was presented: the wrong-password issue is over."""
        del address
        set_issue(self.hass, self._wrong_password_issue_id(identity), None)

    def _wrong_password_issue_id(self, identity: str) -> str:
        return f"wrong_password_{self.entry.entry_id}_{identity}"

    async def charger_ready(self, handler: ChargerPort) -> None:
        """A registered charger booted or reconnected: apply lock and offline protection."""
        registered = self.chargers.get(handler.session.identity)
        if registered is not None:
            await registered.controller.async_configure(handler)

    # ------------------------------------------------------------- settings
    def remote_id_tag(self, registered: RegisteredCharger) -> str:
        """The idTag Home Assistant uses for remote starts on this charger."""
        subentry = self.entry.subentries[registered.subentry_id]
        return str(subentry.data.get(CONF_REMOTE_ID_TAG) or DEFAULT_REMOTE_ID_TAG)

    def cards(self, registered: RegisteredCharger) -> list[Card]:
        """The charger's card list (from its subentry)."""
        subentry = self.entry.subentries[registered.subentry_id]
        return [Card.from_dict(c) for c in subentry.data.get(CONF_CARDS, [])]

    def add_card(self, registered: RegisteredCharger, uid: str, name: str | None) -> Card:
        """Add a card to the charger's list (no restart of anything)."""
        cards = self.cards(registered)
        card = Card(uid=normalise(uid), name=name or f"Card {len(cards) + 1}")
        self._write_cards(registered, [*cards, card])
        return card

    def remove_card(self, registered: RegisteredCharger, uid: str) -> bool:
        """Remove a card (matched as entered or as presented); False if not found."""
        cards = self.cards(registered)
        kept = [c for c in cards if not (c.uid == normalise(uid) or c.matches(uid))]
        if len(kept) == len(cards):
            return False
        self._write_cards(registered, kept)
        return True

    def _write_cards(self, registered: RegisteredCharger, cards: list[Card]) -> None:
        subentry = self.entry.subentries[registered.subentry_id]
        self.hass.config_entries.async_update_subentry(
            self.entry,
            subentry,
            data={**subentry.data, CONF_CARDS: [c.as_dict() for c in cards]},
        )

    # ------------------------------------------------------------- reports
    def _issue_id(self, kind: str, registered: RegisteredCharger) -> str:
        return f"{kind}_{self.entry.entry_id}_{registered.identity}"

    def _report_reboot(self, registered: RegisteredCharger) -> None:
        reboot = registered.charger.reboot
        if reboot is None or reboot.result is RebootResult.PENDING:
            return
        self.hass.bus.async_fire(
            f"{DOMAIN}_reboot_finished",
            {
                "identity": registered.identity,
                "name": registered.name,
                "result": reboot.result.value,
                "hard": reboot.hard,
                "duration_s": reboot.duration_s,
                "detail": reboot.detail,
            },
        )
        set_issue(
            self.hass,
            self._issue_id("reboot_failed", registered),
            "reboot_failed" if reboot.result is RebootResult.FAILED else None,
            {"charger": registered.name},
            severity=ir.IssueSeverity.ERROR,
        )

    def _report_protection(self, registered: RegisteredCharger) -> None:
        charger = registered.charger
        active = charger.protection is not ProtectionStatus.ACTIVE
        set_issue(
            self.hass,
            self._issue_id("offline_protection", registered),
            f"offline_protection_{charger.protection}" if active else None,
            {"charger": registered.name, "keys": ", ".join(charger.protection_keys)},
        )

    def _report_energy_rejected(self, registered: RegisteredCharger, count: int) -> None:
        """An energy reading was refused as implausible: tell the owner what and why.

        A charger whose meter keeps glitching must not flood the log: the 1st, 10th,
        100th ... refusal is a warning, the others are logged at debug level. The
        repair issue always shows the latest refused reading and the count so far.
        """
        connector = registered.charger.last_rejected_connector()
        if connector is None:
            return
        energy = connector.energy
        reported = count == 1 or (count % 10 == 0 and str(count).rstrip("0") == "1")
        _LOGGER.log(
            logging.WARNING if reported else logging.DEBUG,
            "Charger %s reported an energy register of %.0f Wh on connector %d, more than it "
            "can have delivered since its last reading of %s Wh; ignored",
            registered.identity,
            energy.last_rejected_wh or 0.0,
            connector.connector_id,
            "-" if energy.last_register_wh is None else f"{energy.last_register_wh:.0f}",
        )
        set_issue(
            self.hass,
            self._issue_id("energy_rejected", registered),
            "energy_reading_rejected",
            {
                "charger": registered.name,
                "connector": str(connector.connector_id),
                "reading": f"{(energy.last_rejected_wh or 0.0) / 1000:.3f}",
                "previous": "-"
                if energy.last_register_wh is None
                else f"{energy.last_register_wh / 1000:.3f}",
                "count": str(count),
            },
        )

    def limit_repair(self, registered: RegisteredCharger, active: bool) -> None:
        """Raise (or clear) the repair for a current limit the charger keeps ignoring."""
        limit = registered.charger.limit
        set_issue(
            self.hass,
            self._issue_id("limit_not_applied", registered),
            "limit_not_applied" if active else None,
            {
                "charger": registered.name,
                "requested": f"{limit.requested_a or 0:.0f}",
                "reported": "-" if limit.reported_a is None else f"{limit.reported_a:.1f}",
            },
        )

    def next_transaction_id(self) -> int:
        """A new transaction id, saved promptly so it is never handed out twice."""
        value = self._next_transaction_id
        self._next_transaction_id += 1
        self.schedule_save(delay=1.0)
        return value


def _schedule(subentry: ConfigSubentry) -> ChargingWindow | None:
    """The charging window of a charger's settings (None: none, or not readable)."""
    data = subentry.data.get(CONF_SCHEDULE)
    if not data:
        return None
    try:
        return ChargingWindow.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        _LOGGER.warning("The charging schedule of %s is not readable: %s", subentry.title, err)
        return None


def device_details(charger: Charger) -> DeviceInfo:
    """Maker, model, serial number and firmware for the device page.

    Where the vendor profile knows the model code, the model is its readable name
    (Pulsar Plus) and the code the charger sent stays as the model id.
    """
    info = charger.info
    profile = charger.profile
    return DeviceInfo(
        manufacturer=(profile.brand if info.vendor else None) or info.vendor,
        model=profile.model_name(info.model) or info.model,
        model_id=info.model,
        serial_number=info.serial,
        sw_version=info.firmware,
    )


def _reboot_state(charger: Charger) -> tuple[datetime, RebootResult] | None:
    reboot = charger.reboot
    return (reboot.requested_at, reboot.result) if reboot else None


def discovery_unique_id(entry_id: str, identity: str) -> str:
    """The unique id of the discovery flow of an unknown charger."""
    return f"{entry_id}_{identity}"
