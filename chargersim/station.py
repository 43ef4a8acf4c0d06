"""The version-neutral part of a simulated charge point.

`ChargingStation` holds what a charger is whatever OCPP version it speaks:
its identity and hardware, connectors and cars, configuration and behaviour,
installed charging profiles, the calls the CSMS sent it, and its life on the
network: connecting, booting, reconnecting with backoff, rebooting, closing.
An OCPP version's charger (`chargersim.v16.SimulatedCharger`) adds the
messages it sends and the handlers that answer the CSMS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import datetime
import logging
import ssl as ssl_lib
from typing import Any, ClassVar, Self

from websockets.exceptions import ConnectionClosed

from .behaviour import TETHERED_MODELS, ChargerBehaviour, fit_configuration
from .call_log import CallLog
from .car import Car, loop_time
from .connectors import ConnectorState
from .rpc import CallHandlers, JSONDict, NotConnectedError, RpcSession
from .smart_charging import InstalledProfile
from .state import StationState
from .transport import Transport, build_url, connect_with_backoff

__all__ = ["ChargingStation", "MeterReading"]

_LOGGER = logging.getLogger("chargersim")


@dataclass(frozen=True)
class MeterReading:
    """What a connector's meter read (None: not sampled), for `ChargingStation.report_meter`."""

    energy_wh: float | None = None
    power_w: float | None = None
    #: Current per phase (A), L1 first.
    currents: list[float] | None = None
    voltage: float | None = None
    current_offered: float | None = None
    #: When it was read; None = now.
    timestamp: datetime | None = None


