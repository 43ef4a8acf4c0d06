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

This file holds the command line (parsed into ``load_settings.Settings``), the
orchestration (start Home Assistant and the load generator, run the phases, stop both)
and the results document (machine, source, settings). The phases are in ``load_phases.py``, the
load generator's driver and the other instruments in ``load_instruments.py``, the
tables in ``report.py``.

Usage: ``.venv/bin/python benchmarks/load.py`` (``--help`` for the settings).
Results go to ``benchmarks/results/<date>.json``; markdown tables are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import asdict
from datetime import UTC, datetime
import gc
import json
import logging
import os
from pathlib import Path
import platform
import sys
import tempfile
import time
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from harness import disable_entities, new_event_loop, start_hass, stop_hass  # noqa: E402
from load_instruments import LoadGenerator  # noqa: E402
from load_phases import Bench  # noqa: E402
from load_settings import Settings  # noqa: E402
from loadgen_messages import VERSIONS  # noqa: E402
from report import markdown  # noqa: E402


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
