"""OCPP 1.6J sampled values into the model's meter samples."""

from __future__ import annotations

from datetime import datetime
import math
from typing import Any

from ...model.meter import MAX_READING, PHASES, Sample

# Multipliers that bring a unit to the base unit we store (Wh, W, A, V).
_SCALE = {"kWh": 1000.0, "kW": 1000.0, "kvarh": 1000.0, "kvar": 1000.0, "kVA": 1000.0}


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
