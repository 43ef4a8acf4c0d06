"""A simulated station's life on the network, whatever OCPP version it speaks.

`StationLifecycle` connects (`Transport`), boots until the CSMS accepts
(`boot_until_accepted`), stays connected like a charger in the field
(`run_forever`: reconnecting with backoff, booting again), reboots after an
accepted Reset, runs background work that `close` cancels, and never loses a
transaction message (`_deliver` queues what cannot go until the next boot).
`chargersim.station.ChargingStation` mixes it in; a version's charger provides
the messages it needs (boot, announce, the call handlers, the reboot itself).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import logging
from typing import Any, Self

from websockets.exceptions import ConnectionClosed

from .behaviour import ChargerBehaviour
from .connectors import ConnectorState
from .rpc import CallHandlers, JSONDict, NotConnectedError, RpcSession
from .transport import Transport, connect_with_backoff

__all__ = ["StationLifecycle"]

_LOGGER = logging.getLogger("chargersim")


class StationLifecycle(ABC):
    """Connecting, booting, staying connected and rebooting, for a `ChargingStation`."""

    identity: str
    url: str
    behaviour: ChargerBehaviour
    connectors: dict[int, ConnectorState]
    #: The answer to the last BootNotification, if any.
    last_boot: JSONDict | None
    _transport: Transport

    def _init_lifecycle(self) -> None:
        """Start disconnected, with nothing running and nothing queued."""
        self._ready = asyncio.Event()
        self._boot_accepted: set[asyncio.Event] = set()
        self._last_accepted_boot: JSONDict | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reboot_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._backoff = (0.2, 5.0)
        # Transaction messages waiting for the CSMS to be reachable again.
        self._outbox: list[Callable[[], Awaitable[JSONDict]]] = []

    # -- what the version provides ---------------------------------------------

    @abstractmethod
    def _call_handlers(self) -> CallHandlers:
        """The handlers that answer the CSMS on a new connection."""

    @abstractmethod
    async def boot(self) -> JSONDict:
        """Send a BootNotification; return the CSMS's answer."""

    @abstractmethod
    async def announce(self, connector_ids: list[int]) -> None:
        """Send each connector's current status."""

    @abstractmethod
    async def _reboot(self, reset_type: str) -> None:
        """Stop transactions, go away, come back and boot."""

    # -- booting ---------------------------------------------------------------

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
