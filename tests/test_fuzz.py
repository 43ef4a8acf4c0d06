"""scratch probe"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from homeassistant.core import HomeAssistant
import pytest
from websockets.asyncio.client import connect

from .conftest import CentralSystemUnderTest


async def _call(ws, mid, action, payload):
    await ws.send(json.dumps([2, mid, action, payload]))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame[0] == 2:
            print("server call", frame)
            answer = {"GetConfiguration": {"configurationKey": []}}.get(frame[2], {"status": "Accepted"})
            await ws.send(json.dumps([3, frame[1], answer]))
            continue
        assert frame[1] == mid, frame
        return frame


@pytest.mark.parametrize("probe", ["overflow", "conn0", "bigconn", "inf"])
async def test_probe(hass: HomeAssistant, central_system: CentralSystemUnderTest, probe, caplog) -> None:
    entry = central_system.entry
    charger = entry.runtime_data.chargers["wb1"].charger
    async with connect(central_system.url + "wb1", subprotocols=["ocpp1.6"]) as ws:
        print(await _call(ws, "b", "BootNotification", {"chargePointVendor": "X", "chargePointModel": "Y"}))
        ts = "2026-01-01T00:00:00Z"
        if probe == "overflow":
            print(await _call(ws, "s", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 10**400, "timestamp": ts}))
        elif probe == "conn0":
            print(await _call(ws, "s", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 5000, "timestamp": ts}))
            print(charger.energy_wh, hass.states.get("sensor.garage_energy").state)
            print(await _call(ws, "m", "MeterValues", {"connectorId": 0, "meterValue": [{"timestamp": ts, "sampledValue": [{"value": "100"}]}]}))
            print(charger.energy_wh, hass.states.get("sensor.garage_energy").state)
        elif probe == "bigconn":
            for n in (10, 100, 1000):
                t = time.monotonic()
                print(await _call(ws, f"c{n}", "StatusNotification", {"connectorId": n, "status": "Available", "errorCode": "NoError"}))
                await hass.async_block_till_done()
                print(n, time.monotonic() - t, len(hass.states.async_all()))
        elif probe == "inf":
            print(await _call(ws, "s", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 10**308, "timestamp": ts}))
            print(await _call(ws, "s2", "StopTransaction", {"transactionId": 1, "meterStop": 0, "timestamp": ts}))
            print(await _call(ws, "s3", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 10**308, "timestamp": ts}))
            print(await _call(ws, "s4", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": ts}))
            print(await _call(ws, "s5", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 10**308, "timestamp": ts}))
            await hass.async_block_till_done()
            print(charger.energy_wh, hass.states.get("sensor.garage_energy"))
    await hass.async_block_till_done()
