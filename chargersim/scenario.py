"""Scripted life of a simulated charger: what the car and the user do with it.

`run_scenario` drives a `SimulatedCharger` that is kept connected by
`SimulatedCharger.run_forever` (which boots and announces the connectors).
Three scenarios:

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
``MeterValuesSampledData`` lists them. The car draws what the charger offers
(its current limit: hardware ceiling and charging profiles); below 6 A the
charger suspends (SuspendedEVSE) and resumes (Charging) at 6 A or more.
When the connection is down the scenario pauses; energy keeps counting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import functools
import logging
import random
from typing import Any

from ocpp.exceptions import OCPPError  # type: ignore[import-untyped, unused-ignore]
from websockets.exceptions import ConnectionClosed

from .charger import ConnectorState, NotConnectedError, SimulatedCharger

__all__ = ["SCENARIOS", "ScenarioConfig", "run_scenario"]

_LOGGER = logging.getLogger("chargersim.scenario")

SCENARIOS = ("idle", "charging", "cycle")

#: Below this current a car does not charge (IEC 61851).
MIN_CURRENT = 6.0

# Failures after which the scenario just carries on.
_TRANSIENT = (ConnectionClosed, NotConnectedError, TimeoutError, OCPPError)


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


async def run_scenario(charger: SimulatedCharger, config: ScenarioConfig) -> None:
    """Run the scenario until cancelled."""
    if config.name not in SCENARIOS:
        raise ValueError(f"unknown scenario {config.name!r}; choose from {SCENARIOS}")
    if config.connector_id not in charger.connectors:
        raise ValueError(f"connector {config.connector_id} does not exist")
    async with asyncio.TaskGroup() as group:
        group.create_task(_heartbeats(charger))
        group.create_task(_Meter(charger, config).run())
        if config.name == "charging":
            group.create_task(_charging(charger, config))
        elif config.name == "cycle":
            group.create_task(_cycle(charger, config))


async def _attempt(
    charger: SimulatedCharger,
    what: str,
    send: Callable[[], Awaitable[dict[str, Any]]],
    *,
    persistent: bool = False,
) -> dict[str, Any] | None:
    """Send once the charger is ready; None on failure.

    ``persistent`` retries until it went through (a charger queues
    transaction messages while offline and sends them after reconnecting).
    """
    while True:
        await charger.wait_ready()
        try:
            return await send()
        except _TRANSIENT as exc:
            _LOGGER.warning("%s: %s failed: %s", charger.identity, what, exc or type(exc).__name__)
            if not persistent:
                return None
            await asyncio.sleep(1)


def _transaction(connector: ConnectorState) -> int | None:
    """The connector's transaction (a call, so that type checkers do not
    assume it unchanged across awaits)."""
    return connector.transaction_id


async def _set_status(charger: SimulatedCharger, connector_id: int, status: str) -> None:
    await _attempt(
        charger, f"StatusNotification {status}", lambda: charger.status(connector_id, status)
    )


async def _heartbeats(charger: SimulatedCharger) -> None:
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


class _Meter:
    """Integrates energy and sends MeterValues for every active transaction."""

    def __init__(self, charger: SimulatedCharger, config: ScenarioConfig) -> None:
        self.charger = charger
        self.interval = config.meter_interval
        # Precise energy register per connector (the charger reports whole Wh).
        self.energy: dict[int, float] = {}
        self.last: dict[int, float] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            for connector in list(self.charger.connectors.values()):
                await self.sample(connector)

    def measurands(self) -> set[str]:
        configured = self.charger.configuration_value("MeterValuesSampledData")
        if configured is None:
            return {"Energy.Active.Import.Register", "Power.Active.Import",
                    "Current.Import", "Voltage", "Current.Offered"}  # fmt: skip
        return {m.strip() for m in configured.split(",")}

    async def sample(self, connector: ConnectorState) -> None:
        charger = self.charger
        cid = connector.connector_id
        now = asyncio.get_running_loop().time()
        if connector.transaction_id is None:
            self.last.pop(cid, None)
            return
        elapsed = now - self.last.get(cid, now - self.interval)
        self.last[cid] = now
        if abs(self.energy.get(cid, -1e9) - connector.energy_wh) >= 1:
            self.energy[cid] = connector.energy_wh  # set from outside
        offered = charger.current_limit(cid)
        current = 0.0
        if connector.status in ("Charging", "SuspendedEVSE"):
            if offered < MIN_CURRENT:
                if connector.status == "Charging":
                    await _set_status(charger, cid, "SuspendedEVSE")
            else:
                if connector.status == "SuspendedEVSE":
                    await _set_status(charger, cid, "Charging")
                # A car draws a little less than offered.
                current = max(0.0, offered - random.uniform(0.1, 0.5))
        phases = charger.phases
        power = current * charger.voltage * phases
        self.energy[cid] = self.energy.get(cid, connector.energy_wh) + power * elapsed / 3600
        if not charger.ready or connector.transaction_id is None:
            connector.energy_wh = round(self.energy[cid])
            return
        wanted = self.measurands()
        currents = [round(max(0.0, current + random.uniform(-0.1, 0.1)) if current else 0.0, 2)
                    for _ in range(phases)]  # fmt: skip
        transaction_id = connector.transaction_id
        await _attempt(
            charger,
            "MeterValues",
            lambda: charger.meter_values(
                cid,
                transaction_id=transaction_id,
                energy_wh=(
                    round(self.energy[cid]) if "Energy.Active.Import.Register" in wanted else None
                ),
                power_w=round(power, 1) if "Power.Active.Import" in wanted else None,
                currents=currents if "Current.Import" in wanted else None,
                voltage=(
                    round(charger.voltage + random.uniform(-2.0, 2.0), 1)
                    if "Voltage" in wanted and phases == 1
                    else None
                ),
                current_offered=round(offered, 1) if "Current.Offered" in wanted else None,
            ),
        )
        # The register is what was last reported; keep it whole even if
        # the energy measurand is not sampled.
        connector.energy_wh = round(self.energy[cid])


async def _plug_in(charger: SimulatedCharger, config: ScenarioConfig) -> bool:
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
    if charger.configuration_value("AuthEnabled", "true") == "false":
        id_tag = charger.configuration_value("AuthDisabledIdTag") or "NoAuthorization"
    else:
        id_tag = config.id_tag
        answer = await _attempt(charger, "Authorize", lambda: charger.authorize(id_tag))
        status = (answer or {}).get("idTagInfo", {}).get("status")
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
    if answer.get("idTagInfo", {}).get("status") != "Accepted":
        transaction_id = _transaction(connector)
        if transaction_id is not None:
            await _attempt(
                charger,
                "StopTransaction",
                functools.partial(
                    charger.stop_transaction,
                    transaction_id,
                    int(connector.energy_wh),
                    reason="DeAuthorized",
                ),
                persistent=True,
            )
        return False
    await _set_status(charger, cid, "Charging")
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
        transaction_id = _transaction(connector)
        if transaction_id is not None:
            _LOGGER.info("%s: user stops the session", charger.identity)
            await _attempt(
                charger,
                "StopTransaction",
                functools.partial(
                    charger.stop_transaction,
                    transaction_id,
                    int(connector.energy_wh),
                    reason="Local",
                    id_tag=connector.id_tag,
                ),
                persistent=True,
            )
        if connector.status != "Finishing":
            await _set_status(charger, cid, "Finishing")
        await asyncio.sleep(config.unplug_time)
        _LOGGER.info("%s: car unplugged", charger.identity)
        await _set_status(charger, cid, "Available" if connector.operative else "Unavailable")
