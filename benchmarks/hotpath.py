"""Where the CPU time of one MeterValues goes, stage by stage, in a real Home Assistant.

Starts Home Assistant as ``load.py`` does (``harness.py``), a load generator
process with the websocket API subscriber (``subscribe_entities``) and one
charger, cp0, booted and charging. Then, in this process, it times each
synchronous stage the integration runs for a MeterValues CALL, over many frames
with a new power value each (so that the entities really write their state):

* ``decode_frame`` (json.loads and the OCPP-J checks), schema validation,
  parsing the sampled values, the model update on a charger without listeners;
* the listener fan-out with nothing changed: of a notification of everything
  (every entity re-reads its value), and of what a MeterValues of connector 1
  notifies (the entities that show meter readings);
* one state write of the power sensor with the subscriber attached;
* the whole ``handle_call`` (model, listeners, the state writes it causes, the
  subscriber's serialisation), the reply's ``encode``, and ``Session._answer_call``
  (all of that plus writing the reply to the socket).

The network receive path (epoll, websockets parsing) and the garbage collector
are not in these figures; ``load.py`` measures everything end to end.

With ``--ocpp 2.0.1`` the charger speaks 2.0.1 and the frame is a TransactionEvent
Updated carrying the same readings (2.0.1's MeterValues).

Usage: ``.venv/bin/python benchmarks/hotpath.py [--frames 3000] [--ocpp 2.0.1]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from harness import HassUnderTest, new_event_loop, start_hass, stop_hass  # noqa: E402
from homeassistant.core import Event, callback  # noqa: E402
from homeassistant.helpers.entity_component import DATA_INSTANCES  # noqa: E402
from load_instruments import LoadGenerator  # noqa: E402
from loadgen_messages import VERSIONS, Ocpp201, meter_values_payload  # noqa: E402

from custom_components.ocpp_hub.csms.framing import CALL, CALLRESULT, decode_frame, encode  # noqa: E402
from custom_components.ocpp_hub.csms.v16.metering import parse_sampled_values  # noqa: E402
from custom_components.ocpp_hub.csms.v201.metering import parse_meter_value  # noqa: E402
from custom_components.ocpp_hub.model.charger import Charger, Topic, Transaction  # noqa: E402
from custom_components.ocpp_hub.model.meter import Sample  # noqa: E402

_FIRST_SEQUENCE = 1_000_000  # far from anything the load generator sent


class Frames:
    """MeterValues frames with a new power value each."""

    action = "MeterValues"

    def __init__(self, transaction_id: str | None) -> None:
        """Frames of ``transaction_id`` (as the model keeps it)."""
        # 1.6 numbers its transactions: the model keeps the number as text.
        self.transaction_id = int(transaction_id) if transaction_id is not None else None
        self.sequence = _FIRST_SEQUENCE
        # Where the load generator's cp0 left its register: readings that follow it
        # (a leap would be refused as implausible, a path that is not the hot one).
        self.energy_wh = 1_000_000.0

    def payload(self) -> dict[str, Any]:
        """The next payload."""
        self.sequence += 1
        power = 7000 + self.sequence
        # A plausible rise (the power only carries the sequence number, it is not drawn).
        self.energy_wh += 2.0
        return meter_values_payload(self.transaction_id, power, self.energy_wh, self.sequence)

    def text(self) -> str:
        """The next frame as the charger sends it."""
        payload = self.payload()
        return json.dumps([CALL, str(self.sequence), self.action, payload], separators=(",", ":"))

    @staticmethod
    def samples(payload: dict[str, Any]) -> list[Sample]:
        """The samples of a payload, as the protocol layer makes them."""
        return [
            parse_sampled_values(datetime.fromisoformat(mv["timestamp"]), mv["sampledValue"])
            for mv in payload["meterValue"]
        ]


class Frames201(Frames):
    """TransactionEvent Updated frames (2.0.1's meter values) with a new power value each."""

    action = "TransactionEvent"

    def __init__(self, transaction_id: str | None) -> None:
        """Frames of the station's transaction ``transaction_id``."""
        super().__init__(None)
        self.messages = Ocpp201(0)
        self.messages.charger_transaction = transaction_id
        # Far above the load generator's seqNo (a repeated one is not applied).
        self.messages.seq_no = _FIRST_SEQUENCE

    def payload(self) -> dict[str, Any]:
        """The next payload."""
        self.sequence += 1
        self.energy_wh += 2.0
        _, payload = self.messages.meter_values(7000 + self.sequence, self.energy_wh, self.sequence)
        return payload

    @staticmethod
    def samples(payload: dict[str, Any]) -> list[Sample]:
        """The samples of a payload, as the protocol layer makes them."""
        return [
            parse_meter_value(datetime.fromisoformat(mv["timestamp"]), mv)
            for mv in payload["meterValue"]
        ]


def _timed(calls: int, prepare: Callable[[], Any], run: Callable[[Any], Any]) -> list[float]:
    """Microseconds of ``run(prepare())`` per call (``prepare`` not timed)."""
    times: list[float] = []
    for _ in range(calls):
        argument = prepare()
        began = time.perf_counter_ns()
        run(argument)
        times.append((time.perf_counter_ns() - began) / 1e3)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "mean_us": round(statistics.fmean(ordered), 1),
        "p50_us": round(ordered[len(ordered) // 2], 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)], 1),
    }


async def measure(hut: HassUnderTest, frames: int, version: str) -> dict[str, Any]:
    """Time each stage ``frames`` times (cp0 must be connected, booted and charging)."""
    handler = hut.hub.server.handler("cp0")
    assert handler is not None
    assert handler.charger is not None
    session = handler.session
    charger = handler.charger
    connector = charger.connector(1)
    transaction_id = connector.transaction.transaction_id if connector.transaction else None
    source = Frames201(transaction_id) if version == "2.0.1" else Frames(transaction_id)
    action = source.action
    results: dict[str, Any] = {"ocpp": version, "listeners_on_charger": charger.listener_count}

    now = datetime.now(UTC)
    results["decode_frame"] = _summary(_timed(frames, source.text, decode_frame))
    results["schema_validation"] = _summary(
        _timed(
            frames,
            source.payload,
            lambda p: session.schemas.validate_request(action, p),
        )
    )
    results["parse_samples"] = _summary(_timed(frames, source.payload, source.samples))
    detached = Charger("detached")
    detached.apply_start(
        Transaction(
            transaction_id="1",
            connector_id=1,
            id_tag="X",
            meter_start_wh=1_000_000.0,
            started_at=now,
        )
    )
    results["model_update_without_listeners"] = _summary(
        _timed(
            frames,
            lambda: source.samples(source.payload()),
            lambda samples: detached.apply_meter_values(1, "1", samples),
        )
    )
    results["listener_fan_out_nothing_changed"] = _summary(
        _timed(frames, lambda: None, lambda _: charger.notify())
    )
    results["meter_values_fan_out_nothing_changed"] = _summary(
        _timed(frames, lambda: None, lambda _: charger.notify(Topic.METER, connector_id=1))
    )

    power = hut.hass.data[DATA_INSTANCES]["sensor"].get_entity("sensor.cp0_charging_power")
    assert power is not None
    value = [10_000.0]

    def next_power() -> None:
        value[0] += 1
        power._value = value[0]  # type: ignore[attr-defined]

    results["one_state_write_with_subscriber"] = _summary(
        _timed(frames, next_power, lambda _: power.async_write_ha_state())
    )

    writes = [0]

    @callback
    def count(event: Event) -> None:
        writes[0] += 1

    unsubscribe = hut.hass.bus.async_listen("state_changed", count)
    handle_times = _timed(frames, source.payload, lambda p: handler.handle_call(action, p))
    unsubscribe()
    results["handle_call"] = _summary(handle_times)
    results["state_writes_per_handle_call"] = round(writes[0] / frames, 2)
    results["encode_reply"] = _summary(_timed(frames, lambda: [CALLRESULT, "12345", {}], encode))

    answer_times: list[float] = []
    for _ in range(frames):
        payload = source.payload()
        began = time.perf_counter_ns()
        await session._answer_call(str(source.sequence), action, payload)
        answer_times.append((time.perf_counter_ns() - began) / 1e3)
    results["answer_call_including_socket_write"] = _summary(answer_times)
    return results


async def run(frames: int, version: str) -> dict[str, Any]:
    """Start everything, measure, stop everything."""
    with tempfile.TemporaryDirectory(prefix="ocpp-hub-hotpath-") as config_dir:
        hut = await start_hass(Path(config_dir), 1)
        try:
            gen = await LoadGenerator.start(deadline=600)
            try:
                await gen.ask(
                    "subscribe",
                    url=hut.api_url,
                    token=hut.token,
                    mode="entities",
                    power_entities=hut.entity_ids("power"),
                )
                await gen.ask("connect", url=hut.ocpp_url, n=1, ocpp=version)
                await asyncio.sleep(1.0)
                await hut.hass.async_block_till_done()
                results = await measure(hut, frames, version)
                await gen.ask("disconnect")
            finally:
                await gen.close()
        finally:
            await stop_hass(hut)
    return results


def main() -> None:
    """Print the stage timings as a markdown table (and JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--ocpp", choices=VERSIONS, default="1.6")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        results = runner.run(run(args.frames, args.ocpp))
    frame = "TransactionEvent" if args.ocpp == "2.0.1" else "MeterValues"
    print(f"| Stage (one {frame}) | mean µs | p50 µs | p99 µs |")
    print("|---|---:|---:|---:|")
    for stage, figures in results.items():
        if isinstance(figures, dict):
            print(f"| {stage} | {figures['mean_us']} | {figures['p50_us']} | {figures['p99_us']} |")
    print(
        f"\nsubscriptions on the charger: {results['listeners_on_charger']}; state writes per "
        f"MeterValues: {results['state_writes_per_handle_call']}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
