"""Soak: 200 chargers for 30 minutes against OCPP Hub in a real Home Assistant.

Sessions start and stop, meter values every 10 s, connections drop at random and
come back. Home Assistant runs in this process (see ``harness.py``); the chargers
run in another (``soak_chargers.py``). Every minute the memory (RSS) and the number
of asyncio tasks of this process are sampled; at the end each charger's last energy
register is compared with the Energy sensor Home Assistant shows for it.

    .venv/bin/python benchmarks/soak.py                      # 200 chargers, 30 min
    .venv/bin/python benchmarks/soak.py --chargers 20 --duration 120   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import gc
import json
from pathlib import Path
import sys
import tempfile
from typing import Any

from harness import new_event_loop, settled_rss, start_hass, stop_hass

RESULTS = Path(__file__).parent / "results"


def _sample(began: float, hut: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    gc.collect()
    return {
        "t_s": round(loop.time() - began),
        "rss_mib": round(settled_rss() / 2**20, 1),
        "tasks": len(asyncio.all_tasks()),
        "connected": len(hut.hub.server.handlers),
    }


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ocpp-hub-soak-") as config_dir:
        hut = await start_hass(Path(config_dir), args.chargers)
        # Every charger of the soak connects from 127.0.0.1.
        hut.hub.server.connections.limit = args.chargers * 2
        loop = asyncio.get_running_loop()
        began = loop.time()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).parent / "soak_chargers.py"),
            "--url",
            hut.ocpp_url,
            "--chargers",
            str(args.chargers),
            "--duration",
            str(args.duration),
            "--meter-interval",
            str(args.meter_interval),
            stdout=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(min(30.0, args.duration / 4))  # everybody connected and booted
        samples = [_sample(began, hut)]
        print(f"start: {samples[0]}", flush=True)
        while process.returncode is None:
            try:
                async with asyncio.timeout(args.sample_every):
                    await process.wait()
            except TimeoutError:
                samples.append(_sample(began, hut))
                print(samples[-1], flush=True)
        assert process.stdout is not None
        report = json.loads((await process.stdout.read()).decode().strip().splitlines()[-1])
        await asyncio.sleep(2)  # the last messages settle
        samples.append(_sample(began, hut))
        mismatches = {}
        for identity, energy in report["energy_wh"].items():
            shown = hut.hub.chargers[identity].charger.energy_wh
            if shown is None or abs(shown - round(energy)) > 1:
                mismatches[identity] = {"charger_wh": round(energy), "shown_wh": shown}
        await stop_hass(hut)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "chargers": args.chargers,
        "duration_s": args.duration,
        "meter_interval_s": args.meter_interval,
        "calls": report["calls"],
        "unanswered": report["unanswered"],
        "reconnects": report["reconnects"],
        "energy_mismatches": mismatches,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=1800)
    parser.add_argument("--meter-interval", type=float, default=10)
    parser.add_argument("--sample-every", type=float, default=60)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    loop = new_event_loop()
    try:
        result = loop.run_until_complete(soak(args))
    finally:
        loop.close()
    RESULTS.mkdir(exist_ok=True)
    output = args.output or RESULTS / f"soak-{datetime.now(UTC):%Y-%m-%d}.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    first, during, after = result["samples"][0], result["samples"][-2], result["samples"][-1]
    print(
        f"\n{result['chargers']} chargers, {result['duration_s']:.0f} s: "
        f"{result['calls']} calls, {result['unanswered']} unanswered, "
        f"{result['reconnects']} reconnects, {len(result['energy_mismatches'])} energy mismatches\n"
        f"RSS {first['rss_mib']} -> {during['rss_mib']} MiB (all gone: {after['rss_mib']}), "
        f"tasks {first['tasks']} -> {during['tasks']} (all gone: {after['tasks']})\n"
        f"written to {output}"
    )


if __name__ == "__main__":
    main()
