"""Load generator: simulated OCPP 1.6J or 2.0.1 chargers and a Home Assistant websocket subscriber.

Runs as its own process (``python benchmarks/loadgen.py``), so that its CPU time
is not counted as Home Assistant's. It is driven by ``load.py`` with one JSON
command per line on stdin and answers one JSON object per line on stdout; it
logs to stderr. It stops by itself on end of input, on ``quit``, or after
``--deadline`` seconds, whichever comes first.

The chargers use plain ``websockets`` and ``json`` (not the ``ocpp`` library), so
that the generator stays light: a charger is a websocket, a reader task that
answers the central system's CALLs and resolves the answers to its own, and at
most one outstanding CALL of its own. What it sends in each OCPP version is in
``loadgen_messages.py`` (2.0.1: TransactionEvent Updated where 1.6 sends MeterValues).

Every MeterValues (or TransactionEvent Updated) carries a power that is unique per charger and frame
(``BASE_POWER_W + sequence number``). The subscriber (a real websocket API client,
via aiohttp, subscribed like the frontend with ``subscribe_entities`` or to
``state_changed`` events) sees the power entity change to that value and so
matches the state change to the frame: the latency is the time from just before
the frame is written to the charger's socket to the arrival of the state change
at the subscriber, both on this process's monotonic clock.

Times exchanged with ``load.py`` are ``time.monotonic_ns()`` values: on Linux
that is CLOCK_MONOTONIC, one clock for every process on the machine.

The chargers and the :class:`Recorder` of what they observed are in
``loadgen_chargers.py``, the subscriber in ``loadgen_subscriber.py``; this file
holds the command server (:class:`Generator`, one method per command), the
load's pacing and the figures of a window.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable
import contextlib
import json
import logging
import random
import sys
import time
from typing import Any

from loadgen_chargers import Charger, Recorder
from loadgen_subscriber import Subscriber
from websockets.exceptions import ConnectionClosed

_LOGGER = logging.getLogger("loadgen")

CONNECT_CONCURRENCY = 50


def percentiles(values: Iterable[float], points: tuple[float, ...] = (50, 99)) -> dict[str, float]:
    """Nearest-rank percentiles (and count, max) of ``values``; empty dict if none."""
    ordered = sorted(values)
    if not ordered:
        return {}
    out = {f"p{p:g}": ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] for p in points}
    out["max"] = ordered[-1]
    out["count"] = len(ordered)
    return out


class Generator:
    """The chargers, the subscriber and the command loop."""

    def __init__(self) -> None:
        """Nothing connected yet."""
        self.recorder = Recorder()
        self.subscriber = Subscriber(self.recorder)
        self.chargers: list[Charger] = []
        self.url = ""
        self._load: asyncio.Task[None] | None = None
        self._cpu_marks: dict[int, float] = {}

    # ------------------------------------------------------------------ commands
    async def cmd_subscribe(
        self, url: str, token: str, mode: str, power_entities: dict[str, int]
    ) -> dict[str, Any]:
        """Connect the websocket API subscriber."""
        await self.subscriber.start(url, token, mode, power_entities)
        return {"initial_entities": self.subscriber.initial_entities}

    async def cmd_connect(self, url: str, n: int, ocpp: str = "1.6") -> dict[str, Any]:
        """Connect and boot chargers cp0..cp{n-1} speaking ``ocpp`` (a bounded number at a time)."""
        began = time.monotonic()
        self.url = url
        self.chargers = [Charger(i, self.recorder, ocpp) for i in range(n)]
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(charger: Charger) -> None:
            async with gate:
                await charger.open(url)

        results = await asyncio.gather(*(one(c) for c in self.chargers), return_exceptions=True)
        failures = [repr(r) for r in results if isinstance(r, BaseException)]
        # Let the central system's GetConfiguration after boot be answered.
        await asyncio.sleep(0.5)
        return {"connected": n - len(failures), "failures": failures[:5], "seconds": _since(began)}

    async def cmd_load(
        self,
        *,
        mode: str,
        start_ns: int,
        end_ns: int,
        interval: float = 1.0,
        seed: int = 0,
        match: bool = True,
        count: int = 0,
    ) -> dict[str, Any]:
        """Start sending MeterValues from every charger (returns at once).

        ``rate``: each charger once per ``interval``, at a random phase; ``max``: each
        charger again as soon as its previous MeterValues is answered; ``count``: as
        ``max``, ``count`` MeterValues per charger. Nothing is sent after ``end_ns``.
        """
        self.recorder = recorder = Recorder(match_states=match)
        self.subscriber.recorder = recorder
        for charger in self.chargers:
            charger.recorder = recorder
        rng = random.Random(seed)
        offsets = [rng.uniform(0, interval) for _ in self.chargers]
        self._load = asyncio.get_running_loop().create_task(
            self._run_load(
                mode=mode,
                start_ns=start_ns,
                end_ns=end_ns,
                interval=interval,
                offsets=offsets,
                count=count,
            )
        )
        return {}

    async def cmd_cpu_marks(self, marks_ns: list[int]) -> dict[str, Any]:
        """Sample this process's CPU time at each of ``marks_ns`` (returns at once)."""
        self._cpu_marks = {}

        async def sample() -> None:
            for mark in marks_ns:
                await asyncio.sleep(max(0.0, (mark - time.monotonic_ns()) / 1e9))
                self._cpu_marks[mark] = time.process_time()

        asyncio.get_running_loop().create_task(sample())
        return {}

    async def cmd_report(self, window_ns: list[int], drain: float) -> dict[str, Any]:
        """Wait for the load to end (and ``drain`` s for late states); figures for the window."""
        if self._load is not None:
            await self._load
            self._load = None
        await asyncio.sleep(drain)
        return self._figures(window_ns[0], window_ns[1])

    async def cmd_calls(self, index: int) -> dict[str, Any]:
        """The CALLs charger ``index`` received since the last ask (action, arrival ns)."""
        charger = self.chargers[index]
        calls, charger.calls_received = charger.calls_received, []
        return {"calls": calls}

    async def cmd_disconnect(self) -> dict[str, Any]:
        """Stop every transaction and close every charger."""
        began = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(charger: Charger) -> None:
            async with gate:
                await charger.finish()

        results = await asyncio.gather(*(one(c) for c in self.chargers), return_exceptions=True)
        failures = [repr(r) for r in results if isinstance(r, BaseException)]
        self.chargers = []
        return {"failures": failures[:5], "seconds": _since(began)}

    # ------------------------------------------------------------------ load
    async def _run_load(
        self,
        *,
        mode: str,
        start_ns: int,
        end_ns: int,
        interval: float,
        offsets: list[float],
        count: int,
    ) -> None:
        async def periodic(charger: Charger, offset: float) -> None:
            due = start_ns / 1e9 + offset
            end = end_ns / 1e9
            while due < end:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await self._one(charger)
                due += interval

        async def flat_out(charger: Charger) -> None:
            await asyncio.sleep(max(0.0, (start_ns - time.monotonic_ns()) / 1e9))
            left = count if mode == "count" else -1
            while left != 0 and time.monotonic_ns() < end_ns:
                await self._one(charger)
                left -= 1

        if mode == "rate":
            jobs = [periodic(c, o) for c, o in zip(self.chargers, offsets, strict=True)]
        else:
            jobs = [flat_out(c) for c in self.chargers]
        await asyncio.gather(*jobs)

    async def _one(self, charger: Charger) -> None:
        try:
            await charger.meter_values()
        except (RuntimeError, TimeoutError, ConnectionClosed) as err:
            self.recorder.error(type(err).__name__)
            await asyncio.sleep(0.1)

    def _figures(self, start_ns: int, end_ns: int) -> dict[str, Any]:
        recorder = self.recorder
        seconds = (end_ns - start_ns) / 1e9
        answered = sum(1 for t in recorder.answered_ns if start_ns <= t < end_ns)
        sent = sum(1 for t in recorder.sent_ns if start_ns <= t < end_ns)
        roundtrip = [
            (a - s) / 1e6
            for s, a in zip(recorder.sent_ns, recorder.answered_ns, strict=True)
            if start_ns <= s < end_ns
        ]
        latency = [
            lat / 1e6
            for s, lat in zip(recorder.matched_sent_ns, recorder.matched_latency_ns, strict=True)
            if start_ns <= s < end_ns
        ]
        changes = sum(1 for t in recorder.state_change_ns if start_ns <= t < end_ns)
        marks = [self._cpu_marks.get(start_ns), self._cpu_marks.get(end_ns)]
        cpu = marks[1] - marks[0] if marks[0] is not None and marks[1] is not None else None
        return {
            "window_s": seconds,
            "meter_values_sent": sent,
            "meter_values_answered": answered,
            "meter_values_per_s": answered / seconds if seconds else 0.0,
            "state_changes": changes,
            "latency_ms": percentiles(latency),
            "matched": len(latency),
            "roundtrip_ms": percentiles(roundtrip),
            "generator_cpu_s": cpu,
            "errors": recorder.errors,
        }


