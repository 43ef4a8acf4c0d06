"""Soak load: N chargers living a charger's life against a central system, for a while.

Run by ``soak.py`` in a process of its own. Each charger connects, boots, and then
until the deadline: waits, plugs in, charges for a few minutes (MeterValues every
``--meter-interval`` seconds), stops, unplugs; now and then its connection drops and
it reconnects. It answers every call of the central system. At the end it prints one
JSON line: the final energy register of every charger (to compare with what Home
Assistant shows) and how many of its own calls went unanswered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
import itertools
import json
import random
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

_ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": []},
    "ChangeConfiguration": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
}


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SoakCharger:
    """One charger: a loop of sessions, with random disconnects."""

    def __init__(self, url: str, identity: str, args: argparse.Namespace, seed: int) -> None:
        self.url = url + identity
        self.identity = identity
        self.args = args
        self.random = random.Random(seed)
        self.energy_wh = float(self.random.randint(0, 10_000_000))
        self.unanswered = 0
        self.calls = 0
        self.reconnects = 0
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._ws: ClientConnection | None = None

    async def _reader(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame[0] == 2:  # a call of the central system: answer it
                answer = _ANSWERS.get(frame[2], {"status": "Accepted"})
                await ws.send(json.dumps([3, frame[1], answer]))
            elif (future := self._waiting.pop(frame[1], None)) is not None:
                future.set_result(frame[2] if frame[0] == 3 else None)

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        assert self._ws is not None
        message_id = f"{self.identity}-{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        self.calls += 1
        await self._ws.send(json.dumps([2, message_id, action, payload]))
        try:
            async with asyncio.timeout(30):
                return await future
        except TimeoutError:
            self.unanswered += 1
            self._waiting.pop(message_id, None)
            return None

    async def status(self, status: str) -> None:
        await self.call(
            "StatusNotification",
            {"connectorId": 1, "status": status, "errorCode": "NoError", "timestamp": _now()},
        )

    async def session(self, deadline: float) -> None:
        """Plug in, charge a few minutes (not past the deadline), stop, unplug."""
        await self.status("Preparing")
        started = await self.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "HOMEASSISTANT",
                "meterStart": int(self.energy_wh),
                "timestamp": _now(),
            },
        )
        if not started:
            return
        await self.status("Charging")
        power = self.random.choice((3700.0, 7400.0, 11000.0))
        loop = asyncio.get_running_loop()
        for _ in range(self.random.randint(6, 30)):
            if loop.time() + self.args.meter_interval > deadline:
                break
            await asyncio.sleep(self.args.meter_interval)
            self.energy_wh += power * self.args.meter_interval / 3600
            await self.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": started["transactionId"],
                    "meterValue": [
                        {
                            "timestamp": _now(),
                            "sampledValue": [
                                {
                                    "value": f"{self.energy_wh:.0f}",
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {
                                    "value": f"{power + self.random.uniform(-50, 50):.0f}",
                                    "measurand": "Power.Active.Import",
                                    "unit": "W",
                                },
                            ],
                        }
                    ],
                },
            )
        await self.call(
            "StopTransaction",
            {
                "transactionId": started["transactionId"],
                "meterStop": int(self.energy_wh),
                "timestamp": _now(),
            },
        )
        await self.status("Finishing")
        await self.status("Available")

    async def life(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            try:
                async with connect(self.url, subprotocols=["ocpp1.6"], open_timeout=30) as ws:
                    self._ws = ws
                    reader = asyncio.create_task(self._reader(ws))
                    await self.call(
                        "BootNotification",
                        {"chargePointVendor": "Soak", "chargePointModel": "S-1"},
                    )
                    await self.status("Available")
                    # Charge, rest, now and then lose the connection.
                    while loop.time() < deadline:
                        await asyncio.sleep(self.random.uniform(5, 60))
                        if loop.time() >= deadline:
                            break
                        if self.random.random() < self.args.drop_chance:
                            self.reconnects += 1
                            break
                        await self.session(deadline)
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                        await reader
            except OSError, ConnectionClosed, TimeoutError:
                self.reconnects += 1
            await asyncio.sleep(self.random.uniform(1, 5))


async def main_async(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.duration
    chargers = [SoakCharger(args.url, f"cp{i}", args, seed=i) for i in range(args.chargers)]
    # Everybody connects at the same moment, as after a power cut.
    await asyncio.gather(*(c.life(deadline) for c in chargers))
    print(
        json.dumps(
            {
                "energy_wh": {c.identity: c.energy_wh for c in chargers},
                "calls": sum(c.calls for c in chargers),
                "unanswered": sum(c.unanswered for c in chargers),
                "reconnects": sum(c.reconnects for c in chargers),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=1800)
    parser.add_argument("--meter-interval", type=float, default=10)
    parser.add_argument("--drop-chance", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(main_async(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
