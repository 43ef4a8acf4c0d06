"""A charger the owner registered: its model, its controller, its sessions, its device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN
from .controller import ChargerController
from .model.charger import Charger, ChargerInfo
from .model.control import RebootResult
from .sessions import ChargerSessions


@dataclass(slots=True, kw_only=True)
class RegisteredCharger:
    """A charger the owner registered (one config subentry) and what follows it."""

    entry_id: str
    subentry_id: str
    password_hash: str | None
    charger: Charger
    controller: ChargerController
    sessions: ChargerSessions
    # Whether platforms may add entities (not once the entry is unloading).
    adding_entities: Callable[[], bool]
    connectors_seen: int = 0
    covered: set[tuple[int, int | None]] = field(default_factory=set)
    unsubscribe: Callable[[], None] | None = None
    device_info_of: ChargerInfo | None = None
    cards_sent: list[dict[str, Any]] = field(default_factory=list)
    # Called when the owner changed the card list (entities that follow the cards).
    card_listeners: list[Callable[[], None]] = field(default_factory=list)
    # The reboot last announced (so each outcome is announced once).
    reported_reboot: tuple[datetime, RebootResult] | None = None
    # The energy manager's decision as last shown (so entities hear of changes only).
    energy_shown: tuple[Any, ...] | None = None

    @property
    def name(self) -> str:
        """The owner's name of the charger (its subentry title)."""
        return self.controller.name

    @name.setter
    def name(self, name: str) -> None:
        self.controller.name = name

    @property
    def identity(self) -> str:
        """The charge point identity."""
        return self.charger.identity

    @property
    def device_identifier(self) -> tuple[str, str]:
        """The device registry identifier of this charger."""
        return (DOMAIN, f"{self.entry_id}_{self.identity}")


def reboot_state(charger: Charger) -> tuple[datetime, RebootResult] | None:
    """The charger's last reboot as when it was asked for and how it ended."""
    reboot = charger.owner.reboot
    return (reboot.requested_at, reboot.result) if reboot else None


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
