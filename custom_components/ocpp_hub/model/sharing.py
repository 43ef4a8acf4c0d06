"""Sharing a budget between chargers: solar surplus in watts, the main fuse in amps.

Pure. Equal shares; a charger that wants less than its share gives the rest to
the others; when the budget cannot pay everyone's minimum, the chargers with
the lowest priority get nothing (they pause) so the others can charge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import math


@dataclass(frozen=True, slots=True)
class Claim:
    """What one charger asks of a budget."""

    key: str
    minimum: float  # less than this is of no use (0: anything is)
    wanted: float  # more than this is of no use
    priority: int = 5  # higher keeps charging longer when the budget is short


def share(budget: float, claims: Iterable[Claim]) -> dict[str, float]:
    """Split ``budget``: every admitted claim gets at least its minimum, equal shares above.

    Claims are admitted by priority (then in the order given) while their
    minimums fit; the rest get 0. Water-filling then raises everyone to a common
    level, each capped at what it wants.
    """
    ordered = sorted(claims, key=lambda c: -c.priority)
    result = {claim.key: 0.0 for claim in ordered}
    admitted: list[Claim] = []
    reserved = 0.0
    for claim in ordered:
        if claim.wanted <= 0:
            continue
        need = min(claim.minimum, claim.wanted)
        if reserved + need <= budget + 1e-9:
            admitted.append(claim)
            reserved += need
    left = max(0.0, budget)
    pending = sorted(admitted, key=lambda c: c.wanted)
    # Water-filling: the smallest wants are served in full first.
    while pending:
        level = left / len(pending)
        claim = pending[0]
        if claim.wanted <= level:
            result[claim.key] = claim.wanted
            left -= claim.wanted
            pending.pop(0)
            continue
        # Nobody left wants less than an equal share: equal shares, minimums respected.
        floors = [c for c in pending if c.minimum > level]
        if floors:
            for c in floors:
                result[c.key] = c.minimum
                left -= c.minimum
                pending.remove(c)
            continue
        for c in pending:
            result[c.key] = level
        break
    return result


def whole_amps(shares: dict[str, float], minimums: dict[str, float]) -> dict[str, float]:
    """Round shares down to whole amps; a share below its minimum becomes 0."""
    rounded: dict[str, float] = {}
    for key, value in shares.items():
        amps = float(math.floor(value + 1e-9))
        rounded[key] = amps if amps >= minimums.get(key, 0.0) else 0.0
    return rounded


def site_budget_a(
    limit_a: float, reserve_a: float, grid_a: Iterable[float], chargers_a: Iterable[float]
) -> float:
    """Amps per phase the chargers may draw together without passing the main fuse.

    ``grid_a`` is the current on each phase at the grid connection (house and
    chargers); ``chargers_a`` what the chargers draw on each phase. The house
    alone is their difference; the budget is the headroom of the busiest phase,
    so a charger on any phase is safe.
    """
    house = [max(0.0, g - c) for g, c in zip(grid_a, chargers_a, strict=True)]
    return max(0.0, limit_a - reserve_a - max(house, default=0.0))


@dataclass(frozen=True, slots=True)
class FuseCap:
    """One charger's share under the main fuse, as the last decision left it."""

    cap_a: float | None = None  # the share in force (None: the fuse does not bind)
    change_since: float | None = None  # when a pending change of the share began


def follow_fuse(
    held: FuseCap, wanted_a: float, cap_a: float, hard_cap_a: float, *, now: float, wait_s: float
) -> FuseCap:
    """The share to apply now, given the share ``cap_a`` with the margin below the fuse
    and ``hard_cap_a`` without it (both whole amps).

    When the fuse starts to bind, or the share in force would pass the fuse
    itself, the share applies at once. While it binds, a share that only eats
    into the margin, or rises, or stops binding, changes after it held for
    ``wait_s``; so a house load that wanders about a whole amp does not move
    the charger every few seconds.
    """
    if held.cap_a is None:  # the fuse did not bind
        return held if wanted_a <= cap_a else FuseCap(cap_a)
    if hard_cap_a < held.cap_a:
        return FuseCap(cap_a)  # over the fuse itself: at once
    new = None if wanted_a <= cap_a else cap_a
    if new == held.cap_a:
        return FuseCap(new)
    since = now if held.change_since is None else held.change_since
    if now - since < wait_s:
        return FuseCap(held.cap_a, since)
    return FuseCap(new)
