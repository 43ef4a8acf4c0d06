"""The load generator's simulated chargers, and the recorder of what was observed.

A :class:`Charger` uses plain ``websockets`` and ``json`` (not the ``ocpp``
library), so that the generator stays light: a websocket, a reader task that
answers the central system's CALLs and resolves the answers to its own, and at
most one outstanding CALL of its own. What it sends in each OCPP version is in
``loadgen_messages.py`` (2.0.1: TransactionEvent Updated where 1.6 sends MeterValues).

Every MeterValues carries a power unique per charger and frame
(``BASE_POWER_W + sequence number``), by which the subscriber
(``loadgen_subscriber.py``) matches a state change to its frame. Both write into
a :class:`Recorder` (``time.monotonic_ns()`` values).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
from dataclasses import dataclass, field
import itertools
import json
import time
from typing import Any

from loadgen_messages import messages
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

BASE_POWER_W = 7000
CALL, CALLRESULT, CALLERROR = 2, 3, 4
CALL_TIMEOUT = 30.0


def _dumps(frame: Any) -> str:
    return json.dumps(frame, separators=(",", ":"))


@dataclass
class Recorder:
    """What the chargers and the subscriber observed (monotonic ns)."""

    # MeterValues: time sent, time answered.
    sent_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    answered_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    # (charger index, sequence number) -> time sent, until its state change arrives.
    awaiting_state: dict[tuple[int, int], int] = field(default_factory=dict)
    # Matched: time sent, latency to the subscriber.
    matched_sent_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    matched_latency_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    # Every entity change the subscriber received (arrival time).
    state_change_ns: array.array[int] = field(default_factory=lambda: array.array("q"))
    errors: dict[str, int] = field(default_factory=dict)
    match_states: bool = False

    def error(self, kind: str) -> None:
        """Count one error of ``kind``."""
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Charger:
    """One simulated charge point."""

    _message_ids = itertools.count(1)

    def __init__(self, index: int, recorder: Recorder, version: str = "1.6") -> None:
        """Charger ``index`` (identity ``cp{index}``) in OCPP ``version``; :meth:`open` connects."""
        self.index = index
        self.identity = f"cp{index}"
        self.recorder = recorder
        self.messages = messages(version, index)
        self.ws: ClientConnection | None = None
        self.energy_wh = 1_000_000.0 + index
        self.sequence = 0
        self.calls_received: list[tuple[str, int]] = []
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def open(self, url: str) -> None:
        """Connect, boot, report a car plugged in and start a transaction."""
        self.ws = await connect(
            url + self.identity,
            subprotocols=[Subprotocol(self.messages.subprotocol)],
            compression=None,
            ping_interval=None,  # the central system pings; pongs are automatic
            open_timeout=30,
            max_size=2**20,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        boot, _ = await self.call(*self.messages.boot())
        if boot[2].get("status") != "Accepted":
            raise RuntimeError(f"{self.identity}: boot not accepted: {boot}")
        await self.call(*self.messages.status(plugged_in=True))
        started, _ = await self.call(*self.messages.start(self.energy_wh))
        self.messages.started(started[2])

    async def finish(self) -> None:
        """Stop the transaction, report the connector free, close the connection."""
        try:
            if self.messages.in_transaction:
                await self.call(*self.messages.stop(self.energy_wh))
                await self.call(*self.messages.status(plugged_in=False))
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the websocket and stop the reader."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def call(
        self, action: str, payload: dict[str, Any], track: tuple[int, int] | None = None
    ) -> tuple[list[Any], int]:
        """Send a CALL, wait for its CALLRESULT (raise on CALLERROR): (answer, time sent).

        With ``track``, the time sent is registered under that key for the subscriber
        before the frame is written (its state change may arrive before the answer).
        """
        assert self.ws is not None
        message_id = str(next(self._message_ids))
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        text = _dumps([CALL, message_id, action, payload])
        sent = time.monotonic_ns()
        if track is not None:
            self.recorder.awaiting_state[track] = sent
        try:
            await self.ws.send(text)
            async with asyncio.timeout(CALL_TIMEOUT):
                answer = await future
        finally:
            self._pending.pop(message_id, None)
        if answer[0] != CALLRESULT:
            raise RuntimeError(f"{self.identity}: {action} answered {answer}")
        return answer, sent

    async def meter_values(self) -> None:
        """Send one MeterValues (2.0.1: TransactionEvent Updated) and wait for its answer."""
        self.sequence += 1
        power = BASE_POWER_W + self.sequence
        self.energy_wh += power / 3600  # as if one second passed
        action, payload = self.messages.meter_values(power, self.energy_wh, self.sequence)
        recorder = self.recorder
        track = (self.index, self.sequence) if recorder.match_states else None
        _, sent = await self.call(action, payload, track)
        answered = time.monotonic_ns()
        recorder.sent_ns.append(sent)
        recorder.answered_ns.append(answered)

    async def _read(self) -> None:
        assert self.ws is not None
        ws = self.ws
        try:
            async for text in ws:
                arrived = time.monotonic_ns()
                frame = json.loads(text)
                kind = frame[0]
                if kind == CALL:
                    action = frame[2]
                    self.calls_received.append((action, arrived))
                    answer = self.messages.answer(action, frame[3])
                    if answer is None:
                        reply = [CALLERROR, frame[1], "NotImplemented", "", {}]
                    else:
                        reply = [CALLRESULT, frame[1], answer]
                    await ws.send(_dumps(reply))
                    continue
                future = self._pending.get(frame[1])
                if future is not None and not future.done():
                    future.set_result(frame)
        except ConnectionClosed:
            pass
