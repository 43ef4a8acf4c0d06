"""What every part of a charger's control shares: its links, its connection, its commands.

The central system hands a controller a :class:`ChargerLinks`, a few callables
for what it owns (the connection, the charger's settings in its subentry,
saving); the controller knows nothing else of it. :class:`ControllerBase` runs
commands over the live connection and turns every failure into a translated
Home Assistant error that names the charger and the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .csms.errors import CallFailed, FailureReason
from .csms.port import Capability, ChargerPort, Setting
from .model.charger import Charger
from .model.rfid import Card
from .model.settings import reported_key


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerLinks:
    """What a charger's controller needs from the central system that owns it."""

    # The live connection of the charger, if any.
    connection: Callable[[], ChargerPort | None]
    # What the charger calls a setting (None: it has no such setting).
    setting_name: Callable[[Setting], str | None]
    # The idTag Home Assistant uses for remote starts on this charger.
    remote_id_tag: Callable[[], str]
    # The charger's card list, and changes to it (in its subentry).
    cards: Callable[[], list[Card]]
    add_card: Callable[[str, str | None], Card]
    remove_card: Callable[[str], bool]
    # Save the owner's intents (lock, limit, mode) soon.
    save: Callable[[], None]
    # Decide every charger's current again (a charge mode or priority changed).
    decide_again: Callable[[], None]
    # Run a task for as long as the entry is loaded.
    background_task: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]


class ControllerBase:
    """The connection and the command plumbing of one charger's controller."""

    def __init__(
        self, hass: HomeAssistant, charger: Charger, name: str, links: ChargerLinks
    ) -> None:
        """Control ``charger`` (shown as ``name``) through ``links``."""
        self.hass = hass
        self.charger = charger
        self.name = name  # the owner's name of the charger (its subentry title)
        self.links = links

    @property
    def identity(self) -> str:
        """The charge point identity."""
        return self.charger.identity

    def _placeholders(self, **extra: str) -> dict[str, str]:
        return {"charger": self.name, **extra}

    def _connection(self) -> ChargerPort | None:
        """The live connection of the charger, if any."""
        return self.links.connection()

    def _booted_connection(self) -> ChargerPort | None:
        """The live connection, once the charger has booted on it."""
        handler = self._connection()
        if handler is None or handler.charger is None or not handler.booted:
            return None
        return handler

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

    def remote_id_tag(self) -> str:
        """The idTag Home Assistant uses for remote starts on this charger."""
        return self.links.remote_id_tag()

    def setting_name(self, setting: Setting) -> str | None:
        """What this charger calls ``setting`` (None: it has no such setting)."""
        return self.links.setting_name(setting)

    def setting_value(self, setting: Setting) -> str | None:
        """The value of ``setting`` the charger last reported, if it did."""
        name = self.setting_name(setting)
        key = reported_key(self.charger.configuration, name) if name else None
        return None if key is None else self.charger.configuration[key]
