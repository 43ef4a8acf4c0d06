"""Who may open a websocket: the central system's decisions before the first OCPP frame.

The path carries the charger's identity (last segment, URL-decoded); a
registered charger with a password must present it (HTTP 401 otherwise, before
the websocket opens); the subprotocol must be one of the versions of the
registry (:mod:`.versions`; none offered is taken as 1.6), and the one its
registration pins if it pins one (HTTP 400 otherwise, as for a version nobody
speaks). Password checks are slowed before they run after failures (a lockout
longer than a handshake may wait is HTTP 429 at once), capped in parallel, and
each refusal is logged once per address and cause. The pieces (parsing the
path and the header, counting connections) are in :mod:`.handshake`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from http import HTTPStatus
import logging
import math

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .backend import Backend
from .config import ServerConfig
from .guard import AuthThrottle, BoundedSet
from .handshake import ChargerConnection, basic_credentials, identity_from_path
from .versions import DEFAULT_SUBPROTOCOL, PREFERENCE, VERSIONS

_LOGGER = logging.getLogger(__name__)

_AUTH_PROBLEMS = ("no password presented", "wrong username or password")


class Admission:
    """The handshake decisions of one central system (websockets' hooks)."""

    def __init__(self, config: ServerConfig, backend: Backend) -> None:
        """Decide by ``config`` and the registrations ``backend`` knows."""
        self.config = config
        self.backend = backend
        self.throttle = AuthThrottle(
            config.auth_delay, config.auth_delay_cap, parallel=config.max_auth_attempts_per_address
        )
        self.logged = BoundedSet()
        self._password_checks: asyncio.Semaphore | None = None

    def start(self) -> None:
        """Ready to check passwords (at most ``max_password_checks`` at once)."""
        self._password_checks = asyncio.Semaphore(self.config.max_password_checks)

    def log_once(self, key: tuple[str, ...], level: int, message: str, *args: object) -> None:
        """Log at ``level`` the first time ``key`` comes up, at debug level afterwards."""
        if not self.logged.add(key):
            _LOGGER.debug(message, *args)
            return
        _LOGGER.log(level, message, *args)

    def overloaded(self, address: str) -> None:
        """A connection was refused at accept: too many from ``address`` or in all."""
        self.log_once(
            ("connections", address),
            logging.WARNING,
            "Refused connections from %s: more than %d open from one address or %d in all",
            address,
            self.config.max_connections_per_address,
            self.config.max_connections,
        )

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """None to go on with the handshake, or the HTTP refusal (400, 401, 429)."""
        assert isinstance(connection, ChargerConnection)
        address = connection.address
        identity = identity_from_path(request.path, self.config.path_prefix)
        if identity is None:
            self.log_once(
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
        wait = self.throttle.delay(address, identity)
        if wait > self.config.auth_max_wait or not self.throttle.begin(address):
            # Locked out for longer than a handshake may wait, or guessing in parallel
            # (one attempt at a time from an address that failed): not checked at all.
            connection.refused = True
            response = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too many attempts\n")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        try:
            problem = await self._check_credentials(connection, identity, request.headers)
        finally:
            self.throttle.end(address)
        if problem is None:
            for kind in _AUTH_PROBLEMS:
                self.logged.discard(("auth", identity, address, kind))
            self.throttle.succeeded(address, identity)
            self.backend.auth_succeeded(identity, address)
            return None
        failures = self.throttle.failed(address, identity)
        if failures == self.config.auth_failures_for_report:
            self.backend.auth_failures(identity, address, failures)
        self.log_once(
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
        if wait := self.throttle.delay(connection.address, identity):
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

    def select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The newest version both speak, or the one the charger's registration pins."""
        offered = [name for name in PREFERENCE if name in subprotocols and name in VERSIONS]
        pinned = self._pinned(connection)
        if pinned in VERSIONS and pinned not in (offered or [DEFAULT_SUBPROTOCOL]):
            assert connection.request is not None  # the pin comes from its path
            address = connection.address if isinstance(connection, ChargerConnection) else "?"
            identity = identity_from_path(connection.request.path, self.config.path_prefix)
            self.log_once(
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
            self.log_once(
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
