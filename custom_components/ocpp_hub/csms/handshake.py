"""What a connection must get right before its websocket opens, and how it is counted.

The path carries the charger's identity (:func:`identity_from_path`), the
``Authorization`` header its Basic credentials (:func:`basic_credentials`, never
logged: :class:`RedactCredentials`). A :class:`ChargerConnection` is counted
from the moment it is accepted (a connection over the caps gets HTTP 503 at
once), must send its request line within a short timeout, and remembers how it
authenticated; a refused handshake is one log line (:class:`HandshakeLogger`).
The decisions themselves are the central system's (:mod:`.admission`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import sys
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection
from websockets.datastructures import Headers
from websockets.protocol import State
from websockets.server import ServerProtocol

from .guard import ConnectionCounter

MAX_IDENTITY_LENGTH = 48


class ConnectionOwner(Protocol):
    """What a connection needs of the central system that accepted it."""

    websockets_logger: logging.Logger
    connections: ConnectionCounter

    @property
    def request_timeout(self) -> float:
        """Seconds for the request line and headers after accepting."""

    def overloaded(self, address: str) -> None:
        """``address`` was refused: too many connections."""


def valid_identity(identity: str) -> bool:
    """1 to 48 printable ASCII characters, not a dot segment, no slash, no outer spaces."""
    return (
        0 < len(identity) <= MAX_IDENTITY_LENGTH
        and identity == identity.strip()  # one rule for the path and for the owner's input
        and identity not in (".", "..")
        and "/" not in identity
        and all(0x20 <= ord(ch) <= 0x7E for ch in identity)
    )


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


_REDACTED_HEADERS = frozenset({"authorization", "proxy-authorization"})


class RedactCredentials(logging.Filter):
    """Hide credentials in websockets' debug lines of the request headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() in _REDACTED_HEADERS
        ):
            scheme = str(args[1]).partition(" ")[0]
            record.args = (args[0], f"{scheme} [redacted]")
        return True


class HandshakeLogger(logging.LoggerAdapter[logging.Logger]):
    """websockets' logger for one connection: a refused or failed handshake is one line.

    Port scanners, health checks and browsers hitting the port are normal on a
    home network; they must not fill Home Assistant's log with errors. A peer
    that hangs up while its refusal is being sent can trip an internal
    assertion of websockets; that too is one line, never a traceback.
    """

    def __init__(self, logger: logging.Logger, connection: ChargerConnection) -> None:
        super().__init__(logger)
        self.connection = connection

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if msg in ("opening handshake failed", "unexpected internal error") and (
            self.connection.protocol.state is not State.OPEN or self.connection.refused
        ):
            error = sys.exc_info()[1]
            kwargs.pop("exc_info", None)
            msg = "Refused a connection attempt: %s"
            args = (error or "handshake failed",)
            level = logging.DEBUG if self.connection.refused else logging.INFO
        super().log(level, msg, *args, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, *args, **kwargs)


_OVERLOADED = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 30\r\n"
    b"Content-Length: 21\r\nContent-Type: text/plain\r\n\r\nToo many connections\n"
)


class ChargerConnection(ServerConnection):
    """A websockets connection, counted from accept on, that remembers how it authenticated."""

    central: ConnectionOwner  # set on the subclass each central system makes

    def __init__(self, protocol: ServerProtocol, server: Server, **kwargs: Any) -> None:
        protocol.logger = HandshakeLogger(self.central.websockets_logger, self)
        super().__init__(protocol, server, **kwargs)
        self.address = "?"
        self.counted = False
        self.refused = False  # answered with an HTTP error (or not at all)
        self.authenticated = False  # presented the right password ...
        self.password_token: str | None = None  # ... for this registration of it
        self._request_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        super().connection_made(transport)
        if not self.central.connections.try_open(self.address):
            self.refused = True
            self.central.overloaded(self.address)
            # Closing the transport makes websockets' handshake fail at once (one debug line).
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(_OVERLOADED)
            transport.close()
            return
        self.counted = True
        self._request_timer = self.loop.call_later(
            self.central.request_timeout, self._request_overdue
        )

    def _request_overdue(self) -> None:
        if self.request is None:
            self.refused = True
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None
        if self.counted:
            self.counted = False
            self.central.connections.closed(self.address)
        super().connection_lost(exc)
