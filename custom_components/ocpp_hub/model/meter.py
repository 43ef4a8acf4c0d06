"""Meter readings: samples, deriving power, monotonic energy.

Pure functions and small dataclasses; no I/O. The protocol layer turns a
version's meter values into a list of :class:`Sample` (one per reading time)
and the charger model folds them into :class:`MeterState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PHASES = ("L1", "L2", "L3")

# Larger readings (a petawatt-hour, a petawatt) are not measurements: they are dropped.
MAX_READING = 1e15

# A register that goes back by less than either of these is rounding, not a restart.
_RESET_MIN_DROP_WH = 100.0
_RESET_MIN_DROP_SHARE = 0.01

# The most a home charger draws when it says nothing else: 32 A on three phases at 250 V.
DEFAULT_MAX_POWER_W = 32 * 3 * 250.0
# Energy a reading may add beyond maximum power x elapsed time (clock resolution,
# readings taken a little before they are stamped): this many seconds at maximum power.
_BURST_S = 30 * 60
# A drop is a meter restart only to a reading this near zero (beyond what the time since allows).
_NEAR_ZERO_WH = 1000.0
# Implausible readings that agree with each other this many times in a row are the
# meter's new level (a replaced meter): followed from there, nothing counted for the step.
_REBASE_AFTER = 3
_REBASE_SLACK_WH = 100.0


@dataclass(slots=True)
class Sample:
    """The measurands of one meterValue, in base units; None where not reported."""

    timestamp: datetime
    energy_wh: float | None = None
    power_w: float | None = None
    power_offered_w: float | None = None
    current_offered_a: float | None = None
    currents_a: dict[str, float] = field(default_factory=dict)
    voltages_v: dict[str, float] = field(default_factory=dict)
    frequency_hz: float | None = None
    soc_percent: float | None = None
    temperature_c: float | None = None
    measurands: frozenset[str] = frozenset()


def derive_power(sample: Sample) -> tuple[float | None, bool]:
    """Return (power in W, derived?) for a sample.

    The reported Power.Active.Import wins unless it is missing or reads 0 while
    current flows (Copper SB, some 6.4 firmware); then current x voltage per
    phase is used, with a single reported voltage applying to every phase.
    """
    flowing = sum(abs(c) for c in sample.currents_a.values()) >= 0.5
    if sample.power_w is not None and (sample.power_w > 0 or not flowing):
        return sample.power_w, False
    if flowing and sample.voltages_v:
        any_voltage = next(iter(sample.voltages_v.values()))
        total = sum(
            current * sample.voltages_v.get(phase, any_voltage)
            for phase, current in sample.currents_a.items()
        )
        return round(total, 1), True
    return sample.power_w, False


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(slots=True)
class EnergyCounter:
    """A lifetime energy total that never decreases, never goes negative, never leaps.

    The charger's register is followed delta by delta. A rise larger than the
    charger's maximum power over the time since the last reading (plus a short
    burst allowance) is not energy but a glitch (4294967295 Wh, 1e15): it is
    rejected, counted in ``rejected`` and kept for diagnostics, and the next
    normal reading continues from the last good one. A register that goes
    clearly backwards is a meter restart only if the new reading is near zero
    (no more than could have been delivered since); then nothing is lost and
    nothing subtracted. Any other big drop is rejected like a leap. A small step
    back (rounding between MeterValues and StopTransaction) is ignored, so
    nothing is counted twice. Samples older than the newest one seen (queued
    while offline, delivered late) do not move the total: their energy is
    already contained in later readings. Readings rejected several times in a
    row that agree with each other (a replaced meter) become the new level, with
    nothing counted for the step.
    """

    total_wh: float = 0.0
    last_register_wh: float | None = None
    last_timestamp: datetime | None = None
    # Energy still allowed beyond maximum power x time (None: a full burst).
    allowance_wh: float | None = None
    rejected: int = 0
    last_rejected_wh: float | None = None
    last_rejected_at: datetime | None = None
    # Consecutive rejected readings that agree with each other.
    suspect_count: int = 0

    def update(
        self, register_wh: float, timestamp: datetime, max_power_w: float = DEFAULT_MAX_POWER_W
    ) -> bool:
        """Fold in one register reading; return True if the total changed."""
        if not 0 <= register_wh <= MAX_READING:  # also refuses NaN
            return False
        if self.last_timestamp is not None and timestamp < self.last_timestamp:
            return False
        previous = self.last_register_wh
        if previous is None:
            # First reading ever: adopt the charger's lifetime register.
            self.last_register_wh = register_wh
            self.last_timestamp = timestamp
            self.total_wh = max(self.total_wh, register_wh)
            return True
        burst = max_power_w * _BURST_S / 3600
        elapsed_s = (timestamp - self.last_timestamp).total_seconds() if self.last_timestamp else 0
        carried = burst if self.allowance_wh is None else min(self.allowance_wh, burst)
        available = carried + max_power_w * elapsed_s / 3600
        limit = available
        if register_wh >= previous:
            delta = register_wh - previous
        elif previous - register_wh > max(_RESET_MIN_DROP_WH, previous * _RESET_MIN_DROP_SHARE):
            # The meter started again from zero, if the reading is near zero.
            delta = register_wh
            limit = min(available, max_power_w * elapsed_s / 3600 + _NEAR_ZERO_WH)
        else:
            # A small step back is rounding or resolution (MeterValues in Wh, meterStop
            # truncated, a register in kWh with two decimals...), not a reset: counting
            # it as one would add the whole register again.
            self.last_timestamp = timestamp
            self.allowance_wh = min(burst, available)
            return False
        if delta > limit:
            self._reject(register_wh, timestamp, max_power_w)
            return False
        self.last_register_wh = register_wh
        self.last_timestamp = timestamp
        self.allowance_wh = min(burst, available - delta)
        self.suspect_count = 0
        if delta == 0:
            return False
        self.total_wh += delta
        return True

    def _reject(self, register_wh: float, timestamp: datetime, max_power_w: float) -> None:
        """An implausible reading: kept for diagnostics, followed only if it persists."""
        last, last_at = self.last_rejected_wh, self.last_rejected_at
        agrees = (
            self.suspect_count > 0
            and last is not None
            and last_at is not None
            and timestamp >= last_at
            and last
            <= register_wh
            <= last + max_power_w * (timestamp - last_at).total_seconds() / 3600 + _REBASE_SLACK_WH
        )
        self.suspect_count = self.suspect_count + 1 if agrees else 1
        self.rejected += 1
        self.last_rejected_wh = register_wh
        self.last_rejected_at = timestamp
        if self.suspect_count >= _REBASE_AFTER:
            self.last_register_wh = register_wh
            self.last_timestamp = timestamp
            self.allowance_wh = None
            self.suspect_count = 0

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage (and diagnostics)."""
        return {
            "total_wh": self.total_wh,
            "last_register_wh": self.last_register_wh,
            "last_timestamp": _iso(self.last_timestamp),
            "allowance_wh": self.allowance_wh,
            "rejected": self.rejected,
            "last_rejected_wh": self.last_rejected_wh,
            "last_rejected_at": _iso(self.last_rejected_at),
            "suspect_count": self.suspect_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnergyCounter:
        """Restore from storage, tolerating missing keys (older versions)."""
        return cls(
            total_wh=float(data.get("total_wh") or 0.0),
            last_register_wh=data.get("last_register_wh"),
            last_timestamp=_dt(data.get("last_timestamp")),
            allowance_wh=_float(data.get("allowance_wh")),
            rejected=int(data.get("rejected") or 0),
            last_rejected_wh=_float(data.get("last_rejected_wh")),
            last_rejected_at=_dt(data.get("last_rejected_at")),
            suspect_count=int(data.get("suspect_count") or 0),
        )