def _since(began: float) -> float:
    return round(time.monotonic() - began, 3)


async def _serve(deadline: float) -> None:
    generator = Generator()
    commands: dict[str, Callable[..., Any]] = {
        "subscribe": generator.cmd_subscribe,
        "connect": generator.cmd_connect,
        "load": generator.cmd_load,
        "cpu_marks": generator.cmd_cpu_marks,
        "report": generator.cmd_report,
        "calls": generator.cmd_calls,
        "disconnect": generator.cmd_disconnect,
    }
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        async with asyncio.timeout(deadline):
            while line := await reader.readline():
                request = json.loads(line)
                name = request.pop("cmd")
                if name == "quit":
                    break
                try:
                    answer = {"ok": True, **await commands[name](**request)}
                except Exception as err:
                    _LOGGER.exception("command %s failed", name)
                    answer = {"ok": False, "error": repr(err)}
                sys.stdout.write(json.dumps(answer) + "\n")
                sys.stdout.flush()
    except TimeoutError:
        _LOGGER.warning("deadline of %s s reached; stopping", deadline)
    finally:
        if generator._load is not None:
            generator._load.cancel()
        for charger in generator.chargers:
            with contextlib.suppress(Exception):
                await charger.close()
        with contextlib.suppress(Exception):
            await generator.subscriber.stop()


def main() -> None:
    """Serve commands from stdin until told to quit (or the deadline)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=900.0, help="stop after this many s")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="loadgen: %(message)s")
    asyncio.run(_serve(args.deadline))


if __name__ == "__main__":
    main()
