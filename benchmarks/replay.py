"""Replay a day of solar and house load against a real Home Assistant, in virtual time.

Each control mode runs in its own process: a real Home Assistant core with OCPP
Hub (``harness.py``) on a virtual-clock event loop (``vclock.py``) and, on the
same loop over loopback websockets, a simulated charger (``chargersim``, three
phases, 16 A, 11 kW) whose car is plugged in all day with a transaction
running (the simulator's ``charging`` scenario). Every 10 s of the trace
(``trace.py``, ``traces/day-2026-06-21.csv``) the replay sets

* ``sensor.grid_power`` (W, import positive) = house load - solar + the car's
  power as the simulator's car draws it, and
* ``sensor.grid_current_l1..l3`` (A): the current per phase at the grid
  connection (house + car - solar / 3, as a magnitude, as meters show it).

Modes: ``baseline`` (no control: the charger's own 16 A all day), ``blueprint``
(the repository's solar surplus blueprint as a real automation on OCPP Hub's
"Current limit" number) and the integration's energy-manager modes ``fast``,
``solar``, ``min_solar`` once they exist (see :func:`configure_energy_manager`;
until then they are reported as not available).

    .venv/bin/python benchmarks/replay.py                       # baseline and blueprint
    .venv/bin/python benchmarks/replay.py --modes blueprint --hours 2   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
import datetime as dt
import json
import logging
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time
import trace as day_trace
from typing import Any

import harness
import vclock

from chargersim import ChargerBehaviour, SimulatedCharger
from chargersim.charger import default_configuration
from chargersim.scenario import ScenarioConfig, run_scenario

assert hasattr(day_trace, "generate"), "benchmarks/trace.py must shadow the stdlib trace"

_LOGGER = logging.getLogger("replay")

RESULTS = Path(__file__).resolve().parent / "results"
BLUEPRINT = harness.REPO_ROOT / "blueprints" / "automation" / "ocpp_hub" / "solar_surplus.yaml"

GRID_POWER = "sensor.grid_power"
GRID_CURRENTS = ("sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3")

CONTROL_MODES = ("baseline", "blueprint")
#: The integration's energy-manager modes (the "Charge mode" select's options).
ENERGY_MANAGER_MODES = ("fast", "solar", "min_solar")
ALL_MODES = CONTROL_MODES + ENERGY_MANAGER_MODES
DEFAULT_MODES = ("baseline", "blueprint", *ENERGY_MANAGER_MODES)


@dataclass(slots=True)
class Site:
    """The house's connection and the chargers on it."""

    voltage: float = 230.0
    phases: int = 3
    #: Main fuse, A per phase (0 = none).
    site_limit_a: float = 25.0
    #: The charger's own ceiling (chargingALimitConn1) and phases.
    charger_limit_a: float = 16.0
    charger_phases: int = 3
    #: Amps kept free below the fuse for load steps (site option ``site_reserve``).
    site_reserve_a: float = 1.0
    #: Energy manager's reaction speed (site option ``reaction``).
    reaction: str = "balanced"
    #: The charger switches between 1 and 3 phases (ConnectorSwitch3to1PhaseSupported).
    phase_switching: bool = False


class ModeUnavailableError(RuntimeError):
    """The integration on this branch does not offer the mode (yet)."""


@dataclass
class Rig:
    """One running replay: Home Assistant, the chargers, what was measured."""

    under_test: harness.HassUnderTest
    chargers: list[SimulatedCharger]
    site: Site
    config_dir: Path

    @property
    def hass(self) -> Any:
        """Home Assistant."""
        return self.under_test.hass

    def entity_id(self, domain: str, key: str, index: int = 0) -> str | None:
        """The entity of charger ``index`` with description key ``key``, if it exists."""
        from homeassistant.helpers import entity_registry as er

        unique_id = f"{self.under_test.entry.entry_id}_{harness.charger_identity(index)}_{key}"
        return er.async_get(self.hass).async_get_entity_id(domain, harness.DOMAIN, unique_id)

    def site_options(self) -> dict[str, Any]:
        """The central system's site settings for the energy manager (entry options)."""
        return {
            "grid_power_entity": GRID_POWER,
            "grid_export_positive": False,
            "supply_phases": self.site.phases,
            "supply_voltage": self.site.voltage,
            "reaction": self.site.reaction,
            "site_limit": self.site.site_limit_a,
            "site_reserve": self.site.site_reserve_a,
            "house_current_entities": list(GRID_CURRENTS),
        }


