"""Scripted life of a simulated charger: what the car and the user do with it.

`run_scenario` drives a `SimulatedCharger` that is kept connected by
`SimulatedCharger.run_forever` (which boots and announces the connectors).
Three scenarios, for the 1.6 charger and the 2.0.1 station alike (both
`chargersim.station.ChargingStation`s: a status, Authorize, a transaction
started, `report_meter`, `local_stop`; the 2.0.1 station says them in its
terms: Preparing is a StatusNotification Occupied, a transaction its
TransactionEvent Started / Updated / Ended):

- ``idle``: nothing is plugged in; the charger only sends heartbeats.
- ``charging``: a car is plugged in ``plug_delay`` s after the charger is
  ready (Preparing), the user presents the id tag (Authorize; skipped when
  ``AuthEnabled`` is false, as in free-vend mode), StartTransaction, Charging,
  and the car charges forever. After a reset the car is plugged in again.
- ``cycle`` (the CLI default): forever: idle ``idle_time`` s, plug in and
  charge ``charge_time`` s, the car is full (SuspendedEV), the user stops the
  session with the card (StopTransaction), Finishing, unplug, Available.

In every scenario, heartbeats follow ``HeartbeatInterval`` and any connector
holding a transaction (also one started by RemoteStartTransaction) sends
MeterValues every ``meter_interval`` s: energy register, power, current per
phase, voltage (single-phase models only) and the offered current, as far as
``MeterValuesSampledData`` lists them.

The car on the connector (`SimulatedCharger.car`, a `chargersim.car.Car`)
follows what the charger offers (its current limit: hardware ceiling and
charging profiles), updated every ``car_step`` s: it ramps towards the offer,
draws at most its own maximum on at most its own phases, and nothing below
6 A. The charger suspends (SuspendedEVSE) below 6 A offered and resumes
(Charging) at 6 A or more; a car that wants no more energy goes SuspendedEV.
A charger with phase switching (``ChargerBehaviour.phase_switching``) uses
the ``numberPhases`` of the schedule period in force. The energy register
integrates what the car really drew, ramps included. Randomness (the car's
shortfall, measurement noise) comes from seeded generators and can be turned
off (``ScenarioConfig.jitter``). Time is the event loop's time throughout.
When the connection is down the scenario pauses; energy keeps counting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
import logging
import random
from typing import Any

from ocpp.exceptions import OCPPError  # type: ignore[import-untyped, unused-ignore]
from websockets.exceptions import ConnectionClosed

from .car import MIN_CURRENT
from .connectors import ConnectorState
from .rpc import JSONDict, NotConnectedError
from .station import MeterReading
from .v16 import SimulatedCharger
from .v201 import SimulatedCharger as SimulatedCharger201

__all__ = ["SCENARIOS", "Meter", "ScenarioConfig", "Station", "run_scenario"]

#: A simulated charger of either OCPP version.
type Station = SimulatedCharger | SimulatedCharger201

_LOGGER = logging.getLogger("chargersim.scenario")

SCENARIOS = ("idle", "charging", "cycle")

# Failures after which the scenario just carries on.
_TRANSIENT = (ConnectionClosed, NotConnectedError, TimeoutError, OCPPError)


@dataclass(frozen=True)
class _Settings:
    """The names of the settings the user's card depends on, in one OCPP version."""

    #: "false": no card is needed (free vend).
    auth_enabled: str
    #: The id tag a free-vend transaction starts with (None: the user's card).
    free_vend_tag: str | None


_SETTINGS = {
    SimulatedCharger.SUBPROTOCOL: _Settings("AuthEnabled", "AuthDisabledIdTag"),
    SimulatedCharger201.SUBPROTOCOL: _Settings("AuthCtrlr.Enabled", None),
}


@dataclass
class ScenarioConfig:
    """Timing and identity of a scenario run."""

    name: str = "cycle"
    connector_id: int = 1
    #: The RFID card the user presents (8 hex digits, like a 4-byte UID).
    id_tag: str = "0A1B2C3D"
    meter_interval: float = 5.0
    #: ``charging``: seconds after the charger is ready before the car is plugged in.
    plug_delay: float = 3.0
    #: ``cycle``: seconds with nothing plugged in.
    idle_time: float = 20.0
    #: ``cycle``: seconds of charging before the car is full.
    charge_time: float = 60.0
    #: ``cycle``: seconds the full car stays SuspendedEV before the user stops.
    full_time: float = 5.0
    #: ``cycle``: seconds in Finishing before the cable is unplugged.
    unplug_time: float = 3.0
    #: Seconds between two updates of the cars from the charger's offer
    #: (how soon a car notices a new limit, a charger a full car).
    car_step: float = 1.0
    #: Measurement noise and the cars' shortfall below the offer; False = exact.
    jitter: bool = True
    #: Seed of the measurement noise and of the cars' shortfall (None: the
    #: charger's identity seeds them, so a run is reproducible all the same).
    seed: int | None = None
    #: The MeterValues timestamp for a loop time (a benchmark on a virtual
    #: clock maps its time here); None = the wall clock, as a charger does.
    timestamp: Callable[[float], datetime] | None = None


async def run_scenario(charger: Station, config: ScenarioConfig) -> None:
    """Run the scenario until cancelled."""
    if config.name not in SCENARIOS:
        raise ValueError(f"unknown scenario {config.name!r}; choose from {SCENARIOS}")
    if config.connector_id not in charger.connectors:
        raise ValueError(f"connector {config.connector_id} does not exist")
    async with asyncio.TaskGroup() as group:
        group.create_task(_heartbeats(charger))
        group.create_task(Meter(charger, config).run())
        if config.name == "charging":
            group.create_task(_charging(charger, config))
        elif config.name == "cycle":
            group.create_task(_cycle(charger, config))


