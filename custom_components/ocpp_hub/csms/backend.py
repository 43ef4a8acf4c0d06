"""What the central system asks of the application that hosts it.

The server and the OCPP handlers decide nothing about policy: which identities
are registered, which passwords are right, which cards may charge and what the
next transaction id is are the application's answers through :class:`Backend`.
In Home Assistant the hub's ``HubBackend`` implements it; tests and benchmarks
may use another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from ..model.charger import Charger, ChargerInfo

if TYPE_CHECKING:
    from .port import ChargerPort


class AuthorizationStatus(StrEnum):
    """Whether a card may charge: 1.6 and 2.0.1 spell these the same (2.0.1 has more)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


@dataclass(slots=True)
class Registration:
    """A charger the owner registered."""

    charger: Charger
    password_required: bool
    # Tells one password of the charger from the next (the stored hash, say): a
    # connection authenticated with another one may no longer speak for it.
    password_token: str | None = None
    # The subprotocol to speak with it when it offers several (None: the newest).
    protocol: str | None = None


class Backend(Protocol):
    """The application's side of the central system."""

    def registration(self, identity: str) -> Registration | None:
        """The registration of ``identity``, or None if unknown."""

    async def verify_password(self, identity: str, password: str) -> bool:
        """Whether ``password`` is right for the registered ``identity``."""

    def unknown_boot(
        self, identity: str, info: ChargerInfo, remote_address: str | None
    ) -> Charger | None:
        """An unregistered charger booted: its model if accepted now, None to hold it Pending."""

    def authorize(self, charger: Charger, id_tag: str, action: str) -> AuthorizationStatus:
        """Decide whether ``id_tag`` may charge on ``charger``.

        ``action`` is the request that carries the idTag: Authorize,
        StartTransaction or StopTransaction.
        """

    def next_transaction_id(self) -> int:
        """A 1.6 transaction id never handed out before by this central system."""

    def auth_failures(self, identity: str, address: str, count: int) -> None:
        """``address`` presented a wrong password for ``identity`` ``count`` times in a row."""

    def auth_succeeded(self, identity: str, address: str) -> None:
        """``address`` presented the right password for ``identity``."""

    async def charger_ready(self, handler: ChargerPort) -> None:
        """A registered charger booted or reconnected and its configuration was read."""