# -- the seams -----------------------------------------------------------------------


async def configure_energy_manager(rig: Rig, mode: str) -> None:
    """Seam for the integration's energy manager: site options, then the charge mode.

    Writes :meth:`Rig.site_options` into the central system's entry options and
    selects ``mode`` on every charger's "Charge mode" select (description key
    ``charge_mode``; a "Charging priority" number ``charging_priority`` is set to
    the charger's index + 1 where it exists). If the option keys, the keys of
    the entities or the need to reload differ in the integration that lands,
    this is the one function to adjust. Raises :class:`ModeUnavailableError`
    while the integration has no charge mode select.
    """
    hass = rig.hass
    selects = [rig.entity_id("select", "charge_mode", i) for i in range(len(rig.chargers))]
    if None in selects:
        raise ModeUnavailableError("OCPP Hub has no 'Charge mode' select on this branch")
    entry = rig.under_test.entry
    hass.config_entries.async_update_entry(entry, options={**entry.options, **rig.site_options()})
    await hass.async_block_till_done()
    for index, select in enumerate(selects):
        priority = rig.entity_id("number", "charging_priority", index)
        if priority is not None:
            await hass.services.async_call(
                "number", "set_value", {"entity_id": priority, "value": index + 1}, blocking=True
            )
        await hass.services.async_call(
            "select", "select_option", {"entity_id": select, "option": mode}, blocking=True
        )
    await hass.async_block_till_done()


def car_power_w(charger: SimulatedCharger, connector_id: int = 1) -> float:
    """The power (W) the simulator's car draws now (its ramp included)."""
    return float(charger.car(connector_id).power_w)


def car_phases(charger: SimulatedCharger, connector_id: int = 1) -> int:
    """On how many phases (L1.., in order) the car draws now."""
    return int(charger.car(connector_id).phases_in_use)


# -- the modes that need no seam -------------------------------------------------------


async def configure_blueprint(rig: Rig) -> None:
    """The solar surplus blueprint as a real automation on OCPP Hub's "Current limit"."""
    from homeassistant.setup import async_setup_component

    hass = rig.hass
    target = rig.config_dir / "blueprints" / "automation" / "ocpp_hub"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    automations = []
    for index in range(len(rig.chargers)):
        limit = rig.entity_id("number", "current_limit", index)
        charging = rig.entity_id("binary_sensor", "charging", index)
        assert limit is not None, "no current limit number"
        inputs: dict[str, Any] = {
            "grid_power": GRID_POWER,
            "current_limit": limit,
            "phases": str(rig.site.charger_phases),
            "max_current": int(rig.site.charger_limit_a),
        }
        if charging is not None:
            inputs["charging"] = charging
        automations.append(
            {
                "alias": f"Solar surplus {index}",
                "use_blueprint": {"path": f"ocpp_hub/{BLUEPRINT.name}", "input": inputs},
            }
        )
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()
    for index in range(len(rig.chargers)):
        state = hass.states.get(f"automation.solar_surplus_{index}")
        assert state is not None, "the blueprint automation did not load"
        assert state.state == "on", state


