"""The websockets server: handshake, identity, HTTP Basic auth, TLS and keepalive.

Everything a charger must get right before the first OCPP frame is checked
here: the path carries its identity (last segment, URL-decoded), a registered
charger with a password must present it (HTTP 401 otherwise, before the
websocket opens), the subprotocol must be ``ocpp1.6`` (or absent, which is
taken as 1.6). Pings keep the connection honest: a charger that stops
answering is closed within one ping timeout. A second connection with the same
identity replaces the first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
import logging
import ssl
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .backend import Backend
from .guard import AuthThrottle, ConnectionCounter, FloodGuard
from .session import Session
from .v16 import COMMAND_ACTIONS, HANDLED_ACTIONS, V16Handler, V16Settings
from .validation import SchemaSet

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOL = Subprotocol("ocpp1.6")
MAX_IDENTITY_LENGTH = 48
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
    flood_rate: float = 20.0  # messages a second a charger may send on average
    flood_burst: float = 500.0  # ... and at once (an offline backlog)
    flood_patience: float = 60.0  # seconds of continuous throttling before disconnecting
    auth_failures_for_report: int = 5  # wrong passwords in a row before the owner is told
    v16: V16Settings = field(default_factory=V16Settings)


def valid_identity(identity: str) -> bool:
    """1 to 48 printable ASCII characters, not a dot segment, no slash."""
    return (
        0 < len(identity) <= MAX_IDENTITY_LENGTH
        and identity not in (".", "..")
        and "/" not in identity
        and all(0x20 <= ord(ch) <= 0x7E for ch in identity)
    )


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


def identity_from_path(path: str, prefix: str = "") -> str | None:
    """The charge point identity in a request path, or None if the path is not acceptable.

    The identity is the last non-empty segment, URL-decoded, and must pass
    :func:`valid_identity`. With a prefix set, the path must start with it.
    """
    raw_path = urlsplit(path).path
    prefix = prefix.strip("/")
    if prefix:
        if not (raw_path.strip("/") + "/").startswith(prefix + "/"):
            return None
        raw_path = raw_path.strip("/")[len(prefix) :]
    segments = [s for s in raw_path.split("/") if s]
    if not segments or any(unquote(s) in (".", "..") for s in segments):
        return None  # nothing, or a traversal: not a charger's URL
    if not segments[-1].isascii():
        return None
    identity = unquote(segments[-1], errors="replace")
    return identity if valid_identity(identity) else None


def basic_credentials(headers: Headers) -> tuple[str, str] | None:
    """(username, password) from an HTTP Basic Authorization header, if well formed."""
    value = headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except binascii.Error, UnicodeDecodeError:
        return None
    username, separator, password = decoded.partition(":")
    if not separator:
        return None
    return username, password


class _HandshakeLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets' logger, with failed handshakes as one line instead of a traceback.

    Port scanners, health checks and browsers hitting the port are normal on a
    home network; they must not fill Home Assistant's log with errors.
    """

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if msg == "opening handshake failed":
            error = sys.exc_info()[1]
            kwargs.pop("exc_info", None)
            msg = "Refused a connection attempt: %s"
            args = (error or "handshake failed",)
            level = logging.INFO
        super().log(level, msg, *args, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)