class ChargingStation(StationState, ABC):
    """A simulated charge point, whatever OCPP version it speaks.

    A subclass names its websocket subprotocol and RPC session, sends the boot
    and status messages of its version and answers the CSMS (`_call_handlers`).
    """

    #: The websocket subprotocol offered unless ``subprotocols`` says otherwise.
    SUBPROTOCOL: ClassVar[str]
    #: The RPC session speaking this version.
    SESSION: ClassVar[type[RpcSession]]
    #: The last status sent in a firmware / diagnostics (log upload) status notification.
    firmware_status_value = "Idle"
    diagnostics_status_value = "Idle"
    #: The requestId of the last UpdateFirmware / log upload (2.0.1 repeats it; 1.6 has none).
    firmware_request_id: int | None = None
    diagnostics_request_id: int | None = None

    def __init__(
        self,
        url: str,
        identity: str,
        *,
        password: str | None = None,
        vendor: str = "Wall Box Chargers",
        model: str = "PLP1-0-2-4",
        serial: str = "SIM-000001",
        firmware: str = "6.7.11",
        connectors: int = 1,
        ssl: ssl_lib.SSLContext | None = None,
        subprotocols: list[str] | None = None,
        behaviour: ChargerBehaviour | None = None,
        call_timeout: float = 10.0,
        phases: int | None = None,
        tethered: bool | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a charger has at least one connector")
        self.base_url = url
        self.identity = identity
        #: The URL actually connected to: ``url`` + ``/`` + identity.
        self.url = build_url(url, identity)
        self.password = password
        self.vendor = vendor
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.number_of_connectors = connectors
        self.ssl = ssl
        self.subprotocols = [self.SUBPROTOCOL] if subprotocols is None else list(subprotocols)
        self.behaviour = behaviour if behaviour is not None else ChargerBehaviour()
        self.call_timeout = call_timeout
        #: Electrical supply used to convert W <-> A (and by the scenarios):
        #: single phase unless told otherwise; 240 V for North American models.
        self.phases = phases if phases is not None else 1
        self.voltage = 240.0 if model.upper().startswith("PUP") else 230.0
        #: A fixed cable (UnlockConnector answers NotSupported): the Pulsar Plus and
        #: Commander 2 by default, not the Copper SB (a socket) or other models.
        self.tethered = (
            tethered if tethered is not None else model.upper().startswith(TETHERED_MODELS)
        )
        fit_configuration(
            self.behaviour.configuration,
            connectors,
            phase_switching=self.behaviour.phase_switching,
        )

        self.connectors: dict[int, ConnectorState] = {
            n: ConnectorState(n) for n in range(1, connectors + 1)
        }
        self.cars = {n: Car(seed=f"{identity}:{n}", clock=loop_time) for n in self.connectors}
        self.charging_profiles: list[InstalledProfile] = []
        self.local_list: dict[str, Any] = {}
        self.local_list_version = 0
        self.calls = CallLog()
        #: How many BootNotifications were sent in total.
        self.boots = 0
        #: The answer to the last BootNotification, if any.
        self.last_boot: JSONDict | None = None

        self._transport = Transport(
            identity,
            self.url,
            session_class=self.SESSION,
            password=password,
            ssl=ssl,
            subprotocols=self.subprotocols,
            call_timeout=call_timeout,
            on_closed=self._disconnected,
        )
        self._ready = asyncio.Event()
        self._boot_accepted: set[asyncio.Event] = set()
        self._last_accepted_boot: JSONDict | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reboot_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._backoff = (0.2, 5.0)
        # Transaction messages waiting for the CSMS to be reachable again.
        self._outbox: list[Callable[[], Awaitable[JSONDict]]] = []
        #: The transaction messages sent, oldest first (a test may `resend` one).
        self.transaction_messages: list[Any] = []

    # -- what a version adds ---------------------------------------------------

    @abstractmethod
    def _call_handlers(self) -> CallHandlers:
        """The handlers that answer the CSMS on a new connection."""

    @abstractmethod
    async def boot(self) -> JSONDict:
        """Send a BootNotification; return the CSMS's answer."""

    @abstractmethod
    async def status(self, connector_id: int, status: str) -> JSONDict:
        """Send a connector's status (the version's StatusNotification)."""

    @abstractmethod
    async def announce(self, connector_ids: list[int]) -> None:
        """Send each connector's current status."""

    @abstractmethod
    async def local_stop(
        self, connector_id: int, reason: str, *, id_tag: str | None = None
    ) -> None:
        """Stop the connector's transaction (a remote stop, an unlock, the user's
        card ``id_tag`` ...)."""

    @abstractmethod
    async def report_meter(self, connector_id: int, reading: MeterReading) -> JSONDict:
        """Send the connector's periodic meter values (of its transaction, if one runs)."""

    @abstractmethod
    async def _reboot(self, reset_type: str) -> None:
        """Stop transactions, go away, come back and boot."""

    @abstractmethod
    async def firmware_status(self, status: str) -> JSONDict:
        """Send a firmware status (FirmwareStatusNotification)."""

    @abstractmethod
    async def diagnostics_status(self, status: str) -> JSONDict:
        """Send a diagnostics upload status (1.6 DiagnosticsStatus, 2.0.1 LogStatus)."""

    async def report_progress(self, kind: str, steps: list[str]) -> None:
        """Walk through firmware / diagnostics statuses, 0.1 s apart."""
        for step in steps:
            await asyncio.sleep(0.1)
            if kind == "firmware":
                await self.firmware_status(step)
            else:
                await self.diagnostics_status(step)

    async def boot_until_accepted(self, timeout: float | None = 10) -> JSONDict:
        """Send BootNotification until the CSMS accepts it; return that answer.

        Between attempts it waits the answer's ``interval``, capped by
        ``behaviour.boot_retry_cap`` (0.2 s by default, for tests). An
        Accepted answer to a boot sent for TriggerMessage(BootNotification)
        meanwhile ends the wait too. ``TimeoutError`` after ``timeout`` s.
        """
        accepted = asyncio.Event()
        self._boot_accepted.add(accepted)
        answer: JSONDict = {}
        try:
            async with asyncio.timeout(timeout):
                while True:
                    answer = await self.boot()
                    if answer.get("status") == "Accepted":
                        return answer
                    interval = answer.get("interval")
                    wait = float(interval) if isinstance(interval, int) and interval > 0 else 10.0
                    cap = self.behaviour.boot_retry_cap
                    if cap is not None:
                        wait = min(wait, cap)
                    _LOGGER.info(
                        "%s: boot %s, retrying in %.1f s",
                        self.identity,
                        answer.get("status"),
                        wait,
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await accepted.wait()
                    if accepted.is_set() and self._last_accepted_boot is not None:
                        return self._last_accepted_boot
        except TimeoutError as exc:
            raise TimeoutError(
                f"{self.identity}: BootNotification not accepted within {timeout} s "
                f"(last answer: {answer.get('status', 'none')})"
            ) from exc
        finally:
            self._boot_accepted.discard(accepted)

    # -- connection ------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a websocket connection is open."""
        return self._transport.connected

    @property
    def ready(self) -> bool:
        """True when connected and a BootNotification was accepted on it."""
        return self.connected and self._ready.is_set()

    @property
    def rebooting(self) -> bool:
        """True between an accepted Reset and the end of the following boot."""
        return self._reboot_task is not None and not self._reboot_task.done()

    async def connect(self) -> None:
        """Open the websocket and start receiving.

        Raises websockets' ``InvalidStatus`` when the server refuses the
        upgrade (for example HTTP 401 for a wrong password), ``OSError`` when
        it cannot be reached, ``TimeoutError`` when the handshake times out.
        Does not send a BootNotification.
        """
        if self.connected:
            return
        self._stopped = False
        await self._transport.open(self._call_handlers())
        self._ready.clear()

    def _disconnected(self) -> None:
        self._ready.clear()

    async def close(self) -> None:
        """Close the connection cleanly and stop background work. Idempotent."""
        self._stopped = True
        current = asyncio.current_task()
        tasks = [t for t in (*self._tasks, self._reboot_task) if t is not None]
        tasks = [t for t in tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        await self._drop_connection()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Return when the current connection has closed (either side)."""
        async with asyncio.timeout(timeout):
            await self._transport.wait_closed()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Return when connected and a BootNotification was accepted on it.

        Waits across reconnections (for example the reboot after a Reset).
        """
        async with asyncio.timeout(timeout):
            while not self.ready:
                await self._ready.wait()
                if not self.ready:
                    await asyncio.sleep(0.05)

    async def _drop_connection(self) -> None:
        self._ready.clear()
        await self._transport.close()

    async def run_forever(
        self,
        *,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        boot_on_reconnect: bool = True,
    ) -> None:
        """Stay connected until `close` is called, like a charger in the field.

        Connects (retrying with exponential backoff between ``min_backoff``
        and ``max_backoff`` seconds; after HTTP 401 it waits ``max_backoff``),
        sends BootNotification until Accepted, then StatusNotification for
        every connector, and starts over when the connection drops. After a
        plain reconnect it boots again unless ``boot_on_reconnect`` is False.
        """
        self._stopped = False
        self._backoff = (min_backoff, max_backoff)
        loop = asyncio.get_running_loop()
        first = True
        delay = min_backoff
        while not self._stopped:
            reboot = self._reboot_task
            if reboot is not None and not reboot.done():
                await asyncio.wait({reboot})
                continue
            if not self.connected:
                if not await self._connect_with_backoff():
                    return
                await self._start_session(boot=first or boot_on_reconnect)
                first = False
            opened = loop.time()
            await self.wait_closed()
            if self._stopped or self.rebooting:
                continue
            # A connection that keeps dropping right away backs off too.
            if loop.time() - opened >= max_backoff:
                delay = min_backoff
            _LOGGER.warning("%s: connection lost; reconnecting in %.3g s", self.identity, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)

    async def _connect_with_backoff(self) -> bool:
        """Connect, retrying until it works; False if `close` was called."""
        return await connect_with_backoff(
            self.connect,
            stopped=lambda: self._stopped,
            backoff=self._backoff,
            identity=self.identity,
            url=self.url,
        )

    async def _start_session(self, *, boot: bool) -> None:
        """Boot (or just mark ready) and announce the connectors' states."""
        try:
            if boot:
                await self.boot_until_accepted(timeout=None)
            else:
                self._ready.set()
            await self._flush_outbox()
            await self.announce(list(self.connectors))
        except (ConnectionClosed, NotConnectedError, TimeoutError) as exc:
            _LOGGER.warning("%s: session setup failed: %s", self.identity, exc)

    async def _flush_outbox(self) -> None:
        """Send the transaction messages queued while the CSMS was unreachable."""
        while self._outbox:
            await self._outbox[0]()
            self._outbox.pop(0)

    def _boot_answered(self, answer: JSONDict, session: RpcSession | None) -> None:
        """Take in the answer to a BootNotification sent over ``session``."""
        self.last_boot = answer
        if answer.get("status") != "Accepted":
            return
        interval = answer.get("interval")
        if isinstance(interval, int) and interval > 0:
            readonly = self.behaviour.configuration.get("HeartbeatInterval", ("", False))[1]
            self.behaviour.configuration["HeartbeatInterval"] = (str(interval), readonly)
        self._last_accepted_boot = answer
        if session is self._transport.session and self.connected:
            self._ready.set()
        for event in self._boot_accepted:
            event.set()

    async def _call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        return await self._transport.call(payload, on_reply)

    async def _transaction_call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        """Send a transaction message, and keep it (`transaction_messages`)."""
        self.transaction_messages.append(payload)
        return await self._call(payload, on_reply)

    async def resend(self, message: Any) -> JSONDict:
        """Send a transaction message again, as it was (a charger that missed our answer)."""
        return await self._call(message)

    async def send_raw(
        self, frame: str | bytes, *, expect_reply: bool = True, timeout: float = 5
    ) -> list[Any] | None:
        """Send a frame as-is (text, or binary for bytes), bypassing the library.

        Returns the next frame from the server that is not a CALL and is not
        the reply to one of the library's own calls (parsed JSON list), or
        None when ``expect_reply`` is False. CALLs arriving meanwhile are
        answered as usual. ``TimeoutError`` if nothing comes within
        ``timeout`` s; ``ConnectionClosed`` if the server closes instead.
        """
        return await self._transport.send_raw(frame, expect_reply=expect_reply, timeout=timeout)

    # -- background work -------------------------------------------------------

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run background work; `close` cancels it, a failure is logged."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ConnectionClosed | NotConnectedError):
            _LOGGER.info("%s: background work stopped: %s", self.identity, exc)
        elif exc is not None:
            _LOGGER.error("%s: background work failed: %r", self.identity, exc, exc_info=exc)

    async def _deliver(self, send: Callable[[], Awaitable[JSONDict]], what: str) -> bool:
        """Send a transaction message, never lost: queued until the next boot if it cannot go.

        Queued messages go after the next accepted boot, before the connectors
        are announced, as a real charger does. False if queued.
        """
        try:
            await send()
        except (ConnectionClosed, NotConnectedError, TimeoutError) as exc:
            _LOGGER.warning("%s: %s not delivered (%s); queued", self.identity, what, exc)
            self._outbox.append(send)
            return False
        return True

    async def _restart(self, reset_type: str) -> None:
        """After a Reset (transactions ended): go away, come back and boot.

        ``behaviour.reboot_delay`` None: a charger that never comes back.
        """
        delay = self.behaviour.reboot_delay
        if delay is None:
            _LOGGER.info("%s: %s reset; never coming back", self.identity, reset_type)
            self._stopped = True
            await self._drop_connection()
            return
        await asyncio.sleep(delay)
        _LOGGER.info("%s: rebooting (%s reset)", self.identity, reset_type)
        await self._drop_connection()
        if await self._connect_with_backoff():
            await self._start_session(boot=True)

    def start_reboot(self, reset_type: str) -> None:
        """Reboot in the background (after an accepted Reset)."""
        previous = self._reboot_task
        if previous is not None and not previous.done():
            # A Reset over the new connection while the last reboot is still
            # announcing itself: that reboot is over as far as it matters.
            previous.cancel()
        self._reboot_task = asyncio.ensure_future(self._reboot(reset_type))
        self._reboot_task.add_done_callback(self._task_done)

    # -- what the CSMS sent us -------------------------------------------------

    @property
    def received(self) -> list[tuple[str, JSONDict]]:
        """(action, payload) of every CSMS-initiated call, in arrival order
        (recorded when the call arrives, before it is answered)."""
        return self.calls.received

    @property
    def call_counts(self) -> Counter[str]:
        return self.calls.counts

    async def wait_for_call(self, action: str, timeout: float = 5) -> JSONDict:
        """Return the payload of the oldest not yet waited-for call ``action``.

        Waits for the next one if there is none. ``TimeoutError`` otherwise.
        """
        return await self.calls.wait_for(action, timeout)
