"""The runtime of one central system entry: server, registered chargers, their lifecycle.

The hub is the application behind the protocol layer: it knows which chargers
the owner registered (config subentries), builds each one's model, controller
and sessions, and tells the platforms when a charger or a connector needs
entities. What the server asks of it (passwords, unknown chargers, cards) is
answered by its :mod:`.hub_backend`, which hands an unknown charger to
:mod:`.pending_approvals`. What it holds is saved by :mod:`.charger_store`; its
repair issues are derived by :mod:`.repairs`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Coroutine
import functools
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import charger_subentry
from .charger_store import SAVE_DELAY, ChargerStore
from .const import (
    CONF_CARDS,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PING_INTERVAL,
    CONF_PORT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_PING_INTERVAL,
    DEFAULT_PORT,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from .controller import ChargerController
from .controller_base import ChargerLinks
from .csms.server import CentralSystem, ServerConfig
from .csms.version import HandlerSettings
from .energy_manager import EnergyManager
from .entity_factories import EntityFactories, EntityFactory
from .hub_backend import HubBackend
from .model.charger import Charger
from .model.control import RebootResult
from .model.rfid import Card
from .model.storage_format import charger_as_dict
from .pending_approvals import PendingApprovals, PendingCharger
from .registered_charger import RegisteredCharger, device_details, reboot_state
from .repairs import RepairIssues
from .sessions import SessionBook

type OcppHubConfigEntry = ConfigEntry[OcppHub]


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
        self.issues = RepairIssues(hass, entry)
        self.storage = ChargerStore(
            hass,
            entry,
            lambda: {i: charger_as_dict(r.charger) for i, r in self.chargers.items()},
            self.issues.storage_damaged,
        )
        self.chargers: dict[str, RegisteredCharger] = {}
        self.approvals = PendingApprovals(hass, entry, self.issues)
        self.backend = HubBackend(
            hass,
            entry,
            self.chargers,
            storage=self.storage,
            approvals=self.approvals,
            issues=self.issues,
            register=self._add_charger,
        )
        self.server = CentralSystem(server_config(entry, ssl_context), self.backend)
        self.factories = EntityFactories()
        self.sessions = SessionBook(hass, entry, self.storage.renamed)
        self.energy = EnergyManager(
            hass, entry, self.chargers, self.schedule_save, self.issues.energy_fallback
        )

    @property
    def pending(self) -> OrderedDict[str, PendingCharger]:
        """Unknown chargers waiting for the owner's approval, oldest first."""
        return self.approvals.pending

    # ------------------------------------------------------------- lifecycle
    async def async_start(self) -> None:
        """Restore the chargers from storage, then listen (OSError if the port is taken)."""
        await self.storage.async_load()
        await self.sessions.async_load()
        self.async_sync_subentries()
        await self.server.start()
        self.energy.start()

    async def async_stop(self) -> None:
        """Close every connection and the server, and save."""
        self.energy.stop()
        await self.server.stop()
        self.approvals.stop()
        for registered in self.chargers.values():
            if registered.unsubscribe:
                registered.unsubscribe()
            registered.controller.shutdown()
        await self.sessions.async_stop()
        await self.storage.async_save()

    @callback
    def schedule_save(self, delay: float = SAVE_DELAY) -> None:
        """Save within ``delay`` seconds (a save already due sooner is kept)."""
        self.storage.schedule_save(delay)

    # ------------------------------------------------------------- platforms
    @callback
    def async_register_platform(
        self, factory: EntityFactory, add_entities: AddConfigEntryEntitiesCallback
    ) -> None:
        """A platform's entity factory: called now for every charger, later for new ones."""
        self.factories.register(factory, add_entities)
        for registered in self.chargers.values():
            self.factories.add_missing(registered)

    @property
    def adding_entities(self) -> bool:
        """Whether platforms may add entities (not once the entry is unloading)."""
        return self.entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)

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
            window = charger_subentry.charging_window(subentry)
            if window != registered.charger.owner.schedule:
                registered.charger.owner.apply_schedule(window)
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
                self.issues.password_changed(identity)
            # Pinned to another version than it speaks: it reconnects and gets that one.
            self.server.enforce_protocol(identity)
            self._report_password(registered)

    def _report_password(self, registered: RegisteredCharger) -> None:
        """A charger without a password: a repair issue for as long as it has none."""
        self.issues.password_set(
            registered.name, registered.identity, registered.password_hash is not None
        )

    def _links(self, charger: Charger, subentry_id: str) -> ChargerLinks:
        """What the controller of a charger may use of this central system."""
        identity = charger.identity
        return ChargerLinks(
            connection=functools.partial(self.server.handler, identity),
            setting_name=lambda setting: self.server.setting_name(
                identity, setting, charger.profile
            ),
            remote_id_tag=lambda: charger_subentry.remote_id_tag(self._subentry(subentry_id)),
            cards=lambda: charger_subentry.cards(self._subentry(subentry_id)),
            add_card=lambda uid, name: charger_subentry.add_card(
                self.hass, self.entry, self._subentry(subentry_id), uid, name
            ),
            remove_card=lambda uid: charger_subentry.remove_card(
                self.hass, self.entry, self._subentry(subentry_id), uid
            ),
            save=self.schedule_save,
            decide_again=self.energy.evaluate,
            background_task=self._background_task,
        )

    def _subentry(self, subentry_id: str) -> ConfigSubentry:
        return self.entry.subentries[subentry_id]

    def _background_task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return self.entry.async_create_background_task(self.hass, coro, name)

    def _add_charger(self, subentry: ConfigSubentry) -> RegisteredCharger:
        identity = subentry.data[CONF_IDENTITY]
        charger = self.storage.charger(identity)
        controller = ChargerController(
            self.hass, charger, subentry.title, self._links(charger, subentry.subentry_id)
        )
        charger.owner.schedule = charger_subentry.charging_window(subentry)
        registered = RegisteredCharger(
            entry_id=self.entry.entry_id,
            subentry_id=subentry.subentry_id,
            password_hash=subentry.data.get(CONF_PASSWORD_HASH),
            charger=charger,
            controller=controller,
            sessions=self.sessions.track(controller),
            adding_entities=lambda: self.adding_entities,
            device_info_of=charger.info,
            cards_sent=subentry.data.get(CONF_CARDS, []),
            reported_reboot=reboot_state(charger),
        )
        registered.unsubscribe = charger.add_listener(lambda: self._charger_changed(registered))
        self.chargers[identity] = registered
        self.factories.add_missing(registered)
        # Whoever is connected as this identity must have presented its password, and
        # speak the version it is set to (approved as another: it reconnects with that).
        self.server.enforce_credentials(identity)
        self.server.enforce_protocol(identity)
        self._adopt_if_waiting(registered)
        return registered

    def _adopt_if_waiting(self, registered: RegisteredCharger) -> None:
        pending = self.approvals.take(registered.identity)
        handler = self.server.handler(registered.identity)
        if pending is None or handler is None or handler.charger is not None:
            return
        # Its discovery card goes (later: the approving flow may be the one running now).
        self.hass.loop.call_soon(self.approvals.abort_discovery, registered.identity)
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
        self.issues.charger_removed(identity)
        self.storage.forget(identity)
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
            self.factories.add_missing(registered)
        registered.controller.charger_changed()
        self.energy.request()
        if (reboot := reboot_state(charger)) != registered.reported_reboot:
            registered.reported_reboot = reboot
            self._announce_reboot(registered)
        self.issues.charger_changed(registered.name, charger)
        self.schedule_save()

    def _announce_reboot(self, registered: RegisteredCharger) -> None:
        """A reboot ended (succeeded, failed, refused): an event says how."""
        reboot = registered.charger.owner.reboot
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

    # ------------------------------------------------------------- settings
    def remote_id_tag(self, registered: RegisteredCharger) -> str:
        """The idTag Home Assistant uses for remote starts on this charger."""
        return registered.controller.remote_id_tag()

    def cards(self, registered: RegisteredCharger) -> list[Card]:
        """The charger's card list (from its subentry)."""
        return registered.controller.cards()

    def add_card(self, registered: RegisteredCharger, uid: str, name: str | None) -> Card:
        """Add a card to the charger's list (no restart of anything)."""
        return registered.controller.add_card(uid, name)

    def remove_card(self, registered: RegisteredCharger, uid: str) -> bool:
        """Remove a card (matched as entered or as presented); False if not found."""
        return registered.controller.remove_card(uid)
