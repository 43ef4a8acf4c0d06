"""Auto-lock: the charger locks itself again a while after the car is unplugged.

Under OCPP the Wallbox app's Auto-lock no longer works; this takes its place. The
owner sets the minutes (the charger's *Auto-lock after* number; 0 turns it off).
When the car is unplugged from an unlocked charger the countdown starts; plugging in
again, or locking by hand, stops it. At the end the charger is locked through the
same path as the Lock switch (applied at once, or at the next boot if offline). The
countdown is kept with the charger's state: a Home Assistant restart does not lose it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .model.charger import Charger

_LOGGER = logging.getLogger(__name__)


class AutoLock:
    """The countdown of one charger."""

    def __init__(
        self, hass: HomeAssistant, charger: Charger, lock: Callable[[], Awaitable[None]]
    ) -> None:
        """``lock`` locks the charger as the Lock switch does."""
        self.hass = hass
        self.charger = charger
        self._lock = lock
        self._plugged = charger.plugged_in
        self._cancel: CALLBACK_TYPE | None = None
        if charger.owner.auto_lock_due is not None:
            # Counting down when Home Assistant stopped: go on (at once if it is past).
            self._cancel = async_track_point_in_utc_time(
                hass, self._fire, max(charger.owner.auto_lock_due, dt_util.utcnow())
            )

    @callback
    def charger_changed(self) -> None:
        """Start the countdown at an unplug, stop it when it no longer applies."""
        charger = self.charger
        plugged = charger.plugged_in
        unplugged_now = self._plugged is True and plugged is False
        self._plugged = plugged
        if charger.owner.lock_wanted or plugged or charger.owner.auto_lock_minutes <= 0:
            self.stop()
        elif unplugged_now:
            self._start(dt_util.utcnow() + timedelta(minutes=charger.owner.auto_lock_minutes))

    @property
    def due(self) -> datetime | None:
        """When the charger locks again, while counting down (shown by the Lock switch)."""
        return self.charger.owner.auto_lock_due

    @callback
    def minutes_changed(self) -> None:
        """A new setting: a running countdown restarts with it (0 stops it)."""
        if self.due is None:
            return
        if self.charger.owner.auto_lock_minutes <= 0:
            self.stop()
            return
        self._start(dt_util.utcnow() + timedelta(minutes=self.charger.owner.auto_lock_minutes))

    def _start(self, due: datetime) -> None:
        self.stop()
        self.charger.owner.auto_lock_due = due
        self._cancel = async_track_point_in_utc_time(self.hass, self._fire, due)
        self.charger.notify()  # the lock's attributes show when

    @callback
    def shutdown(self) -> None:
        """The entry unloads: the timer goes, the countdown stays (saved with the charger)."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    @callback
    def stop(self) -> None:
        """No countdown (any more)."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
        if self.due is not None:
            self.charger.owner.auto_lock_due = None
            self.charger.notify()

    @callback
    def _fire(self, _now: datetime) -> None:
        self._cancel = None
        self.charger.owner.auto_lock_due = None
        self.hass.async_create_task(self._lock_now(), eager_start=True)

    async def _lock_now(self) -> None:
        try:
            await self._lock()
        except HomeAssistantError as err:
            # Kept as wanted: it is applied when the charger next boots or reconnects.
            _LOGGER.warning("Charger %s: auto-lock not applied now: %s", self.charger.identity, err)
