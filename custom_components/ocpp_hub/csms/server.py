"""The central system: it listens (TLS, pings, timeouts) and keeps one session per charger.

:class:`CentralSystem` binds the port and hands websockets the handshake
decisions of its :class:`~.admission.Admission` (identity, password, version).
Pings keep the connection honest: a charger that stops answering is closed
within one ping timeout. Once a websocket is open it runs a :class:`~.session.Session`
with the handler of the negotiated version (from the registry, :mod:`.versions`)
and keeps the books: which handler speaks for which identity, the version each
charger spoke last. A second connection with the same identity replaces the
first: the first stops answering at once, and the second is bound to the
charger only if it authenticated with the password the charger has at that
moment (at most one session per identity, ever). A registration that changes
(password, pinned version) closes a session that no longer fits it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.frames import CloseCode
from websockets.typing import Subprotocol

from ..model.profiles import QuirkProfile
from .admission import Admission
from .backend import Backend
from .config import ServerConfig, check_port
from .guard import AuthThrottle, ConnectionCounter, FloodGuards
from .handshake import ChargerConnection, RedactCredentials, identity_from_path
from .port import Setting
from .session import Session
from .validation import SchemaSet
from .version import ProtocolVersion, VersionHandler
from .versions import DEFAULT_SUBPROTOCOL, VERSIONS

# Where they have always been imported from.
__all__ = ["VERSIONS", "CentralSystem", "ServerConfig", "check_port"]

_LOGGER = logging.getLogger(__name__)


class CentralSystem:
    """An OCPP central system bound to one host and port."""

    def __init__(self, config: ServerConfig, backend: Backend) -> None:
        """Prepare; :meth:`start` binds the port."""
        self.config = config
        self.backend = backend
        self.handlers: dict[str, VersionHandler] = {}
        # The version each registered charger spoke last (its settings' names are that version's).
        self._spoken: dict[str, ProtocolVersion] = {}
        self._server: Server | None = None
        self._schemas: dict[str, SchemaSet] = {}
        self.admission = Admission(config, backend)
        self.connections = ConnectionCounter(
            config.max_connections_per_address, config.max_connections
        )
        self.floods = FloodGuards()
        self.websockets_logger = logging.getLogger(f"{__name__}.websockets")
        if not any(isinstance(f, RedactCredentials) for f in self.websockets_logger.filters):
            self.websockets_logger.addFilter(RedactCredentials())
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def auth_throttle(self) -> AuthThrottle:
        """The lockout and the cap on parallel attempts for guessed passwords."""
        return self.admission.throttle

    @property
    def request_timeout(self) -> float:
        """Seconds for the request line and headers after accepting (a connection's timer)."""
        return self.config.request_timeout

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._server is not None
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    async def start(self) -> None:
        """Compile the schemas (in an executor), then listen; OSError if the port is taken."""
        loop = asyncio.get_running_loop()
        for subprotocol, version in VERSIONS.items():
            self._schemas[subprotocol] = await loop.run_in_executor(
                None,
                SchemaSet.load,
                version.dialect,
                set(version.handled_actions | version.command_actions),
            )
        self.admission.start()
        # A TLS handshake comes before the connection is counted: bound it too.
        extra: dict[str, Any] = (
            {"ssl_handshake_timeout": self.config.open_timeout} if self.config.ssl_context else {}
        )
        self._server = await serve(
            self._serve,
            self.config.host or None,
            self.config.port,
            process_request=self.admission.process_request,
            select_subprotocol=self.admission.select_subprotocol,
            subprotocols=[Subprotocol(name) for name in VERSIONS],
            ssl=self.config.ssl_context,
            ping_interval=self.config.ping_interval,
            ping_timeout=self.config.ping_timeout,
            # A peer that misses a pong will not answer a close either: give up as fast.
            close_timeout=self.close_timeout,
            max_size=self.config.max_frame_bytes,
            open_timeout=self.config.open_timeout,
            compression=None,
            server_header="OCPP Hub",
            logger=self.websockets_logger,
            create_connection=type("Connection", (ChargerConnection,), {"central": self}),
            **extra,
        )

    @property
    def close_timeout(self) -> float:
        """How long a close handshake may take before the connection is dropped."""
        return min(self.config.ping_timeout or 10.0, 10.0)

    async def stop(self) -> None:
        """Close every charger connection and the listening socket."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    def handler(self, identity: str) -> VersionHandler | None:
        """The live conversation with ``identity``, if connected."""
        return self.handlers.get(identity)

    def setting_name(self, identity: str, setting: Setting, profile: QuirkProfile) -> str | None:
        """What ``identity`` calls ``setting``, in the version it speaks (or spoke last).

        Before it ever connected: the default version's name (the one its stored
        configuration was read in). A charger the owner approved while it was
        connected speaks the version of that connection.
        """
        handler = self.handlers.get(identity)
        live = (
            VERSIONS.get(handler.session.connection.subprotocol or DEFAULT_SUBPROTOCOL)
            if handler is not None and handler.charger is not None
            else None
        )
        version = live or self._spoken.get(identity) or VERSIONS[DEFAULT_SUBPROTOCOL]
        return version.setting_name(setting, profile)

    async def disconnect(self, identity: str, reason: str) -> None:
        """Close the connection of ``identity`` (it will reconnect by itself).

        The session stops at once (its set-up and commands are cancelled before
        this first awaits), then the socket is closed.
        """
        handler = self.handlers.get(identity)
        if handler is not None:
            handler.session.retire()
            await handler.session.close(reason)

    def authorised(self, connection: ServerConnection, identity: str) -> bool:
        """Whether ``connection`` may speak for ``identity`` as registered right now.

        A charger with a password: only a connection that presented that very
        password (not an earlier one, not none) may.
        """
        registration = self.backend.registration(identity)
        if registration is None or not registration.password_required:
            return True
        return (
            isinstance(connection, ChargerConnection)
            and connection.authenticated
            and connection.password_token == registration.password_token
        )

    def enforce_credentials(self, identity: str) -> None:
        """The registration of ``identity`` changed: close its session unless still authorised.

        A session still waiting for its predecessor to close is checked again
        before it is bound, so the live one is all there is to check here.
        """
        handler = self.handlers.get(identity)
        if handler is None or self.authorised(handler.session.connection, identity):
            return
        _LOGGER.info("Charger %s must authenticate with its current password", identity)
        self._close_now(handler, CloseCode.POLICY_VIOLATION, "authentication required")

    def enforce_protocol(self, identity: str) -> None:
        """The registration of ``identity`` changed: close its session if it speaks another version.

        A charger now pinned to a version other than the one it negotiated is
        disconnected; it reconnects by itself and gets the pinned one (or is refused).
        """
        handler = self.handlers.get(identity)
        registration = self.backend.registration(identity)
        if handler is None or registration is None or registration.protocol is None:
            return
        spoken = handler.session.connection.subprotocol or DEFAULT_SUBPROTOCOL
        if spoken == registration.protocol:
            return
        _LOGGER.info(
            "Charger %s speaks %s but is set to %s: closing its connection",
            identity,
            spoken,
            registration.protocol,
        )
        self._close_now(handler, CloseCode.NORMAL_CLOSURE, "OCPP version changed")

    def overloaded(self, address: str) -> None:
        """A connection was refused at accept: too many from ``address`` or in all."""
        self.admission.overloaded(address)

    def _close_now(self, handler: VersionHandler, code: CloseCode, reason: str) -> None:
        """Stop a session at once and close its socket in the background."""
        handler.session.retire()
        task = asyncio.get_running_loop().create_task(
            handler.session.connection.close(code, reason),
            name=f"ocpp_hub {handler.session.identity} close ({reason})",
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # ----------------------------------------------------------------- sessions
    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = identity_from_path(connection.request.path, self.config.path_prefix)
        assert identity is not None  # checked in Admission.process_request
        await self._run_session(connection, identity)

    async def _run_session(self, connection: ServerConnection, identity: str) -> None:
        address = connection.address if isinstance(connection, ChargerConnection) else "?"
        version = VERSIONS[connection.subprotocol or DEFAULT_SUBPROTOCOL]
        session = Session(
            connection,
            identity,
            self._schemas[version.subprotocol],
            call_timeout=self.config.call_timeout,
            flood=self.floods.get(
                (address, identity),
                self.config.flood_rate,
                self.config.flood_burst,
                self.config.flood_patience,
            ),
        )
        handler = version.handler(
            session, self.backend, self.config.handler, on_closed=self._handler_closed
        )
        session.attach(handler)
        # The newest connection is the one: registered before the old one is waited for,
        # so a third connection (or a password change) meanwhile finds this one.
        previous = self.handlers.get(identity)
        self.handlers[identity] = handler
        try:
            if previous is not None:
                _LOGGER.info(
                    "Charger %s connected again; closing its previous connection", identity
                )
                previous.session.retire()  # it answers nothing more, from now on
                await previous.session.close("replaced by a new connection")
            if self.handlers.get(identity) is not handler or session.closed:
                return  # replaced (or revoked) while the old connection was closing
            if not self.authorised(connection, identity):
                _LOGGER.warning(
                    "Refused charger %s from %s: it did not authenticate with its password",
                    identity,
                    address,
                )
                session.retire()
                await connection.close(CloseCode.POLICY_VIOLATION, "authentication required")
                return
            registration = self.backend.registration(identity)
            if registration is not None:
                self._spoken[identity] = version
                handler.bind(registration.charger)
            _LOGGER.info("Charger %s connected from %s", identity, session.remote_address)
            await session.run()
        finally:
            await session.finish()

    def _handler_closed(self, handler: VersionHandler) -> None:
        identity = handler.session.identity
        if self.handlers.get(identity) is handler:
            del self.handlers[identity]
            _LOGGER.info("Charger %s disconnected", identity)
