"""Security review, second round: each attack against the real central system, over 127.0.0.1.

The protocol layer is run on its own (no Home Assistant) with a backend whose
registrations the test changes while connections are open.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
import json
import logging
from pathlib import Path
import ssl

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.csms.auth import hash_password
from custom_components.ocpp_hub.csms.backend import Registration
from custom_components.ocpp_hub.csms.handshake import identity_from_path, valid_identity
from custom_components.ocpp_hub.csms.port import ChargerPort
from custom_components.ocpp_hub.csms.server import CentralSystem, ServerConfig
from custom_components.ocpp_hub.csms.tls import server_context
from custom_components.ocpp_hub.csms.version import HandlerSettings
from custom_components.ocpp_hub.model.charger import Charger

from .conftest import free_port
from .helpers import wait_for
from .test_config_flow import make_certificate
from .test_hostile import Backend

PASSWORD = "a-long-enough-password-1234"
OTHER_PASSWORD = "another-long-enough-password-5678"


class SecurityBackend(Backend):
    """An application whose registrations and passwords the test changes at will."""

    def __init__(self) -> None:
        """cp1 registered without a password, cp2 with one."""
        super().__init__()
        self.chargers = {}
        self.hashes: dict[str, str | None] = {}
        self.transactions = 0
        self.checks_in_flight = 0
        self.most_checks_in_flight = 0
        self.ready: list[str] = []
        self.register("cp1")
        self.register("cp2", PASSWORD)

    def register(self, identity: str, password: str | None = None) -> None:
        """Register ``identity`` (or change its password)."""
        self.chargers.setdefault(identity, Charger(identity))
        self.hashes[identity] = hash_password(password) if password else None

    def registration(self, identity: str) -> Registration | None:
        charger = self.chargers.get(identity)
        if charger is None:
            return None
        stored = self.hashes[identity]
        return Registration(charger, stored is not None, stored)

    async def verify_password(self, identity: str, password: str) -> bool:
        stored = self.hashes.get(identity)
        if stored is None:
            return False
        self.checks_in_flight += 1
        self.most_checks_in_flight = max(self.most_checks_in_flight, self.checks_in_flight)
        try:
            await asyncio.sleep(0.05)  # the checks overlap if the server lets them
            return await self.verifier.verify(password, stored)
        finally:
            self.checks_in_flight -= 1

    def next_transaction_id(self) -> int:
        self.transactions += 1
        return self.transactions

    async def charger_ready(self, handler: ChargerPort) -> None:
        self.ready.append(handler.session.identity)


@pytest.fixture
def config() -> ServerConfig:
    """Quick close handshakes (1 s), no pings; tests change the rest before the start."""
    return ServerConfig(
        host="127.0.0.1",
        port=free_port(),
        ping_interval=None,
        ping_timeout=1.0,
        handler=HandlerSettings(boot_grace=0.2),
    )


@pytest.fixture
async def server(config: ServerConfig) -> AsyncIterator[CentralSystem]:
    """A running central system with the test's backend."""
    central = CentralSystem(config, SecurityBackend())
    await central.start()
    yield central
    await central.stop()


def backend_of(server: CentralSystem) -> SecurityBackend:
    """The test backend of ``server``."""
    backend = server.backend
    assert isinstance(backend, SecurityBackend)
    return backend


def base_url(server: CentralSystem) -> str:
    """Where chargers connect (the identity is appended)."""
    return f"ws://127.0.0.1:{server.port}/"


async def deaf_connection(server: CentralSystem, identity: str) -> ClientConnection:
    """A websocket for ``identity`` that stops reading: it never answers a close."""
    ws = await connect(base_url(server) + identity, subprotocols=["ocpp1.6"], ping_interval=None)
    ws.transport.pause_reading()
    return ws


# ------------------------------------------------------------------ point 1
async def test_unauthenticated_session_is_not_bound_to_a_charger_registered_meanwhile(
    server: CentralSystem,
) -> None:
    """Registered with a password while its predecessor closes: never bound, nothing recorded."""
    backend = backend_of(server)
    deaf = await deaf_connection(server, "cp9")  # nobody registered cp9 yet
    intruder = SimulatedCharger(base_url(server), "cp9")
    await intruder.connect()  # no password needed: cp9 is unknown
    start = asyncio.ensure_future(intruder.start_transaction(1, "TAG", 0))
    await wait_for(lambda: server.handler("cp9") is not None)
    backend.register("cp9", PASSWORD)  # the owner adds cp9, with a password, meanwhile
    with pytest.raises(Exception):  # noqa: B017,PT011 - closed, whichever way the sim says so
        await asyncio.wait_for(start, 10)
    await wait_for(lambda: not intruder.connected, 10)
    assert backend.transactions == 0
    assert not backend.chargers["cp9"].connected
    assert server.handler("cp9") is None
    await intruder.close()
    deaf.transport.abort()