async def configure_mode(rig: Rig, mode: str) -> None:
    """Put the control ``mode`` in place before the day starts."""
    if mode == "baseline":
        return
    if mode == "blueprint":
        await configure_blueprint(rig)
        return
    if mode in ENERGY_MANAGER_MODES:
        await configure_energy_manager(rig, mode)
        return
    raise ValueError(f"unknown mode {mode!r}")


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Metrics:
    """Integrated over the replayed steps."""

    step_s: float
    site_limit_a: float
    car_wh: float = 0.0
    car_from_surplus_wh: float = 0.0
    import_wh: float = 0.0
    import_house_alone_wh: float = 0.0
    export_wh: float = 0.0
    plugged_s: float = 0.0
    above_limit_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    above_limit_any_s: float = 0.0
    #: Separate times above the site limit, and the longest of them (s).
    above_limit_events: int = 0
    above_limit_longest_s: float = 0.0
    #: Seconds above the limit while the cars' current on an overloaded phase rose:
    #: what the controller itself caused (the rest is the reaction to a house step).
    above_limit_rising_s: float = 0.0
    _above_run_s: float = 0.0
    _car_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_phase_a: float = 0.0

    def add(
        self,
        solar: float,
        house: list[float],
        car: float,
        phase_a: list[float],
        seconds: float | None = None,
        *,
        car_a: list[float] | None = None,
    ) -> None:
        """``seconds`` (default: a step) of solar (W), house (W per phase), the cars (W),
        grid current per phase (A), the cars' current per phase (A)."""
        seconds = self.step_s if seconds is None else seconds
        hours = seconds / 3600
        house_total = sum(house)
        surplus = max(0.0, solar - house_total)
        grid = house_total - solar + car
        self.car_wh += car * hours
        self.car_from_surplus_wh += min(car, surplus) * hours
        self.import_wh += max(0.0, grid) * hours
        self.export_wh += max(0.0, -grid) * hours
        self.import_house_alone_wh += max(0.0, house_total - solar) * hours
        self.plugged_s += seconds
        over = rising = False
        car_a = car_a or [0.0, 0.0, 0.0]
        for phase, amps in enumerate(phase_a):
            self.max_phase_a = max(self.max_phase_a, amps)
            if self.site_limit_a and amps > self.site_limit_a:
                self.above_limit_s[phase] += seconds
                over = True
                rising = rising or car_a[phase] > self._car_a[phase] + 0.05
        self._car_a = list(car_a)
        if rising:
            self.above_limit_rising_s += seconds
        if over:
            self.above_limit_any_s += seconds
            if not self._above_run_s:
                self.above_limit_events += 1
            self._above_run_s += seconds
            self.above_limit_longest_s = max(self.above_limit_longest_s, self._above_run_s)
        else:
            self._above_run_s = 0.0


def phase_currents(site: Site, solar: float, house: list[float], car_a: list[float]) -> list[float]:
    """The magnitude of the current per phase at the grid connection (A)."""
    v = site.voltage
    return [abs(house[p] / v - solar / (3 * v) + car_a[p]) for p in range(3)]


def car_currents(chargers: list[SimulatedCharger], voltage: float) -> tuple[float, list[float]]:
    """All cars together: power (W) and current per phase (A)."""
    total = 0.0
    amps = [0.0, 0.0, 0.0]
    for charger in chargers:
        watts = car_power_w(charger)
        phases = car_phases(charger)
        total += watts
        for p in range(phases):
            amps[p] += watts / (voltage * phases)
    return total, amps


# -- one run -------------------------------------------------------------------------------


async def _start_chargers(
    rig_hass: harness.HassUnderTest, site: Site, n: int
) -> tuple[list[SimulatedCharger], list[asyncio.Task[Any]]]:
    chargers: list[SimulatedCharger] = []
    tasks: list[asyncio.Task[Any]] = []
    hub = rig_hass.hub
    for index in range(n):
        # The car's owner's card is on the charger's list (the hub keeps authorization on).
        registered = hub.chargers[harness.charger_identity(index)]
        hub.add_card(registered, ScenarioConfig().id_tag, "Replay car")
        config = default_configuration()
        config["chargingALimitConn1"] = (str(int(site.charger_limit_a)), False)
        config["HeartbeatInterval"] = ("300", False)
        charger = SimulatedCharger(
            rig_hass.ocpp_url,
            harness.charger_identity(index),
            serial=f"SIM-REPLAY-{index}",
            phases=site.charger_phases,
            behaviour=ChargerBehaviour(configuration=config, phase_switching=site.phase_switching),
        )
        chargers.append(charger)
        tasks.append(asyncio.create_task(charger.run_forever()))
        tasks.append(
            asyncio.create_task(
                run_scenario(charger, ScenarioConfig(name="charging", meter_interval=5.0))
            )
        )
    return chargers, tasks


