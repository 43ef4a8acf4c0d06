"""Control of one charger: commands with truthful outcomes, lock, cards, limits.

Entities and actions call a charger's :class:`ChargerController`; it sends the
OCPP calls (one at a time, through the session), turns every failure into a
translated Home Assistant error that names the charger and the reason, and
follows up on what the charger really did: a reboot that never came back, a
current limit accepted but not applied, an offline-protection key refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import functools
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .autolock import AutoLock
from .const import DOMAIN
from .csms.backend import AuthorizationStatus
from .csms.errors import CallFailed, FailureReason
from .csms.port import (
    Capability,
    ChargerPort,
    CommandStatus,
    LimitRequest,
    Setting,
    reported_key,
)
from .model.charger import CardDecision
from .model.control import LearnState, LearnStatus, LimitStatus, ProtectionStatus, RebootResult
from .model.rfid import Card, find_card, id_tag_forms, local_list_id_tags, normalise
from .model.status import ConnectorStatus

if TYPE_CHECKING:
    from .hub import OcppHub, RegisteredCharger

_LOGGER = logging.getLogger(__name__)

DEFAULT_REBOOT_DEADLINE = 300.0  # seconds for a charger to come back after a reset
LIMIT_INTERVAL = 5.0  # at most one limit sent per this many seconds
LEARN_WINDOW = 60.0  # seconds the "learn card" mode stays open
LIMIT_FAILURES_FOR_REPAIR = 3
# An Authorize and the StartTransaction that follows it are one presentation of a card.
SAME_PRESENTATION = timedelta(minutes=2)

# Offline protection: setting -> wanted value (see "Offline protection" in the README).
OFFLINE_PROTECTION = {
    Setting.OFFLINE_UNKNOWN_CARDS: "false",
    Setting.OFFLINE_LOCAL_AUTHORIZE: "true",
}


class ChargerController:
    """Commands and follow-up for one registered charger."""

    def __init__(self, hass: HomeAssistant, hub: OcppHub, registered: RegisteredCharger) -> None:
        """Control ``registered`` through ``hub``'s server."""
        self.hass = hass
        self.hub = hub
        self.registered = registered
        self.charger = registered.charger
        self.reboot_deadline = DEFAULT_REBOOT_DEADLINE
        self.limit_interval = LIMIT_INTERVAL
        self._cancel_reboot_timer: CALLBACK_TYPE | None = None
        self._limit_task: asyncio.Task[None] | None = None
        self._limit_sent_at: float | None = None
        self._learn_until: float | None = None
        self._cancel_learn_timer: CALLBACK_TYPE | None = None
        self._local_list_version = 0
        self._free_vend_started: set[int] = set()
        # The remote start of a free-vend plug-in, per connector, until it is done.
        self._free_vend_tasks: dict[int, asyncio.Task[Any]] = {}
        self.auto_lock = AutoLock(hass, self.charger, lambda: self.async_set_locked(True))
        # Charger settings: one change (and its read-back) at a time; settings the
        # charger answered RebootRequired for, and when (a boot after that applies them).
        self._settings_lock = asyncio.Lock()
        self.reboot_required: dict[Setting, datetime] = {}
        # The energy manager's current and phases (None: not managed / the charger's own).
        self.energy_a: float | None = None
        self.energy_phases: int | None = None
        self._limit_wake = asyncio.Event()  # the energy manager lowers: send at once

    # ----------------------------------------------------------------- plumbing
    def _placeholders(self, **extra: str) -> dict[str, str]:
        return {"charger": self.registered.name, **extra}

    def _connection(self) -> ChargerPort | None:
        """The live connection of the charger, if any."""
        return self.hub.server.handler(self.registered.identity)

    def handler(self) -> ChargerPort:
        """The live connection, or a translated error saying the charger is offline."""
        handler = self._connection()
        if handler is None or handler.charger is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_offline",
                translation_placeholders=self._placeholders(),
            )
        return handler

    async def run[T](self, command: Callable[[ChargerPort], Awaitable[T]]) -> T:
        """Run a command; a failure becomes a translated error naming charger and reason."""
        handler = self.handler()
        try:
            return await command(handler)
        except CallFailed as err:
            raise self._failure(err) from err

    async def run_if_supported[T](
        self, capability: Capability, action: str, command: Callable[[ChargerPort], Awaitable[T]]
    ) -> T:
        """Run a command only some versions have; not supported (here) says so, as a failure."""
        if not self.handler().supports(capability):
            raise self._failure(CallFailed(action, FailureReason.NOT_SUPPORTED, capability.value))
        return await self.run(command)

    def _failure(self, err: CallFailed) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=f"command_{err.reason.value}",
            translation_placeholders=self._placeholders(
                action=err.action, detail=err.detail or "-"
            ),
        )

    def shutdown(self) -> None:
        """Stop timers and tasks (the entry unloads or the charger was removed)."""
        if self._cancel_reboot_timer:
            self._cancel_reboot_timer()
            self._cancel_reboot_timer = None
        if self._limit_task and not self._limit_task.done():
            self._limit_task.cancel()
        self._cancel_free_vend()
        self._stop_learn_timer()
        self.auto_lock.shutdown()

    def _cancel_free_vend(self, connector_id: int | None = None) -> None:
        """Drop free-vend starts not sent yet (or unanswered): unplugged, or locked again."""
        for cid in [connector_id] if connector_id is not None else list(self._free_vend_tasks):
            task = self._free_vend_tasks.pop(cid, None)
            if task is not None and not task.done():
                task.cancel()

    # ------------------------------------------------------------------ reboot
    async def async_reboot(
        self, *, hard: bool = False, confirm_while_charging: bool = False
    ) -> None:
        """Reset the charger and track whether it comes back."""
        if self.charger.charging and not confirm_while_charging:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="reboot_while_charging",
                translation_placeholders=self._placeholders(),
            )
        now = datetime.now(UTC)
        try:
            await self.run(lambda h: h.reset(hard))
        except HomeAssistantError as err:
            cause = err.__cause__
            if isinstance(cause, CallFailed) and cause.reason is FailureReason.REJECTED:
                self.charger.apply_reboot_outcome(RebootResult.REJECTED, now, cause.detail)
            raise
        self.charger.apply_reboot_requested(hard, now)
        if self._cancel_reboot_timer:
            self._cancel_reboot_timer()
        self._cancel_reboot_timer = async_call_later(
            self.hass, self.reboot_deadline, self._reboot_deadline_passed
        )

    @callback
    def _reboot_deadline_passed(self, _now: datetime) -> None:
        self._cancel_reboot_timer = None
        reboot = self.charger.reboot
        if reboot is not None and reboot.result is RebootResult.PENDING:
            _LOGGER.warning(
                "Charger %s did not come back within %.0f s of a reboot",
                self.registered.identity,
                self.reboot_deadline,
            )
            self.charger.apply_reboot_outcome(
                RebootResult.FAILED, datetime.now(UTC), "no BootNotification"
            )

    # ------------------------------------------------------- start/stop, availability
    async def async_start_charging(self, connector_id: int = 1) -> None:
        """Remote start with this charger's stable idTag."""
        id_tag = self.hub.remote_id_tag(self.registered)
        await self.run(lambda h: h.remote_start(id_tag, connector_id))

    async def async_stop_charging(self, connector_id: int | None = None) -> None:
        """Remote stop of the running transaction."""
        connectors = (
            [self.charger.connector(connector_id)] if connector_id else self.charger.outlets
        )
        running = next((c.transaction for c in connectors if c.transaction), None)
        if running is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_transaction",
                translation_placeholders=self._placeholders(),
            )
        await self.run(lambda h: h.remote_stop(running.transaction_id))

    async def async_set_available(self, available: bool, connector_id: int = 0) -> str:
        """Availability; returns Accepted or Scheduled (applies after the session).

        Scheduled is kept in the model, so the Available switch can say what is coming.
        """
        status = await self.run(lambda h: h.set_available(connector_id, available))
        scheduled = status is CommandStatus.SCHEDULED
        self.charger.apply_availability_scheduled(available if scheduled else None)
        return status.value

    async def async_unlock(self, connector_id: int = 1) -> None:
        """Unlock the connector (not a lock: it releases the cable of a socket charger).

        A tethered cable has nothing to release: the charger answers NotSupported,
        which is said as such.
        """
        handler = self.handler()
        try:
            await handler.unlock(connector_id)
        except CallFailed as err:
            if err.reason is FailureReason.NOT_SUPPORTED:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="unlock_not_supported",
                    translation_placeholders=self._placeholders(),
                ) from err
            raise self._failure(err) from err

    # ------------------------------------------------------------ current limit
    @property
    def max_current(self) -> int:
        """The highest limit the charger takes."""
        return self.charger.max_current_a

    def validate_limit(self, amps: float) -> float:
        """0 (pause) or between the profile's minimum and the maximum."""
        minimum = self.charger.profile.min_current_a
        if amps != 0 and not minimum <= amps <= self.max_current:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="limit_out_of_range",
                translation_placeholders=self._placeholders(
                    minimum=str(minimum), maximum=str(self.max_current)
                ),
            )
        return float(int(amps))

    async def async_set_limit(self, amps: float) -> None:
        """Ask for a current limit; rapid changes coalesce, the last value wins.

        While the owner has paused charging, the limit is the one charging resumes at.
        """
        amps = self.validate_limit(amps)
        if self.charger.limit.paused:
            self.charger.apply_pause(True, amps)
            self.hub.schedule_save()
            return
        self.handler()  # offline: fail now, not later
        self.charger.apply_limit(requested_a=amps, status=LimitStatus.PENDING)
        self._request_limit()

    @callback
    def set_energy_target(self, amps: float | None, phases: int | None) -> None:
        """The energy manager's current (None: not managed) and phases (None: the charger's).

        The charger gets the lower of this and the owner's limit, through the
        same coalesced and verified path; offline, it is sent at the next boot.
        """
        if (amps, phases) == (self.energy_a, self.energy_phases):
            return
        self.energy_a, self.energy_phases = amps, phases
        handler = self._connection()
        if handler is None or handler.charger is None or not handler.booted:
            return
        self.charger.apply_limit(status=LimitStatus.PENDING)
        self._request_limit()

    def effective_limit(self) -> float | None:
        """What the charger must apply: the owner's limit, lowered by the energy manager."""
        requested = self.charger.limit.requested_a
        if self.energy_a is None:
            return requested
        return self.energy_a if requested is None else min(requested, self.energy_a)

    def _request_limit(self) -> None:
        """Send the effective limit now, or an interval after the last one was sent.

        The energy manager lowering a charger (the main fuse, a cloud) does not wait
        for the interval: one request at a time all the same.
        """
        if self._limit_task is not None and not self._limit_task.done():
            if self._energy_lowers():
                self._limit_wake.set()
            return  # the pending send picks up the newest value
        loop = asyncio.get_running_loop()
        wait = 0.0
        if self._limit_sent_at is not None and not self._energy_lowers():
            wait = max(0.0, self._limit_sent_at + self.limit_interval - loop.time())
        self._limit_task = self.hub.entry.async_create_background_task(
            self.hass, self._send_limit(wait), f"ocpp_hub limit {self.registered.identity}"
        )

    def _energy_lowers(self) -> bool:
        """Whether the energy manager wants less than the charger was last given."""
        sent = self.charger.limit.sent_a
        return self.energy_a is not None and sent is not None and self.energy_a < sent

    async def _between_sends(self, seconds: float) -> None:
        """Wait ``seconds`` between two profiles, unless the energy manager lowers."""
        self._limit_wake.clear()
        if not seconds or self._energy_lowers():
            return
        try:
            async with asyncio.timeout(seconds):
                await self._limit_wake.wait()
        except TimeoutError:
            pass

    async def _send_limit(self, wait: float) -> None:
        """Send the newest wanted limit; if it changed meanwhile, the next one an interval later."""
        await self._between_sends(wait)
        while True:
            wanted = (self.effective_limit(), self.energy_phases)
            self._limit_sent_at = asyncio.get_running_loop().time()
            try:
                if wanted[0] is None:
                    await self._remove_profile()
                else:
                    await self.apply_limit(wanted[0])
            except HomeAssistantError as err:
                _LOGGER.warning(
                    "Charger %s: current limit %s not set: %s",
                    self.registered.identity,
                    "removal" if wanted[0] is None else f"{wanted[0]:.0f} A",
                    err,
                )
            if (self.effective_limit(), self.energy_phases) == wanted:
                return  # done
            self.charger.apply_limit(status=LimitStatus.PENDING)
            await self._between_sends(self.limit_interval)

    async def apply_limit(self, amps: float) -> None:
        """Send the limit (with the energy manager's phases and the charging window) and verify it.

        What the charger then reports in force must be what it was asked for.
        """
        phases = self.energy_phases if self.charger.phase_switching else None
        window = self.charger.schedule
        now = dt_util.now()
        expected = amps if window is None else window.limit_at(now, amps)
        request = LimitRequest(amps=amps, phases=phases, window=window, now=now)
        try:
            reported = await self.run(lambda h: h.set_limit(request))
        except HomeAssistantError:
            self.charger.apply_limit(status=LimitStatus.REJECTED)
            self._limit_repair()
            raise
        applied = reported is not None and abs(reported - expected) < 0.5
        self.charger.apply_limit(
            status=LimitStatus.APPLIED if applied else LimitStatus.NOT_APPLIED,
            reported_a=reported,
            sent_a=amps,
        )
        self._limit_repair()

    def _limit_repair(self) -> None:
        self.hub.limit_repair(
            self.registered, self.charger.limit.failures >= LIMIT_FAILURES_FOR_REPAIR
        )

    async def async_pause(self, paused: bool) -> None:
        """Pause (0 A: the session stays open) or resume at the limit from before."""
        limit = self.charger.limit
        if paused == limit.paused:
            return
        self.handler()  # offline: fail now
        if paused:
            resume = limit.requested_a
            await self.async_set_limit(0)
            self.charger.apply_pause(True, resume)
        else:
            resume = limit.resume_a
            self.charger.apply_pause(False, None)
            try:
                if resume is None:
                    await self.async_clear_limit()
                else:
                    await self.async_set_limit(resume)
            except HomeAssistantError:
                # Still paused (0 A in force): the owner can try again.
                self.charger.apply_pause(True, resume)
                raise
        self.hub.schedule_save()

    async def async_set_auto_lock(self, minutes: int) -> None:
        """Lock again this many minutes after the car is unplugged (0: never)."""
        self.charger.apply_auto_lock(max(0, int(minutes)))
        self.hub.schedule_save()
        self.auto_lock.minutes_changed()

    def _wanted_limit(self) -> float | None:
        """What the charger's profile must say: the limit, or with a schedule its maximum."""
        wanted = self.effective_limit()
        if wanted is None and self.charger.schedule is not None:
            return float(self.max_current)
        return wanted

    @callback
    def schedule_changed(self) -> None:
        """The owner changed the charging window: the charger's profile follows."""
        handler = self._connection()
        if handler is None or handler.charger is None or not handler.booted:
            return  # sent at the next boot (the check of the limit in force)
        amps = self._wanted_limit()
        if amps is None:
            handler.session.spawn(self.async_clear_limit(), "clear the schedule")
        else:
            self.charger.apply_limit(status=LimitStatus.PENDING)
            handler.session.spawn(self.apply_limit(amps), "send the schedule")

    async def async_clear_limit(self) -> None:
        """Remove the owner's limit: the charger's maximum (or the schedule) applies again.

        What the energy manager asks for still applies.
        """
        if self._limit_task is not None and not self._limit_task.done():
            # A limit on its way would be verified against the cleared schedule.
            self._limit_task.cancel()
        if self.charger.schedule is None and self.energy_a is None:
            await self._remove_profile()  # the owner's limit stays if this fails
            return
        self.charger.limit.requested_a = None
        amps = self._wanted_limit()
        assert amps is not None  # a schedule or the energy manager
        await self.apply_limit(amps)

    async def _remove_profile(self) -> None:
        """Remove our limit (with a schedule: its window alone)."""
        if self.charger.schedule is not None:
            await self.apply_limit(float(self.max_current))
            return
        await self.run(lambda h: h.clear_limit())
        self.charger.limit.requested_a = None
        self.charger.limit.sent_a = None
        self.charger.apply_limit(status=LimitStatus.APPLIED)

    # --------------------------------------------------------------- settings
    def needs_reboot(self, setting: Setting) -> bool:
        """Whether a change of ``setting`` waits for the charger's next boot."""
        since = self.reboot_required.get(setting)
        last_boot = self.charger.last_boot
        return since is not None and (last_boot is None or last_boot < since)

    def setting_name(self, setting: Setting) -> str | None:
        """What this charger calls ``setting`` (None: it has no such setting)."""
        return self.hub.server.setting_name(self.registered.identity, setting, self.charger.profile)

    def setting_value(self, setting: Setting) -> str | None:
        """The value of ``setting`` the charger last reported, if it did."""
        name = self.setting_name(setting)
        key = reported_key(self.charger.configuration, name) if name else None
        return None if key is None else self.charger.configuration[key]

    async def async_set_setting(self, setting: Setting, value: str) -> None:
        """Change a setting, then read it back: the charger's answer is the truth.

        A refusal (rejected, read-only, unknown) is a translated error; the value
        the charger then reports stays the one shown.
        """
        async with self._settings_lock:
            handler = self.handler()
            try:
                status = await handler.write_setting(setting, value)
            except CallFailed as err:
                await self._read_back(handler, setting)
                if err.reason in (FailureReason.REJECTED, FailureReason.NOT_SUPPORTED):
                    raise HomeAssistantError(
                        translation_domain=DOMAIN,
                        translation_key="setting_rejected",
                        translation_placeholders=self._placeholders(
                            key=self.setting_name(setting) or setting.value, value=value
                        ),
                    ) from err
                raise self._failure(err) from err
            if status is CommandStatus.REBOOT_REQUIRED:
                self.reboot_required[setting] = datetime.now(UTC)
            else:
                self.reboot_required.pop(setting, None)
            await self._read_back(handler, setting)
            self.charger.notify()  # the reboot-required mark is news too

    async def _read_back(self, handler: ChargerPort, setting: Setting) -> None:
        try:
            await handler.read_settings([setting])
        except CallFailed as err:
            _LOGGER.info("Charger %s: %s not read back: %s", self.registered.identity, setting, err)

    # --------------------------------------------------------- lock and cards
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
        if charger.profile.lock_setting or charger.lock_wanted or not charger.connected:
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
                    id_tag = self.hub.remote_id_tag(self.registered)
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
        return self.hub.cards(self.registered)

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
        self.charger.apply_learning(
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
        if self.charger.learn.status is LearnStatus.WAITING:
            self.charger.apply_learning(LearnState(LearnStatus.TIMED_OUT))

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
        remote = tag == normalise(self.hub.remote_id_tag(self.registered))
        if remote:
            status = AuthorizationStatus.ACCEPTED
        elif card is not None:
            status = AuthorizationStatus.ACCEPTED if card.enabled else AuthorizationStatus.BLOCKED
        elif self.learning and action != "StopTransaction" and self._learnable(tag):
            card = self.hub.add_card(self.registered, id_tag, None)
            self._learn_until = None
            self._stop_learn_timer()
            self.charger.apply_learning(
                LearnState(LearnStatus.LEARNED, card_name=card.name, id_tag=tag)
            )
            learned = True
            status = AuthorizationStatus.ACCEPTED
        elif not self.charger.lock_wanted:
            status = AuthorizationStatus.ACCEPTED
        else:
            status = AuthorizationStatus.INVALID
        if not remote and action != "StopTransaction" and not self._just_decided(tag, now):
            self.charger.apply_card_decision(
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
                self.registered.identity,
            )
            return False
        return True

    def _just_decided(self, tag: str, now: datetime) -> bool:
        """The same card was presented moments ago (Authorize, then StartTransaction)."""
        last = self.charger.decisions[-1] if self.charger.decisions else None
        return last is not None and last.id_tag == tag and now - last.at < SAME_PRESENTATION

    async def async_set_locked(self, locked: bool) -> None:
        """Lock (authorization required) or unlock (free vend), and apply it now if online."""
        self.charger.apply_lock_wanted(locked)
        self.hub.schedule_save()
        handler = self._connection()
        # Not booted yet: the set-up after its boot applies it (nothing before the boot).
        if handler is not None and handler.charger is not None and handler.booted:
            await self._apply_lock(handler, raise_errors=True)

    async def _apply_lock(self, handler: ChargerPort, *, raise_errors: bool) -> None:
        key = self.setting_name(Setting.AUTHORIZATION_REQUIRED)
        if key is None:
            return  # enforced by our own answers to Authorize and StartTransaction
        wanted = "true" if self.charger.lock_wanted else "false"
        if (self.setting_value(Setting.AUTHORIZATION_REQUIRED) or "").lower() == wanted:
            return
        try:
            await self.run(lambda h: h.write_setting(Setting.AUTHORIZATION_REQUIRED, wanted))
        except HomeAssistantError:
            if raise_errors:
                raise
            _LOGGER.warning("Charger %s refused %s=%s", self.registered.identity, key, wanted)

    async def async_configure(self, handler: ChargerPort) -> None:
        """At every boot or reconnect: lock, offline protection, local card list."""
        await self._apply_lock(handler, raise_errors=False)
        problems: list[str] = []
        reboot_needed: list[str] = []
        # Problems and reboots are named as the charger names its settings.
        names = {s: self.setting_name(s) or s.value for s in OFFLINE_PROTECTION}
        for setting, wanted in OFFLINE_PROTECTION.items():
            if (self.setting_value(setting) or "").lower() == wanted:
                continue
            try:
                status = await handler.write_setting(setting, wanted)
            except CallFailed:
                problems.append(names[setting])
                continue
            if status is CommandStatus.REBOOT_REQUIRED:
                reboot_needed.append(names[setting])
        try:
            await self.send_local_list(handler)
        except CallFailed as err:
            problems.append(err.action)
        # Read back: what the charger reports is the truth.
        try:
            values = await handler.read_settings(list(OFFLINE_PROTECTION))
        except CallFailed:
            values = {}
        problems += [
            names[s]
            for s, wanted in OFFLINE_PROTECTION.items()
            if names[s] not in problems
            and values.get(s, "").lower() != wanted
            and names[s] not in reboot_needed
        ]
        if problems:
            protection = ProtectionStatus.NOT_SUPPORTED
        elif reboot_needed:
            protection = ProtectionStatus.NEEDS_REBOOT
        else:
            protection = ProtectionStatus.ACTIVE
        self.charger.apply_protection(protection, problems or reboot_needed)
        await self._restore_limit(handler)

    async def _restore_limit(self, handler: ChargerPort) -> None:
        """A limit (or a pause) the charger lost, in a reset or a swap, is sent again."""
        amps = self._wanted_limit()
        if amps is None:
            return
        try:
            reported = await handler.limit_in_force(1)
        except CallFailed:
            reported = None
        window = self.charger.schedule
        expected = amps if window is None else window.limit_at(dt_util.now(), amps)
        # A schedule is sent again at every boot: a clock change (daylight saving time)
        # moves its weekly periods by an hour until it is.
        if window is None and reported is not None and abs(reported - expected) < 0.5:
            self.charger.apply_limit(status=LimitStatus.APPLIED, reported_a=reported)
            return
        _LOGGER.info(
            "Charger %s no longer has its %.0f A limit; sending it again",
            self.registered.identity,
            amps,
        )
        try:
            await self.apply_limit(amps)
        except HomeAssistantError as err:
            _LOGGER.warning(
                "Charger %s: current limit %.0f A not set again: %s",
                self.registered.identity,
                amps,
                err,
            )

    def cards_changed(self) -> None:
        """The card list changed: keep the charger's local list (offline use) in step."""
        handler = self._connection()
        # Never to a connection that has not booted: its set-up sends the list after the boot.
        if handler is not None and handler.charger is not None and handler.booted:
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
