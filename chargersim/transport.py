"""The charger's websocket to its central system: connecting, reconnecting, raw frames.

`Transport` opens the websocket like a Wallbox does (subprotocols, HTTP Basic
auth, TLS, no proxy, no pings of its own) and runs an `RpcSession` on it;
`connect_with_backoff` retries until it works.

The URL is built like a Wallbox does: the charge point identity is always
appended as the last path segment (``ws://host:9000/`` + ``wb1`` ->
``ws://host:9000/wb1``; a missing ``/`` before the identity is added), even if
the URL already ends with the identity (``ws://host/wb1`` -> ``ws://host/wb1/wb1``).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
import contextlib
import logging
import ssl as ssl_lib
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from .rpc import CallHandlers, JSONDict, NotConnectedError, RpcSession

__all__ = ["Transport", "build_url", "connect_with_backoff"]

_LOGGER = logging.getLogger("chargersim")


def build_url(base_url: str, identity: str) -> str:
    """Append the identity as the last path segment, as a Wallbox does."""
    parts = urlsplit(base_url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(parts._replace(path=path + quote(identity, safe="")))


class Transport:
    """One charger's connection to its CSMS, across reconnections.

    ``session_class`` is the `RpcSession` of the charger's OCPP version;
    ``on_closed`` is called when the current connection closes.
    """

    def __init__(
        self,
        identity: str,
        url: str,
        *,
        session_class: type[RpcSession],
        password: str | None,
        ssl: ssl_lib.SSLContext | None,
        subprotocols: list[str],
        call_timeout: float,
        on_closed: Callable[[], None],
    ) -> None:
        self.identity = identity
        self.url = url
        self.password = password
        self.ssl = ssl
        self.subprotocols = subprotocols
        self.call_timeout = call_timeout
        self.session: RpcSession | None = None
        self._session_class = session_class
        self._on_closed = on_closed
        self._raw_lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """True while a websocket connection is open."""
        return self.session is not None and not self.session.closed.is_set()

    async def open(self, handlers: CallHandlers) -> None:
        """Open the websocket and start receiving; ``handlers`` answer the CSMS's calls."""
        headers: dict[str, str] = {}
        if self.password is not None:
            token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        extra: dict[str, Any] = {}
        if self.url.lower().startswith("wss:") and self.ssl is not None:
            extra["ssl"] = self.ssl
        ws = await ws_connect(
            self.url,
            subprotocols=[Subprotocol(p) for p in self.subprotocols] or None,
            additional_headers=headers or None,
            proxy=None,  # a charger talks to its CSMS directly
            open_timeout=10,
            close_timeout=2,
            ping_interval=None,  # the central system pings (a Wallbox does not)
            **extra,
        )
        session = self._session_class(
            self.identity,
            ws,
            handlers,
            response_timeout=self.call_timeout,
            on_closed=self._closed,
        )
        session.start_receiving()
        self.session = session
        _LOGGER.info(
            "%s: connected to %s (subprotocol %s)", self.identity, self.url, ws.subprotocol
        )

    def _closed(self, session: RpcSession) -> None:
        if session is self.session:
            self._on_closed()

    async def close(self) -> None:
        """Close the current connection and wait for its receive loop to end."""
        session = self.session
        if session is None:
            return
        with contextlib.suppress(Exception):
            await session.ws.close()
        if session.task is not None:
            await asyncio.wait({session.task})

    async def wait_closed(self) -> None:
        """Return when the current connection has closed (either side)."""
        if self.session is not None:
            await self.session.closed.wait()

    def _open_session(self) -> RpcSession:
        session = self.session
        if session is None or session.closed.is_set():
            raise NotConnectedError(f"{self.identity}: not connected")
        return session

    async def call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        """Send a CALL and return the answer's payload (see `RpcSession.request`)."""
        return await self._open_session().request(payload, on_reply)

    async def send_raw(
        self, frame: str | bytes, *, expect_reply: bool, timeout: float
    ) -> list[Any] | None:
        """Send a frame as-is, one at a time (see `SimulatedCharger.send_raw`)."""
        session = self._open_session()
        async with self._raw_lock:
            reply: list[Any] | None = await session.send_raw(
                frame, expect_reply=expect_reply, timeout=timeout
            )
            return reply


async def connect_with_backoff(
    connect: Callable[[], Awaitable[None]],
    *,
    stopped: Callable[[], bool],
    backoff: tuple[float, float],
    identity: str,
    url: str,
) -> bool:
    """Call ``connect`` until it works; False if ``stopped()`` meanwhile.

    Waits ``backoff`` (min, max) seconds between attempts, doubling; the
    maximum after HTTP 401 (a wrong password).
    """
    min_backoff, max_backoff = backoff
    delay = min_backoff
    while not stopped():
        try:
            await connect()
        except Exception as exc:  # any failure means "try again later"
            failure: Exception = exc
        else:
            return True
        wait = delay
        status = getattr(getattr(failure, "response", None), "status_code", None)
        if status == 401:
            wait = max_backoff
            _LOGGER.error(
                "%s: password rejected by %s (HTTP 401); retrying in %.3g s",
                identity,
                url,
                wait,
            )
        elif isinstance(failure, ssl_lib.SSLCertVerificationError):
            _LOGGER.error(
                "%s: TLS certificate of %s not trusted (%s); "
                "use --cafile or --insecure; retrying in %.3g s",
                identity,
                url,
                failure.verify_message,
                wait,
            )
        else:
            _LOGGER.warning(
                "%s: cannot connect to %s: %s; retrying in %.3g s",
                identity,
                url,
                failure or type(failure).__name__,
                wait,
            )
        delay = min(delay * 2, max_backoff)
        await asyncio.sleep(wait)
    return False