class CentralSystem:
    """An OCPP 1.6J central system bound to one host and port."""

    def __init__(self, config: ServerConfig, backend: Backend) -> None:
        """Prepare; :meth:`start` binds the port."""
        self.config = config
        self.backend = backend
        self.handlers: dict[str, V16Handler] = {}
        self._server: Server | None = None
        self._schemas: SchemaSet | None = None
        self._logged: set[tuple[str, ...]] = set()
        self.auth_throttle = AuthThrottle()
        self.connections = ConnectionCounter(config.max_connections_per_address)

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._server is not None
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    async def start(self) -> None:
        """Compile the schemas (in an executor), then listen; OSError if the port is taken."""
        loop = asyncio.get_running_loop()
        self._schemas = await loop.run_in_executor(
            None, SchemaSet.load, set(HANDLED_ACTIONS | COMMAND_ACTIONS)
        )
        self._server = await serve(
            self._serve,
            self.config.host or None,
            self.config.port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            subprotocols=[SUBPROTOCOL],
            ssl=self.config.ssl_context,
            ping_interval=self.config.ping_interval,
            ping_timeout=self.config.ping_timeout,
            # A peer that misses a pong will not answer a close either: give up as fast.
            close_timeout=min(self.config.ping_timeout or 10.0, 10.0),
            max_size=self.config.max_frame_bytes,
            open_timeout=self.config.open_timeout,
            compression=None,
            server_header="OCPP Hub",
            logger=_HandshakeLogger(logging.getLogger(f"{__name__}.websockets")),
        )

    async def stop(self) -> None:
        """Close every charger connection and the listening socket."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    def handler(self, identity: str) -> V16Handler | None:
        """The live conversation with ``identity``, if connected."""
        return self.handlers.get(identity)

    async def disconnect(self, identity: str, reason: str) -> None:
        """Close the connection of ``identity`` (it will reconnect by itself)."""
        handler = self.handlers.get(identity)
        if handler is not None:
            await handler.session.close(reason)

    # ---------------------------------------------------------------- handshake
    def _log_once(self, key: tuple[str, ...], level: int, message: str, *args: object) -> None:
        if key in self._logged:
            _LOGGER.debug(message, *args)
            return
        self._logged.add(key)
        _LOGGER.log(level, message, *args)

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        identity = identity_from_path(request.path, self.config.path_prefix)
        if identity is None:
            self._log_once(
                ("path", address),
                logging.WARNING,
                "Refused a connection from %s: no acceptable charge point identity in the path",
                address,
            )
            return connection.respond(HTTPStatus.BAD_REQUEST, "No valid charge point identity\n")
        registration = self.backend.registration(identity)
        if registration is None or not registration.password_required:
            return None
        credentials = basic_credentials(request.headers)
        if credentials is None:
            problem = _AUTH_PROBLEMS[0]
        elif credentials[0] != identity or not await self.backend.verify_password(
            identity, credentials[1]
        ):
            problem = _AUTH_PROBLEMS[1]
        else:
            self._logged -= {("auth", identity, address, p) for p in _AUTH_PROBLEMS}
            self.auth_throttle.succeeded(address)
            return None
        failures, delay = self.auth_throttle.failed(address)
        if failures == self.config.auth_failures_for_report:
            self.backend.auth_failures(identity, address, failures)
        # Growing delay before the answer: guessing passwords gets slow fast.
        await asyncio.sleep(delay)
        self._log_once(
            ("auth", identity, address, problem),
            logging.WARNING,
            "Refused charger %s from %s: %s (HTTP 401)",
            identity,
            address,
            problem,
        )
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP Hub", charset="UTF-8"'
        return response

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        if SUBPROTOCOL in subprotocols:
            return SUBPROTOCOL
        path = connection.request.path if connection.request else ""
        if not subprotocols:
            self._log_once(
                ("subprotocol", path),
                logging.INFO,
                "Charger at %s offered no subprotocol; treating it as OCPP 1.6",
                path,
            )
            return None
        raise NegotiationError(f"unsupported subprotocol; this central system speaks {SUBPROTOCOL}")

    # ----------------------------------------------------------------- sessions
    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        assert self._schemas is not None
        identity = identity_from_path(connection.request.path, self.config.path_prefix)
        assert identity is not None  # checked in _process_request
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        if not self.connections.try_open(address):
            self._log_once(
                ("connections", address),
                logging.WARNING,
                "Refused a connection from %s: more than %d open connections from one address",
                address,
                self.config.max_connections_per_address,
            )
            await connection.close(CloseCode.TRY_AGAIN_LATER, "too many connections")
            return
        try:
            await self._run_session(connection, identity)
        finally:
            self.connections.closed(address)

    async def _run_session(self, connection: ServerConnection, identity: str) -> None:
        assert self._schemas is not None
        previous = self.handlers.get(identity)
        if previous is not None:
            _LOGGER.info("Charger %s connected again; closing its previous connection", identity)
            await previous.session.close("replaced by a new connection")
        session = Session(
            connection,
            identity,
            self._schemas,
            call_timeout=self.config.call_timeout,
            flood=FloodGuard(
                self.config.flood_rate, self.config.flood_burst, self.config.flood_patience
            ),
        )
        registration = self.backend.registration(identity)
        handler = V16Handler(
            session,
            self.backend,
            registration.charger if registration else None,
            self.config.v16,
            on_closed=self._handler_closed,
        )
        session.attach(handler)
        self.handlers[identity] = handler
        _LOGGER.info("Charger %s connected from %s", identity, session.remote_address)
        await session.run()

    def _handler_closed(self, handler: V16Handler) -> None:
        identity = handler.session.identity
        if self.handlers.get(identity) is handler:
            del self.handlers[identity]
        if self.handlers.get(identity) is None:  # not replaced by a newer connection
            _LOGGER.info("Charger %s disconnected", identity)
