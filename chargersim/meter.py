"""The meter and the car of a simulated charger, as a scenario runs them.

`Meter` drives the car on each connector (`SimulatedCharger.car`, a
`chargersim.car.Car`) from what the charger offers (its current limit: hardware
ceiling and charging profiles), every ``car_step`` s: the car ramps towards the
offer, draws at most its own maximum on at most its own phases, and nothing
below 6 A. The charger suspends (SuspendedEVSE) below 6 A offered and resumes
(Charging) at 6 A or more; a car that wants no more energy goes SuspendedEV. A
charger with phase switching uses the ``numberPhases`` of the schedule period in
force. Any connector holding a transaction sends MeterValues every
``meter_interval`` s: energy register (what the car really drew, ramps
included), power, current per phase, voltage (single-phase models only) and the
offered current, as far as ``MeterValuesSampledData`` lists them. Measurement
noise comes from a seeded generator and can be turned off.

`attempt` sends once the charger is ready (a failure is logged, the run goes on);
`set_status` sends a connector's status that way. Both scenarios and meter use them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
import logging
import random
from typing import Any, Protocol

from ocpp.exceptions import OCPPError  # type: ignore[import-untyped, unused-ignore]
from websockets.exceptions import ConnectionClosed

from .car import MIN_CURRENT
from .connectors import ConnectorState
from .rpc import NotConnectedError
from .station import MeterReading
from .v16 import SimulatedCharger
from .v201 import SimulatedCharger as SimulatedCharger201

__all__ = ["Meter", "MeterSettings", "Station", "attempt", "set_status"]

#: A simulated charger of either OCPP version.
type Station = SimulatedCharger | SimulatedCharger201

_LOGGER = logging.getLogger("chargersim.scenario")

# Failures after which the run just carries on.
_TRANSIENT = (ConnectionClosed, NotConnectedError, TimeoutError, OCPPError)


class MeterSettings(Protocol):
    """What the meter takes of a scenario's configuration (`ScenarioConfig`)."""

    #: Seconds between two MeterValues of a transaction.
    meter_interval: float
    #: Seconds between two updates of the cars from the charger's offer.
    car_step: float
    #: Measurement noise and the cars' shortfall below the offer; False = exact.
    jitter: bool
    #: Seed of the noise and of the cars' shortfall (None: the charger's identity).
    seed: int | None
    #: The MeterValues timestamp for a loop time; None = the wall clock.
    timestamp: Callable[[float], datetime] | None


async def attempt(
    charger: Station,
    what: str,
    send: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any] | None:
    """Send once the charger is ready; None on failure."""
    await charger.wait_ready()
    try:
        return await send()
    except _TRANSIENT as exc:
        _LOGGER.warning("%s: %s failed: %s", charger.identity, what, exc or type(exc).__name__)
        return None


async def set_status(charger: Station, connector_id: int, status: str) -> None:
    await attempt(
        charger, f"StatusNotification {status}", lambda: charger.status(connector_id, status)
    )


