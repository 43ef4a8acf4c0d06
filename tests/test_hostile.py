"""Hostile peers against the protocol layer alone (no Home Assistant): it stands on its own.

Each test: a clear answer per OCPP or HTTP, the central system unaffected, nothing leaks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import gc
import json
import logging
from pathlib import Path
import ssl
import tracemalloc
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.csms.auth import PasswordVerifier, hash_password
from custom_components.ocpp_hub.csms.backend import AuthorizationStatus, Registration
from custom_components.ocpp_hub.csms.port import ChargerPort
from custom_components.ocpp_hub.csms.server import CentralSystem, ServerConfig
from custom_components.ocpp_hub.csms.tls import server_context
from custom_components.ocpp_hub.model.charger import Charger, ChargerInfo

from .conftest import BOTH_VERSIONS, SimVersion, free_port
from .helpers import wait_for
from .test_config_flow import make_certificate

PASSWORD = "s3cret-pass"
_HASH = hash_password(PASSWORD)


class Backend:
    """A minimal application: two registered chargers, cp2 with a password."""

    def __init__(self) -> None:
        """Register cp1 (no password) and cp2 (password)."""
        self.chargers = {"cp1": Charger("cp1"), "cp2": Charger("cp2")}
        self.verifier = PasswordVerifier()
        self.reports: list[tuple[str, str, int]] = []
        self.successes: list[tuple[str, str]] = []
        self._next = 1

    def registration(self, identity: str) -> Registration | None:
        charger = self.chargers.get(identity)
        return Registration(charger, identity == "cp2") if charger else None

    async def verify_password(self, identity: str, password: str) -> bool:
        return await self.verifier.verify(password, _HASH)

    def unknown_boot(
        self, identity: str, info: ChargerInfo, remote_address: str | None
    ) -> Charger | None:
        return None

    def authorize(self, charger: Charger, id_tag: str, action: str) -> AuthorizationStatus:
        return AuthorizationStatus.ACCEPTED

    def next_transaction_id(self) -> int:
        self._next += 1
        return self._next

    def auth_failures(self, identity: str, address: str, count: int) -> None:
        self.reports.append((identity, address, count))

    def auth_succeeded(self, identity: str, address: str) -> None:
        self.successes.append((identity, address))

    async def charger_ready(self, handler: ChargerPort) -> None:
        return None


@pytest.fixture
def config() -> ServerConfig:
    """Server settings for the test (tests change them before the server starts)."""
    return ServerConfig(host="127.0.0.1", port=free_port(), ping_interval=None)


@pytest.fixture
async def server(config: ServerConfig) -> AsyncIterator[CentralSystem]:
    """A running central system with the minimal backend."""
    central = CentralSystem(config, Backend())
    await central.start()
    yield central
    await central.stop()


def url(server: CentralSystem, identity: str = "cp1") -> str:
    """Where a charger connects."""
    return f"ws://127.0.0.1:{server.port}/{identity}"


@BOTH_VERSIONS
async def test_oversized_frame_is_refused_before_parsing(
    server: CentralSystem, sim_version: SimVersion
) -> None:
    """A frame over 64 KiB closes the connection with 1009; the server serves the next one."""
    async with connect(url(server), subprotocols=[sim_version.name], max_size=None) as ws:
        await ws.send('[2,"big","Heartbeat",{"x":"' + "A" * 70_000 + '"}]')
        with pytest.raises(ConnectionClosed) as err:
            await ws.recv()
        assert err.value.rcvd is not None
        assert err.value.rcvd.code == 1009
    async with sim_version.simulator(f"ws://127.0.0.1:{server.port}/", "cp1") as charger:
        assert "currentTime" in await charger.heartbeat()


async def test_repeated_wrong_passwords_are_slowed_and_reported(
    server: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    """Each wrong password waits longer; the fifth is reported; the right one still works."""
    server.auth_throttle.base = 0.05
    backend: Backend = server.backend  # type: ignore[assignment]
    loop = asyncio.get_running_loop()
    delays = []
    for attempt in range(5):
        started = loop.time()
        with pytest.raises(InvalidStatus) as err:
            await SimulatedCharger(
                f"ws://127.0.0.1:{server.port}/", "cp2", password=f"guess{attempt}"
            ).connect()
        assert err.value.response.status_code == 401
        delays.append(loop.time() - started)
    assert delays[-1] > delays[0] * 4  # growing: 0.05 s ... 0.8 s
    assert backend.reports == [("cp2", "127.0.0.1", 5)]
    assert "guess" not in caplog.text
    async with SimulatedCharger(
        f"ws://127.0.0.1:{server.port}/", "cp2", password=PASSWORD
    ) as charger:
        assert "currentTime" in await charger.heartbeat()


async def test_malformed_authorization_headers(server: CentralSystem) -> None:
    """Garbage in the Authorization header is a plain 401, never a crash."""
    server.auth_throttle.base = 0.0
    for header in ("Basic", "Basic %%%%", "Bearer x", "Basic " + "A" * 5000, "Basic Y3Ay"):
        with pytest.raises(InvalidStatus) as err:
            await connect(
                url(server, "cp2"),
                subprotocols=["ocpp1.6"],
                additional_headers={"Authorization": header},
            )
        assert err.value.response.status_code == 401


@pytest.mark.parametrize(
    "path", ["/../etc/passwd", "/%2e%2e", "/a%00b", "/%FF%FE", "/" + "é" * 3, "//"]
)
async def test_odd_paths_are_refused(server: CentralSystem, path: str) -> None:
    """Traversal and odd characters in the path get HTTP 400 before the websocket opens."""
    with pytest.raises(InvalidStatus) as err:
        await connect(f"ws://127.0.0.1:{server.port}{path}", subprotocols=["ocpp1.6"])
    assert err.value.response.status_code in (400, 404)


@pytest.mark.parametrize("config", [ServerConfig(host="127.0.0.1", open_timeout=0.5)])
async def test_slow_handshake_is_closed(config: ServerConfig) -> None:
    """A client that never finishes its handshake is disconnected after the timeout."""
    config.port = free_port()
    central = CentralSystem(config, Backend())
    await central.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
        writer.write(b"GET /cp1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
        await writer.drain()
        async with asyncio.timeout(5):
            remainder = await reader.read()
        assert remainder == b""  # closed by the server
        writer.close()
    finally:
        await central.stop()


@BOTH_VERSIONS
async def test_connections_per_address_are_bounded(
    server: CentralSystem, sim_version: SimVersion
) -> None:
    """Beyond the cap, connections from one address are refused at once (HTTP 503)."""
    server.connections.limit = 3
    protocols = [sim_version.name]
    sockets = [await connect(url(server, f"x{i}"), subprotocols=protocols) for i in range(3)]
    with pytest.raises(InvalidStatus) as err:
        await connect(url(server, "x3"), subprotocols=protocols)
    assert err.value.response.status_code == 503
    await sockets[0].close()
    await asyncio.sleep(0.05)
    again = await connect(url(server, "x4"), subprotocols=protocols)
    await again.send(json.dumps([2, "h", "Heartbeat", {}]))
    assert json.loads(await again.recv())[0] == 3
    for ws in [*sockets[1:], again]:
        await ws.close()


@BOTH_VERSIONS
async def test_flooding_charger_is_throttled_then_disconnected(
    server: CentralSystem, caplog: pytest.LogCaptureFixture, sim_version: SimVersion
) -> None:
    """Far above the rate for longer than the patience: disconnected (1008) and shown so."""
    caplog.set_level(logging.WARNING)
    server.config.flood_rate = 20
    server.config.flood_burst = 10
    server.config.flood_patience = 0.3
    charger = server.backend.registration("cp1").charger  # type: ignore[union-attr]
    # The flooder reads our answers (max_queue=None); one that does not is held back by
    # TCP itself once its receive window is full.
    async with connect(url(server), subprotocols=[sim_version.name], max_queue=None) as ws:
        with contextlib.suppress(ConnectionClosed):
            for n in range(2000):
                await ws.send(json.dumps([2, f"f{n}", "Heartbeat", {}]))
                await asyncio.sleep(0)
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1008
    assert "disconnected" in caplog.text
    await wait_for(lambda: not charger.connected)
    assert charger.disconnect_reason == "flooding"


@BOTH_VERSIONS
async def test_a_charger_within_the_rate_is_never_cut(
    server: CentralSystem, sim_version: SimVersion
) -> None:
    """An offline backlog within the burst, answered one by one, all gets through."""
    server.config.flood_burst = 300
    async with sim_version.simulator(f"ws://127.0.0.1:{server.port}/", "cp1") as charger:
        for n in range(200):
            await charger.meter_values(1, energy_wh=1000 + n)
    assert server.backend.registration("cp1").charger.energy_wh == 1199  # type: ignore[union-attr]


@BOTH_VERSIONS
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_security_profile_2(tmp_path: Path, sim_version: SimVersion) -> None:
    """wss + Basic auth with a certificate made here; TLS below 1.2 is refused by default.

    The same for a 1.6 and a 2.0.1 charger: both are checked before the websocket opens."""
    cert, key = make_certificate(tmp_path)
    config = ServerConfig(
        host="127.0.0.1",
        port=free_port(),
        ping_interval=None,
        ssl_context=server_context(str(cert), str(key)),
    )
    central = CentralSystem(config, Backend())
    await central.start()
    client = ssl.create_default_context(cafile=str(cert))
    base = f"wss://127.0.0.1:{central.port}/"
    try:
        simulator = sim_version.simulator
        async with simulator(base, "cp2", password=PASSWORD, ssl=client) as charger:
            assert "currentTime" in await charger.heartbeat()
        central.auth_throttle.base = 0.0
        with pytest.raises(InvalidStatus) as err:
            await simulator(base, "cp2", password="wrong", ssl=client).connect()
        assert err.value.response.status_code == 401
        old = ssl.create_default_context(cafile=str(cert))
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        # Python 3.14's event loop in debug mode (as the test plugin runs it; Home
        # Assistant does not) reports the refused handshake to its exception handler.
        loop = asyncio.get_running_loop()
        reported: list[str] = []
        previous = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
        try:
            with pytest.raises((ssl.SSLError, ConnectionError)):
                await connect(base + "cp1", subprotocols=[sim_version.name], ssl=old)
            await central.stop()
        finally:
            loop.set_exception_handler(previous)
        assert set(reported) <= {"Error on transport creation for incoming connection"}
    finally:
        await central.stop()


def test_legacy_tls_option(tmp_path: Path) -> None:
    """The option for old chargers adds older ciphers; the minimum stays TLS 1.2 either way."""
    cert, key = make_certificate(tmp_path)
    assert server_context(str(cert), str(key)).minimum_version is ssl.TLSVersion.TLSv1_2
    legacy = server_context(str(cert), str(key), legacy=True)
    assert legacy.minimum_version is ssl.TLSVersion.TLSv1_2


@BOTH_VERSIONS
async def test_hostile_frames_leave_no_growth(
    server: CentralSystem, sim_version: SimVersion
) -> None:
    """Thousands of bad frames: every one answered, no task and no memory left behind."""
    bad = [
        "not json",
        "[]",
        '[2, 17, "Heartbeat", {}]',
        '[9, "x", "Heartbeat", {}]',
        '[2, "x", "FlyToTheMoon", {}]',
        '[2, "x", "StatusNotification", {"connectorId": "one"}]',
        '[2, "x", "StatusNotification", {"evseId": "one", "connectorStatus": "Sleeping"}]',
        "[" * 60_000,  # nested deeper than Python parses, under the size limit
        '[3, "never-sent", {}]',
    ]
    async with connect(url(server), subprotocols=[sim_version.name], max_size=None) as ws:

        async def reply() -> list[Any]:
            while True:  # the central system's own calls (GetConfiguration) get answered
                frame = json.loads(await ws.recv())
                if frame[0] != 2:
                    return list(frame)
                await ws.send(json.dumps([3, frame[1], {"configurationKey": []}]))

        async def round_of_abuse() -> None:
            for n in range(50):
                for frame in bad:
                    await ws.send(frame.replace('"x"', f'"m{n}"'))
                    if not frame.startswith("[3"):
                        assert (await reply())[0] == 4
            await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
            assert (await reply())[0] == 3

        await round_of_abuse()  # warm-up: caches, first-use allocations
        gc.collect()
        tasks_before = len(asyncio.all_tasks())
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        await round_of_abuse()
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        # What the central system's own code still holds (websockets' buffers in
        # flight and the test's client share this process and are not counted).
        ours = [tracemalloc.Filter(True, "*/custom_components/ocpp_hub/*")]
        growth = sum(
            d.size_diff
            for d in after.filter_traces(ours).compare_to(before.filter_traces(ours), "lineno")
        )
        assert len(asyncio.all_tasks()) <= tasks_before
        assert growth < 64 * 1024, f"{growth} bytes kept after 450 hostile frames"
