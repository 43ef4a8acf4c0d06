"""Accelerated time for a real Home Assistant: a virtual-clock event loop.

:class:`VirtualClockLoop` is the event loop Home Assistant creates
(``asyncio.EventLoop`` configured by ``homeassistant.runner.configure_event_loop``:
its executor and exception handler) whose ``time()`` is virtual. It never
sleeps: when no callback is ready it polls the selector without blocking, and
only when that found no I/O ``idle_polls`` times in a row (so bytes in flight on
loopback are delivered first) does it move the clock on to the next timer.
While a job runs in an executor thread the clock stands still and the loop
waits for the thread in real time, so no timeout fires because a thread was
slow.

:func:`install_wall_clock` makes the wall clock follow: ``time.time`` /
``time.time_ns``, ``homeassistant.util.dt.utcnow`` / ``now`` (and every
module-level name already bound to them, such as ``time_tracker_timestamp`` in
``homeassistant.helpers.event``), ``datetime.now`` in OCPP Hub's and the
simulator's modules (their ``datetime`` name is replaced by a subclass that
only answers ``now()`` / ``utcnow()`` / ``today()`` differently and otherwise
builds real ``datetime`` objects), and ``time.monotonic`` in those modules
(the flood guard counts messages per virtual second). So ``async_call_later``,
``async_track_time_interval``, the ``time_pattern`` trigger, ``asyncio.sleep``
and ``asyncio.timeout`` all run in virtual time, and the simulated charger on
the same loop sees the same clock.

Self-check (a real Home Assistant from ``harness.py``; about 10 s of wall time)::

    .venv/bin/python benchmarks/vclock.py
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import datetime as _dt
import selectors
import sys
import time as _time
from types import ModuleType, SimpleNamespace
from typing import Any

from homeassistant.runner import configure_event_loop

_REAL_DATETIME = _dt.datetime
_REAL_TIME = _time.time
_REAL_TIME_NS = _time.time_ns

#: The loop whose clock the patched functions read (one at a time per process).
_clock: VirtualClockLoop | None = None


class _VirtualSelector:
    """The loop's selector: never blocks unless an executor thread is at work."""

    def __init__(self, real: selectors.BaseSelector) -> None:
        self.real = real
        self.loop: VirtualClockLoop | None = None
        self._idle = 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self.loop
        assert loop is not None
        if timeout is not None and timeout <= 0:
            return self.real.select(0)
        if loop.executor_jobs:
            # A thread works for us: wait for it in real time (its completion
            # wakes the loop through the self-pipe); the virtual clock stands still.
            loop.thread_waits += 1
            return self.real.select(0.05)
        events = self.real.select(0)
        if events:
            self._idle = 0
            return events
        self._idle += 1
        if self._idle < loop.idle_polls:
            return []
        self._idle = 0
        if timeout is None:  # nothing scheduled at all: only outside I/O can wake us
            return self.real.select(1.0)
        loop.advance(timeout)
        return []

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self.real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.real.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self.real.get_key(fileobj)

    def get_map(self) -> Any:
        return self.real.get_map()

    def close(self) -> None:
        self.real.close()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps to the next timer when there is nothing to do."""

    def __init__(self, start: _dt.datetime, *, idle_polls: int = 3) -> None:
        selector = _VirtualSelector(selectors.DefaultSelector())
        super().__init__(selector)  # type: ignore[arg-type]
        selector.loop = self
        self.idle_polls = idle_polls
        self._now = 1000.0
        self._epoch = self._now
        self._wall_epoch = start.timestamp()
        self.executor_jobs = 0
        #: How often and how far the clock jumped; how often it waited for a thread.
        self.jumps = 0
        self.jumped_s = 0.0
        self.thread_waits = 0

    def time(self) -> float:
        """Virtual monotonic seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on (only forwards)."""
        if seconds > 0:
            self._now += seconds
            self.jumps += 1
            self.jumped_s += seconds

    def wall_timestamp(self) -> float:
        """Virtual POSIX time: the start given plus the virtual seconds since."""
        return self._wall_epoch + (self._now - self._epoch)

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        """As asyncio's, counting jobs in flight (the clock waits for them)."""
        future = super().run_in_executor(executor, func, *args)
        self.executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, _future: asyncio.Future[Any]) -> None:
        self.executor_jobs -= 1

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        """As asyncio's; its joining thread is waited for in real time, too."""
        self.executor_jobs += 1
        try:
            await super().shutdown_default_executor(timeout)
        finally:
            self.executor_jobs -= 1


