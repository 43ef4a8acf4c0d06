"""Markdown tables of a ``load.py`` results dict, and the project's targets.

Usage on a saved result: ``.venv/bin/python benchmarks/report.py benchmarks/results/<date>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any

TARGET_PER_CORE = 3000  # MeterValues/s per core, end to end, with a subscribed client
TARGET_P99_MS = 20.0  # state latency p99 with 500 chargers at 1 msg/s
TARGET_BYTES_PER_CHARGER = 100 * 1024  # per connected charger
TARGET_COMMAND_P99_MS = 5.0  # command to wire


def _pair(figures: dict[str, Any] | None, digits: int = 2) -> str:
    if not figures or "p50" not in figures:
        return "n/a"
    return f"{figures['p50']:.{digits}f} / {figures['p99']:.{digits}f}"


def _wire(row: dict[str, Any], key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (row.get(key) or {}).get("to_wire_ms")
    return found


def rate_table(rows: list[dict[str, Any]]) -> list[str]:
    """Rate mode: one row per N."""
    lines = [
        "| N (1 msg/s each) | MeterValues/s | frame → subscriber p50 / p99 (ms) | max (ms) "
        "| HA CPU per MeterValues (µs) | state changes per MeterValues "
        "| full GCs in window (longest, ms) | command → wire p50 / p99 (ms): under load "
        "| idle | other processes (cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: r["chargers"]):
        gc = row.get("gc") or {}
        latency = row["latency_ms"]
        lines.append(
            f"| {row['chargers']} | {row['meter_values_per_s']:.0f} | {_pair(latency)} "
            f"| {latency.get('max', 0):.0f} | {row['ha_cpu_us_per_meter_values']:.0f} "
            f"| {row['state_changes_per_meter_values']} "
            f"| {gc.get('full_collections', 'n/a')} ({gc.get('full_max_ms', 0):.0f}) "
            f"| {_pair(_wire(row, 'command_under_load'))} | {_pair(_wire(row, 'command_idle'))} "
            f"| {row.get('other_processes_cpu', 'n/a')} |"
        )
    return lines


def max_table(rows: list[dict[str, Any]]) -> list[str]:
    """Max mode: one row per N."""
    lines = [
        "| N (max throughput) | MeterValues/s | HA CPU (cores) | MeterValues/s per HA core "
        "| HA CPU per MeterValues (µs) | frame → subscriber p50 / p99 (ms) "
        "| full GCs (longest, ms) | load generator CPU (cores) | other processes (cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: r["chargers"]):
        gc = row.get("gc") or {}
        lines.append(
            f"| {row['chargers']} | {row['meter_values_per_s']:.0f} "
            f"| {row['ha_cpu_utilisation']:.2f} | {row['meter_values_per_core']:,} "
            f"| {row['ha_cpu_us_per_meter_values']:.0f} | {_pair(row['latency_ms'], 1)} "
            f"| {gc.get('full_collections', 'n/a')} ({gc.get('full_max_ms', 0):.0f}) "
            f"| {row['generator_cpu_utilisation']:.2f} | {row.get('other_processes_cpu', 'n/a')} |"
        )
    return lines


def memory_table(memory: dict[str, Any]) -> list[str]:
    """Memory figures."""
    lines = ["| Memory | bytes per charger |", "|---|---:|"]
    n = memory.get("rss_chargers", "N")
    labels = {
        "rss_per_connected_charger_after_boot": f"RSS per connected charger, {n} just booted",
        "rss_per_connected_charger_after_load": (
            f"RSS per connected charger, {n} after the rate-mode load"
        ),
        "rss_per_registered_charger": (
            f"RSS per registered charger ({memory.get('registered_chargers')} subentries: "
            "entities, devices, states)"
        ),
    }
    for key, label in labels.items():
        if key in memory:
            lines.append(f"| {label} | {memory[key]:,} |")
    traced = memory.get("tracemalloc")
    if traced:
        lines.append(
            f"| tracemalloc per connected charger ({traced['chargers']} chargers, "
            f"{traced['meter_values_each']} MeterValues each) "
            f"| {traced['bytes_per_connected_charger']:,} |"
        )
    return lines


def targets(results: dict[str, Any]) -> list[str]:
    """Whether each of the project's targets was met."""
    out = ["| Target | Measured | Met |", "|---|---:|:---:|"]

    def row(target: str, measured: str, met: bool) -> None:
        out.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")

    per_core = [r["meter_values_per_core"] for r in results.get("max", [])]
    if per_core:
        best, worst = max(per_core), min(per_core)
        row(
            f"≥ {TARGET_PER_CORE:,} MeterValues/s per core end to end",
            f"{worst:,} to {best:,}",
            worst >= TARGET_PER_CORE,
        )
    largest = max(results.get("rate", []), key=lambda r: r["chargers"], default=None)
    if largest and largest["latency_ms"]:
        p99 = largest["latency_ms"]["p99"]
        row(
            f"p99 < {TARGET_P99_MS:g} ms, {largest['chargers']} chargers at 1 msg/s",
            f"{p99:,.1f} ms",
            p99 < TARGET_P99_MS,
        )
    memory = results.get("memory") or {}
    rss = memory.get("rss_per_connected_charger_after_load")
    traced = (memory.get("tracemalloc") or {}).get("bytes_per_connected_charger")
    if rss is not None:
        measured = f"{rss / 1024:.0f} KB RSS"
        if traced is not None:
            measured += f" ({traced / 1024:.0f} KB live Python heap)"
        row("< 100 KB per connected charger", measured, rss < TARGET_BYTES_PER_CHARGER)
    worst_p99 = [
        wire["p99"]
        for r in results.get("rate", [])
        for key in ("command_under_load", "command_idle")
        if (wire := _wire(r, key))
    ]
    if worst_p99:
        p99 = max(worst_p99)
        row(
            f"command → wire p99 < {TARGET_COMMAND_P99_MS:g} ms (worst N, under load)",
            f"{p99:.2f} ms",
            p99 < TARGET_COMMAND_P99_MS,
        )
    return out


def markdown(results: dict[str, Any]) -> str:
    """All tables."""
    lines: list[str] = []
    if results.get("rate"):
        lines += [*rate_table(results["rate"]), ""]
    if results.get("max"):
        lines += [*max_table(results["max"]), ""]
    if results.get("memory"):
        lines += [*memory_table(results["memory"]), ""]
    lines += targets(results)
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(markdown(json.loads(Path(name).read_text(encoding="utf-8"))))
