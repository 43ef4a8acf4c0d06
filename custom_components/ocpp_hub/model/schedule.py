"""Scheduled charging: a weekly window, kept by the charger itself.

Pure: no I/O and no clock of its own. A :class:`ChargingWindow` says on which days
and between which times (local) the car may charge with which current, and with
which current outside (0 A: not at all). It becomes the periods of one recurring
weekly charging profile, starting on Monday 00:00 local, combined with the owner's
current limit as the lower of the two, so the charger keeps to it while Home
Assistant is down. Windows that end at or before their start run past midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

DAY = 86400
WEEK = 7 * DAY


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


@dataclass(frozen=True, slots=True)
class ChargingWindow:
    """When the car may charge: days (0 = Monday), start and end, and the currents."""

    days: frozenset[int]
    start: time
    end: time
    inside_a: float
    outside_a: float = 0.0

    def spans(self) -> list[tuple[int, int]]:
        """The windows of a week, in seconds from Monday 00:00 (split at the week's end)."""
        spans: list[tuple[int, int]] = []
        length = (_seconds(self.end) - _seconds(self.start)) % DAY or DAY
        for day in sorted(self.days):
            begin = day * DAY + _seconds(self.start)
            finish = begin + length
            if finish > WEEK:
                spans += [(begin, WEEK), (0, finish - WEEK)]
            else:
                spans.append((begin, finish))
        return sorted(spans)

    def _inside(self, second: int) -> bool:
        return any(begin <= second < finish for begin, finish in self.spans())

    def periods(self, limit_a: float) -> list[dict[str, float]]:
        """The weekly profile's periods: the window's current and the limit, the lower."""
        edges = sorted({0, *(edge for span in self.spans() for edge in span if edge < WEEK)})
        periods: list[dict[str, float]] = []
        for edge in edges:
            amps = min(self.inside_a if self._inside(edge) else self.outside_a, limit_a)
            if not periods or periods[-1]["limit"] != amps:
                periods.append({"startPeriod": edge, "limit": amps})
        return periods

    @staticmethod
    def week_start(local_now: datetime) -> datetime:
        """Monday 00:00 of the week of ``local_now``, in its time zone."""
        monday = local_now.date() - timedelta(days=local_now.weekday())
        return datetime.combine(monday, time(), local_now.tzinfo)

    def _second_of_week(self, local: datetime) -> int:
        return int((local - self.week_start(local)).total_seconds()) % WEEK

    def in_window(self, local: datetime) -> bool:
        """Whether ``local`` is inside a window."""
        return self._inside(self._second_of_week(local))

    def limit_at(self, local: datetime, limit_a: float) -> float:
        """The current the charger offers at ``local``, with ``limit_a`` as the limit."""
        inside = self.in_window(local)
        return min(self.inside_a if inside else self.outside_a, limit_a)

    def next_change(self, local: datetime) -> datetime:
        """When the next window opens or the current one closes (in a week at the latest)."""
        second = self._second_of_week(local)
        edges = sorted({edge % WEEK for span in self.spans() for edge in span})
        later = [edge for edge in edges if edge > second]
        step = (later[0] - second) if later else (WEEK - second + edges[0])
        return local.replace(microsecond=0) + timedelta(seconds=step)

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The windows that overlap [start, end) (local times), in order."""
        length = timedelta(seconds=(_seconds(self.end) - _seconds(self.start)) % DAY or DAY)
        found: list[tuple[datetime, datetime]] = []
        week = self.week_start(start) - timedelta(weeks=1)
        while week < end:
            for day in sorted(self.days):
                opened = datetime.combine(
                    (week + timedelta(days=day)).date(), self.start, start.tzinfo
                )
                closed = opened + length
                if closed > start and opened < end:
                    found.append((opened, closed))
            week += timedelta(weeks=1)
        return found

    def as_dict(self) -> dict[str, Any]:
        """For the charger's settings."""
        return {
            "days": sorted(self.days),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "inside_a": self.inside_a,
            "outside_a": self.outside_a,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingWindow:
        """From the settings; raises KeyError, TypeError or ValueError if they are not one."""
        days = frozenset(int(day) for day in data["days"])
        if not days or not days <= set(range(7)):
            raise ValueError(f"days must be 0 (Monday) to 6: {sorted(days)}")
        return cls(
            days=days,
            start=time.fromisoformat(str(data["start"])),
            end=time.fromisoformat(str(data["end"])),
            inside_a=float(data["inside_a"]),
            outside_a=float(data.get("outside_a", 0.0)),
        )
