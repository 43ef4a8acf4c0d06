"""The simulator's car: it follows the charger's limit with a ramp, and its phases.

The car model is checked on its own with chosen times (nothing sleeps); then a
real simulated charger shows it over websockets: to the central system in Home
Assistant (the integration's current limit makes the car ramp down and the
power sensor follows), and to a minimal central system written here, which
sends what the integration never does (``numberPhases``, GetCompositeSchedule).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
import itertools
import json
import math
from typing import Any
import uuid

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest
from websockets.asyncio.server import ServerConnection, serve

from chargersim import ChargerBehaviour, SimulatedCharger
from chargersim.__main__ import _run, build_parser, main
from chargersim.car import Car
from chargersim.scenario import Meter, ScenarioConfig, run_scenario

from .conftest import CARD_ALICE, CentralSystemUnderTest, free_port
from .helpers import state_of, wait_for, wait_for_state

VOLTS = 230.0


def charging_car(**settings: Any) -> Car:
    """A car without jitter, offered 16 A on 3 phases from t=0."""
    car = Car(jitter_a=0, **settings)
    car.offer(0, 16, 3)
    return car


# ------------------------------------------------------------------ the car model


def test_ramps_up_and_down_at_its_own_pace() -> None:
    """0 -> 16 A at 2 A/s, 16 -> 10 A at 4 A/s; the energy is the ramp's integral."""
    car = charging_car()
    assert car.current_at(4) == 8
    assert car.current_at(8) == 16
    car.advance(10)
    assert car.current_a == 16
    # 0..8 s: a ramp to 16 A (64 A s), then 2 s at 16 A (32 A s), on 3 phases.
    assert car.energy_wh == pytest.approx(96 * VOLTS * 3 / 3600)
    car.offer(10, 10, 3)
    assert car.current_at(11) == 12
    assert car.current_at(11.5) == 10
    assert car.current_at(30) == 10
    assert car.power_at(30) == 10 * VOLTS * 3


def test_instant_ramps() -> None:
    """An infinite ramp (``math.inf``) follows the offer at once."""
    car = Car(jitter_a=0, ramp_up_a_per_s=math.inf, ramp_down_a_per_s=math.inf)
    car.offer(0, 16, 1)
    assert car.current_at(0.001) == 16
    car.advance(10)
    car.offer(10, 8, 1)
    assert car.current_at(10.001) == 8
    car.advance(20)
    assert car.energy_wh == pytest.approx((160 + 80) * VOLTS / 3600)
    with pytest.raises(ValueError, match="positive"):
        Car(ramp_up_a_per_s=0)


def test_below_the_minimum_current_the_car_does_not_draw() -> None:
    """An offer under 6 A, or a car that takes under 6 A, means no current."""
    car = charging_car()
    car.advance(10)
    car.offer(10, 5, 3)
    assert car.current_at(12) == 8  # ramping down at 4 A/s
    assert car.current_at(14) == 0
    car.offer(20, 6, 3)
    assert car.current_at(30) == 6
    small = charging_car(max_current_a=5)
    assert small.current_at(30) == 0


def test_own_maximum_and_phases() -> None:
    """A 1-phase 16 A car on a 3-phase 32 A offer draws 16 A on one phase."""
    car = Car(jitter_a=0, max_current_a=16, phases=1)
    car.offer(0, 32, 3)
    car.advance(30)
    assert car.current_a == 16
    assert car.phases_in_use == 1
    assert car.power_w == 16 * VOLTS
    with pytest.raises(ValueError, match="1, 2 or 3 phases"):
        car.phases = 4


def test_a_full_car_stops_drawing() -> None:
    """The energy wanted is delivered exactly; then nothing until it wants more."""
    car = Car(jitter_a=0, ramp_up_a_per_s=math.inf, energy_wanted_kwh=0.1)
    car.offer(0, 10, 1)  # 2300 W: 0.1 kWh in about 156.5 s
    assert car.current_at(150) == 10
    assert car.current_at(160) == 0
    car.advance(200)
    assert car.full is True
    assert car.energy_wh == pytest.approx(100)
    assert car.energy_wanted_kwh == 0
    car.advance(300)
    assert car.energy_wh == pytest.approx(100)
    car.energy_wanted_kwh = 1  # no clock: from the last time given (300 s)
    assert car.full is False
    assert car.current_at(301) == 10
    car.advance(310)
    assert car.energy_wanted_kwh == pytest.approx(1 - 10 * 10 * VOLTS / 3.6e6)