def new_event_loop(start: _dt.datetime, *, idle_polls: int = 3) -> VirtualClockLoop:
    """A virtual-clock loop configured as ``homeassistant.runner.create_event_loop`` does."""
    loop = VirtualClockLoop(start, idle_polls=idle_polls)
    configure_event_loop(loop, debug=False)
    # configure_event_loop binds time.monotonic as loop.time: take the virtual one back.
    del loop.time
    return loop


# -- the wall clock ------------------------------------------------------------------


def _wall() -> float:
    if _clock is None:
        return _REAL_TIME()
    return _clock.wall_timestamp()


def _wall_ns() -> int:
    return int(_wall() * 1e9)


def _monotonic() -> float:
    return _clock.time() if _clock is not None else _time.monotonic()


class _VirtualDatetimeType(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATETIME)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _REAL_DATETIME)


class VirtualDatetime(_REAL_DATETIME, metaclass=_VirtualDatetimeType):
    """``datetime`` whose ``now()`` is virtual; everything it builds is a real ``datetime``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _REAL_DATETIME(*args, **kwargs)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> Any:
        return _REAL_DATETIME.fromtimestamp(_wall(), tz)

    @classmethod
    def utcnow(cls) -> Any:
        return _REAL_DATETIME.fromtimestamp(_wall(), _dt.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls) -> Any:
        return _REAL_DATETIME.fromtimestamp(_wall())


def _utcnow() -> _dt.datetime:
    return _REAL_DATETIME.fromtimestamp(_wall(), _dt.UTC)


def _make_now(dt_util: ModuleType) -> Callable[..., _dt.datetime]:
    def now(time_zone: _dt.tzinfo | None = None) -> _dt.datetime:
        return _REAL_DATETIME.fromtimestamp(_wall(), time_zone or dt_util.DEFAULT_TIME_ZONE)

    return now


#: Modules whose ``datetime`` and ``time`` names are replaced (prefixes).
CLOCKED_MODULES = ("custom_components.ocpp_hub", "chargersim")

_originals: dict[str, Any] = {}


def install_wall_clock(loop: VirtualClockLoop) -> dict[str, int]:
    """Make every wall clock in this process read ``loop``'s virtual time.

    Call it after importing OCPP Hub and the simulator (their modules are
    patched as found) and before starting Home Assistant; calling it again
    patches modules imported since. Returns how many names were replaced.
    """
    global _clock  # noqa: PLW0603
    _clock = loop
    from homeassistant.util import dt as dt_util

    if not _originals:
        _originals.update(
            time=_time.time,
            time_ns=_time.time_ns,
            utcnow=dt_util.utcnow,
            now=dt_util.now,
        )
    replacements: dict[int, Any] = {
        id(_originals["time"]): _wall,
        id(_originals["time_ns"]): _wall_ns,
        id(_originals["utcnow"]): _utcnow,
        id(_originals["now"]): _make_now(dt_util),
    }
    _time.time = _wall
    _time.time_ns = _wall_ns
    dt_util.utcnow = _utcnow  # type: ignore[assignment]
    dt_util.now = replacements[id(_originals["now"])]
    time_shim = SimpleNamespace(
        **{name: getattr(_time, name) for name in dir(_time) if not name.startswith("_")}
    )
    time_shim.monotonic = _monotonic
    counts = {"functions": 0, "datetime": 0, "time_module": 0}
    for name, module in list(sys.modules.items()):
        if module is None or name == __name__:
            continue
        try:
            names = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in names:
            replacement = replacements.get(id(value))
            if replacement is not None and value is not replacement:
                setattr(module, attr, replacement)
                counts["functions"] += 1
        if name.startswith(CLOCKED_MODULES):
            if getattr(module, "datetime", None) is _REAL_DATETIME:
                module.datetime = VirtualDatetime  # type: ignore[attr-defined]
                counts["datetime"] += 1
            if getattr(module, "time", None) is _time:
                module.time = time_shim  # type: ignore[attr-defined]
                counts["time_module"] += 1
    return counts


# -- self-check ----------------------------------------------------------------------


async def _self_check() -> dict[str, Any]:
    import shutil
    import tempfile

    import harness
    from homeassistant.core import Event, callback
    from homeassistant.helpers.event import async_call_later, async_track_time_interval
    from homeassistant.setup import async_setup_component

    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    config_dir = tempfile.mkdtemp(prefix="ocpp_hub_vclock_")
    results: dict[str, Any] = {}
    under_test = await harness.start_hass(harness.Path(config_dir), 1)
    hass = under_test.hass
    try:
        fired: list[tuple[float, str]] = []

        @callback
        def on_fire(event: Event) -> None:
            fired.append((loop.time(), event.data["now"]))

        hass.bus.async_listen("vclock_check", on_fire)
        assert await async_setup_component(
            hass,
            "automation",
            {
                "automation": {
                    "alias": "Every 30 s",
                    "triggers": [{"trigger": "time_pattern", "seconds": "/30"}],
                    "actions": [
                        {"event": "vclock_check", "event_data": {"now": "{{ now().isoformat() }}"}}
                    ],
                }
            },
        )
        await hass.async_block_till_done()
        intervals: list[float] = []

        @callback
        def on_interval(_now: _dt.datetime) -> None:
            intervals.append(loop.time())

        async_track_time_interval(hass, on_interval, _dt.timedelta(minutes=5))
        done = asyncio.Event()
        called: dict[str, Any] = {}

        def later(now: _dt.datetime) -> None:
            called["at"] = now
            done.set()

        virtual_start = loop.time()
        utc_start = _utcnow()
        wall_start = _time.perf_counter()
        cpu_start = _time.process_time()
        async_call_later(hass, 3600, later)
        await done.wait()
        wall = _time.perf_counter() - wall_start
        virtual_s = loop.time() - virtual_start
        utcnow_s = (_utcnow() - utc_start).total_seconds()
        cpu_s = _time.process_time() - cpu_start
        await asyncio.sleep(0.5)  # timers due at the same instant as the hour's end
        await hass.async_block_till_done()

        def in_hour(items: Any) -> list[Any]:
            return [
                item
                for item in items
                if virtual_start <= (item[0] if isinstance(item, tuple) else item)
                and (item[0] if isinstance(item, tuple) else item) <= virtual_start + 3600
            ]

        results = {
            "call_later_3600_virtual_s": round(virtual_s, 3),
            "call_later_3600_utcnow_s": round(utcnow_s, 3),
            "call_later_3600_wall_s": round(wall, 3),
            "call_later_3600_cpu_s": round(cpu_s, 3),
            "time_pattern_30s_fires_in_hour": len(in_hour(at for at, _ in fired)),
            "time_interval_5min_fires_in_hour": len(in_hour(intervals)),
            "first_fire": fired[0][1] if fired else None,
            "last_fire_in_hour": in_hour(fired)[-1][1] if fired else None,
            "clock_jumps": loop.jumps,
            "waits_for_threads": loop.thread_waits,
        }
    finally:
        await harness.stop_hass(under_test)
        shutil.rmtree(config_dir, ignore_errors=True)
    return results


def main() -> int:
    """Run the self-check; exit status 1 if virtual time did not behave."""
    start = _REAL_DATETIME(2026, 6, 21, 8, 0, 0, tzinfo=_dt.UTC)
    loop = new_event_loop(start)
    import harness  # imports OCPP Hub before the clock is installed

    _ = harness
    print("patched:", install_wall_clock(loop))
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        results = runner.run(_self_check())
    for key, value in results.items():
        print(f"{key}: {value}")
    ok = (
        abs(results["call_later_3600_virtual_s"] - 3600) < 1
        and abs(results["call_later_3600_utcnow_s"] - 3600) < 1
        and results["call_later_3600_wall_s"] < 5
        and results["time_pattern_30s_fires_in_hour"] == 120
        and results["time_interval_5min_fires_in_hour"] == 12
    )
    print("self-check", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
