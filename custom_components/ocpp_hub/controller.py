"""Control of one charger: commands with truthful outcomes, lock, cards, limits.

Entities and actions call a charger's :class:`ChargerController`; it sends the
OCPP calls (one at a time, through the session), turns every failure into a
translated Home Assistant error that names the charger and the reason, and
follows up on what the charger really did: a reboot that never came back, a
current limit accepted but not applied, an offline-protection key refused.
Its parts: :mod:`.limit_control` (the current limit), :mod:`.card_control`
(lock and cards); here the rest (reboot, start and stop, settings, the set-up
at every boot) and the owner's charge mode and priority.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_call_later

from .card_control import CardControl
from .const import DOMAIN
from .controller_base import ChargerLinks
from .csms.errors import CallFailed, FailureReason
from .csms.port import ChargerPort, CommandStatus, Setting
from .limit_control import LimitControl
from .model.charger import Charger, Topic
from .model.control import ProtectionStatus, RebootResult
from .model.energy import ChargeMode

_LOGGER = logging.getLogger(__name__)

DEFAULT_REBOOT_DEADLINE = 300.0  # seconds for a charger to come back after a reset

# Offline protection: setting -> wanted value (see "Offline protection" in the README).
OFFLINE_PROTECTION = {
    Setting.OFFLINE_UNKNOWN_CARDS: "false",
    Setting.OFFLINE_LOCAL_AUTHORIZE: "true",
}


class ChargerController(LimitControl, CardControl):
    """Commands and follow-up for one registered charger."""

    def __init__(
        self, hass: HomeAssistant, charger: Charger, name: str, links: ChargerLinks
    ) -> None:
        """Control ``charger`` (shown as ``name``) through what ``links`` offers."""
        super().__init__(hass, charger, name, links)
        self.reboot_deadline = DEFAULT_REBOOT_DEADLINE
        self._cancel_reboot_timer: CALLBACK_TYPE | None = None
        # Charger settings: one change (and its read-back) at a time; settings the
        # charger answered RebootRequired for, and when (a boot after that applies them).
        self._settings_lock = asyncio.Lock()
        self.reboot_required: dict[Setting, datetime] = {}

    def shutdown(self) -> None:
        """Stop timers and tasks (the entry unloads or the charger was removed)."""
        if self._cancel_reboot_timer:
            self._cancel_reboot_timer()
            self._cancel_reboot_timer = None
        self._stop_limit()
        self._stop_cards()

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
                self.charger.owner.apply_reboot_outcome(RebootResult.REJECTED, now, cause.detail)
            raise
        self.charger.owner.apply_reboot_requested(hard, now)
        if self._cancel_reboot_timer:
            self._cancel_reboot_timer()
        self._cancel_reboot_timer = async_call_later(
            self.hass, self.reboot_deadline, self._reboot_deadline_passed
        )

    @callback
    def _reboot_deadline_passed(self, _now: datetime) -> None:
        self._cancel_reboot_timer = None
        reboot = self.charger.owner.reboot
        if reboot is not None and reboot.result is RebootResult.PENDING:
            _LOGGER.warning(
                "Charger %s did not come back within %.0f s of a reboot",
                self.identity,
                self.reboot_deadline,
            )
            self.charger.owner.apply_reboot_outcome(
                RebootResult.FAILED, datetime.now(UTC), "no BootNotification"
            )

    # ------------------------------------------------------- start/stop, availability
    async def async_start_charging(self, connector_id: int = 1) -> None:
        """Remote start with this charger's stable idTag."""
        id_tag = self.remote_id_tag()
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
        self.charger.owner.apply_availability_scheduled(available if scheduled else None)
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

    # --------------------------------------------------------------- settings
    def needs_reboot(self, setting: Setting) -> bool:
        """Whether a change of ``setting`` waits for the charger's next boot."""
        since = self.reboot_required.get(setting)
        last_boot = self.charger.last_boot
        return since is not None and (last_boot is None or last_boot < since)

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
            _LOGGER.info("Charger %s: %s not read back: %s", self.identity, setting, err)

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
        self.charger.owner.apply_protection(protection, problems or reboot_needed)
        await self._restore_limit(handler)

    # ------------------------------------------------------- charge mode, priority
    @callback
    def set_charge_mode(self, mode: ChargeMode) -> None:
        """The owner chose a charge mode: it applies at once and survives restarts."""
        ctl = self.charger.owner.control
        if ctl.mode is mode:
            return
        ctl.mode = mode
        # A new mode starts from a clean slate (Solar waits for its start delay).
        ctl.on = False
        ctl.enough_since = ctl.short_since = ctl.three_since = None
        ctl.history.clear()
        self.links.save()
        self.charger.notify(Topic.CONTROL)
        self.links.decide_again()

    @callback
    def set_priority(self, priority: int) -> None:
        """Who pauses first when the site cannot feed every charger's minimum (lower)."""
        self.charger.owner.control.priority = priority
        self.links.save()
        self.charger.notify(Topic.CONTROL)
        self.links.decide_again()
