"""The instruments of ``load.py``: the load generator's driver, GC pauses, the machine's CPU.

* :class:`LoadGenerator` starts ``loadgen.py`` (the simulated chargers and the
  websocket API subscriber) as its own process and drives it with one JSON
  command per line;
* :class:`GcWatch` times the pauses of this process's cyclic garbage collector;
* :func:`machine_busy_seconds` is the CPU time of every process on the machine,
  so that a window disturbed by other processes can be told apart;
* :func:`ns_after` and :func:`sleep_until` work on ``time.monotonic_ns()``, the
  clock shared with the load generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
from pathlib import Path
import sys
import time
from typing import Any

HERE = Path(__file__).resolve().parent

_LOGGER = logging.getLogger("benchmark")


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


def ns_after(seconds: float) -> int:
    """The monotonic clock (ns) ``seconds`` from now."""
    return time.monotonic_ns() + int(seconds * 1e9)


async def sleep_until(deadline_ns: int) -> None:
    """Sleep until the monotonic clock reads ``deadline_ns``."""
    await asyncio.sleep(max(0.0, (deadline_ns - time.monotonic_ns()) / 1e9))
