"""OCPP 1.6J sampled values into the model's meter samples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ...model.meter import Sample
from ..metering import ENERGY_REGISTER, Reading, fold_readings

# Multipliers that bring a unit to the base unit we store (Wh, W, A, V).
_SCALE = {"kWh": 1000.0, "kW": 1000.0, "kvarh": 1000.0, "kvar": 1000.0, "kVA": 1000.0}


def _readings(sampled: list[dict[str, Any]]) -> Iterator[Reading]:
    for item in sampled:
        measurand = item.get("measurand", ENERGY_REGISTER)
        try:
            value: float | None = float(item["value"]) * _SCALE.get(item.get("unit", ""), 1.0)
        except KeyError, TypeError, ValueError:
            value = None
        yield Reading(measurand, value, item.get("phase"))


def parse_sampled_values(timestamp: datetime, sampled: list[dict[str, Any]]) -> Sample:
    """Fold the sampledValue list of one meterValue (values are text) into a Sample."""
    return fold_readings(timestamp, _readings(sampled))
