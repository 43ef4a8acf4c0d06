"""Replay a day of solar and house load against a real Home Assistant, in virtual time.

Each control mode runs in its own process: a real Home Assistant core with OCPP
Hub (``harness.py``) on a virtual-clock event loop (``vclock.py``) and, on the
same loop over loopback websockets, a simulated charger (``chargersim``, three
phases, 16 A, 11 kW) whose car is plugged in all day with a transaction
running (the simulator's ``charging`` scenario). Every 10 s of the trace
(``trace.py``, ``traces/day-2026-06-21.csv``) the replay sets

* ``sensor.grid_power`` (W, import positive) = house load - solar + the car's
  power as the simulator's car draws it, and
* ``sensor.grid_current_l1..l3`` (A): the current per phase at the grid
  connection (house + car - solar / 3, as a magnitude, as meters show it).

Modes: ``baseline`` (no control: the charger's own 16 A all day), ``blueprint``
(the repository's solar surplus blueprint as a real automation on OCPP Hub's
"Current limit" number) and the integration's energy-manager modes ``fast``,
``solar``, ``min_solar`` once they exist (see ``configure_energy_manager`` in
``replay_modes.py``; until then they are reported as not available).

This file holds the command line, runs each mode in its own process (itself with
``--one``), writes the results JSON and prints the table. The driver of one mode
is ``replay_driver.py``, the metrics ``replay_metrics.py``, the modes ``replay_modes.py``.

    .venv/bin/python benchmarks/replay.py                       # baseline and blueprint
    .venv/bin/python benchmarks/replay.py --modes blueprint --hours 2   # a quick look
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
import datetime as dt
import json
import logging
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
import trace as day_trace
from typing import Any

import harness
from replay_driver import run_in_this_process
from replay_metrics import Site
from replay_modes import ALL_MODES, DEFAULT_MODES

assert hasattr(day_trace, "generate"), "benchmarks/trace.py must shadow the stdlib trace"

RESULTS = Path(__file__).resolve().parent / "results"


# -- several runs, the report -----------------------------------------------------------------


def _above_limit(result: dict[str, Any]) -> str:
    text = f"{result['above_site_limit_s']:.0f} s"
    if events := result.get("above_site_limit_events"):
        text += f" ({events}x, longest {result['above_site_limit_longest_s']:.0f} s"
        text += f", {result.get('above_site_limit_while_cars_rose_s', 0):.0f} s while rising)"
    return text


COLUMNS = (
    ("Mode", lambda r: r["mode"]),
    ("Energy charged", lambda r: f"{r['energy_charged_kwh']:.1f} kWh"),
    ("From surplus", lambda r: f"{100 * (r['share_from_surplus'] or 0):.0f} %"),
    ("Import caused", lambda r: f"{r['import_caused_kwh']:.1f} kWh"),
    ("Limit changes / h", lambda r: f"{r['limit_changes_per_hour']:.1f}"),
    ("Above site limit", _above_limit),
    ("Wall time", lambda r: f"{r['replay_wall_s']:.0f} s"),
)


def markdown(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (modes not available get one note)."""
    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |"]
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for result in results:
        if result.get("available"):
            lines.append("| " + " | ".join(cell(result) for _, cell in COLUMNS) + " |")
        else:
            note = result.get("reason", "failed")
            lines.append(f"| {result['mode']} | {note} |" + " |" * (len(COLUMNS) - 2))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run each mode in its own process, write the results JSON, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES), help="comma-separated")
    parser.add_argument("--trace", type=Path, default=day_trace.DEFAULT_TRACE)
    parser.add_argument("--hours", type=float, default=24.0, help="replay only the first hours")
    parser.add_argument("--site-limit", type=float, default=25.0, help="main fuse, A per phase")
    parser.add_argument(
        "--reserve", type=float, default=1.0, help="margin below the fuse, A per phase"
    )
    parser.add_argument("--chargers", type=int, default=1)
    parser.add_argument("--reaction", default="balanced", help="the energy manager's preset")
    parser.add_argument(
        "--phase-switching", action="store_true", help="chargers that switch 1/3 phases"
    )
    parser.add_argument("--output", type=Path, help="default: results/replay-<UTC date>.json")
    parser.add_argument("--one", choices=ALL_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    if args.one:
        result = run_in_this_process(args)
        args.result_file.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if mode not in ALL_MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(ALL_MODES)}")
    results: list[dict[str, Any]] = []
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="ocpp_hub_replay_result_") as tmp:
            result_file = Path(tmp) / "result.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--one", mode,
                "--result-file", str(result_file),
                "--trace", str(args.trace),
                "--hours", str(args.hours),
                "--site-limit", str(args.site_limit),
                "--reserve", str(args.reserve),
                "--chargers", str(args.chargers),
                "--reaction", args.reaction,
            ]  # fmt: skip
            if args.phase_switching:
                command.append("--phase-switching")
            if args.verbose:
                command.append("--verbose")
            began = time.perf_counter()
            done = subprocess.run(command, check=False, timeout=3600)  # noqa: S603
            if done.returncode != 0 or not result_file.exists():
                result = {"mode": mode, "available": False, "reason": f"exit {done.returncode}"}
            else:
                result = json.loads(result_file.read_text(encoding="utf-8"))
            result["process_wall_s"] = round(time.perf_counter() - began, 1)
        print(f"{mode}: {json.dumps(result)}", flush=True)
        results.append(result)

    day = day_trace.load(args.trace)
    document = {
        "benchmark": "replay",
        "trace": str(args.trace.relative_to(harness.REPO_ROOT))
        if args.trace.is_relative_to(harness.REPO_ROOT)
        else str(args.trace),
        "trace_energy_kwh": {k: round(v, 2) for k, v in day.energy_kwh().items()},
        "site": asdict(
            Site(
                site_limit_a=args.site_limit,
                site_reserve_a=args.reserve,
                reaction=args.reaction,
                phase_switching=args.phase_switching,
            )
        ),
        "hours": args.hours,
        "chargers": args.chargers,
        "python": sys.version.split()[0],
        "home_assistant": _ha_version(),
        "cpus": os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    output = args.output or RESULTS / f"replay-{dt.datetime.now(dt.UTC).date()}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}\n")
    print(markdown(results))
    return 0


def _ha_version() -> str:
    from homeassistant.const import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
