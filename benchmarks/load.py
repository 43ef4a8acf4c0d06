"""Load and latency of the OCPP Hub central system inside a real Home Assistant.

Home Assistant runs in this process (see ``harness.py``) with one ``ocpp_hub``
entry, ``http`` and ``websocket_api``; the simulated chargers and a websocket API
subscriber run in a separate process (``loadgen.py``), so that this process's
CPU time is Home Assistant's alone. Measured:

* rate mode, per N: N chargers each send MeterValues once a second: MeterValues
  handled per second, frame-to-subscriber latency (p50/p99), Home Assistant CPU
  time per MeterValues, state changes per MeterValues, garbage collector pauses,
  and the latency of a command (TriggerMessage) from the call in Home Assistant to
  the frame arriving at the charger, under that load and with the chargers idle;
* memory per connected charger (RSS with the largest N connected vs none, and a
  tracemalloc pass) and per registered charger (RSS before and after the entry);
* max mode, per N: each charger sends its next MeterValues as soon as the last
  one is answered: MeterValues/s, and MeterValues/s per core of Home Assistant CPU.

The chargers speak OCPP 1.6J, or with ``--ocpp 2.0.1`` OCPP 2.0.1: then a
TransactionEvent Updated with the same meter values stands where 1.6 sends a
MeterValues (and is what "MeterValues" counts), TransactionEvent Started/Ended
where it sends Start/StopTransaction (``loadgen_messages.py``).

Usage: ``.venv/bin/python benchmarks/load.py`` (``--help`` for the settings).
Results go to ``benchmarks/results/<date>.json``; markdown tables are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import gc
import io
import json
import logging
import os
from pathlib import Path
import platform
import pstats
import sys
import tempfile
import time
import tracemalloc
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    HassUnderTest,
    charger_identity,
    disable_entities,
    new_event_loop,
    settled_rss,
    start_hass,
    stop_hass,
)
from loadgen import percentiles  # noqa: E402
from loadgen_messages import VERSIONS  # noqa: E402
from report import markdown  # noqa: E402

from custom_components.ocpp_hub.csms.errors import CallFailed  # noqa: E402

_LOGGER = logging.getLogger("benchmark")

PROFILE_CHARGERS = 100
DISTURBED = 0.25  # cores used by other processes during a window that make it suspect
# A traced allocation made under one of these is the connections' (not a registry save).
_CONNECTION_CODE = ("/websockets/", "/ocpp_hub/csms/")


@dataclass(slots=True)
class Settings:
    """What to run (from the command line)."""

    rate_chargers: list[int]
    max_chargers: list[int]
    ocpp: str
    measure: float
    warmup: float
    interval: float
    max_measure: float
    commands: int
    command_seconds: float
    subscription: str
    tracemalloc_chargers: int
    tracemalloc_frames: int
    gc_freeze: bool
    disable: list[str]
    quiet_wait: float
    retries: int
    profile: Path | None
    output: Path

    @property
    def registered(self) -> int:
        """How many chargers the entry registers: the largest N of any phase."""
        profile = PROFILE_CHARGERS if self.profile else 0
        return max(
            1,
            *self.rate_chargers,
            *self.max_chargers,
            self.tracemalloc_chargers,
            profile,
        )


class LoadGenerator:
    """The load generator process, driven by JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        """Wrap a started ``loadgen.py`` process."""
        self.process = process

    @classmethod
    async def start(cls, deadline: float) -> LoadGenerator:
        """Start ``loadgen.py`` with this interpreter; it quits by itself after ``deadline`` s."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "loadgen.py"),
            "--deadline",
            str(deadline),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        return cls(process)

    async def ask(self, cmd: str, timeout: float = 120.0, **arguments: Any) -> dict[str, Any]:
        """Send one command and return its answer (RuntimeError if it failed)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(timeout):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator ended during {cmd}")
        answer: dict[str, Any] = json.loads(line)
        if not answer.pop("ok"):
            raise RuntimeError(f"load generator: {cmd} failed: {answer.get('error')}")
        return answer

    async def close(self) -> None:
        """Ask it to quit; kill it (this process's child, by its pid) if it does not."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.write(b'{"cmd": "quit"}\n')
            await self.process.stdin.drain()
            self.process.stdin.close()
        try:
            async with asyncio.timeout(15):
                await self.process.wait()
        except TimeoutError:
            _LOGGER.warning("load generator did not quit; killing pid %s", self.process.pid)
            self.process.kill()
            await self.process.wait()


class GcWatch:
    """Pauses of the cyclic garbage collector in this process (via ``gc.callbacks``).

    Only collections are timed (no sampling), so watching costs nothing between them.
    """

    def __init__(self) -> None:
        """Install the callback; :meth:`close` removes it."""
        self._began = 0.0
        self.pauses: list[tuple[int, int, float]] = []  # (end ns, generation, seconds)
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append(
                (time.monotonic_ns(), info["generation"], time.perf_counter() - self._began)
            )

    def window(self, start_ns: int, end_ns: int) -> dict[str, Any]:
        """Full (generation 2) collections and the time of all collections in a window."""
        inside = [p for p in self.pauses if start_ns <= p[0] < end_ns]
        full = [p[2] for p in inside if p[1] == 2]
        return {
            "full_collections": len(full),
            "full_max_ms": round(max(full, default=0.0) * 1e3, 1),
            "all_collections_ms": round(sum(p[2] for p in inside) * 1e3, 1),
        }

    def close(self) -> None:
        """Remove the callback."""
        gc.callbacks.remove(self._callback)


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (Linux /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    busy = sum(fields) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _ns_after(seconds: float) -> int:
    return time.monotonic_ns() + int(seconds * 1e9)


async def _sleep_until(deadline_ns: int) -> None:
    await asyncio.sleep(max(0.0, (deadline_ns - time.monotonic_ns()) / 1e9))


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: (v if k == "count" else round(v, 3)) for k, v in figures.items()}


def _short_path(filename: str) -> str:
    for marker in ("site-packages/", "custom_components/", "lib/python3.13/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _dump_profile(profiler: cProfile.Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)


class Bench:
    """One Home Assistant, one load generator, and the phases run against them."""

    def __init__(self, hut: HassUnderTest, gen: LoadGenerator, settings: Settings) -> None:
        """Use a started Home Assistant and load generator."""
        self.hut = hut
        self.gen = gen
        self.settings = settings
        self.gc_watch = GcWatch()
        counter = getattr(hut.hub.server, "connections", None)
        self._connections_limit: int | None = getattr(counter, "limit", None)
        config = hut.hub.server.config
        self._flood = {
            name: getattr(config, name)
            for name in ("flood_rate", "flood_burst")
            if hasattr(config, name)
        }

    def peer_limits(self, *, lift_flood: bool) -> dict[str, Any]:
        """Adapt the running server's defences against hostile peers to the benchmark.

        Every simulated charger comes from 127.0.0.1, so the cap on connections per
        address is raised (real chargers each have their own address). The flood
        guard (a token bucket per charger) keeps its production settings at 1 msg/s;
        in max mode it is lifted, since the point there is what the server can do.
        The guard still runs on every message. Its buckets are kept per charger across
        reconnects, so every phase starts with new ones (else the chargers of a max-mode
        phase would keep the 20 msg/s buckets of the rate phase before). Returns what
        was changed.
        """
        server = self.hut.hub.server
        changed: dict[str, Any] = {}
        counter = getattr(server, "connections", None)
        if counter is not None and self._connections_limit is not None:
            changed["max_connections_per_address"] = {"production": self._connections_limit}
            counter.limit = 100_000
            if hasattr(counter, "total"):  # the cap in all, too
                counter.total = 100_000
        for name, production in self._flood.items():
            setattr(server.config, name, 1e9 if lift_flood else production)
            changed[name] = {"production": production, "lifted": lift_flood}
        if (floods := getattr(server, "floods", None)) is not None:
            server.floods = type(floods)()
            changed["flood_buckets"] = "new"
        return changed

    async def wait_for_quiet(self) -> float:
        """Wait (at most ``--quiet-wait`` s) until other processes use < 0.15 cores.

        The machine may be shared; each second, the CPU used by the whole machine
        minus this process's is what others use (the idle load generator uses ~0).
        Returns the seconds waited.
        """
        began = time.monotonic()
        while time.monotonic() - began < self.settings.quiet_wait:
            cpu, busy = time.process_time(), machine_busy_seconds()
            await asyncio.sleep(1.0)
            if machine_busy_seconds() - busy - (time.process_time() - cpu) < 0.15:
                break
        return round(time.monotonic() - began, 1)

    async def connect(self, n: int) -> float:
        """Connect and boot chargers cp0..cp{n-1}; return the seconds it took."""
        connected = await self.gen.ask(
            "connect", url=self.hut.ocpp_url, n=n, ocpp=self.settings.ocpp, timeout=300
        )
        if connected["connected"] != n:
            raise RuntimeError(f"only {connected['connected']} of {n} connected: {connected}")
        await asyncio.sleep(1.0)  # the GetConfiguration after each boot
        await self.hut.hass.async_block_till_done()
        seconds: float = connected["seconds"]
        return seconds

    async def disconnect(self) -> None:
        """Stop the transactions and close every charger."""
        await self.gen.ask("disconnect", timeout=300)
        await self.hut.hass.async_block_till_done()

    # ------------------------------------------------------------------ commands
    async def command_latency(self, calls: int, spacing: float) -> dict[str, Any]:
        """TriggerMessage to cp0 ``calls`` times: call-to-wire and round-trip latency (ms)."""
        handler = self.hut.hub.server.handler(charger_identity(0))
        if handler is None:
            return {"error": "cp0 not connected"}
        await self.gen.ask("calls", index=0)  # forget earlier ones
        started: list[int] = []
        roundtrip: list[float] = []
        failures = 0
        for _ in range(calls):
            began = time.monotonic_ns()
            try:
                await handler.trigger_message("Heartbeat")
            except CallFailed:
                failures += 1
                continue
            started.append(began)
            roundtrip.append((time.monotonic_ns() - began) / 1e6)
            if spacing:
                await asyncio.sleep(spacing)
        received = await self.gen.ask("calls", index=0)
        arrivals = [t for action, t in received["calls"] if action == "TriggerMessage"]
        if failures or len(arrivals) != len(started):
            return {"error": f"{failures} failed, {len(started)} answered, {len(arrivals)} arrived"}
        wire = [(arrived - began) / 1e6 for began, arrived in zip(started, arrivals, strict=True)]
        return {
            "to_wire_ms": _rounded(percentiles(wire)),
            "roundtrip_ms": _rounded(percentiles(roundtrip)),
        }

    # ------------------------------------------------------------------ load
    async def load_phase(self, n: int, mode: str, memory: dict[str, Any] | None) -> dict[str, Any]:
        """Connect ``n`` chargers, load them (``rate`` or ``max``), measure, disconnect.

        With ``memory``, the RSS per connected charger is recorded there (after boot,
        and after the load, before disconnecting).
        """
        settings = self.settings
        waited = await self.wait_for_quiet()
        limits = self.peer_limits(lift_flood=mode == "max")
        rss_before = settled_rss() if memory is not None else 0
        connect_seconds = await self.connect(n)
        if memory is not None:
            memory["rss_per_connected_charger_after_boot"] = (settled_rss() - rss_before) / n
        measure = settings.measure if mode == "rate" else settings.max_measure
        start = _ns_after(0.3)
        t0 = start + int(settings.warmup * 1e9)
        t1 = t0 + int(measure * 1e9)
        with_commands = mode == "rate" and settings.commands > 0
        end = t1 + int(settings.command_seconds * 1e9) if with_commands else t1
        await self.gen.ask("cpu_marks", marks_ns=[t0, t1])
        await self.gen.ask(
            "load", mode=mode, start_ns=start, end_ns=end, interval=settings.interval, seed=n
        )
        await _sleep_until(t0)
        cpu0, busy0 = time.process_time(), machine_busy_seconds()
        await _sleep_until(t1)
        cpu1, busy1 = time.process_time(), machine_busy_seconds()
        result: dict[str, Any] = {
            "mode": mode,
            "chargers": n,
            "connect_s": connect_seconds,
            "waited_for_quiet_s": waited,
            "peer_limits": limits,
        }
        if with_commands:
            # While the chargers keep sending, after the CPU window.
            spacing = settings.command_seconds / settings.commands * 0.8
            result["command_under_load"] = await self.command_latency(settings.commands, spacing)
        report = await self.gen.ask("report", window_ns=[t0, t1], drain=1.0, timeout=120)
        if with_commands:
            result["command_idle"] = await self.command_latency(settings.commands, 0.0)
        if memory is not None:
            await self.hut.hass.async_block_till_done()
            memory["rss_per_connected_charger_after_load"] = (settled_rss() - rss_before) / n
            memory["rss_chargers"] = n
        await self.disconnect()

        window = (t1 - t0) / 1e9
        answered = report["meter_values_answered"]
        cpu = cpu1 - cpu0
        generator_cpu = report["generator_cpu_s"]
        result.update(
            {
                "window_s": round(window, 3),
                "meter_values_per_s": round(report["meter_values_per_s"], 1),
                "latency_ms": _rounded(report["latency_ms"]),
                "unmatched": report["meter_values_sent"] - report["matched"],
                "roundtrip_ms": _rounded(report["roundtrip_ms"]),
                "ha_cpu_s": round(cpu, 3),
                "ha_cpu_utilisation": round(cpu / window, 3),
                "ha_cpu_us_per_meter_values": round(cpu / answered * 1e6, 1) if answered else None,
                "meter_values_per_core": round(answered / cpu) if cpu else None,
                "state_changes_per_meter_values": (
                    round(report["state_changes"] / answered, 2) if answered else None
                ),
                "generator_cpu_utilisation": (
                    round(generator_cpu / window, 3) if generator_cpu is not None else None
                ),
                "gc": self.gc_watch.window(t0, t1),
                # Cores used by anything but these two processes: should be near 0.
                "other_processes_cpu": round(
                    (busy1 - busy0 - cpu - (generator_cpu or 0.0)) / window, 2
                ),
                "errors": report["errors"],
            }
        )
        if result["other_processes_cpu"] > DISTURBED:
            _LOGGER.warning(
                "Other processes used %.2f cores during the window: figures are disturbed",
                result["other_processes_cpu"],
            )
        _LOGGER.warning("%s N=%s: %s", mode, n, json.dumps(result))
        return result

    async def phase(self, n: int, mode: str, memory: dict[str, Any] | None) -> dict[str, Any]:
        """:meth:`load_phase`; again (``--retries``) while other processes disturbed it.

        The least disturbed attempt is kept (the memory figures come from the first).
        """
        attempts: list[dict[str, Any]] = []
        while True:
            result = await self.load_phase(n, mode, memory if not attempts else None)
            result["attempt"] = len(attempts) + 1
            attempts.append(result)
            if result["other_processes_cpu"] <= DISTURBED or len(attempts) > self.settings.retries:
                break
        best = min(attempts, key=lambda r: r["other_processes_cpu"])
        best["attempts"] = len(attempts)
        return best

    # ------------------------------------------------------------------ memory
    async def _connect_and_send(self, n: int, frames: int) -> None:
        await self.connect(n)
        await self.gen.ask(
            "load", mode="count", start_ns=_ns_after(0.1), end_ns=_ns_after(120), count=frames
        )
        await self.gen.ask("report", window_ns=[0, 1], drain=0.5, timeout=180)
        await self.hut.hass.async_block_till_done()

    async def tracemalloc_phase(self, n: int, frames: int) -> dict[str, Any]:
        """Python heap per connected charger: traced allocations alive after some load.

        A first connect-load-disconnect cycle runs with tracing on, so that the
        entities' states (replaced on every change) are already traced when the
        baseline is taken; the measured cycle then shows what connections add.
        Allocations made under websockets or the integration's protocol layer are
        the connections'; the rest (say, a registry saved meanwhile) is reported apart.
        """
        self.peer_limits(lift_flood=False)
        tracemalloc.start(20)
        try:
            await self._connect_and_send(n, frames)
            await self.disconnect()
            gc.collect()
            before = tracemalloc.take_snapshot()
            await self._connect_and_send(n, frames)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        await self.disconnect()
        connection = other = 0
        by_file: dict[str, int] = {}
        for stat in after.compare_to(before, "traceback"):
            files = [frame.filename for frame in stat.traceback]
            if any(code in name for name in files for code in _CONNECTION_CODE):
                connection += stat.size_diff
                where = _short_path(stat.traceback[-1].filename)
                by_file[where] = by_file.get(where, 0) + stat.size_diff
            else:
                other += stat.size_diff
        top = sorted(by_file.items(), key=lambda item: -item[1])[:10]
        return {
            "chargers": n,
            "meter_values_each": frames,
            "bytes_per_connected_charger": round(connection / n),
            "other_bytes_per_charger": round(other / n),
            "top_files": [{"file": f, "bytes_per_charger": round(b / n)} for f, b in top],
        }

    # ------------------------------------------------------------------ profile
    async def profile_phase(self, path: Path) -> dict[str, Any]:
        """Max mode under cProfile (this thread runs the event loop); stats to ``path``."""
        profiler = cProfile.Profile()
        self.peer_limits(lift_flood=True)
        await self.connect(PROFILE_CHARGERS)
        start = _ns_after(0.3)
        end = start + int(self.settings.max_measure * 1e9)
        await self.gen.ask("load", mode="max", start_ns=start, end_ns=end)
        await _sleep_until(start)
        profiler.enable()
        await _sleep_until(end)
        profiler.disable()
        report = await self.gen.ask("report", window_ns=[start, end], drain=0.5, timeout=120)
        await self.disconnect()
        await asyncio.to_thread(_dump_profile, profiler, path)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())
        return {
            "chargers": PROFILE_CHARGERS,
            "meter_values": report["meter_values_answered"],
            "stats": str(path),
        }

    # ------------------------------------------------------------------ all
    async def run(self, results: dict[str, Any]) -> None:
        """Run every phase into ``results``."""
        settings = self.settings
        hut = self.hut
        subscribed = await self.gen.ask(
            "subscribe",
            url=hut.api_url,
            token=hut.token,
            mode=settings.subscription,
            power_entities=hut.entity_ids("power"),
        )
        results["setup"]["subscriber_initial_entities"] = subscribed["initial_entities"]
        cpu0 = time.process_time()
        await asyncio.sleep(3.0)
        results["setup"]["idle_cpu_utilisation"] = round((time.process_time() - cpu0) / 3.0, 4)

        memory: dict[str, Any] = {
            "registered_chargers": hut.registered,
            "rss_per_registered_charger": (hut.rss_after_entry - hut.rss_before_entry)
            / hut.registered,
        }
        results["rate"] = []
        for position, n in enumerate(sorted(settings.rate_chargers, reverse=True)):
            # The largest N runs first, in a process that never had a charger
            # connected: its RSS delta is the memory per connected charger.
            phase = await self.phase(n, "rate", memory if position == 0 else None)
            results["rate"].append(phase)
        results["max"] = [await self.phase(n, "max", None) for n in sorted(settings.max_chargers)]
        if settings.tracemalloc_chargers:
            memory["tracemalloc"] = await self.tracemalloc_phase(
                settings.tracemalloc_chargers, settings.tracemalloc_frames
            )
        results["memory"] = {k: round(v) if isinstance(v, float) else v for k, v in memory.items()}
        if settings.profile is not None:
            results["profile"] = await self.profile_phase(settings.profile)
        store = Path(hut.hass.config.config_dir, ".storage", f"ocpp_hub.{hut.entry.entry_id}")
        written = await hut.hass.async_add_executor_job(store.exists)
        results["observations"] = {"ocpp_hub_store_written_during_run": written}


def _machine() -> dict[str, Any]:
    from importlib.metadata import version

    from homeassistant.const import __version__ as ha_version

    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "home_assistant": ha_version,
        "websockets": version("websockets"),
    }


def _source() -> dict[str, Any]:
    """The commit measured, and whether the integration had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "integration_modified": bool(git("status", "--porcelain", "custom_components")),
    }


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


