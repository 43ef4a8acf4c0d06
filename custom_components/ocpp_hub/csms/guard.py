"""Defences of the central system against hostile or broken peers.

Every byte from the network is hostile until proven otherwise. These small
classes keep the bookkeeping of the defences apart from the server's logic:
growing delays after wrong passwords, a cap on connections per address, and a
token bucket that throttles a charger which floods us with messages.
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
    """Growing delay for an address that keeps presenting wrong passwords.

    The n-th consecutive failure from an address waits ``base * 2**(n-1)``
    seconds (capped) before its 401 goes out; a success, or ``forget_after``
    seconds of quiet, starts over.
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0, forget_after: float = 900.0) -> None:
        """Set the delays."""
        self.base = base
        self.cap = cap
        self.forget_after = forget_after
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def failed(self, address: str) -> tuple[int, float]:
        """Record a failure; returns (failures in a row, seconds to wait before answering)."""
        now = time.monotonic()
        entry = self._failures.pop(address, None) or _Failures()
        if now - entry.last > self.forget_after:
            entry.count = 0
        entry.count += 1
        entry.last = now
        self._failures[address] = entry
        while len(self._failures) > _MAX_TRACKED_ADDRESSES:
            self._failures.popitem(last=False)
        return entry.count, min(self.cap, self.base * 2 ** (entry.count - 1))

    def succeeded(self, address: str) -> None:
        """The address presented a right password: start over."""
        self._failures.pop(address, None)


class ConnectionCounter:
    """Open connections per remote address, with a cap."""

    def __init__(self, limit: int) -> None:
        """``limit`` connections per address at most."""
        self.limit = limit
        self._open: dict[str, int] = {}

    def try_open(self, address: str) -> bool:
        """Count a new connection, or refuse it (False) when the address has too many."""
        count = self._open.get(address, 0)
        if count >= self.limit:
            return False
        self._open[address] = count + 1
        return True

    def closed(self, address: str) -> None:
        """A connection of ``address`` ended."""
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)


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
