"""The load generator's Home Assistant websocket API client, subscribed to state changes.

A real websocket API client (aiohttp), subscribed like the frontend with
``subscribe_entities`` (or to ``state_changed`` events with ``--subscription
events``). It records the arrival of every entity change and, for the chargers'
power entities, matches the new state (``BASE_POWER_W + sequence number``) to the
frame that carried it: the latency from frame to subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp
from loadgen_chargers import BASE_POWER_W, Recorder


class Subscriber:
    """A Home Assistant websocket API client subscribed to state changes."""

    def __init__(self, recorder: Recorder) -> None:
        """Record into ``recorder``; :meth:`start` connects."""
        self.recorder = recorder
        self.power_entities: dict[str, int] = {}
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.mode = "entities"
        self.initial_entities = 0
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, url: str, token: str, mode: str, power_entities: dict[str, int]) -> None:
        """Authenticate, subscribe, and wait for the subscription to be confirmed."""
        self.mode = mode
        self.power_entities = power_entities
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(url, max_msg_size=0)
        hello = await self.ws.receive_json()
        if hello.get("type") != "auth_required":
            raise RuntimeError(f"unexpected greeting {hello}")
        await self.ws.send_json({"type": "auth", "access_token": token})
        auth = await self.ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise RuntimeError(f"authentication failed: {auth}")
        # As the frontend: let the server coalesce messages into JSON arrays.
        await self.ws.send_json(
            {"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}}
        )
        if mode == "entities":
            await self.ws.send_json({"id": 2, "type": "subscribe_entities"})
        else:
            await self.ws.send_json(
                {"id": 2, "type": "subscribe_events", "event_type": "state_changed"}
            )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        async with asyncio.timeout(60):
            await self._subscribed.wait()

    async def stop(self) -> None:
        """Close the connection."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.session is not None:
            await self.session.close()

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            arrived = time.monotonic_ns()
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else (data,):
                kind = item.get("type")
                if kind == "event":
                    self._event(item["event"], arrived)
                elif kind == "result" and item.get("id") == 2:
                    if not item.get("success"):
                        raise RuntimeError(f"subscription failed: {item}")
                    if self.mode == "events":
                        self._subscribed.set()

    def _event(self, event: dict[str, Any], arrived: int) -> None:
        if self.mode == "entities":
            if "a" in event:
                self.initial_entities += len(event["a"])
                self._subscribed.set()
            for entity_id, diff in (event.get("c") or {}).items():
                plus = diff.get("+") or {}
                self._change(entity_id, plus.get("s"), arrived)
        else:
            data = event["data"]
            new_state = data.get("new_state") or {}
            self._change(data["entity_id"], new_state.get("state"), arrived)

    def _change(self, entity_id: str, state: str | None, arrived: int) -> None:
        recorder = self.recorder
        recorder.state_change_ns.append(arrived)
        index = self.power_entities.get(entity_id)
        if index is None or state is None or not recorder.match_states:
            return
        try:
            sequence = round(float(state)) - BASE_POWER_W
        except ValueError:
            return
        sent = recorder.awaiting_state.pop((index, sequence), None)
        if sent is not None:
            recorder.matched_sent_ns.append(sent)
            recorder.matched_latency_ns.append(arrived - sent)
