"""Meter readings: parsing OCPP sampled values, deriving power, monotonic energy.

Pure functions and small dataclasses; no I/O. The protocol layer turns a
MeterValues payload into a list of :class:`Sample` (one per meterValue) and the
charger model folds them into :class:`MeterState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

# Multipliers that bring a unit to the base unit we store (Wh, W, A, V).
_SCALE = {"kWh": 1000.0, "kW": 1000.0, "kvarh": 1000.0, "kvar": 1000.0, "kVA": 1000.0}

PHASES = ("L1", "L2", "L3")

# Larger readings (a petawatt-hour, a petawatt) are not measurements: they are dropped.
MAX_READING = 1e15

# A register that goes back by more than both of these counts as a meter restart.
_RESET_MIN_DROP_WH = 100.0
_RESET_MIN_DROP_SHARE = 0.01


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


def _phase_key(phase: str | None) -> str:
    """Map an OCPP phase to L1/L2/L3 ('' for a total or an unknown phase)."""
    if not phase:
        return ""
    return phase[:2] if phase[:2] in PHASES else ""


def parse_sampled_values(timestamp: datetime, sampled: list[dict[str, Any]]) -> Sample:
    """Fold the sampledValue list of one meterValue into a Sample.

    Values that are not finite numbers are skipped; unknown measurands are kept
    only in ``measurands`` so the charger's capabilities stay visible.
    """
    sample = Sample(timestamp=timestamp)
    seen: set[str] = set()
    for item in sampled:
        measurand = item.get("measurand", "Energy.Active.Import.Register")
        seen.add(measurand)
        try:
            value = float(item["value"])
        except KeyError, TypeError, ValueError:
            continue
        value *= _SCALE.get(item.get("unit", ""), 1.0)
        if not math.isfinite(value) or abs(value) > MAX_READING:
            continue  # after scaling: 1E+306 kWh is not finite in Wh
        phase = _phase_key(item.get("phase"))
        match measurand:
            case "Energy.Active.Import.Register":
                if not phase:
                    sample.energy_wh = value
            case "Power.Active.Import":
                if phase:
                    # Per-phase power: accumulate into the total unless a total is given.
                    sample.power_w = (sample.power_w or 0.0) + value
                else:
                    sample.power_w = value
            case "Power.Offered":
                sample.power_offered_w = value
            case "Current.Offered":
                sample.current_offered_a = value
            case "Current.Import":
                sample.currents_a[phase or "L1"] = value
            case "Voltage":
                sample.voltages_v[phase or "L1"] = value
            case "Frequency":
                sample.frequency_hz = value
            case "SoC":
                sample.soc_percent = value
            case "Temperature":
                sample.temperature_c = value
    sample.measurands = frozenset(seen)
    return sample


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


@dataclass(slots=True)
class EnergyCounter:
    """A lifetime energy total that never decreases and is never negative.

    The charger's register is followed delta by delta. A register that goes
    clearly backwards (meter replaced, firmware that counts per session) is taken
    as a restart from zero, so nothing is lost and nothing is subtracted; a small
    step back (rounding between MeterValues and StopTransaction) is ignored, so
    nothing is counted twice. Samples
    older than the newest one seen (queued while offline, delivered late) do
    not move the total: their energy is already contained in later readings.
    """

    total_wh: float = 0.0
    last_register_wh: float | None = None
    last_timestamp: datetime | None = None

    def update(self, register_wh: float, timestamp: datetime) -> bool:
        """Fold in one register reading; return True if the total changed."""
        if not 0 <= register_wh <= MAX_READING:  # also refuses NaN
            return False
        if self.last_timestamp is not None and timestamp < self.last_timestamp:
            return False
        previous = self.last_register_wh
        self.last_register_wh = register_wh
        self.last_timestamp = timestamp
        if previous is None:
            # First reading ever: adopt the charger's lifetime register.
            self.total_wh = max(self.total_wh, register_wh)
            return True
        if register_wh >= previous:
            delta = register_wh - previous
        elif previous - register_wh > max(_RESET_MIN_DROP_WH, previous * _RESET_MIN_DROP_SHARE):
            delta = register_wh  # the meter started again from (near) zero
        else:
            # A small step back is rounding or resolution (MeterValues in Wh, meterStop
            # truncated, a register in kWh with two decimals...), not a reset: counting
            # it as one would add the whole register again.
            self.last_register_wh = previous
            return False
        if delta == 0:
            return False
        self.total_wh += delta
        return True

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "total_wh": self.total_wh,
            "last_register_wh": self.last_register_wh,
            "last_timestamp": self.last_timestamp.isoformat() if self.last_timestamp else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnergyCounter:
        """Restore from storage, tolerating missing keys."""
        stamp = data.get("last_timestamp")
        return cls(
            total_wh=float(data.get("total_wh") or 0.0),
            last_register_wh=data.get("last_register_wh"),
            last_timestamp=datetime.fromisoformat(stamp) if stamp else None,
        )
