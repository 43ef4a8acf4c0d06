"""Saving a store a little later, without a busy charger putting it off for ever."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store


class DelayedSave:
    """Save ``store`` with what ``data`` returns, within a delay.

    Home Assistant's delayed save starts its delay again at each request, which a
    charger sending meter values every few seconds would do for ever; so a save
    already due soon enough is left alone.
    """

    def __init__(
        self, hass: HomeAssistant, store: Store[dict[str, Any]], data: Callable[[], dict[str, Any]]
    ) -> None:
        """``data`` is called when the save happens."""
        self._hass = hass
        self._store = store
        self._data = data
        self._due: float | None = None

    @callback
    def schedule(self, delay: float) -> None:
        """Save within ``delay`` seconds."""
        due = self._hass.loop.time() + delay
        if self._due is not None and self._due <= due:
            return
        self._due = due
        self._store.async_delay_save(self._data_now, delay)

    def _data_now(self) -> dict[str, Any]:
        self._due = None
        return self._data()
