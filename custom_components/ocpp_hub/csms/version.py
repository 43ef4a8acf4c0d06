"""An OCPP version as the server sees it: a subprotocol, a dialect, a handler factory.

Each version folder (``v16/``) offers one :class:`ProtocolVersion`; the server's
registry maps the negotiated subprotocol to it. Nothing else here knows any
version's messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..model.profiles import QuirkProfile
from .dialect import Dialect
from .port import ChargerPort, Setting
from .session import CallHandler, Session

if TYPE_CHECKING:
    from .backend import Backend


class VersionHandler(ChargerPort, CallHandler, Protocol):
    """A version's handler: the session's router of CALLs and the application's port."""


@dataclass(slots=True)
class HandlerSettings:
    """Tunables of the conversation with a charger, whatever its version."""

    heartbeat_interval: int = 300
    pending_retry_interval: int = 60
    # A registered charger that reconnects without booting is configured after this.
    boot_grace: float = 5.0


class HandlerFactory(Protocol):
    """Makes the version's handler of one connection."""

    def __call__(
        self,
        session: Session,
        backend: Backend,
        settings: HandlerSettings,
        on_closed: Callable[[VersionHandler], None],
    ) -> VersionHandler:
        """A handler of ``session``, not yet bound to a charger."""


@dataclass(frozen=True, slots=True)
class ProtocolVersion:
    """One OCPP version the central system speaks."""

    subprotocol: str  # as negotiated in the websocket handshake: "ocpp1.6"
    dialect: Dialect
    handler: HandlerFactory
    # What a charger of this version (and quirk profile) calls a setting; None: nothing.
    setting_name: Callable[[Setting, QuirkProfile], str | None]

    @property
    def handled_actions(self) -> frozenset[str]:
        """Charger -> central system actions handled (their schemas compile at start)."""
        return self.dialect.handled_actions

    @property
    def command_actions(self) -> frozenset[str]:
        """Central system -> charger actions we send (their response schemas compile too)."""
        return self.dialect.command_actions