async def _wait(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - state of the simulator and of HA
            await asyncio.sleep(0.5)
    _LOGGER.debug("ready: %s", what)


async def run_one(
    mode: str, trace_path: Path, site: Site, chargers_n: int, hours: float
) -> dict[str, Any]:
    """Replay the trace (or its first ``hours``) with one control mode."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, vclock.VirtualClockLoop)
    wall_began = time.perf_counter()
    cpu_began = time.process_time()
    day = day_trace.load(trace_path)
    day_start = dt.datetime.fromisoformat(day.start_iso()).timestamp()
    config_dir = Path(tempfile.mkdtemp(prefix="ocpp_hub_replay_"))
    under_test = await harness.start_hass(config_dir, chargers_n)
    hass = under_test.hass
    await hass.config.async_set_time_zone("Europe/Berlin")
    tasks: list[asyncio.Task[Any]] = []
    chargers: list[SimulatedCharger] = []
    try:
        chargers, tasks = await _start_chargers(under_test, site, chargers_n)
        rig = Rig(under_test, chargers, site, config_dir)

        def publish(i: int) -> None:
            solar = day.solar_w[i]
            house = [day.house_w[p][i] for p in range(3)]
            car, car_a = car_currents(chargers, site.voltage)
            hass.states.async_set(
                GRID_POWER,
                str(round(sum(house) - solar + car)),
                {"device_class": "power", "unit_of_measurement": "W", "state_class": "measurement"},
            )
            for entity_id, amps in zip(
                GRID_CURRENTS, phase_currents(site, solar, house, car_a), strict=True
            ):
                hass.states.async_set(
                    entity_id,
                    f"{amps:.2f}",
                    {
                        "device_class": "current",
                        "unit_of_measurement": "A",
                        "state_class": "measurement",
                    },
                )

        publish(0)
        await _wait(
            lambda: all(c.connectors[1].transaction_id is not None for c in chargers),
            "transactions running",
        )
        await _wait(
            lambda: all(
                (eid := rig.entity_id("number", "current_limit", i)) is not None
                and (state := hass.states.get(eid)) is not None
                and state.state != "unavailable"
                for i in range(chargers_n)
            ),
            "current limit numbers",
        )
        try:
            await configure_mode(rig, mode)
        except ModeUnavailableError as err:
            return {"mode": mode, "available": False, "reason": str(err)}
        if loop.wall_timestamp() >= day_start:
            raise RuntimeError("setup took past the start of the day; start the clock earlier")
        # Warm-up until midnight: the first sample holds, the car is plugged in.
        while loop.wall_timestamp() < day_start - day.step_s:
            publish(0)
            await asyncio.sleep(min(day.step_s, day_start - day.step_s - loop.wall_timestamp()))
        await asyncio.sleep(max(0.0, day_start - loop.wall_timestamp()))

        steps = min(day.steps, round(hours * 3600 / day.step_s))
        metrics = Metrics(step_s=day.step_s, site_limit_a=site.site_limit_a)
        calls_before = [len(c.received) for c in chargers]
        energy_before = [c.connectors[1].energy_wh for c in chargers]
        replay_wall = time.perf_counter()
        replay_cpu = time.process_time()
        jumps_before = loop.jumps
        for i in range(steps):
            publish(i)
            solar, house = day.solar_w[i], [day.house_w[p][i] for p in range(3)]
            # The cars are measured every second of the step: a load step is counted
            # from its first second, and the controller's reaction (and the car's
            # ramp) as long as it really takes.
            for second in range(int(day.step_s)):
                car, car_a = car_currents(chargers, site.voltage)
                amps = phase_currents(site, solar, house, car_a)
                metrics.add(solar, house, car, amps, 1.0, car_a=car_a)
                await asyncio.sleep(
                    max(0.0, day_start + i * day.step_s + second + 1 - loop.wall_timestamp())
                )
        replay_wall = time.perf_counter() - replay_wall
        replay_cpu = time.process_time() - replay_cpu

        profiles = sum(
            sum(1 for action, _ in c.received[before:] if action == "SetChargingProfile")
            for c, before in zip(chargers, calls_before, strict=True)
        )
        register_kwh = (
            sum(
                c.connectors[1].energy_wh - before
                for c, before in zip(chargers, energy_before, strict=True)
            )
            / 1000
        )
        hours_plugged = metrics.plugged_s / 3600
        return {
            "mode": mode,
            "available": True,
            "hours": steps * day.step_s / 3600,
            "energy_charged_kwh": round(metrics.car_wh / 1000, 2),
            "energy_register_kwh": round(register_kwh, 2),
            "share_from_surplus": round(metrics.car_from_surplus_wh / metrics.car_wh, 4)
            if metrics.car_wh
            else None,
            "import_caused_kwh": round(
                (metrics.import_wh - metrics.import_house_alone_wh) / 1000, 2
            ),
            "import_kwh": round(metrics.import_wh / 1000, 2),
            "import_house_alone_kwh": round(metrics.import_house_alone_wh / 1000, 2),
            "export_kwh": round(metrics.export_wh / 1000, 2),
            "set_charging_profile_calls": profiles,
            "limit_changes_per_hour": round(profiles / hours_plugged, 2) if hours_plugged else None,
            "above_site_limit_s": metrics.above_limit_any_s,
            "above_site_limit_per_phase_s": metrics.above_limit_s,
            "above_site_limit_events": metrics.above_limit_events,
            "above_site_limit_longest_s": metrics.above_limit_longest_s,
            "above_site_limit_while_cars_rose_s": metrics.above_limit_rising_s,
            "max_phase_current_a": round(metrics.max_phase_a, 1),
            "replay_wall_s": round(replay_wall, 1),
            "replay_cpu_s": round(replay_cpu, 1),
            "clock_jumps": loop.jumps - jumps_before,
            "total_wall_s": round(time.perf_counter() - wall_began, 1),
            "total_cpu_s": round(time.process_time() - cpu_began, 1),
        }
    finally:
        for charger in chargers:
            await charger.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await harness.stop_hass(under_test)
        shutil.rmtree(config_dir, ignore_errors=True)


def run_in_this_process(args: argparse.Namespace) -> dict[str, Any]:
    """One mode on a virtual clock that starts 10 minutes before the trace's day."""
    day = day_trace.load(args.trace)
    start = dt.datetime.fromisoformat(day.start_iso()) - dt.timedelta(minutes=10)
    loop = vclock.new_event_loop(start)
    vclock.install_wall_clock(loop)
    site = Site(
        site_limit_a=args.site_limit,
        site_reserve_a=args.reserve,
        reaction=args.reaction,
        phase_switching=args.phase_switching,
    )
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(run_one(args.one, args.trace, site, args.chargers, args.hours))


# -- several runs, the report -----------------------------------------------------------------


def _above_limit(result: dict[str, Any]) -> str:
    text = f"{result['above_site_limit_s']:.0f} s"
    if events := result.get("above_site_limit_events"):
        text += f" ({events}x, longest {result['above_site_limit_longest_s']:.0f} s"
        text += f", {result.get('above_site_limit_while_cars_rose_s', 0):.0f} s while rising)"
    return text


COLUMNS = (
    ("Mode", lambda r: r["mode"]),
    ("Energy charged", lambda r: f"{r['energy_charged_kwh']:.1f} kWh"),
    ("From surplus", lambda r: f"{100 * (r['share_from_surplus'] or 0):.0f} %"),
    ("Import caused", lambda r: f"{r['import_caused_kwh']:.1f} kWh"),
    ("Limit changes / h", lambda r: f"{r['limit_changes_per_hour']:.1f}"),
    ("Above site limit", _above_limit),
    ("Wall time", lambda r: f"{r['replay_wall_s']:.0f} s"),
)


def markdown(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (modes not available get one note)."""
    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |"]
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for result in results:
        if result.get("available"):
            lines.append("| " + " | ".join(cell(result) for _, cell in COLUMNS) + " |")
        else:
            note = result.get("reason", "failed")
            lines.append(f"| {result['mode']} | {note} |" + " |" * (len(COLUMNS) - 2))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run each mode in its own process, write the results JSON, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=",".join(DEFAULT_MODES), help="comma-separated")
    parser.add_argument("--trace", type=Path, default=day_trace.DEFAULT_TRACE)
    parser.add_argument("--hours", type=float, default=24.0, help="replay only the first hours")
    parser.add_argument("--site-limit", type=float, default=25.0, help="main fuse, A per phase")
    parser.add_argument(
        "--reserve", type=float, default=1.0, help="margin below the fuse, A per phase"
    )
    parser.add_argument("--chargers", type=int, default=1)
    parser.add_argument("--reaction", default="balanced", help="the energy manager's preset")
    parser.add_argument(
        "--phase-switching", action="store_true", help="chargers that switch 1/3 phases"
    )
    parser.add_argument("--output", type=Path, help="default: results/replay-<UTC date>.json")
    parser.add_argument("--one", choices=ALL_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    if args.one:
        result = run_in_this_process(args)
        args.result_file.write_text(json.dumps(result, indent=2), encoding="utf-8")
        return 0

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        if mode not in ALL_MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(ALL_MODES)}")
    results: list[dict[str, Any]] = []
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="ocpp_hub_replay_result_") as tmp:
            result_file = Path(tmp) / "result.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--one", mode,
                "--result-file", str(result_file),
                "--trace", str(args.trace),
                "--hours", str(args.hours),
                "--site-limit", str(args.site_limit),
                "--reserve", str(args.reserve),
                "--chargers", str(args.chargers),
                "--reaction", args.reaction,
            ]  # fmt: skip
            if args.phase_switching:
                command.append("--phase-switching")
            if args.verbose:
                command.append("--verbose")
            began = time.perf_counter()
            done = subprocess.run(command, check=False, timeout=3600)  # noqa: S603
            if done.returncode != 0 or not result_file.exists():
                result = {"mode": mode, "available": False, "reason": f"exit {done.returncode}"}
            else:
                result = json.loads(result_file.read_text(encoding="utf-8"))
            result["process_wall_s"] = round(time.perf_counter() - began, 1)
        print(f"{mode}: {json.dumps(result)}", flush=True)
        results.append(result)

    day = day_trace.load(args.trace)
    document = {
        "benchmark": "replay",
        "trace": str(args.trace.relative_to(harness.REPO_ROOT))
        if args.trace.is_relative_to(harness.REPO_ROOT)
        else str(args.trace),
        "trace_energy_kwh": {k: round(v, 2) for k, v in day.energy_kwh().items()},
        "site": asdict(
            Site(
                site_limit_a=args.site_limit,
                site_reserve_a=args.reserve,
                reaction=args.reaction,
                phase_switching=args.phase_switching,
            )
        ),
        "hours": args.hours,
        "chargers": args.chargers,
        "python": sys.version.split()[0],
        "home_assistant": _ha_version(),
        "cpus": os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    output = args.output or RESULTS / f"replay-{dt.datetime.now(dt.UTC).date()}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}\n")
    print(markdown(results))
    return 0


def _ha_version() -> str:
    from homeassistant.const import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
