"""The replay benchmark's day of solar and house load (benchmarks/trace.py): pure functions."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    # benchmarks/ is not a package; its trace.py would shadow the standard library's.
    spec = importlib.util.spec_from_file_location(f"replay_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


trace = _load("trace")


@pytest.fixture(scope="module")
def day() -> trace.Trace:
    """The default day (seed 2026)."""
    return trace.generate()


def test_the_committed_trace_is_regenerated_bit_for_bit(day: trace.Trace) -> None:
    """`benchmarks/trace.py` writes exactly the committed file."""
    assert trace.DEFAULT_TRACE.read_text(encoding="ascii") == trace.to_csv(day)


def test_the_same_seed_gives_the_same_day_and_another_seed_another(day: trace.Trace) -> None:
    """Seeded: nothing depends on the clock or global random state."""
    again = trace.generate(trace.TraceConfig())
    assert again.solar_w == day.solar_w
    assert again.house_w == day.house_w
    other = trace.generate(trace.TraceConfig(seed=7))
    assert other.solar_w != day.solar_w
    assert other.house_w != day.house_w


def test_a_day_at_ten_second_steps(day: trace.Trace) -> None:
    """8640 samples, no negative power, the file reads back unchanged."""
    assert day.steps == 8640
    assert all(len(phase) == day.steps for phase in day.house_w)
    assert min(day.solar_w) == 0
    assert min(min(phase) for phase in day.house_w) >= 0
    back = trace.from_csv(trace.to_csv(day))
    assert back.solar_w == day.solar_w
    assert back.house_w == day.house_w
    assert back.config == day.config


def test_energies_add_up_and_are_plausible(day: trace.Trace) -> None:
    """An 8 kWp roof on a June day with some clouds; a family's house; sums consistent."""
    energy = day.energy_kwh()
    assert 35 < energy["solar"] < 62  # clear sky would be about 56 kWh
    assert 6 < energy["house"] < 16
    assert energy["house_from_solar"] + energy["surplus"] == pytest.approx(energy["solar"])
    assert energy["house_from_solar"] + energy["house_from_grid"] == pytest.approx(energy["house"])
    total = sum(day.house_total_w(i) for i in range(day.steps))
    assert total == sum(sum(phase) for phase in day.house_w)


def test_the_sun_and_the_appliances_at_their_hours(day: trace.Trace) -> None:
    """Dark at night, most power around 13:30, clouds cut it; the base load stays low."""
    per_hour = 3600 // day.step_s
    assert max(day.solar_w[: 4 * per_hour]) == 0
    assert max(day.solar_w[22 * per_hour :]) == 0
    assert 5500 < max(day.solar_w) < 8000
    peak = day.solar_w.index(max(day.solar_w))
    assert 12 * per_hour < peak < 15 * per_hour
    clear = [trace.clear_sky_w(day.config, (i + 0.5) * day.step_s) for i in range(day.steps)]
    cut = [i for i in range(day.steps) if clear[i] > 1000 and day.solar_w[i] < 0.7 * clear[i]]
    assert len(cut) > 10 * 60 // day.step_s  # cloud passages of some minutes
    night = [day.house_total_w(i) for i in range(2 * per_hour, 4 * per_hour)]
    assert max(night) < 800  # base and fridge only
    assert max(day.house_total_w(i) for i in range(day.steps)) > 4000  # oven and hob
    assert max(day.house_w[2]) >= 2500  # the oven on L3
