"""The replay's driver: one control mode over the day, on a virtual clock.

:func:`run_in_this_process` builds the virtual-clock event loop (``vclock.py``)
starting 10 minutes before the trace's day; :func:`run_one` starts Home Assistant
(``harness.py``) and the simulated chargers on it, puts the mode in place
(``replay_modes.py``), publishes the grid sensors every step of the trace and
measures every second (``replay_metrics.py``), and returns the mode's result.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import datetime as dt
import logging
from pathlib import Path
import shutil
import tempfile
import time
import trace as day_trace
from typing import Any

import harness
from replay_metrics import Metrics, Site, car_currents, phase_currents
from replay_modes import GRID_CURRENTS, GRID_POWER, ModeUnavailableError, Rig, configure_mode
import vclock

from chargersim import ChargerBehaviour, SimulatedCharger
from chargersim.charger import default_configuration
from chargersim.scenario import ScenarioConfig, run_scenario

assert hasattr(day_trace, "generate"), "benchmarks/trace.py must shadow the stdlib trace"

_LOGGER = logging.getLogger("replay")


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
