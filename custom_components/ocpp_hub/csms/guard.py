"""Defences of the central system against hostile or broken peers.

Every byte from the network is hostile until proven otherwise. These small
classes keep the bookkeeping of the defences apart from the server's logic:
growing delays before a password is checked after wrong ones, caps on
connections per address and in all, token buckets (per address and identity,
kept across reconnects) that throttle a charger which floods us with messages,
and a bounded set for what is logged once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
import time

_MAX_TRACKED_ADDRESSES = 1024  # memory stays bounded whatever the attacker does


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0


class AuthThrottle:
    """A growing lockout, and a cap on parallel attempts, for guessed passwords.

    After ``n`` failures in a row (from an address, or for an identity from any
    address) the next password is not checked before ``base * 2**n`` seconds
    (capped) have passed since the last failure: a right guess waits as
    long as a wrong one, so giving up on slow answers gains nothing. An address
    with failures may have one attempt in flight at a time, any other
    ``parallel`` (chargers behind one NAT reconnect together). A success, or
    ``forget_after`` seconds of quiet, starts over.
    """

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        forget_after: float = 900.0,
        parallel: int = 4,
    ) -> None:
        """Set the delays and the cap on attempts in flight per address."""
        self.base = base
        self.cap = cap
        self.forget_after = forget_after
        self.parallel = parallel
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._in_flight: dict[str, int] = {}

    def _current(self, key: tuple[str, str], now: float) -> _Failures | None:
        entry = self._failures.get(key)
        if entry is None or now - entry.last > self.forget_after:
            return None
        return entry

    def failures(self, address: str) -> int:
        """Failures in a row from ``address``."""
        entry = self._current(("address", address), time.monotonic())
        return entry.count if entry else 0

    def delay(self, address: str, identity: str) -> float:
        """Seconds before a password of ``address`` for ``identity`` may be checked."""
        now = time.monotonic()
        wait = 0.0
        for key in (("address", address), ("identity", identity)):
            if entry := self._current(key, now):
                lockout = min(self.cap, self.base * 2**entry.count)
                wait = max(wait, entry.last + lockout - now)
        return wait

    def begin(self, address: str) -> bool:
        """Start an attempt, or refuse it (False) when the address has enough in flight."""
        in_flight = self._in_flight.get(address, 0)
        if in_flight >= (1 if self.failures(address) else self.parallel):
            return False
        self._in_flight[address] = in_flight + 1
        return True

    def end(self, address: str) -> None:
        """An attempt started with :meth:`begin` is over."""
        count = self._in_flight.get(address, 0) - 1
        if count > 0:
            self._in_flight[address] = count
        else:
            self._in_flight.pop(address, None)

    def failed(self, address: str, identity: str) -> int:
        """Record a failure; returns the failures in a row from ``address``."""
        now = time.monotonic()
        counts = []
        for key in (("address", address), ("identity", identity)):
            entry = self._failures.pop(key, None) or _Failures()
            if now - entry.last > self.forget_after:
                entry.count = 0
            entry.count += 1
            entry.last = now
            self._failures[key] = entry
            counts.append(entry.count)
        while len(self._failures) > _MAX_TRACKED_ADDRESSES:
            self._failures.popitem(last=False)
        return counts[0]

    def succeeded(self, address: str, identity: str) -> None:
        """The address presented the right password for ``identity``: start over."""
        self._failures.pop(("address", address), None)
        self._failures.pop(("identity", identity), None)


class ConnectionCounter:
    """Open connections (from accept on) per remote address and in all, with caps."""

    def __init__(self, limit: int, total: int = 1_000_000) -> None:
        """``limit`` connections per address and ``total`` in all at most."""
        self.limit = limit
        self.total = total
        self._open: dict[str, int] = {}
        self._all = 0

    def try_open(self, address: str) -> bool:
        """Count a new connection, or refuse it (False) when there are too many."""
        count = self._open.get(address, 0)
        if count >= self.limit or self._all >= self.total:
            return False
        self._open[address] = count + 1
        self._all += 1
        return True

    def closed(self, address: str) -> None:
        """A connection of ``address`` counted by :meth:`try_open` ended."""
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)
        self._all = max(0, self._all - 1)

    def open(self, address: str | None = None) -> int:
        """Connections open from ``address`` (all of them when None)."""
        return self._all if address is None else self._open.get(address, 0)


class FloodGuard:
    """A token bucket: ``rate`` messages a second on average, bursts up to ``burst``.

    :meth:`take` returns how long to wait before handling the next message
    (0 when within the rate). Waiting is the throttle: the connection is read
    no faster than the rate, so TCP pushes back on the sender. Throttled for
    longer than ``patience`` seconds in a row means flooding.
    """

    def __init__(self, rate: float, burst: float, patience: float = 30.0) -> None:
        """Start with a full bucket."""
        self.rate = rate
        self.burst = burst
        self.patience = patience
        self._tokens = burst
        self._stamp = time.monotonic()
        self._throttled_since: float | None = None

    def take(self) -> float:
        """Take a token; the seconds to wait first (0 if one was available)."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1
        if self._tokens >= 0:
            self._throttled_since = None
            return 0.0
        if self._throttled_since is None:
            self._throttled_since = now
        return -self._tokens / self.rate

    @property
    def flooding(self) -> bool:
        """Throttled without a break for longer than the patience."""
        return (
            self._throttled_since is not None
            and time.monotonic() - self._throttled_since > self.patience
        )


class FloodGuards:
    """One :class:`FloodGuard` per key (address and identity), kept across reconnects.

    A charger that reconnects gets the bucket it left with, not a full one.
    At most ``size`` keys are remembered (the least recently used is forgotten).
    """

    def __init__(self, size: int = _MAX_TRACKED_ADDRESSES) -> None:
        """No buckets yet."""
        self.size = size
        self._guards: OrderedDict[tuple[str, ...], FloodGuard] = OrderedDict()

    def get(self, key: tuple[str, ...], rate: float, burst: float, patience: float) -> FloodGuard:
        """The bucket of ``key`` (a new, full one with these settings the first time)."""
        guard = self._guards.pop(key, None) or FloodGuard(rate, burst, patience)
        self._guards[key] = guard
        while len(self._guards) > self.size:
            self._guards.popitem(last=False)
        return guard


class BoundedSet:
    """A set that forgets its oldest members beyond ``size`` (memory stays bounded)."""

    def __init__(self, size: int = _MAX_TRACKED_ADDRESSES) -> None:
        """Empty."""
        self.size = size
        self._items: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def add(self, item: tuple[str, ...]) -> bool:
        """Add ``item``; False if it was there already."""
        if item in self._items:
            self._items.move_to_end(item)
            return False
        self._items[item] = None
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return True

    def discard(self, item: tuple[str, ...]) -> None:
        """Remove ``item`` if present."""
        self._items.pop(item, None)

    def __len__(self) -> int:
        """How many members."""
        return len(self._items)
