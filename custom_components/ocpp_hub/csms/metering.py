"""Meter readings, already in base units, folded into the model's meter samples.

Each version turns its own sampled values into :class:`Reading` (its units and
multipliers applied); this module is what every version means by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
import math

from ..model.meter import MAX_READING, PHASES, Sample

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class Reading:
    """One sampled value: its measurand, its value in Wh, W, A, V, Hz, % or °C, its phase."""

    measurand: str
    value: float | None  # None: not a number (the measurand is still seen)
    phase: str | None = None


def phase_key(phase: str | None) -> str:
    """Map an OCPP phase to L1/L2/L3 ('' for a total or an unknown phase)."""
    if not phase:
        return ""
    return phase[:2] if phase[:2] in PHASES else ""


def fold_readings(timestamp: datetime, readings: Iterable[Reading]) -> Sample:
    """Fold the readings of one meter value into a Sample.

    Values that are not finite numbers are skipped; unknown measurands are kept
    only in ``measurands`` so the charger's capabilities stay visible.
    """
    sample = Sample(timestamp=timestamp)
    seen: set[str] = set()
    for reading in readings:
        measurand = reading.measurand
        seen.add(measurand)
        value = reading.value
        if value is None or not math.isfinite(value) or abs(value) > MAX_READING:
            continue  # after scaling: 1E+306 kWh is not finite in Wh
        phase = phase_key(reading.phase)
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
