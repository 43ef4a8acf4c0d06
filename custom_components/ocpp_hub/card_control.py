"""Lock and cards of a charger's control: free vend, auto-lock, learning, authorization.

The one place that decides whether a card may charge here, keeps the charger's
local list (for offline use) in step with the owner's card list, and starts a
charge itself where an unlocked charger has no free-vend mode of its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import functools
import logging
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later

from .autolock import AutoLock
from .controller_base import ChargerLinks, ControllerBase
from .csms.backend import AuthorizationStatus
from .csms.port import ChargerPort, Setting
from .model.charger import CardDecision, Charger
from .model.control import LearnState, LearnStatus
from .model.rfid import Card, find_card, id_tag_forms, local_list_id_tags, normalise
from .model.status import ConnectorStatus

_LOGGER = logging.getLogger(__name__)

LEARN_WINDOW = 60.0  # seconds the "learn card" mode stays open
# An Authorize and the StartTransaction that follows it are one presentation of a card.
SAME_PRESENTATION = timedelta(minutes=2)


class CardControl(ControllerBase):
    """Who may charge at one charger: the lock, its cards, the learn window."""

    def __init__(
        self, hass: HomeAssistant, charger: Charger, name: str, links: ChargerLinks
    ) -> None:
        """Nothing learnt, no free-vend start on its way."""
        super().__init__(hass, charger, name, links)
        self._learn_until: float | None = None
        self._cancel_learn_timer: CALLBACK_TYPE | None = None
        self._local_list_version = 0
        self._free_vend_started: set[int] = set()
        # The remote start of a free-vend plug-in, per connector, until it is done.
        self._free_vend_tasks: dict[int, asyncio.Task[Any]] = {}
        self.auto_lock = AutoLock(hass, charger, lambda: self.async_set_locked(True))

    def _stop_cards(self) -> None:
        """Stop timers and tasks (the controller shuts down)."""
        self._cancel_free_vend()
        self._stop_learn_timer()
        self.auto_lock.shutdown()

    def _cancel_free_vend(self, connector_id: int | None = None) -> None:
        """Drop free-vend starts not sent yet (or unanswered): unplugged, or locked again."""
        for cid in [connector_id] if connector_id is not None else list(self._free_vend_tasks):
            task = self._free_vend_tasks.pop(cid, None)
            if task is not None and not task.done():
                task.cancel()

    async def async_set_auto_lock(self, minutes: int) -> None:
        """Lock again this many minutes after the car is unplugged (0: never)."""
        self.charger.owner.apply_auto_lock(max(0, int(minutes)))
        self.links.save()
        self.auto_lock.minutes_changed()

    @callback
    def charger_changed(self) -> None:
        """Free vend where the charger has no such mode: start the charge ourselves.

        Unlocked, a car plugged in (Preparing) and no transaction: the central
        system starts the transaction remotely, once per plug-in. A start still
        waiting (for its turn, or for the charger's answer) is dropped when the
        car is unplugged or the owner locks again: at most one per connector.
        """
        charger = self.charger
        self.auto_lock.charger_changed()
        if charger.profile.lock_setting or charger.owner.lock_wanted or not charger.connected:
            self._cancel_free_vend()
            return
        for connector in charger.outlets:
            cid = connector.connector_id
            waiting = (
                connector.status is ConnectorStatus.PREPARING and connector.transaction is None
            )
            if not waiting:
                self._free_vend_started.discard(cid)
                self._cancel_free_vend(cid)
            elif cid not in self._free_vend_started:
                self._free_vend_started.add(cid)
                handler = self._connection()
                if handler is not None:
                    id_tag = self.remote_id_tag()
                    task = handler.session.spawn(
                        handler.remote_start(id_tag, cid), "free vend start"
                    )
                    if task is not None:
                        self._free_vend_tasks[cid] = task
                        task.add_done_callback(functools.partial(self._free_vend_done, cid))

    def _free_vend_done(self, connector_id: int, task: asyncio.Task[Any]) -> None:
        if self._free_vend_tasks.get(connector_id) is task:
            del self._free_vend_tasks[connector_id]

    def cards(self) -> list[Card]:
        """The charger's card list."""
        return self.links.cards()

    def add_card(self, uid: str, name: str | None) -> Card:
        """Add a card to the charger's list (ValueError: ``uid`` is no card UID)."""
        return self.links.add_card(uid, name)

    def remove_card(self, uid: str) -> bool:
        """Remove a card (matched as entered or as presented); False if not found."""
        return self.links.remove_card(uid)

    def start_learning(self) -> None:
        """The next card presented within the window is added to the list.

        The model says so (the Card learning sensor: waiting, until when), and
        again when a card was learned or the window closed without one.
        """
        self._learn_until = asyncio.get_running_loop().time() + LEARN_WINDOW
        self._stop_learn_timer()
        self._cancel_learn_timer = async_call_later(
            self.hass, LEARN_WINDOW, self._learning_timed_out
        )
        self.charger.owner.apply_learning(
            LearnState(
                LearnStatus.WAITING, until=datetime.now(UTC) + timedelta(seconds=LEARN_WINDOW)
            )
        )

    def _stop_learn_timer(self) -> None:
        if self._cancel_learn_timer is not None:
            self._cancel_learn_timer()
            self._cancel_learn_timer = None

    @callback
    def _learning_timed_out(self, _now: datetime) -> None:
        self._cancel_learn_timer = None
        self._learn_until = None
        if self.charger.owner.learn.status is LearnStatus.WAITING:
            self.charger.owner.apply_learning(LearnState(LearnStatus.TIMED_OUT))

    @property
    def learning(self) -> bool:
        """Whether the learn-card window is open."""
        return (
            self._learn_until is not None and asyncio.get_running_loop().time() < self._learn_until
        )

    def authorize(self, id_tag: str, action: str = "Authorize") -> AuthorizationStatus:
        """The one place that decides whether a card may charge here.

        One presentation of a card is one decision (one Card presented event):
        the StartTransaction that follows its Authorize, the StopTransaction that
        ends the session and Home Assistant's own remote starts are answered
        the same way but not announced again.
        """
        now = datetime.now(UTC)
        tag = normalise(id_tag)
        card = find_card(self.cards(), id_tag)
        learned = False
        remote = tag == normalise(self.remote_id_tag())
        if remote:
            status = AuthorizationStatus.ACCEPTED
        elif card is not None:
            status = AuthorizationStatus.ACCEPTED if card.enabled else AuthorizationStatus.BLOCKED
        elif self.learning and action != "StopTransaction" and self._learnable(tag):
            card = self.links.add_card(id_tag, None)
            self._learn_until = None
            self._stop_learn_timer()
            self.charger.owner.apply_learning(
                LearnState(LearnStatus.LEARNED, card_name=card.name, id_tag=tag)
            )
            learned = True
            status = AuthorizationStatus.ACCEPTED
        elif not self.charger.owner.lock_wanted:
            status = AuthorizationStatus.ACCEPTED
        else:
            status = AuthorizationStatus.INVALID
        if not remote and action != "StopTransaction" and not self._just_decided(tag, now):
            self.charger.owner.apply_card_decision(
                CardDecision(
                    id_tag=tag,
                    card_name=card.name if card else None,
                    accepted=status is AuthorizationStatus.ACCEPTED,
                    status=status.value,
                    at=now,
                    learned=learned,
                )
            )
        return status

    def _learnable(self, tag: str) -> bool:
        """Whether a presented idTag can be a card: a UID, not the charger's no-card tag.

        A Wallbox with authorization off starts with its free-vend idTag
        (``NoAuthorization``); other chargers send names or numbers that are no
        card. Such a tag is not learnt (the window stays open for a real card).
        """
        no_card = self.setting_value(Setting.FREE_VEND_ID_TAG) or "NoAuthorization"
        if tag == normalise(no_card):
            return False
        try:
            id_tag_forms(tag)
        except ValueError:
            _LOGGER.info(
                "Charger %s: a presented idTag is not a card UID; not learnt",
                self.identity,
            )
            return False
        return True

    def _just_decided(self, tag: str, now: datetime) -> bool:
        """The same card was presented moments ago (Authorize, then StartTransaction)."""
        last = self.charger.owner.decisions[-1] if self.charger.owner.decisions else None
        return last is not None and last.id_tag == tag and now - last.at < SAME_PRESENTATION

    async def async_set_locked(self, locked: bool) -> None:
        """Lock (authorization required) or unlock (free vend), and apply it now if online."""
        self.charger.owner.apply_lock_wanted(locked)
        self.links.save()
        # Not booted yet: the set-up after its boot applies it (nothing before the boot).
        if (handler := self._booted_connection()) is not None:
            await self._apply_lock(handler, raise_errors=True)

    async def _apply_lock(self, handler: ChargerPort, *, raise_errors: bool) -> None:
        key = self.setting_name(Setting.AUTHORIZATION_REQUIRED)
        if key is None:
            return  # enforced by our own answers to Authorize and StartTransaction
        wanted = "true" if self.charger.owner.lock_wanted else "false"
        if (self.setting_value(Setting.AUTHORIZATION_REQUIRED) or "").lower() == wanted:
            return
        try:
            await self.run(lambda h: h.write_setting(Setting.AUTHORIZATION_REQUIRED, wanted))
        except HomeAssistantError:
            if raise_errors:
                raise
            _LOGGER.warning("Charger %s refused %s=%s", self.identity, key, wanted)

    def cards_changed(self) -> None:
        """The card list changed: keep the charger's local list (offline use) in step."""
        # Never to a connection that has not booted: its set-up sends the list after the boot.
        if (handler := self._booted_connection()) is not None:
            handler.session.spawn(self.send_local_list(handler), "send local list")

    async def send_local_list(self, handler: ChargerPort) -> None:
        """Give the charger the enabled cards, for authorization while offline."""
        little_endian = self.charger.profile.little_endian_uids
        # Increasing across restarts too: the version is the time of the list.
        self._local_list_version = max(
            self._local_list_version + 1, int(datetime.now(UTC).timestamp())
        )
        # Every reading of a card (an all-digit number may be hex or decimal).
        id_tags = [
            id_tag
            for card in self.cards()
            if card.enabled
            for id_tag in local_list_id_tags(card, little_endian)
        ]
        await handler.send_cards(self._local_list_version, id_tags)
