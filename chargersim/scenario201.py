"""The scenarios of the command line for the OCPP 2.0.1 station.

The same three scenarios as `chargersim.scenario` (``idle``, ``charging``,
``cycle``) in 2.0.1 terms: plugging in is a StatusNotification Occupied, the
user's card an Authorize with an ISO14443 idToken, a transaction the
station's own TransactionEvent Started / Updated / Ended, and the meter values
of a transaction travel inside TransactionEvent(Updated), with the charging
state (Charging, SuspendedEVSE below 6 A offered, SuspendedEV when the car is
full). The car follows the offered current as in the 1.6 scenarios; the
energy register integrates what it drew.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from .car import MIN_CURRENT
from .connectors import ConnectorState
from .scenario import SCENARIOS, ScenarioConfig, _attempt as attempt, _heartbeats as heartbeats
from .v201 import SimulatedCharger

__all__ = ["run_scenario_201"]

_LOGGER = logging.getLogger("chargersim.scenario")


async def run_scenario_201(charger: SimulatedCharger, config: ScenarioConfig) -> None:
    """Run the scenario until cancelled."""
    if config.name not in SCENARIOS:
        raise ValueError(f"unknown scenario {config.name!r}; choose from {SCENARIOS}")
    if config.connector_id not in charger.connectors:
        raise ValueError(f"connector {config.connector_id} does not exist")
    async with asyncio.TaskGroup() as group:
        group.create_task(heartbeats(charger))
        group.create_task(_meter(charger, config))
        if config.name == "charging":
            group.create_task(_charging(charger, config))
        elif config.name == "cycle":
            group.create_task(_cycle(charger, config))


def _running(connector: ConnectorState) -> bool:
    """Whether a transaction runs (a call: it may change across awaits)."""
    return connector.transaction_id is not None


def _supplied(connector: ConnectorState) -> bool:
    return _running(connector) and connector.status in (
        "Charging",
        "SuspendedEVSE",
    )


async def _meter(charger: SimulatedCharger, config: ScenarioConfig) -> None:
    """Every ``meter_interval`` s: the cars follow the offer, transactions report meter values."""
    loop = asyncio.get_running_loop()
    energy: dict[int, float] = {}
    while True:
        await asyncio.sleep(config.meter_interval)
        now = loop.time()
        for cid, connector in charger.connectors.items():
            car = charger.car(cid)
            before = car.energy_wh
            offered = charger.current_limit(cid)
            if not _supplied(connector):
                car.stop(now)
                continue
            car.offer(
                now,
                offered,
                charger.offered_phases(cid),
                voltage=charger.voltage,
                switch_pause=charger.behaviour.phase_switch_pause,
            )
            if car.full:
                connector.status = "SuspendedEV"
            else:
                connector.status = "SuspendedEVSE" if offered < MIN_CURRENT else "Charging"
            energy[cid] = max(energy.get(cid, 0.0), connector.energy_wh) + car.energy_wh - before
            register = round(energy[cid])
            power = round(car.power_at(now), 1)
            await attempt(
                charger,
                "TransactionEvent Updated",
                functools.partial(
                    charger.meter_values,
                    cid,
                    energy_wh=register,
                    power_w=power,
                    current_offered=round(offered, 1),
                ),
            )


async def _plug_in(charger: SimulatedCharger, config: ScenarioConfig) -> bool:
    """Plug the car in, present the card, start a transaction; True if one runs."""
    cid = config.connector_id
    connector = charger.connectors[cid]
    if not connector.operative:
        _LOGGER.info("%s: EVSE %d is unavailable; not charging", charger.identity, cid)
        return False
    if not _running(connector):
        await attempt(
            charger, "StatusNotification Occupied", lambda: charger.status(cid, "Occupied")
        )
    while connector.remote_start_pending:  # noqa: ASYNC110 - set and cleared by the simulator
        await asyncio.sleep(0.1)
    if _running(connector):  # started remotely meanwhile
        return True
    if charger.configuration_value("AuthCtrlr.Enabled", "true") != "false":
        answer = await attempt(charger, "Authorize", lambda: charger.authorize(config.id_tag))
        status = (answer or {}).get("idTokenInfo", {}).get("status")
        if status != "Accepted":
            _LOGGER.info(
                "%s: card %s not accepted (%s); waiting for a remote start",
                charger.identity,
                config.id_tag,
                status,
            )
            return False
    if _running(connector):
        return True
    connector.status = "Charging"
    answer = await attempt(
        charger, "TransactionEvent Started", lambda: charger.start_transaction(cid, config.id_tag)
    )
    if answer is None or answer.get("idTokenInfo", {}).get("status", "Accepted") != "Accepted":
        if _running(connector):
            await charger.local_stop(cid, "DeAuthorized")
        return False
    return True


async def _charging(charger: SimulatedCharger, config: ScenarioConfig) -> None:
    connector = charger.connectors[config.connector_id]
    while True:
        await charger.wait_ready()
        if connector.status == "Available" and connector.operative:
            await asyncio.sleep(config.plug_delay)
            if charger.ready and connector.status == "Available":
                await _plug_in(charger, config)
        await asyncio.sleep(1)


async def _cycle(charger: SimulatedCharger, config: ScenarioConfig) -> None:
    cid = config.connector_id
    connector = charger.connectors[cid]
    loop = asyncio.get_running_loop()
    while True:
        await charger.wait_ready()
        await asyncio.sleep(config.idle_time)
        await charger.wait_ready()
        if not connector.operative:
            continue
        started = _running(connector)  # started remotely while idle
        if not started:
            _LOGGER.info("%s: car plugged in", charger.identity)
            started = await _plug_in(charger, config)
        deadline = loop.time() + config.charge_time
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            if _running(connector):
                started = True
            elif started:
                break  # stopped remotely
        if _running(connector):
            _LOGGER.info("%s: car full; the user stops the session", charger.identity)
            connector.status = "SuspendedEV"
            await asyncio.sleep(config.full_time)
            if _running(connector):
                await charger.local_stop(cid, "Local")
        await asyncio.sleep(config.unplug_time)
        _LOGGER.info("%s: car unplugged", charger.identity)
        status = "Available" if connector.operative else "Unavailable"
        await attempt(
            charger, f"StatusNotification {status}", functools.partial(charger.status, cid, status)
        )
