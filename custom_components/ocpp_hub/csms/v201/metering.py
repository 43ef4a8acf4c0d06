"""OCPP 2.0.1 sampled values into the model's meter samples.

2.0.1 sends numbers (not text) and a unit of measure with a power-of-ten
multiplier; a value without a measurand is the energy register, in Wh.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ...model.meter import Sample
from ..metering import ENERGY_REGISTER, Reading, fold_readings

# Units that are a thousand of the base unit we store (Wh, W, A, V).
_KILO = frozenset({"kWh", "kW", "kvarh", "kvar", "kVA", "kVAh"})
_MAX_MULTIPLIER = 9  # 10**9 at most: larger is no meter's


def _readings(sampled: list[dict[str, Any]]) -> Iterator[Reading]:
    for item in sampled:
        measurand = item.get("measurand", ENERGY_REGISTER)
        unit = item.get("unitOfMeasure") or {}
        multiplier = unit.get("multiplier", 0)
        value: float | None = None
        if abs(multiplier) <= _MAX_MULTIPLIER:
            try:
                value = float(item["value"]) * 10.0**multiplier
            except OverflowError:  # a JSON integer beyond any float: no meter's reading
                value = None
            if value is not None and unit.get("unit") in _KILO:
                value *= 1000.0
        yield Reading(measurand, value, item.get("phase"))


def parse_meter_value(timestamp: datetime, meter_value: dict[str, Any]) -> Sample:
    """Fold one MeterValueType (schema-checked: numeric values) into a Sample."""
    return fold_readings(timestamp, _readings(meter_value["sampledValue"]))