class Meter:
    """Drives the cars and sends MeterValues for every active transaction.

    `run` does both on the loop's time; `follow` and `sample` take the time
    explicitly (a test can move time without waiting for it).
    """

    def __init__(self, charger: Station, config: MeterSettings) -> None:
        self.charger = charger
        self.interval = config.meter_interval
        self.step = config.car_step
        self.jitter = config.jitter
        self.timestamp = config.timestamp
        self.random = random.Random(config.seed if config.seed is not None else charger.identity)
        for cid, car in charger.cars.items():
            if config.seed is not None:
                car.random.seed(f"{config.seed}:{cid}")
            if not config.jitter:
                car.jitter_a = 0.0
        # Precise energy register per connector (the charger reports whole Wh).
        self.energy: dict[int, float] = {}
        # The car's energy counter when the register last took it in.
        self.car_energy: dict[int, float] = {}
        # Connectors this meter reported SuspendedEV because the car was full.
        self.full: set[int] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sample = loop.time() + self.interval
        while True:
            await asyncio.sleep(max(0.0, min(self.step, next_sample - loop.time())))
            now = loop.time()
            due = now >= next_sample
            if due:
                next_sample = now + self.interval
            for connector in list(self.charger.connectors.values()):
                if due:
                    await self.sample(connector, now)
                else:
                    await self.follow(connector, now)

    def measurands(self) -> set[str]:
        configured = self.charger.configuration_value("MeterValuesSampledData")
        if configured is None:
            return {"Energy.Active.Import.Register", "Power.Active.Import",
                    "Current.Import", "Voltage", "Current.Offered"}  # fmt: skip
        return {m.strip() for m in configured.split(",")}

    async def follow(self, connector: ConnectorState, now: float) -> float:
        """Bring the connector's car to ``now`` and its status up to date.

        Returns the offered current (A). The car draws while a transaction is
        Charging or SuspendedEVSE (or SuspendedEV because it was full);
        otherwise the charger supplies nothing.
        """
        charger = self.charger
        cid = connector.connector_id
        car = charger.car(cid)
        self.car_energy.setdefault(cid, car.energy_wh)
        offered = charger.current_limit(cid)
        status = connector.status
        supplied = connector.transaction_id is not None and (
            status in ("Charging", "SuspendedEVSE")
            or (status == "SuspendedEV" and cid in self.full)
        )
        if not supplied:
            self.full.discard(cid)
            car.stop(now)
            return offered
        car.offer(
            now,
            offered,
            charger.offered_phases(cid),
            voltage=charger.voltage,
            switch_pause=charger.behaviour.phase_switch_pause,
        )
        if car.full:
            wanted = "SuspendedEV"
        else:
            wanted = "SuspendedEVSE" if offered < MIN_CURRENT else "Charging"
        if wanted != status and charger.ready:
            if wanted == "SuspendedEV":
                self.full.add(cid)
            else:
                self.full.discard(cid)
            await set_status(charger, cid, wanted)
        return offered

    async def sample(self, connector: ConnectorState, now: float | None = None) -> None:
        """Follow the car to ``now`` (default: the loop's time) and send MeterValues."""
        charger = self.charger
        cid = connector.connector_id
        car = charger.car(cid)
        if now is None:
            now = asyncio.get_running_loop().time()
        offered = await self.follow(connector, now)
        # What the car drew since the last sample, ramps and pauses included.
        delivered = car.energy_wh - self.car_energy[cid]
        self.car_energy[cid] = car.energy_wh
        if connector.transaction_id is None:
            return
        if abs(self.energy.get(cid, -1e9) - connector.energy_wh) >= 1:
            self.energy[cid] = connector.energy_wh  # set from outside
        self.energy[cid] += delivered
        current = car.current_at(now)
        in_use = car.phases_in_use
        power = car.power_at(now)
        if not charger.ready or connector.transaction_id is None:
            connector.energy_wh = round(self.energy[cid])
            return
        wanted = self.measurands()
        currents = [
            round(max(0.0, current + self._noise(0.1)) if current and n < in_use else 0.0, 2)
            for n in range(charger.phases)
        ]
        reading = MeterReading(
            energy_wh=(
                round(self.energy[cid]) if "Energy.Active.Import.Register" in wanted else None
            ),
            power_w=round(power, 1) if "Power.Active.Import" in wanted else None,
            currents=currents if "Current.Import" in wanted else None,
            voltage=(
                round(charger.voltage + self._noise(2.0), 1)
                if "Voltage" in wanted and charger.phases == 1
                else None
            ),
            current_offered=round(offered, 1) if "Current.Offered" in wanted else None,
            timestamp=self.timestamp(now) if self.timestamp else None,
        )
        await attempt(charger, "MeterValues", lambda: charger.report_meter(cid, reading))
        # The register is what was last reported; keep it whole even if
        # the energy measurand is not sampled.
        connector.energy_wh = round(self.energy[cid])

    def _noise(self, amplitude: float) -> float:
        return self.random.uniform(-amplitude, amplitude) if self.jitter else 0.0