def test_a_phase_switch_pauses_the_car() -> None:
    """3 -> 1 phase while charging: nothing for the pause, then a ramp from 0."""
    car = charging_car()
    car.advance(20)
    car.offer(20, 16, 1, switch_pause=5)
    assert car.phases_in_use == 1
    assert car.phase_switches == 1
    assert car.switching_at(24.9)
    assert car.current_at(24.9) == 0
    assert car.current_at(27) == 4
    assert car.power_at(27) == 4 * VOLTS
    # A car that draws nothing is not paused by a switch.
    idle = Car(jitter_a=0)
    idle.offer(0, 0, 3)
    idle.offer(1, 16, 1, switch_pause=5)
    assert idle.phase_switches == 0
    assert idle.current_at(3) == 4


def test_stop_cuts_the_current_at_once() -> None:
    """The charger stops supplying (transaction over): no ramp down."""
    car = charging_car()
    car.stop(10)
    assert car.current_at(10.1) == 0
    assert car.energy_wh == pytest.approx(96 * VOLTS * 3 / 3600)


def test_time_never_goes_back() -> None:
    """A time before the last one is ignored."""
    car = charging_car()
    car.advance(10)
    energy = car.energy_wh
    car.advance(5)
    assert car.energy_wh == energy
    assert car.current_at(5) == 16


def test_settings_apply_from_the_clock_time() -> None:
    """With a clock, a new maximum applies from the clock's time on."""
    now = [0.0]
    car = Car(jitter_a=0, clock=lambda: now[0])
    car.offer(0, 16, 3)
    now[0] = 10.0
    car.max_current_a = 8  # at 16 A until 10 s, then down at 4 A/s
    assert car.energy_wh == pytest.approx(96 * VOLTS * 3 / 3600)
    now[0] = 11.0
    assert car.current_a == 12
    assert car.power_w == 12 * VOLTS * 3


def test_jitter_is_seeded_and_can_be_off() -> None:
    """The same seed draws the same shortfall below the offer; jitter 0 draws none."""

    def drawn(car: Car) -> list[float]:
        currents = []
        for t, amps in zip(itertools.count(0, 100), (16, 10, 20), strict=False):
            car.offer(t, amps, 3)
            currents.append(car.current_at(t + 50))
        return currents

    first, second = drawn(Car(seed=7)), drawn(Car(seed=7))
    assert first == second
    assert all(0 < a - c <= 0.4 for a, c in zip((16, 10, 20), first, strict=True))
    assert drawn(Car(seed=7, jitter_a=0)) == [16, 10, 20]


# ------------------------------------------------- a minimal central system


class RawCentralSystem:
    """Answers what a charger sends with valid minimal payloads; sends what a test says."""

    def __init__(self) -> None:
        self.ws: ServerConnection | None = None
        self.connected = asyncio.Event()
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}

    async def handler(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.connected.set()
        async for raw in ws:
            frame = json.loads(raw)
            if frame[0] == 2:
                self.received.append((frame[2], frame[3]))
                await ws.send(json.dumps([3, frame[1], self._answer(frame[2])]))
            elif (future := self._pending.pop(frame[1], None)) is not None:
                future.set_result(frame)

    @staticmethod
    def _answer(action: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        accepted = {"status": "Accepted"}
        return {
            "BootNotification": {"currentTime": now, "interval": 300, **accepted},
            "Heartbeat": {"currentTime": now},
            "Authorize": {"idTagInfo": accepted},
            "StartTransaction": {"transactionId": 1, "idTagInfo": accepted},
        }.get(action, {})

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a call; return the CALLRESULT payload."""
        assert self.ws is not None
        unique_id = uuid.uuid4().hex
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        frame = await asyncio.wait_for(future, 5)
        assert frame[0] == 3, frame
        result: dict[str, Any] = frame[2]
        return result

    def sent(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the charger's calls ``action``, oldest first."""
        return [p for a, p in self.received if a == action]

    def statuses(self) -> list[str]:
        return [p["status"] for p in self.sent("StatusNotification")]


@pytest.fixture
async def raw_csms() -> AsyncIterator[tuple[RawCentralSystem, str]]:
    """A minimal central system on 127.0.0.1 and its URL."""
    csms = RawCentralSystem()
    port = free_port()
    async with serve(csms.handler, "127.0.0.1", port, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        yield csms, f"ws://127.0.0.1:{port}/"


async def charging_charger(
    url: str, *, phase_switching: bool = False, phases: int = 3
) -> SimulatedCharger:
    """A booted 3-phase charger with a transaction, Charging."""
    charger = SimulatedCharger(
        url,
        "sim1",
        phases=phases,
        behaviour=ChargerBehaviour(phase_switching=phase_switching, phase_switch_pause=5),
    )
    await charger.connect()
    await charger.boot()
    await charger.start_transaction(1, "0A1B2C3D", 0)
    await charger.status(1, "Charging")
    return charger


def tx_default_profile(limit: float, number_phases: int | None = None) -> dict[str, Any]:
    """SetChargingProfile.req: a TxDefaultProfile in amps on the whole charge point."""
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit}
    if number_phases is not None:
        period["numberPhases"] = number_phases
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]},
        },
    }


