"""A raw websocket talking to the central system (no simulator involved)."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from websockets.asyncio.client import connect

from .conftest import CentralSystemUnderTest


async def test_boot_and_status(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """A registered charger boots and reports status; entities follow."""
    async with connect(central_system.url + "wb1", subprotocols=["ocpp1.6"]) as ws:
        await ws.send(json.dumps([2, "1", "BootNotification", {"chargePointVendor": "Wall Box Chargers", "chargePointModel": "PLP1-0-2-4"}]))
        reply = json.loads(await ws.recv())
        assert reply[0] == 3
        assert reply[2]["status"] == "Accepted"
        await ws.send(json.dumps([2, "2", "StatusNotification", {"connectorId": 1, "status": "Charging", "errorCode": "NoError"}]))
        # the central system reads the configuration after boot
        frames = [json.loads(await ws.recv()) for _ in range(2)]
        print(frames)
        await hass.async_block_till_done()
        print(hass.states.async_all())
        assert hass.states.get("sensor.garage_status").state == "charging"