async def test_password_change_closes_a_session_with_the_old_password(
    server: CentralSystem,
) -> None:
    """A connection that authenticated with the old password goes when the password changes."""
    backend = backend_of(server)
    async with SimulatedCharger(base_url(server), "cp2", password=PASSWORD) as charger:
        assert (await charger.boot())["status"] == "Accepted"
        backend.register("cp2", OTHER_PASSWORD)
        server.enforce_credentials("cp2")
        await wait_for(lambda: not charger.connected, 10)
    assert not backend.chargers["cp2"].connected
    async with SimulatedCharger(base_url(server), "cp2", password=OTHER_PASSWORD) as charger:
        assert (await charger.boot())["status"] == "Accepted"
        server.enforce_credentials("cp2")  # same password: stays
        assert "currentTime" in await charger.heartbeat()


async def test_at_most_one_session_per_identity(server: CentralSystem) -> None:
    """Two reconnects while the first connection closes: only the newest is live, and shown so."""
    charger = backend_of(server).chargers["cp1"]
    deaf = await deaf_connection(server, "cp1")
    await wait_for(lambda: charger.connected)
    second = SimulatedCharger(base_url(server), "cp1")
    await second.connect()
    third = SimulatedCharger(base_url(server), "cp1")
    await third.connect()
    assert (await third.boot())["status"] == "Accepted"
    with pytest.raises(Exception):  # noqa: B017,PT011 - the second is no session at all
        await asyncio.wait_for(second.heartbeat(), 10)
    await wait_for(lambda: not second.connected, 10)
    assert "currentTime" in await third.heartbeat()
    assert charger.connected  # the orphan's close did not mark the live one off
    assert server.handler("cp1") is not None
    assert server.handler("cp1").session.connection.remote_address is not None  # type: ignore[union-attr]
    await second.close()
    await third.close()
    deaf.transport.abort()


