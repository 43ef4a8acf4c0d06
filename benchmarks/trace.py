"""A seeded day of solar production and house load at 10 s resolution.

One June day in central Europe (Frankfurt, 50.1 N 8.7 E, clock time CEST =
UTC+2): an ~8 kWp south-facing roof under a clear sky (sun position from the
date and time, air-mass attenuation, beam on a 35 degree tilted plane plus
diffuse light, 18 % system losses) with passing clouds that cut the output by
30-85 % for 1-20 minutes with short ramps, more of them in the afternoon.

The house load is given per phase (L1..L3) and is what the house draws without
any car: a wandering base load (150-400 W), a fridge cycling on L2, a kettle
(2 kW, 3 min) on L1 three times a day, a washing machine (2 kW heating, then
the motor and a spin) on L2 in the morning, hob cooking at noon and in the
evening (L1/L2), an oven (2.5 kW, 40 min, thermostat cycling) on L3 in the
evening and a dishwasher (two 2 kW heating phases) on L3 at night.

Everything is a pure function of the seed (``random.Random(seed)``, only
``random()``, ``uniform`` and ``gauss``) and whole watts are written, so the
committed trace is regenerated bit for bit::

    .venv/bin/python benchmarks/trace.py            # writes benchmarks/traces/day-2026-06-21.csv
    .venv/bin/python benchmarks/trace.py --check    # regenerates it and compares
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import math
from pathlib import Path
import random
import sys

TRACES = Path(__file__).resolve().parent / "traces"
DEFAULT_TRACE = TRACES / "day-2026-06-21.csv"
DAY_S = 24 * 3600
PHASES = 3
DEFAULT_SEED = 2026


@dataclass(frozen=True, slots=True)
class TraceConfig:
    """What the generated day looks like."""

    seed: int = DEFAULT_SEED
    date: str = "2026-06-21"
    utc_offset_h: int = 2  # CEST
    step_s: int = 10
    latitude: float = 50.1
    longitude: float = 8.7
    day_of_year: int = 172
    peak_kw: float = 8.0
    tilt_deg: float = 35.0
    #: Share of the rated power that reaches the grid (inverter, heat, wiring).
    performance: float = 0.82
    #: Cloud passages per hour of daylight: before and after 13:00 local time.
    clouds_per_hour_morning: float = 0.8
    clouds_per_hour_afternoon: float = 2.2


@dataclass(slots=True)
class Trace:
    """A day of samples; sample ``i`` holds for ``[i*step_s, (i+1)*step_s)``."""

    config: TraceConfig
    solar_w: list[int] = field(default_factory=list)
    #: House load per phase (W), without any car.
    house_w: tuple[list[int], list[int], list[int]] = ([], [], [])

    @property
    def steps(self) -> int:
        """Number of samples."""
        return len(self.solar_w)

    @property
    def step_s(self) -> int:
        """Seconds per sample."""
        return self.config.step_s

    def house_total_w(self, i: int) -> int:
        """The house load over all three phases at sample ``i``."""
        return self.house_w[0][i] + self.house_w[1][i] + self.house_w[2][i]

    def start_iso(self) -> str:
        """Local start of the day, ISO 8601 with offset."""
        return f"{self.config.date}T00:00:00+{self.config.utc_offset_h:02d}:00"

    def energy_kwh(self) -> dict[str, float]:
        """Energy of the day: solar, house, and the parts that meet or do not."""
        hours = self.step_s / 3600
        solar = house = self_used = 0.0
        for i in range(self.steps):
            s, h = self.solar_w[i], self.house_total_w(i)
            solar += s * hours
            house += h * hours
            self_used += min(s, h) * hours
        return {
            "solar": solar / 1000,
            "house": house / 1000,
            "house_from_solar": self_used / 1000,
            "surplus": (solar - self_used) / 1000,
            "house_from_grid": (house - self_used) / 1000,
        }


# -- solar ---------------------------------------------------------------------


def clear_sky_w(config: TraceConfig, t_local: float) -> float:
    """AC power of the roof under a clear sky at ``t_local`` s after local midnight."""
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + config.day_of_year) / 365)
    b = 2 * math.pi * (config.day_of_year - 81) / 364
    eot_min = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    utc_h = t_local / 3600 - config.utc_offset_h
    solar_h = utc_h + config.longitude / 15 + eot_min / 60
    hour_angle = math.radians(15 * (solar_h - 12))
    lat = math.radians(config.latitude)
    sin_el = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    if sin_el <= 0.01:
        return 0.0
    el = math.asin(sin_el)
    el_deg = math.degrees(el)
    # Kasten-Young air mass, Meinel beam attenuation.
    air_mass = 1 / (sin_el + 0.50572 * (el_deg + 6.07995) ** -1.6364)
    beam = 1353 * 0.7 ** (air_mass**0.678)
    diffuse = 0.12 * beam
    # The sun's north component against the panel normal, tilted towards south.
    cos_el = math.cos(el)
    az_cos = (math.sin(decl) - sin_el * math.sin(lat)) / (cos_el * math.cos(lat))  # north
    tilt = math.radians(config.tilt_deg)
    cos_incidence = sin_el * math.cos(tilt) - cos_el * az_cos * math.sin(tilt)
    plane = beam * max(0.0, cos_incidence) + diffuse * (1 + math.cos(tilt)) / 2
    return config.peak_kw * 1000 * plane / 1000 * config.performance


def _clouds(config: TraceConfig, rng: random.Random) -> list[tuple[float, float, float, float]]:
    """Cloud passages: (start s, duration s, ramp s, depth 0..1) between 05:00 and 21:30."""
    clouds: list[tuple[float, float, float, float]] = []
    t = 5 * 3600.0
    while t < 21.5 * 3600:
        rate = (
            config.clouds_per_hour_afternoon if t >= 13 * 3600 else config.clouds_per_hour_morning
        )
        t += -math.log(1 - rng.random()) * 3600 / rate  # exponential gaps
        duration = 60 * math.exp(rng.uniform(0, math.log(20)))  # 1-20 min, log-uniform
        ramp = rng.uniform(15, 60)
        depth = rng.uniform(0.30, 0.85)
        clouds.append((t, duration, ramp, depth))
    return clouds


def _cloud_factor(clouds: list[tuple[float, float, float, float]], t: float) -> float:
    factor = 1.0
    for start, duration, ramp, depth in clouds:
        if t < start or t > start + duration:
            continue
        edge = min(t - start, start + duration - t)
        factor *= 1 - depth * min(1.0, edge / ramp)
    return factor


# -- house -----------------------------------------------------------------------


def _add(load: list[float], step: int, start_s: float, phases: list[tuple[float, float]]) -> None:
    """Add an appliance program: consecutive (duration s, W) phases from ``start_s``."""
    t = start_s
    for duration, watts in phases:
        first = max(0, int(t // step))
        last = min(len(load), int((t + duration) // step))
        for i in range(first, last):
            load[i] += watts
        t += duration


def _house(config: TraceConfig, rng: random.Random) -> list[list[float]]:
    step = config.step_s
    n = DAY_S // step
    phases: list[list[float]] = [[0.0] * n for _ in range(PHASES)]
    l1, l2, l3 = phases

    # Base load: an Ornstein-Uhlenbeck walk around 260 W kept within 150-400 W,
    # split 40/35/25 over the phases.
    base = 260.0
    for i in range(n):
        base += 0.002 * (260 - base) * step + 4.0 * math.sqrt(step) * rng.gauss(0, 1)
        base = min(400.0, max(150.0, base))
        l1[i] += 0.40 * base
        l2[i] += 0.35 * base
        l3[i] += 0.25 * base

    # Fridge on L2: compressor ~90 W (a short 250 W start), on 12-18 min, off 25-40 min.
    t = rng.uniform(0, 1800)
    while t < DAY_S:
        on = rng.uniform(720, 1080)
        _add(l2, step, t, [(10, 250), (on - 10, 90)])
        t += on + rng.uniform(1500, 2400)

    def at(hour: float, jitter_min: float) -> float:
        return hour * 3600 + rng.uniform(-jitter_min, jitter_min) * 60

    # Kettle on L1: breakfast, afternoon tea, evening.
    for hour in (6.9, 16.2, 21.0):
        _add(l1, step, at(hour, 15), [(rng.uniform(150, 200), 2000)])

    # Washing machine on L2 (60 degrees): 2 kW heating, washing, rinsing, spinning.
    _add(
        l2,
        step,
        at(9.5, 30),
        [(240, 150), (900, 2000), (2700, 250), (600, 120), (480, 450), (300, 550)],
    )

    # Cooking at noon: hob on L1 (rings cycling 1.2-1.8 kW) for 20-30 min.
    start = at(12.3, 15)
    for k in range(int(rng.uniform(20, 30) * 60 // 120)):
        _add(l1, step, start + 120 * k, [(rng.uniform(60, 110), rng.uniform(1200, 1800))])

    # Evening: oven on L3 (2.5 kW to heat up, then thermostat cycles) for 40 min,
    # hob on L1 and L2 meanwhile.
    oven = at(18.3, 20)
    program = [(600.0, 2500.0)]
    while sum(d for d, _ in program) < 2400:
        program += [(rng.uniform(120, 200), 150.0), (rng.uniform(90, 150), 2500.0)]
    _add(l3, step, oven, program)
    hob = oven + rng.uniform(600, 1200)
    for k in range(int(rng.uniform(15, 25) * 60 // 90)):
        ring = l1 if k % 2 == 0 else l2
        _add(ring, step, hob + 90 * k, [(rng.uniform(50, 80), rng.uniform(1200, 2000))])

    # Dishwasher on L3 after dinner: pre-rinse, 2 kW heating, wash, 2 kW heating, drying.
    _add(
        l3,
        step,
        at(20.6, 20),
        [(600, 80), (840, 2000), (1500, 120), (600, 2000), (1800, 30)],
    )
    return phases


def generate(config: TraceConfig | None = None) -> Trace:
    """The day for ``config`` (a pure function of it)."""
    config = config or TraceConfig()
    rng = random.Random(config.seed)
    clouds = _clouds(config, rng)
    house = _house(config, rng)
    step = config.step_s
    n = DAY_S // step
    solar: list[int] = []
    for i in range(n):
        t = (i + 0.5) * step
        watts = clear_sky_w(config, t) * _cloud_factor(clouds, t)
        watts *= 1 + 0.01 * rng.gauss(0, 1) if watts > 0 else 0
        solar.append(max(0, round(watts)))
    house_w = (
        [round(w) for w in house[0]],
        [round(w) for w in house[1]],
        [round(w) for w in house[2]],
    )
    return Trace(config=config, solar_w=solar, house_w=house_w)


# -- file format -------------------------------------------------------------------

_HEADER = "t_s,solar_w,house_l1_w,house_l2_w,house_l3_w"


def to_csv(trace: Trace) -> str:
    """The trace as CSV: one comment line with the settings, a header, whole watts."""
    c = trace.config
    lines = [
        f"# ocpp_hub replay trace: start={trace.start_iso()} step_s={c.step_s} seed={c.seed} "
        f"peak_kw={c.peak_kw} lat={c.latitude} lon={c.longitude}",
        _HEADER,
    ]
    l1, l2, l3 = trace.house_w
    for i in range(trace.steps):
        lines.append(f"{i * c.step_s},{trace.solar_w[i]},{l1[i]},{l2[i]},{l3[i]}")
    return "\n".join(lines) + "\n"


def from_csv(text: str) -> Trace:
    """Read a trace written by :func:`to_csv`."""
    rows = text.splitlines()
    meta = dict(part.split("=", 1) for part in rows[0].removeprefix("#").split() if "=" in part)
    if rows[1] != _HEADER:
        raise ValueError(f"not a replay trace: {rows[1]!r}")
    start = meta["start"]
    config = TraceConfig(
        seed=int(meta["seed"]),
        date=start[:10],
        utc_offset_h=int(start[-6:-3]),
        step_s=int(meta["step_s"]),
        peak_kw=float(meta["peak_kw"]),
        latitude=float(meta["lat"]),
        longitude=float(meta["lon"]),
    )
    trace = Trace(config=config, house_w=([], [], []))
    for row in rows[2:]:
        _t, solar, a, b, c = (int(v) for v in row.split(","))
        trace.solar_w.append(solar)
        trace.house_w[0].append(a)
        trace.house_w[1].append(b)
        trace.house_w[2].append(c)
    return trace


def load(path: Path = DEFAULT_TRACE) -> Trace:
    """Read a committed trace."""
    return from_csv(path.read_text(encoding="ascii"))


def main(argv: list[str] | None = None) -> int:
    """Write (or check) the committed trace."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output", type=Path, default=DEFAULT_TRACE)
    parser.add_argument(
        "--check", action="store_true", help="compare with the file instead of writing it"
    )
    args = parser.parse_args(argv)
    trace = generate(TraceConfig(seed=args.seed))
    text = to_csv(trace)
    if args.check:
        same = args.output.read_text(encoding="ascii") == text
        print(f"{args.output}: {'identical' if same else 'DIFFERS'}")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="ascii")
    energy = trace.energy_kwh()
    print(
        f"wrote {args.output} ({len(text.encode()) / 1024:.0f} KB): "
        + ", ".join(f"{k} {v:.1f} kWh" for k, v in energy.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