async def run(settings: Settings) -> dict[str, Any]:
    """Start Home Assistant and the load generator, run every phase, stop both."""
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "source": await asyncio.to_thread(_source),
        "settings": {k: _jsonable(v) for k, v in asdict(settings).items() if k != "output"},
    }
    with tempfile.TemporaryDirectory(prefix="ocpp-hub-bench-") as config_dir:
        hut = await start_hass(Path(config_dir), settings.registered)
        results["setup"] = {
            "home_assistant": "core.HomeAssistant as bootstrap builds it; http, websocket_api",
            "registered_chargers": hut.registered,
            "entities": len(hut.hass.states.async_all()),
            "seconds": round(hut.setup_seconds, 2),
        }
        if settings.disable:
            results["setup"]["disabled_entities"] = await disable_entities(hut, settings.disable)
            results["setup"]["entities"] = len(hut.hass.states.async_all())
        if settings.gc_freeze:
            gc.collect()
            gc.freeze()
        bench: Bench | None = None
        try:
            gen = await LoadGenerator.start(deadline=1800)
            try:
                bench = Bench(hut, gen, settings)
                await bench.run(results)
            finally:
                await gen.close()
        finally:
            if bench is not None:
                bench.gc_watch.close()
            await stop_hass(hut)
            if settings.gc_freeze:
                gc.unfreeze()
    return results


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", default="1,10,100,500", help="N for rate mode ('' = none)")
    parser.add_argument("--max-chargers", default="10,100,500", help="N for max mode ('' = none)")
    parser.add_argument(
        "--ocpp",
        choices=VERSIONS,
        default="1.6",
        help="the OCPP version the chargers speak (2.0.1: TransactionEvent for MeterValues)",
    )
    parser.add_argument("--measure", type=float, default=20.0, help="rate mode window (s)")
    parser.add_argument("--max-measure", type=float, default=8.0, help="max mode window (s)")
    parser.add_argument("--warmup", type=float, default=3.0, help="before each window (s)")
    parser.add_argument("--interval", type=float, default=1.0, help="rate mode period (s)")
    parser.add_argument("--commands", type=int, default=200, help="commands per measurement")
    parser.add_argument(
        "--command-seconds", type=float, default=6.0, help="time for the commands under load (s)"
    )
    parser.add_argument("--subscription", choices=("entities", "events"), default="entities")
    parser.add_argument("--tracemalloc-chargers", type=int, default=100, help="0: skip")
    parser.add_argument("--tracemalloc-frames", type=int, default=30)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after start-up (an experiment: Home Assistant does not do it)",
    )
    parser.add_argument(
        "--disable",
        default="",
        help="experiment: disable these entity keys on every charger, e.g. "
        "energy,session_energy,session_duration",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=5.0,
        help="before each phase, wait up to this many s for other processes to go idle",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help="run a phase again (up to this many times) if other processes disturbed it",
    )
    parser.add_argument("--profile", type=Path, help="also run max mode under cProfile")
    parser.add_argument("--output", type=Path, help="results file (default results/<date>.json)")
    args = parser.parse_args(argv)
    output = args.output or HERE / "results" / f"{datetime.now(UTC).date().isoformat()}.json"
    return Settings(
        rate_chargers=_counts(args.chargers),
        max_chargers=_counts(args.max_chargers),
        ocpp=args.ocpp,
        measure=args.measure,
        warmup=args.warmup,
        interval=args.interval,
        max_measure=args.max_measure,
        commands=args.commands,
        command_seconds=args.command_seconds,
        subscription=args.subscription,
        tracemalloc_chargers=args.tracemalloc_chargers,
        tracemalloc_frames=args.tracemalloc_frames,
        gc_freeze=args.gc_freeze,
        disable=[key.strip() for key in args.disable.split(",") if key.strip()],
        quiet_wait=args.quiet_wait,
        retries=args.retries,
        profile=args.profile,
        output=output,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, write the JSON results and print the tables."""
    settings = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    from homeassistant.util.resource import set_open_file_descriptor_limit

    set_open_file_descriptor_limit()
    began = time.monotonic()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        results = runner.run(run(settings))
    results["total_seconds"] = round(time.monotonic() - began, 1)
    settings.output.parent.mkdir(parents=True, exist_ok=True)
    settings.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))
    print(f"\nResults: {settings.output} ({results['total_seconds']} s)")


if __name__ == "__main__":
    main()