# ------------------------------------------------------------------ point 2
async def test_nothing_is_sent_to_a_connection_that_has_not_booted(
    server: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that never boots is asked to boot and gets nothing else; booting, it is set up."""
    caplog.set_level(logging.INFO, logger="custom_components.ocpp_hub")
    backend = backend_of(server)
    async with connect(base_url(server) + "cp1", subprotocols=["ocpp1.6"]) as ws:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame[2] == "TriggerMessage"
        assert frame[3] == {"requestedMessage": "BootNotification"}
        await ws.send(json.dumps([3, frame[1], {"status": "Rejected"}]))
        await wait_for(lambda: "did not boot on this connection" in caplog.text)
        # Its set-up is over: the next frame it gets is the answer to its own call.
        await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))[:2] == [3, "hb"]
    assert backend.ready == []
    async with SimulatedCharger(base_url(server), "cp1") as charger:
        await charger.boot()
        await wait_for(lambda: backend.ready == ["cp1"])


# ------------------------------------------------------------------ point 3
@pytest.mark.parametrize(
    "config", [ServerConfig(host="127.0.0.1", ping_interval=None, auth_delay=2.0)]
)
async def test_a_right_guess_waits_as_long_as_a_wrong_one(config: ServerConfig) -> None:
    """After a failure the lockout comes before the check: the right password is not answered early."""
    config.port = free_port()
    central = CentralSystem(config, SecurityBackend())
    await central.start()
    try:
        with pytest.raises(InvalidStatus) as err:
            await SimulatedCharger(base_url(central), "cp2", password="guess").connect()
        assert err.value.response.status_code == 401
        # Locked for 4 s: the next attempt waits for its check, right password or not.
        right = asyncio.ensure_future(
            SimulatedCharger(base_url(central), "cp2", password=PASSWORD).connect()
        )
        done, _ = await asyncio.wait({right}, timeout=1.0)
        assert not done, "a right guess was answered before the lockout ended"
        # Meanwhile a second attempt from the same address is refused at once.
        with pytest.raises(InvalidStatus) as err:
            await SimulatedCharger(base_url(central), "cp2", password="guess2").connect()
        assert err.value.response.status_code == 429
        right.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await right
    finally:
        await central.stop()


@pytest.mark.parametrize(
    "config", [ServerConfig(host="127.0.0.1", ping_interval=None, auth_delay=30.0)]
)
async def test_a_long_lockout_is_answered_at_once(config: ServerConfig) -> None:
    """Locked out for longer than a handshake waits: HTTP 429 with Retry-After, even when right."""
    config.port = free_port()
    central = CentralSystem(config, SecurityBackend())
    await central.start()
    try:
        with pytest.raises(InvalidStatus) as err:
            await SimulatedCharger(base_url(central), "cp2", password="guess").connect()
        assert err.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as err:
            await SimulatedCharger(base_url(central), "cp2", password=PASSWORD).connect()
        assert err.value.response.status_code == 429
        assert int(err.value.response.headers["Retry-After"]) > 5
        # The lockout is per identity too: another address gets no fresh start.
        with pytest.raises(InvalidStatus) as err:
            await connect(
                base_url(central) + "cp2",
                subprotocols=["ocpp1.6"],
                additional_headers={"Authorization": "Basic Y3AyOndyb25n"},
                local_addr=("127.0.0.2", 0),
            )
        assert err.value.response.status_code == 429
    finally:
        await central.stop()


# ------------------------------------------------------------------ point 4
async def test_password_checks_are_bounded_in_all(server: CentralSystem) -> None:
    """Wrong passwords from ten addresses at once: at most two checks (scrypt) run at a time."""
    backend = backend_of(server)

    async def attempt(n: int) -> int:
        try:
            await connect(
                base_url(server) + "cp2",
                subprotocols=["ocpp1.6"],
                additional_headers={"Authorization": "Basic Y3AyOndyb25n"},  # cp2:wrong
                local_addr=(f"127.0.0.{n + 2}", 0),
            )
        except InvalidStatus as err:
            return err.response.status_code
        return 101

    results = await asyncio.gather(*(attempt(n) for n in range(10)))
    assert results == [401] * 10
    assert backend.most_checks_in_flight <= server.config.max_password_checks


# ------------------------------------------------------------------ point 5
@pytest.mark.parametrize(
    "config",
    [
        ServerConfig(
            host="127.0.0.1",
            ping_interval=None,
            open_timeout=60,
            request_timeout=60,
            max_connections_per_address=5,
            max_connections=8,
        )
    ],
)
async def test_unfinished_handshakes_count_toward_the_caps(config: ServerConfig) -> None:
    """Silent sockets count from accept: beyond 5 per address, or 8 in all, HTTP 503 at once."""
    config.port = free_port()
    central = CentralSystem(config, SecurityBackend())
    await central.start()
    writers = []
    try:
        for _ in range(5):
            _, writer = await asyncio.open_connection("127.0.0.1", central.port)
            writers.append(writer)
        reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
        writers.append(writer)
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer.startswith(b"HTTP/1.1 503")
        for n in range(3):  # other addresses fill the global cap
            _, writer = await asyncio.open_connection(
                "127.0.0.1", central.port, local_addr=(f"127.0.0.{n + 2}", 0)
            )
            writers.append(writer)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", central.port, local_addr=("127.0.0.9", 0)
        )
        writers.append(writer)
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer.startswith(b"HTTP/1.1 503")
        assert central.connections.open() == 8
    finally:
        for writer in writers:
            writer.close()
        await central.stop()


@pytest.mark.parametrize(
    "config",
    [ServerConfig(host="127.0.0.1", ping_interval=None, open_timeout=60, request_timeout=0.3)],
)
async def test_request_line_has_a_short_timeout(config: ServerConfig) -> None:
    """A socket that sends nothing is closed after the request timeout, not the handshake's."""
    config.port = free_port()
    central = CentralSystem(config, SecurityBackend())
    await central.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        await wait_for(lambda: central.connections.open() == 0)
    finally:
        await central.stop()


# ------------------------------------------------------------------ point 6
async def test_flood_bucket_survives_a_reconnect(server: CentralSystem) -> None:
    """Reconnecting does not refill the message bucket: it is kept per address and identity."""
    async with SimulatedCharger(base_url(server), "cp1") as charger:
        await charger.heartbeat()
        first = server.handler("cp1")
        assert first is not None
        bucket = first.session.flood
    async with SimulatedCharger(base_url(server), "cp1") as charger:
        await charger.heartbeat()
        again = server.handler("cp1")
        assert again is not None
        assert again.session.flood is bucket


# ------------------------------------------------------------------ point 7
async def test_handshake_paths_leave_bounded_memory(server: CentralSystem) -> None:
    """Hundreds of handshakes without a subprotocol, each with its own query: one log key."""
    for n in range(300):
        async with connect(base_url(server) + f"cp1?n={n}") as ws:
            await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
            await ws.recv()
    assert len(server.admission.logged) <= 2


# ------------------------------------------------------------------ point 8
async def test_password_never_logged_with_debug_on(
    server: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    """Debug logging of the integration shows the handshake, not the Authorization header."""
    caplog.set_level(logging.DEBUG, logger="custom_components.ocpp_hub")
    async with SimulatedCharger(base_url(server), "cp2", password=PASSWORD) as charger:
        assert (await charger.boot())["status"] == "Accepted"
    encoded = base64.b64encode(f"cp2:{PASSWORD}".encode()).decode()
    ours = "\n".join(  # the test's own client logs its side too
        r.getMessage() for r in caplog.records if r.name.startswith("custom_components.ocpp_hub")
    )
    assert "< Authorization: Basic [redacted]" in ours
    assert encoded not in ours
    assert PASSWORD not in ours


# ------------------------------------------------------------------ smaller ones
def test_identity_with_outer_spaces_is_never_valid() -> None:
    """One rule for the path and for the owner's input: no leading or trailing spaces."""
    assert identity_from_path("/wb1%20") is None
    assert identity_from_path("/%20wb1") is None
    assert not valid_identity("wb1 ")
    assert valid_identity("Wallbox Garage")


def test_legacy_tls_stays_at_tls_1_2(tmp_path: Path) -> None:
    """The option for old chargers adds older TLS 1.2 ciphers; TLS 1.0 and 1.1 stay refused."""
    cert, key = make_certificate(tmp_path)
    legacy = server_context(str(cert), str(key), legacy=True)
    assert legacy.minimum_version is ssl.TLSVersion.TLSv1_2
    strict = server_context(str(cert), str(key))
    names = {c["name"] for c in legacy.get_ciphers()}
    assert {"AES128-SHA", "ECDHE-ECDSA-AES128-SHA"} <= names
    modern = {c["name"] for c in strict.get_ciphers()}
    assert not {"AES128-SHA", "ECDHE-ECDSA-AES128-SHA"} & modern


async def test_old_cipher_client_connects_only_with_the_legacy_option(tmp_path: Path) -> None:
    """A TLS 1.2 client with only an old cipher: refused by default, served with the option."""
    cert, key = make_certificate(tmp_path)
    old = ssl.create_default_context(cafile=str(cert))
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=1")  # the test certificate is EC
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, _context: None)  # the refused TLS handshake
    try:
        for legacy, served in ((False, False), (True, True)):
            config = ServerConfig(
                host="127.0.0.1",
                port=free_port(),
                ping_interval=None,
                ssl_context=server_context(str(cert), str(key), legacy=legacy),
            )
            central = CentralSystem(config, SecurityBackend())
            await central.start()
            try:
                url = f"wss://127.0.0.1:{central.port}/"
                if served:
                    async with SimulatedCharger(url, "cp1", ssl=old) as charger:
                        assert "currentTime" in await charger.heartbeat()
                else:
                    with pytest.raises((ssl.SSLError, ConnectionError)):
                        await SimulatedCharger(url, "cp1", ssl=old).connect()
            finally:
                await central.stop()
    finally:
        loop.set_exception_handler(previous)


async def test_refused_handshakes_never_log_a_traceback(
    server: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that hangs up while its 401 is on the way: one line, no traceback, no error.

    websockets trips on its own ``assert not self.eof_sent`` when the peer's end of
    stream arrives while the refusal is being decided (here: during the lockout after
    a wrong password) and logs "unexpected internal error" with a traceback.
    """
    caplog.set_level(logging.INFO, logger="custom_components.ocpp_hub")
    with pytest.raises(InvalidStatus):
        await SimulatedCharger(base_url(server), "cp2", password="wrong").connect()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET /cp2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Authorization: Basic Y3AyOndyb25n\r\n\r\n"
    )
    await writer.drain()
    await wait_for(lambda: server.auth_throttle._in_flight)
    writer.write_eof()  # and gone, before the answer
    with contextlib.suppress(ConnectionError):
        await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await wait_for(lambda: server.connections.open() == 0, 10)
    # Both refusals went out (the second one to nobody).
    await wait_for(lambda: caplog.text.count("connection rejected (401") == 2, 10)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_closed_while_waiting_is_harmless(server: CentralSystem) -> None:
    """A new connection that goes while its predecessor closes leaves nothing behind."""
    deaf = await deaf_connection(server, "cp1")
    ws = await connect(base_url(server) + "cp1", subprotocols=["ocpp1.6"])
    await ws.close()
    deaf.transport.abort()
    await wait_for(lambda: server.handler("cp1") is None, 10)