def phase_currents(meter_values: dict[str, Any]) -> dict[str, float]:
    """Current.Import per phase of a MeterValues.req."""
    return {
        s["phase"]: float(s["value"])
        for s in meter_values["meterValue"][0]["sampledValue"]
        if s["measurand"] == "Current.Import"
    }


# ------------------------------------------------------- phase switching


async def test_phase_switching_follows_number_phases(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """A charger that can switch: numberPhases 1 pauses the car, then it charges on L1."""
    csms, url = raw_csms
    charger = await charging_charger(url, phase_switching=True)
    answer = await csms.call("GetConfiguration", {"key": ["ConnectorSwitch3to1PhaseSupported"]})
    assert answer["configurationKey"] == [
        {"key": "ConnectorSwitch3to1PhaseSupported", "readonly": True, "value": "true"}
    ]
    meter = Meter(charger, ScenarioConfig(jitter=False))
    connector, car = charger.connectors[1], charger.car(1)
    t0 = asyncio.get_running_loop().time()
    assert await csms.call("SetChargingProfile", tx_default_profile(16, 3)) == {
        "status": "Accepted"
    }
    await meter.follow(connector, t0)
    await meter.sample(connector, t0 + 10)
    assert phase_currents(csms.sent("MeterValues")[-1]) == {"L1": 16, "L2": 16, "L3": 16}

    await csms.call("SetChargingProfile", tx_default_profile(16, 1))
    await meter.follow(connector, t0 + 11)  # the charger switches: nothing until t0 + 16
    assert car.phases_in_use == 1
    assert car.phase_switches == 1
    await meter.sample(connector, t0 + 15)
    assert phase_currents(csms.sent("MeterValues")[-1]) == {"L1": 0, "L2": 0, "L3": 0}
    await meter.sample(connector, t0 + 18)  # ramping up from 0 at 2 A/s since t0 + 16
    assert phase_currents(csms.sent("MeterValues")[-1]) == {"L1": 4, "L2": 0, "L3": 0}
    assert car.power_w == 4 * VOLTS

    schedule = await csms.call(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}
    )
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16, "numberPhases": 1}
    ]
    assert charger.call_counts["SetChargingProfile"] == 2
    await charger.close()


