"""Finished charging sessions: what each one was, and the bounded history of them.

Pure: no I/O and no clock of its own. A :class:`SessionTracker` follows one
running transaction (its peak power, its time actually charging, its cost at the
price of the moment each kilowatt-hour arrived); when the charger reports the
transaction stopped it becomes a :class:`SessionRecord`, and the
:class:`SessionHistory` keeps records newest first, once each, within the bounds
the owner chose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

DEFAULT_MAX_SESSIONS = 1000
DEFAULT_MAX_AGE_DAYS = 730


class StartedBy(StrEnum):
    """How a session was started."""

    CARD = "card"  # an RFID card (or a PIN) at the charger
    FREE_VEND = "free_vend"  # the charger was unlocked: no card needed
    REMOTE = "remote"  # Home Assistant started it (switch, action, automation)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(slots=True)
class SessionTracker:
    """What is measured of a running transaction while it runs."""

    transaction_id: str
    started_at: datetime
    max_power_w: float | None = None
    charging_s: float = 0.0
    cost: float | None = None
    last_energy_wh: float = 0.0
    charging_since: datetime | None = None

    def update(
        self,
        now: datetime,
        energy_wh: float,
        power_w: float | None,
        charging: bool,
        price_per_kwh: float | None,
    ) -> bool:
        """The transaction as it is now; ``price_per_kwh`` is the price at this moment.

        Returns whether a figure worth saving changed (energy, cost, peak power, or
        whether it charges), not just the time that passed.

        Energy that arrived since the last update is priced at the current price,
        so a tariff that changes during the session is followed. Without a price
        (none configured, or the price entity unavailable) the energy is not priced
        and the session has no cost unless another part of it was priced.
        """
        before = (self.last_energy_wh, self.cost, self.max_power_w, self.charging_since is None)
        added = max(0.0, energy_wh - self.last_energy_wh)
        self.last_energy_wh = max(self.last_energy_wh, energy_wh)
        if added and price_per_kwh is not None:
            self.cost = (self.cost or 0.0) + added / 1000 * price_per_kwh
        if power_w is not None and (self.max_power_w is None or power_w > self.max_power_w):
            self.max_power_w = power_w
        if self.charging_since is not None:
            self.charging_s += max(0.0, (now - self.charging_since).total_seconds())
        self.charging_since = now if charging else None
        return before != (self.last_energy_wh, self.cost, self.max_power_w, not charging)

    def as_dict(self) -> dict[str, Any]:
        """For storage (a session survives a Home Assistant restart)."""
        return {
            "transaction_id": self.transaction_id,
            "started_at": _iso(self.started_at),
            "max_power_w": self.max_power_w,
            "charging_s": self.charging_s,
            "cost": self.cost,
            "last_energy_wh": self.last_energy_wh,
            "charging_since": _iso(self.charging_since) if self.charging_since else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionTracker:
        """From storage."""
        since = data.get("charging_since")
        return cls(
            transaction_id=str(data["transaction_id"]),
            started_at=_dt(data["started_at"]),
            max_power_w=_float_or_none(data.get("max_power_w")),
            charging_s=float(data.get("charging_s", 0.0)),
            cost=_float_or_none(data.get("cost")),
            last_energy_wh=float(data.get("last_energy_wh", 0.0)),
            charging_since=_dt(since) if since else None,
        )


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One finished charging session."""

    transaction_id: str
    connector_id: int
    started_at: datetime
    ended_at: datetime
    energy_wh: float
    id_tag: str
    started_by: StartedBy
    card_name: str | None = None
    max_power_w: float | None = None
    charging_s: float = 0.0
    stop_reason: str | None = None
    cost: float | None = None

    @property
    def key(self) -> tuple[str, int, datetime]:
        """What makes a session the same session when it is reported twice."""
        return (self.transaction_id, self.connector_id, self.started_at)

    @property
    def energy_kwh(self) -> float:
        """The energy charged, in kWh (3 decimals)."""
        return round(self.energy_wh / 1000, 3)

    @property
    def duration(self) -> timedelta:
        """From the start of the transaction to its end (plugged in and authorised)."""
        return max(timedelta(0), self.ended_at - self.started_at)

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        data = asdict(self)
        data["started_at"] = _iso(self.started_at)
        data["ended_at"] = _iso(self.ended_at)
        data["started_by"] = str(self.started_by)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRecord:
        """From storage; raises KeyError, TypeError or ValueError on a damaged record."""
        return cls(
            transaction_id=str(data["transaction_id"]),
            connector_id=int(data["connector_id"]),
            started_at=_dt(data["started_at"]),
            ended_at=_dt(data["ended_at"]),
            energy_wh=float(data["energy_wh"]),
            id_tag=str(data["id_tag"]),
            started_by=StartedBy(data["started_by"]),
            card_name=None if data.get("card_name") is None else str(data["card_name"]),
            max_power_w=_float_or_none(data.get("max_power_w")),
            charging_s=float(data.get("charging_s", 0.0)),
            stop_reason=None if data.get("stop_reason") is None else str(data["stop_reason"]),
            cost=_float_or_none(data.get("cost")),
        )


@dataclass(slots=True)
class SessionHistory:
    """The finished sessions of one charger, newest first, each once."""

    max_sessions: int = DEFAULT_MAX_SESSIONS
    max_age: timedelta = field(default_factory=lambda: timedelta(days=DEFAULT_MAX_AGE_DAYS))
    records: list[SessionRecord] = field(default_factory=list)
    # The records as stored, rebuilt only when they change (saves come often).
    _stored: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    def add(self, record: SessionRecord, now: datetime) -> bool:
        """Keep ``record`` in its place by start time; False if it is already kept."""
        if any(kept.key == record.key for kept in self.records):
            return False
        self.records.append(record)
        self.records.sort(key=lambda r: r.started_at, reverse=True)
        self._stored = None
        self.prune(now)
        return any(kept is record for kept in self.records)

    def prune(self, now: datetime) -> None:
        """Drop what is older than the age bound, then the oldest beyond the count."""
        oldest = now - self.max_age
        kept = [r for r in self.records if r.ended_at >= oldest][: self.max_sessions]
        if len(kept) != len(self.records):
            self.records = kept
            self._stored = None

    def between(self, start: datetime | None, end: datetime | None) -> list[SessionRecord]:
        """Sessions that overlap [start, end), newest first (None: unbounded)."""
        return [
            r
            for r in self.records
            if (start is None or r.ended_at >= start) and (end is None or r.started_at < end)
        ]

    @property
    def last(self) -> SessionRecord | None:
        """The session that ended last."""
        return max(self.records, key=lambda r: r.ended_at, default=None)

    def as_list(self) -> list[dict[str, Any]]:
        """For storage (the same list until the records change)."""
        if self._stored is None:
            self._stored = [r.as_dict() for r in self.records]
        return self._stored

    def restore(self, data: Iterable[dict[str, Any]]) -> int:
        """Records from storage; returns how many could not be read (they are dropped)."""
        damaged = 0
        records = []
        for item in data:
            try:
                records.append(SessionRecord.from_dict(item))
            except KeyError, TypeError, ValueError:
                damaged += 1
        self.records = sorted(records, key=lambda r: r.started_at, reverse=True)
        self._stored = None
        return damaged
