"""The version-neutral face of one connected charger: what the application may ask of it.

Home Assistant's controls and services talk to a charger only through
:class:`ChargerPort`; each OCPP version's handler implements it and turns the
requests into its own messages. Failures raise
:class:`~.errors.CallFailed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..model.charger import Charger
    from .session import Session


class ChargerPort(Protocol):
    """One charger connection, of whatever OCPP version."""

    session: Session
    charger: Charger | None  # None while the identity waits for the owner's approval

    @property
    def booted(self) -> bool:
        """The charger booted (its boot was accepted) on this connection."""

    def bind(self, charger: Charger) -> None:
        """Speak for the registered ``charger`` (the connection is authorised for it)."""

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this waiting charger: ask it to boot again now."""
