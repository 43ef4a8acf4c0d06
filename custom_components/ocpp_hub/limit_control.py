"""The current-limit path of a charger's control: coalesced, sent, verified, restored.

The owner's limit, the pause and the energy manager's current meet here: the
charger gets the lower of the owner's limit and the energy manager's, at most
one profile per interval (a lowering by the energy manager goes at once), and
what the charger then reports in force must be what it was asked for.
"""

from __future__ import annotations

import asyncio
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .controller_base import ChargerLinks, ControllerBase
from .csms.errors import CallFailed
from .csms.port import ChargerPort, LimitRequest
from .model.charger import Charger
from .model.control import LimitStatus

_LOGGER = logging.getLogger(__name__)

LIMIT_INTERVAL = 5.0  # at most one limit sent per this many seconds


class LimitControl(ControllerBase):
    """The current limit of one charger: the owner's, the pause, the energy manager's."""

    def __init__(
        self, hass: HomeAssistant, charger: Charger, name: str, links: ChargerLinks
    ) -> None:
        """No limit on its way yet."""
        super().__init__(hass, charger, name, links)
        self.limit_interval = LIMIT_INTERVAL
        self._limit_task: asyncio.Task[None] | None = None
        self._limit_sent_at: float | None = None
        # The energy manager's current and phases (None: not managed / the charger's own).
        self.energy_a: float | None = None
        self.energy_phases: int | None = None
        self._limit_wake = asyncio.Event()  # the energy manager lowers: send at once

    def _stop_limit(self) -> None:
        """Drop a limit on its way (the controller shuts down)."""
        if self._limit_task and not self._limit_task.done():
            self._limit_task.cancel()

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
        if self.charger.owner.limit.paused:
            self.charger.owner.apply_pause(True, amps)
            self.links.save()
            return
        self.handler()  # offline: fail now, not later
        self.charger.owner.apply_limit(requested_a=amps, status=LimitStatus.PENDING)
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
        if self._booted_connection() is None:
            return
        self.charger.owner.apply_limit(status=LimitStatus.PENDING)
        self._request_limit()

    def effective_limit(self) -> float | None:
        """What the charger must apply: the owner's limit, lowered by the energy manager."""
        requested = self.charger.owner.limit.requested_a
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
        self._limit_task = self.links.background_task(
            self._send_limit(wait), f"ocpp_hub limit {self.identity}"
        )

    def _energy_lowers(self) -> bool:
        """Whether the energy manager wants less than the charger was last given."""
        sent = self.charger.owner.limit.sent_a
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
                    self.identity,
                    "removal" if wanted[0] is None else f"{wanted[0]:.0f} A",
                    err,
                )
            if (self.effective_limit(), self.energy_phases) == wanted:
                return  # done
            self.charger.owner.apply_limit(status=LimitStatus.PENDING)
            await self._between_sends(self.limit_interval)

    async def apply_limit(self, amps: float) -> None:
        """Send the limit (with the energy manager's phases and the charging window) and verify it.

        What the charger then reports in force must be what it was asked for.
        """
        phases = self.energy_phases if self.charger.phase_switching else None
        window = self.charger.owner.schedule
        now = dt_util.now()
        expected = amps if window is None else window.limit_at(now, amps)
        request = LimitRequest(amps=amps, phases=phases, window=window, now=now)
        try:
            reported = await self.run(lambda h: h.set_limit(request))
        except HomeAssistantError:
            self.charger.owner.apply_limit(status=LimitStatus.REJECTED)
            raise
        applied = reported is not None and abs(reported - expected) < 0.5
        self.charger.owner.apply_limit(
            status=LimitStatus.APPLIED if applied else LimitStatus.NOT_APPLIED,
            reported_a=reported,
            sent_a=amps,
        )

    async def async_pause(self, paused: bool) -> None:
        """Pause (0 A: the session stays open) or resume at the limit from before."""
        limit = self.charger.owner.limit
        if paused == limit.paused:
            return
        self.handler()  # offline: fail now
        if paused:
            resume = limit.requested_a
            await self.async_set_limit(0)
            self.charger.owner.apply_pause(True, resume)
        else:
            resume = limit.resume_a
            self.charger.owner.apply_pause(False, None)
            try:
                if resume is None:
                    await self.async_clear_limit()
                else:
                    await self.async_set_limit(resume)
            except HomeAssistantError:
                # Still paused (0 A in force): the owner can try again.
                self.charger.owner.apply_pause(True, resume)
                raise
        self.links.save()

    def _wanted_limit(self) -> float | None:
        """What the charger's profile must say: the limit, or with a schedule its maximum."""
        wanted = self.effective_limit()
        if wanted is None and self.charger.owner.schedule is not None:
            return float(self.max_current)
        return wanted

    @callback
    def schedule_changed(self) -> None:
        """The owner changed the charging window: the charger's profile follows."""
        handler = self._booted_connection()
        if handler is None:
            return  # sent at the next boot (the check of the limit in force)
        amps = self._wanted_limit()
        if amps is None:
            handler.session.spawn(self.async_clear_limit(), "clear the schedule")
        else:
            self.charger.owner.apply_limit(status=LimitStatus.PENDING)
            handler.session.spawn(self.apply_limit(amps), "send the schedule")

    async def async_clear_limit(self) -> None:
        """Remove the owner's limit: the charger's maximum (or the schedule) applies again.

        What the energy manager asks for still applies.
        """
        if self._limit_task is not None and not self._limit_task.done():
            # A limit on its way would be verified against the cleared schedule.
            self._limit_task.cancel()
        if self.charger.owner.schedule is None and self.energy_a is None:
            await self._remove_profile()  # the owner's limit stays if this fails
            return
        self.charger.owner.limit.requested_a = None
        amps = self._wanted_limit()
        assert amps is not None  # a schedule or the energy manager
        await self.apply_limit(amps)

    async def _remove_profile(self) -> None:
        """Remove our limit (with a schedule: its window alone)."""
        if self.charger.owner.schedule is not None:
            await self.apply_limit(float(self.max_current))
            return
        await self.run(lambda h: h.clear_limit())
        self.charger.owner.limit.requested_a = None
        self.charger.owner.limit.sent_a = None
        self.charger.owner.apply_limit(status=LimitStatus.APPLIED)

    async def _restore_limit(self, handler: ChargerPort) -> None:
        """A limit (or a pause) the charger lost, in a reset or a swap, is sent again."""
        amps = self._wanted_limit()
        if amps is None:
            return
        try:
            reported = await handler.limit_in_force(1)
        except CallFailed:
            reported = None
        # Meanwhile the energy manager or the owner may have asked for another current:
        # the send on its way carries the newest, and an old one must not follow it.
        amps = self._wanted_limit()
        if amps is None or (self._limit_task is not None and not self._limit_task.done()):
            return
        window = self.charger.owner.schedule
        expected = amps if window is None else window.limit_at(dt_util.now(), amps)
        # A schedule is sent again at every boot: a clock change (daylight saving time)
        # moves its weekly periods by an hour until it is.
        if window is None and reported is not None and abs(reported - expected) < 0.5:
            self.charger.owner.apply_limit(status=LimitStatus.APPLIED, reported_a=reported)
            return
        _LOGGER.info(
            "Charger %s no longer has its %.0f A limit; sending it again",
            self.identity,
            amps,
        )
        try:
            await self.apply_limit(amps)
        except HomeAssistantError as err:
            _LOGGER.warning(
                "Charger %s: current limit %.0f A not set again: %s",
                self.identity,
                amps,
                err,
            )
