"""The websockets server: handshake, identity, HTTP Basic auth, TLS and keepalive.

Everything a charger must get right before the first OCPP frame is decided
here (the pieces, parsing the path and the header and counting connections, are
in :mod:`.handshake`): the path carries its identity (last segment, URL-decoded), a registered
charger with a password must present it (HTTP 401 otherwise, before the
websocket opens), the subprotocol must be one of the versions in
:data:`VERSIONS` (or absent, which is taken as 1.6), and the one its
registration pins if it pins one (HTTP 400 otherwise, as for a version nobody
speaks). Pings keep the connection honest: a charger that stops answering is
closed within one ping timeout. A second connection with the same identity
replaces the first: the first stops answering at once, and the second is bound
to the charger only if it authenticated with the password the charger has at
that moment (at most one session per identity, ever).

Connections are counted from the moment they are accepted (per address and in
all), the request line must arrive within a short timeout, password checks are
slowed before they run after failures and capped in parallel, and the
``Authorization`` header never reaches the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
import logging
import math
import ssl
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ..model.profiles import QuirkProfile
from . import v16, v201
from .backend import Backend
from .guard import AuthThrottle, BoundedSet, ConnectionCounter, FloodGuards
from .handshake import (
    ChargerConnection,
    RedactCredentials,
    basic_credentials,
    identity_from_path,
)
from .port import Setting
from .session import Session
from .validation import SchemaSet
from .version import HandlerSettings, ProtocolVersion, VersionHandler

_LOGGER = logging.getLogger(__name__)

# The one registry of versions: negotiated subprotocol -> the version's dialect and
# handler. No other module of the central system imports a version folder.
VERSIONS: dict[str, ProtocolVersion] = {
    version.subprotocol: version
    for version in (
        v201.VERSION,
        v16.VERSION,
    )
}
# Which version a charger that offers several gets (unless its registration pins one):
# the newest first.
PREFERENCE = ("ocpp2.0.1", "ocpp1.6")
# A charger that offers no subprotocol at all speaks this one.
DEFAULT_SUBPROTOCOL = "ocpp1.6"
_AUTH_PROBLEMS = ("no password presented", "wrong username or password")


@dataclass(slots=True)
class ServerConfig:
    """How the central system listens."""

    host: str | None = None  # None: every interface
    port: int = 9000
    path_prefix: str = ""
    ssl_context: ssl.SSLContext | None = None
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_frame_bytes: int = 64 * 1024
    open_timeout: float = 10.0
    call_timeout: float = 30.0
    max_connections_per_address: int = 64  # chargers behind one NAT or proxy share one
    max_connections: int = 1024  # in all, handshaking ones included
    request_timeout: float = 5.0  # for the request line and headers after accepting
    max_password_checks: int = 2  # in parallel, in all (scrypt: 16 MiB and a thread each)
    max_auth_attempts_per_address: int = 4  # in flight; one once the address has failures
    flood_rate: float = 20.0  # messages a second a charger may send on average
    flood_burst: float = 500.0  # ... and at once (an offline backlog)
    flood_patience: float = 60.0  # seconds of continuous throttling before disconnecting
    auth_failures_for_report: int = 5  # wrong passwords in a row before the owner is told
    auth_delay: float = 0.5  # lockout: twice this after one failure, doubling with each
    auth_delay_cap: float = 30.0
    auth_max_wait: float = 5.0  # a longer lockout is answered at once: HTTP 429, Retry-After
    handler: HandlerSettings = field(default_factory=HandlerSettings)


async def check_port(host: str | None, port: int) -> OSError | None:
    """Try to bind ``host``:``port``; the error if it cannot be bound, else None."""
    loop = asyncio.get_running_loop()
    try:
        probe = await loop.create_server(asyncio.Protocol, host or None, port)
    except OSError as err:
        return err
    probe.close()
    await probe.wait_closed()
    return None


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
        self._logged = BoundedSet()
        self.auth_throttle = AuthThrottle(
            config.auth_delay, config.auth_delay_cap, parallel=config.max_auth_attempts_per_address
        )
        self.connections = ConnectionCounter(
            config.max_connections_per_address, config.max_connections
        )
        self.floods = FloodGuards()
        self.websockets_logger = logging.getLogger(f"{__name__}.websockets")
        if not any(isinstance(f, RedactCredentials) for f in self.websockets_logger.filters):
            self.websockets_logger.addFilter(RedactCredentials())
        self._password_checks: asyncio.Semaphore | None = None
        self._closing: set[asyncio.Task[None]] = set()

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
        self._password_checks = asyncio.Semaphore(self.config.max_password_checks)
        # A TLS handshake comes before the connection is counted: bound it too.
        extra: dict[str, Any] = (
            {"ssl_handshake_timeout": self.config.open_timeout} if self.config.ssl_context else {}
        )
        self._server = await serve(
            self._serve,
            self.config.host or None,
            self.config.port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
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

    def _close_now(self, handler: VersionHandler, code: CloseCode, reason: str) -> None:
        """Stop a session at once and close its socket in the background."""
        handler.session.retire()
        task = asyncio.get_running_loop().create_task(
            handler.session.connection.close(code, reason),
            name=f"ocpp_hub {handler.session.identity} close ({reason})",
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # ---------------------------------------------------------------- handshake
    def _log_once(self, key: tuple[str, ...], level: int, message: str, *args: object) -> None:
        if not self._logged.add(key):
            _LOGGER.debug(message, *args)
            return
        _LOGGER.log(level, message, *args)

    def overloaded(self, address: str) -> None:
        """A connection was refused at accept: too many from ``address`` or in all."""
        self._log_once(
            ("connections", address),
            logging.WARNING,
            "Refused connections from %s: more than %d open from one address or %d in all",
            address,
            self.config.max_connections_per_address,
            self.config.max_connections,
        )

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        assert isinstance(connection, ChargerConnection)
        address = connection.address
        identity = identity_from_path(request.path, self.config.path_prefix)
        if identity is None:
            self._log_once(
                ("path", address),
                logging.WARNING,
                "Refused a connection from %s: no acceptable charge point identity in the path",
                address,
            )
            connection.refused = True
            return connection.respond(HTTPStatus.BAD_REQUEST, "No valid charge point identity\n")
        registration = self.backend.registration(identity)
        if registration is None or not registration.password_required:
            return None
        wait = self.auth_throttle.delay(address, identity)
        if wait > self.config.auth_max_wait or not self.auth_throttle.begin(address):
            # Locked out for longer than a handshake may wait, or guessing in parallel
            # (one attempt at a time from an address that failed): not checked at all.
            connection.refused = True
            response = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too many attempts\n")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        try:
            problem = await self._check_credentials(connection, identity, request.headers)
        finally:
            self.auth_throttle.end(address)
        if problem is None:
            for kind in _AUTH_PROBLEMS:
                self._logged.discard(("auth", identity, address, kind))
            self.auth_throttle.succeeded(address, identity)
            self.backend.auth_succeeded(identity, address)
            return None
        failures = self.auth_throttle.failed(address, identity)
        if failures == self.config.auth_failures_for_report:
            self.backend.auth_failures(identity, address, failures)
        self._log_once(
            ("auth", identity, address, problem),
            logging.WARNING,
            "Refused charger %s from %s: %s (HTTP 401)",
            identity,
            address,
            problem,
        )
        connection.refused = True
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP Hub", charset="UTF-8"'
        return response

    async def _check_credentials(
        self, connection: ChargerConnection, identity: str, headers: Headers
    ) -> str | None:
        """None when the right password was presented (remembered on the connection).

        After failures, the rest of the lockout comes first: a right guess is
        answered no sooner than a wrong one. At most ``max_password_checks``
        run at once.
        """
        if wait := self.auth_throttle.delay(connection.address, identity):
            await asyncio.sleep(wait)
        credentials = basic_credentials(headers)
        if credentials is None:
            return _AUTH_PROBLEMS[0]
        registration = self.backend.registration(identity)
        if registration is None or not registration.password_required:
            return None  # the password was removed meanwhile
        token = registration.password_token
        if credentials[0] != identity:
            return _AUTH_PROBLEMS[1]
        assert self._password_checks is not None
        async with self._password_checks:
            if not await self.backend.verify_password(identity, credentials[1]):
                return _AUTH_PROBLEMS[1]
        connection.authenticated = True
        connection.password_token = token
        return None

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The newest version both speak, or the one the charger's registration pins."""
        offered = [name for name in PREFERENCE if name in subprotocols and name in VERSIONS]
        pinned = self._pinned(connection)
        if pinned in VERSIONS and pinned not in (offered or [DEFAULT_SUBPROTOCOL]):
            assert connection.request is not None  # the pin comes from its path
            address = connection.address if isinstance(connection, ChargerConnection) else "?"
            identity = identity_from_path(connection.request.path, self.config.path_prefix)
            self._log_once(
                ("pinned", str(identity), address, ",".join(subprotocols)),
                logging.WARNING,
                "Refused charger %s from %s: it offers %s, but it is set to speak %s only",
                identity,
                address,
                ", ".join(subprotocols) or "no subprotocol (OCPP 1.6)",
                pinned,
            )
            raise NegotiationError(f"this charger is set to speak {pinned} only")
        if offered:
            return Subprotocol(pinned if pinned in offered else offered[0])
        if not subprotocols:
            address = connection.address if isinstance(connection, ChargerConnection) else "?"
            self._log_once(
                ("subprotocol", address),
                logging.INFO,
                "A charger at %s offered no subprotocol; treating it as OCPP 1.6",
                address,
            )
            return None
        raise NegotiationError(
            f"unsupported subprotocol; this central system speaks {', '.join(VERSIONS)}"
        )

    def _pinned(self, connection: ServerConnection) -> str | None:
        """The subprotocol the registration of the connecting identity insists on, if any."""
        if connection.request is None:
            return None
        identity = identity_from_path(connection.request.path, self.config.path_prefix)
        registration = self.backend.registration(identity) if identity else None
        return registration.protocol if registration is not None else None

    # ----------------------------------------------------------------- sessions
    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = identity_from_path(connection.request.path, self.config.path_prefix)
        assert identity is not None  # checked in _process_request
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