async def test_without_phase_switching_number_phases_is_ignored(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """A Wallbox cannot switch: it stays on its three phases, the car keeps charging."""
    csms, url = raw_csms
    charger = await charging_charger(url)
    answer = await csms.call("GetConfiguration", {"key": ["ConnectorSwitch3to1PhaseSupported"]})
    assert answer["configurationKey"][0]["value"] == "false"
    meter = Meter(charger, ScenarioConfig(jitter=False))
    connector, car = charger.connectors[1], charger.car(1)
    t0 = asyncio.get_running_loop().time()
    await csms.call("SetChargingProfile", tx_default_profile(16, 1))
    await meter.follow(connector, t0)
    await meter.sample(connector, t0 + 10)
    assert phase_currents(csms.sent("MeterValues")[-1]) == {"L1": 16, "L2": 16, "L3": 16}
    assert car.phases_in_use == 3
    assert car.phase_switches == 0
    # The composite schedule still says what the profile asked for.
    schedule = await csms.call("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"] == 1
    await charger.close()


async def test_car_phases_cap_what_the_charger_offers(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """A single-phase car on a 3-phase charger: current on L1 only, power for one phase."""
    csms, url = raw_csms
    charger = await charging_charger(url)
    charger.car(1).phases = 1
    charger.car(1).max_current_a = 13
    meter = Meter(charger, ScenarioConfig(jitter=False))
    t0 = asyncio.get_running_loop().time()
    await meter.follow(charger.connectors[1], t0)
    await meter.sample(charger.connectors[1], t0 + 30)
    reported = csms.sent("MeterValues")[-1]
    assert phase_currents(reported) == {"L1": 13, "L2": 0, "L3": 0}
    power = [
        s
        for s in reported["meterValue"][0]["sampledValue"]
        if s["measurand"] == "Power.Active.Import"
    ]
    assert float(power[0]["value"]) == 13 * VOLTS
    await charger.close()


# ------------------------------------------------- statuses and energy


async def test_statuses_follow_the_offer_and_a_full_car(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """SuspendedEVSE below 6 A offered, Charging from 6 A, SuspendedEV when the car is full."""
    csms, url = raw_csms
    charger = await charging_charger(url)
    car = charger.car(1)
    car.energy_wanted_kwh = 0.2
    meter = Meter(charger, ScenarioConfig(jitter=False))
    connector = charger.connectors[1]
    t0 = asyncio.get_running_loop().time()
    await meter.follow(connector, t0)
    await csms.call("SetChargingProfile", tx_default_profile(0))
    await meter.follow(connector, t0 + 1)
    assert connector.status == "SuspendedEVSE"
    await csms.call("SetChargingProfile", tx_default_profile(10))
    await meter.follow(connector, t0 + 2)
    assert connector.status == "Charging"
    await meter.sample(connector, t0 + 600)  # 0.2 kWh at about 6.9 kW: full after ~110 s
    assert connector.status == "SuspendedEV"
    assert car.full
    assert connector.energy_wh == 200
    assert car.current_a == 0
    car.energy_wanted_kwh = 1  # wants more: charging again
    await meter.follow(connector, t0 + 601)
    assert connector.status == "Charging"
    assert csms.statuses()[-4:] == ["SuspendedEVSE", "Charging", "SuspendedEV", "Charging"]
    await charger.close()


async def test_energy_register_integrates_the_ramp(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """Samples far apart: the register holds what the car drew while ramping, not samples.

    The MeterValues timestamps follow the loop time through ``ScenarioConfig.timestamp``.
    """
    csms, url = raw_csms
    charger = await charging_charger(url, phases=1)
    charger.connectors[1].energy_wh = 1000
    t0 = asyncio.get_running_loop().time()
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    config = ScenarioConfig(jitter=False, timestamp=lambda t: origin + timedelta(seconds=t - t0))
    meter = Meter(charger, config)
    connector = charger.connectors[1]
    await csms.call("SetChargingProfile", tx_default_profile(0))
    await meter.sample(connector, t0)
    await csms.call("SetChargingProfile", tx_default_profile(32))
    await meter.follow(connector, t0 + 1)
    # 0 -> 32 A in 16 s (256 A s), then 44 s at 32 A (1408 A s), on one phase.
    await meter.sample(connector, t0 + 61)
    expected = 1000 + (256 + 1408) * VOLTS / 3600
    assert connector.energy_wh == round(expected)
    assert charger.car(1).energy_wh == pytest.approx(expected - 1000)
    assert csms.sent("MeterValues")[-1]["meterValue"][0]["timestamp"] == "2026-01-01T00:01:01.000Z"
    await charger.close()


async def test_the_scenario_runs_the_car_on_the_loop_clock(
    raw_csms: tuple[RawCentralSystem, str],
) -> None:
    """run_scenario: the car is plugged in, follows the offer, MeterValues show it."""
    csms, url = raw_csms
    charger = SimulatedCharger(url, "sim1", phases=3)
    car = charger.car(1)
    car.ramp_up_a_per_s = math.inf
    car.max_current_a = 10
    config = ScenarioConfig(
        name="charging", plug_delay=0, meter_interval=0.05, car_step=0.01, jitter=False
    )
    async with asyncio.TaskGroup() as group:
        running = group.create_task(charger.run_forever())
        scenario = group.create_task(run_scenario(charger, config))

        def charged() -> bool:
            return any(phase_currents(m).get("L1") == 10 for m in csms.sent("MeterValues"))

        await wait_for(charged)
        scenario.cancel()
        running.cancel()
    assert charger.connectors[1].status == "Charging"
    assert car.power_w == 10 * VOLTS * 3
    await charger.close()


# ----------------------------------------- end to end with the integration


async def test_integration_limit_makes_the_car_ramp_down(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The Current limit entity sends a profile; the car ramps down; HA's power follows."""
    charger = SimulatedCharger(central_system.url, "wb1", phases=3)
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
    await charger.start_transaction(1, "04A1B2C3", 0)
    await charger.status(1, "Charging")
    car = charger.car(1)
    car.max_current_a = 16
    meter = Meter(charger, ScenarioConfig(jitter=False))
    connector = charger.connectors[1]
    t0 = asyncio.get_running_loop().time()
    await meter.sample(connector, t0)
    await meter.sample(connector, t0 + 10)  # ramped up to 16 A on 3 phases
    assert state_of(hass, "sensor.garage_charging_power") == str(16 * VOLTS * 3)

    profiles = charger.call_counts["SetChargingProfile"]
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_current_limit", "value": 10},
        blocking=True,
    )
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert charger.call_counts["SetChargingProfile"] == profiles + 1
    await meter.follow(connector, t0 + 10)  # the car sees the new limit
    await meter.sample(connector, t0 + 11)  # 4 A/s down: 12 A
    assert state_of(hass, "sensor.garage_charging_power") == str(12 * VOLTS * 3)
    assert car.current_a == 12
    await meter.sample(connector, t0 + 20)
    assert state_of(hass, "sensor.garage_charging_power") == str(10 * VOLTS * 3)
    assert state_of(hass, "sensor.garage_offered_current") == "10.0"
    # 96 A s up to t0 + 10; 14 + 5.5 A s ramping down; 8.5 s at 10 A.
    expected_wh = (96 + 14 + 5.5 + 85) * VOLTS * 3 / 3600
    assert connector.energy_wh == round(expected_wh)
    await charger.close()


# ------------------------------------------------------------------ command line


def test_command_line_options() -> None:
    """The car and phase switching options; defaults as before except the ramp."""
    args = build_parser().parse_args(["--url", "ws://127.0.0.1:9/", "--identity", "wb1"])
    assert (args.phases, args.phase_switching, args.car_phases) == (1, False, 3)
    assert (args.car_max_current, args.car_ramp_up, args.car_ramp_down) == (32, 2, 4)
    args = build_parser().parse_args(
        ["--url", "ws://h/", "--identity", "wb1", "--phase-switching", "--car-phases", "1",
         "--car-max-current", "16", "--car-ramp-up", "inf", "--seed", "3", "--no-jitter"]
    )  # fmt: skip
    assert args.phase_switching
    assert (args.car_phases, args.car_max_current, args.car_ramp_up) == (1, 16, math.inf)
    assert (args.seed, args.no_jitter) == (3, True)
    with pytest.raises(SystemExit):
        main(["--url", "ws://h/", "--identity", "wb1", "--car-ramp-down", "0"])


async def test_command_line_201_station_charges(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """``--ocpp 2.0.1``: the 2.0.1 station boots, plugs in, charges with power shown, stops."""
    args = build_parser().parse_args(
        ["--url", central_system.url, "--identity", "wb1", "--ocpp", "2.0.1",
         "--meter-interval", "0.2", "--idle-time", "0.2", "--charge-time", "2",
         "--id-tag", CARD_ALICE, "--no-jitter", "--car-ramp-up", "inf"]
    )  # fmt: skip
    run = asyncio.get_running_loop().create_task(_run(args))
    try:
        await wait_for_state(hass, "sensor.garage_status", "charging")
        handler = central_system.entry.runtime_data.server.handler("wb1")
        assert handler is not None
        assert handler.session.connection.subprotocol == "ocpp2.0.1"
        charger = central_system.entry.runtime_data.chargers["wb1"].charger
        assert charger.info is not None
        assert (charger.info.vendor, charger.info.model) == ("Alfen BV", "NG910-60023")
        await wait_for(
            lambda: state_of(hass, "sensor.garage_charging_power") not in ("unknown", "0.0", "0")
        )
        # The car is full, the user stops with the card, unplugs: the EVSE is free again.
        await wait_for_state(hass, "sensor.garage_status", "available", timeout=15)
    finally:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
