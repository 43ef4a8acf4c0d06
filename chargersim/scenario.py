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

In every scenario, heartbeats follow ``HeartbeatInterval``, and `chargersim.meter.Meter`
drives the car on the connector from what the charger offers and sends
MeterValues every ``meter_interval`` s for any connector holding a transaction
(also one started by RemoteStartTransaction). Randomness (the car's shortfall,
measurement noise) comes from seeded generators and can be turned off
(``ScenarioConfig.jitter``). Time is the event loop's time throughout. When the
connection is down the scenario pauses; energy keeps counting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import logging

from .connectors import ConnectorState
from .meter import Meter, Station, attempt, set_status
from .rpc import JSONDict
from .v16 import SimulatedCharger
from .v201 import SimulatedCharger as SimulatedCharger201

__all__ = ["SCENARIOS", "Meter", "ScenarioConfig", "Station", "run_scenario"]

_LOGGER = logging.getLogger("chargersim.scenario")

SCENARIOS = ("idle", "charging", "cycle")


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


def _transaction(connector: ConnectorState) -> int | str | None:
    """The connector's transaction (a call, so that type checkers do not
    assume it unchanged across awaits)."""
    return connector.transaction_id


def _card_status(answer: JSONDict | None) -> str | None:
    """The status of the user's card in an answer (1.6 idTagInfo, 2.0.1 idTokenInfo)."""
    info = (answer or {}).get("idTagInfo") or (answer or {}).get("idTokenInfo") or {}
    status = info.get("status")
    return str(status) if status is not None else None


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
                await attempt(charger, "Heartbeat", charger.heartbeat)
                break


async def _plug_in(charger: Station, config: ScenarioConfig) -> bool:
    """Plug the car in and start a transaction; True if one is running."""
    cid = config.connector_id
    connector = charger.connectors[cid]
    if not connector.operative:
        _LOGGER.info("%s: connector %d is unavailable; not charging", charger.identity, cid)
        return False
    if _transaction(connector) is None:
        await set_status(charger, cid, "Preparing")
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
        answer = await attempt(charger, "Authorize", lambda: charger.authorize(id_tag))
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
    answer = await attempt(
        charger,
        "StartTransaction",
        lambda: charger.start_transaction(cid, id_tag, int(connector.energy_wh)),
    )
    if answer is None:
        return False
    if _card_status(answer) not in (None, "Accepted"):  # 2.0.1: no idTokenInfo = accepted
        await charger.local_stop(cid, "DeAuthorized")
        return False
    await set_status(charger, cid, "Charging")
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
            await set_status(charger, cid, "SuspendedEV")
            await asyncio.sleep(config.full_time)
        if _transaction(connector) is not None:
            _LOGGER.info("%s: user stops the session", charger.identity)
            await charger.local_stop(cid, "Local", id_tag=connector.id_tag)
        if connector.status != "Finishing":
            await set_status(charger, cid, "Finishing")
        await asyncio.sleep(config.unplug_time)
        _LOGGER.info("%s: car unplugged", charger.identity)
        await set_status(charger, cid, "Available" if connector.operative else "Unavailable")