async def _attempt(
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


def _transaction(connector: ConnectorState) -> int | str | None:
    """The connector's transaction (a call, so that type checkers do not
    assume it unchanged across awaits)."""
    return connector.transaction_id


def _card_status(answer: JSONDict | None) -> str | None:
    """The status of the user's card in an answer (1.6 idTagInfo, 2.0.1 idTokenInfo)."""
    info = (answer or {}).get("idTagInfo") or (answer or {}).get("idTokenInfo") or {}
    status = info.get("status")
    return str(status) if status is not None else None


async def _set_status(charger: Station, connector_id: int, status: str) -> None:
    await _attempt(
        charger, f"StatusNotification {status}", lambda: charger.status(connector_id, status)
    )


async def _heartbeats(charger: Station) -> None:
    """Heartbeat every HeartbeatInterval s (re-read each second: it may change)."""
    loop = asyncio.get_running_loop()
    while True:
        await charger.wait_ready()
        started = loop.time()
        while True:
            await asyncio.sleep(1)
            if not charger.ready:
                break
            if loop.time() - started >= charger.heartbeat_interval:
                await _attempt(charger, "Heartbeat", charger.heartbeat)
                break


class Meter:
    """Drives the cars and sends MeterValues for every active transaction.

    `run` does both on the loop's time; `follow` and `sample` take the time
    explicitly (a test can move time without waiting for it).
    """

    def __init__(self, charger: Station, config: ScenarioConfig) -> None:
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
            await _set_status(charger, cid, wanted)
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
        await _attempt(charger, "MeterValues", lambda: charger.report_meter(cid, reading))
        # The register is what was last reported; keep it whole even if
        # the energy measurand is not sampled.
        connector.energy_wh = round(self.energy[cid])

    def _noise(self, amplitude: float) -> float:
        return self.random.uniform(-amplitude, amplitude) if self.jitter else 0.0


async def _plug_in(charger: Station, config: ScenarioConfig) -> bool:
    """Plug the car in and start a transaction; True if one is running."""
    cid = config.connector_id
    connector = charger.connectors[cid]
    if not connector.operative:
        _LOGGER.info("%s: connector %d is unavailable; not charging", charger.identity, cid)
        return False
    if _transaction(connector) is None:
        await _set_status(charger, cid, "Preparing")
    # A remote start was waiting for this car: let it start the transaction.
    while connector.remote_start_pending:  # noqa: ASYNC110 - set and cleared by the simulator
        await asyncio.sleep(0.1)
    if _transaction(connector) is not None:  # started remotely meanwhile
        return True
    settings = _SETTINGS[charger.SUBPROTOCOL]
    id_tag = config.id_tag
    if charger.configuration_value(settings.auth_enabled, "true") == "false":
        if settings.free_vend_tag is not None:
            id_tag = charger.configuration_value(settings.free_vend_tag) or "NoAuthorization"
    else:
        answer = await _attempt(charger, "Authorize", lambda: charger.authorize(id_tag))
        status = _card_status(answer)
        if status != "Accepted":
            _LOGGER.info(
                "%s: id tag %s not accepted (%s); waiting for a remote start",
                charger.identity,
                id_tag,
                status,
            )
            return False
    if _transaction(connector) is not None:
        return True
    answer = await _attempt(
        charger,
        "StartTransaction",
        lambda: charger.start_transaction(cid, id_tag, int(connector.energy_wh)),
    )
    if answer is None:
        return False
    if _card_status(answer) not in (None, "Accepted"):  # 2.0.1: no idTokenInfo = accepted
        await charger.local_stop(cid, "DeAuthorized")
        return False
    await _set_status(charger, cid, "Charging")
    return True


async def _charging(charger: Station, config: ScenarioConfig) -> None:
    connector = charger.connectors[config.connector_id]
    while True:
        await charger.wait_ready()
        if connector.status == "Available" and connector.operative:
            await asyncio.sleep(config.plug_delay)
            if charger.ready and connector.status == "Available":
                await _plug_in(charger, config)
        await asyncio.sleep(1)


async def _cycle(charger: Station, config: ScenarioConfig) -> None:
    cid = config.connector_id
    connector = charger.connectors[cid]
    loop = asyncio.get_running_loop()
    while True:
        await charger.wait_ready()
        await asyncio.sleep(config.idle_time)
        await charger.wait_ready()
        if not connector.operative:
            continue
        if _transaction(connector) is not None:
            started = True  # started remotely while idle
        else:
            _LOGGER.info("%s: car plugged in", charger.identity)
            started = await _plug_in(charger, config)
        # Charge (or wait for a remote start) until the car is full, or until
        # the CSMS stops the transaction.
        deadline = loop.time() + config.charge_time
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            if _transaction(connector) is not None:
                started = True
            elif started:
                break  # stopped remotely
        if _transaction(connector) is not None:
            _LOGGER.info("%s: car full", charger.identity)
            await _set_status(charger, cid, "SuspendedEV")
            await asyncio.sleep(config.full_time)
        if _transaction(connector) is not None:
            _LOGGER.info("%s: user stops the session", charger.identity)
            await charger.local_stop(cid, "Local", id_tag=connector.id_tag)
        if connector.status != "Finishing":
            await _set_status(charger, cid, "Finishing")
        await asyncio.sleep(config.unplug_time)
        _LOGGER.info("%s: car unplugged", charger.identity)
        await _set_status(charger, cid, "Available" if connector.operative else "Unavailable")
