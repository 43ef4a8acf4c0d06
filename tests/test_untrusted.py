"""Security review, second round: what a charger (or a peer posing as one) sends is untrusted.

Log lines, stored state, diagnostics, energy and our own calls must hold up
against hostile or broken data. Each test runs the real central system and a
real (simulated or raw) charger over 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import connect

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import CONF_CARDS, DOMAIN
from custom_components.ocpp_hub.csms.errors import CallFailed, FailureReason
from custom_components.ocpp_hub.csms.server import CentralSystem
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.model.charger import MAX_CONFIGURATION_KEYS
from custom_components.ocpp_hub.model.secrets import is_secret_key
from custom_components.ocpp_hub.registered_charger import RegisteredCharger

from .conftest import CentralSystemUnderTest
from .helpers import charger_device, state_of, wait_for
from .test_hostile import config, server, url  # noqa: F401 - fixtures of the protocol layer


def registered(central_system: CentralSystemUnderTest, identity: str = "wb1") -> RegisteredCharger:
    """The hub's record of a registered charger."""
    hub: OcppHub = central_system.entry.runtime_data
    return hub.chargers[identity]


# ------------------------------------------------------------------ 6: log flood


async def test_malformed_frames_cannot_flood_the_log(
    server: CentralSystem,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """400 malformed frames full of attacker text: one short warning, escaped, then debug."""
    caplog.set_level(logging.INFO)
    junk = "A\n[ERROR] forged line\x1b[31m" + "A" * 50_000
    async with connect(url(server, "intruder"), subprotocols=["ocpp1.6"]) as ws:
        for n in range(200):
            await ws.send(json.dumps([junk, f"m{n}", "Heartbeat", {}]))  # unknown type
            reply = json.loads(await ws.recv())
            assert reply[:3] == [4, f"m{n}", "ProtocolError"]
            assert len(reply[3]) < 200  # the description sent back is bounded too
            await ws.send(json.dumps([2, f"c{n}", junk, {}]))  # an unknown action
            assert json.loads(await ws.recv())[2] == "NotImplemented"
    records = [r for r in caplog.records if r.name.startswith("custom_components.ocpp_hub.csms")]
    warnings = [r for r in records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "malformed" in warnings[0].getMessage()
    refusals = [r for r in records if "answered with" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.INFO]
    for record in records:
        message = record.getMessage()
        assert len(message) < 500
        assert "\n" not in message
        assert "\x1b" not in message
    assert sum(len(r.getMessage()) for r in records) < 2_000


# ------------------------------------------------------------------ 9: secrets

AUTHORIZATION_KEY = "0123456789abcdef0123456789abcdef"
WS_PASSWORD = "my-wallbox-password"
NEW_KEY = "fedcba9876543210fedcba9876543210"


async def test_secret_settings_are_never_stored_logged_or_exported(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Passwords and keys read or written through the actions stay out of state, logs, exports."""
    caplog.set_level(logging.DEBUG)
    behaviour = ChargerBehaviour()
    behaviour.configuration["AuthorizationKey"] = (AUTHORIZATION_KEY, False)
    behaviour.configuration["WebSocketPassword"] = (WS_PASSWORD, False)
    async with SimulatedCharger(central_system.url, "wb1", behaviour=behaviour) as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
        device = charger_device(hass, central_system.entry.entry_id, "wb1")
        assert device is not None

        async def action(service: str, **data: Any) -> Any:
            return await hass.services.async_call(
                DOMAIN,
                service,
                {"device_id": device.id, **data},
                blocking=True,
                return_response=True,
            )

        read = await action("get_configuration")
        assert read["configuration"]["AuthorizationKey"] == "**REDACTED**"
        assert read["configuration"]["AuthEnabled"] == "true"
        await action("change_configuration", key="AuthorizationKey", value=NEW_KEY)
        assert charger.configuration_value("AuthorizationKey") == NEW_KEY
        await action("get_configuration", keys=["WebSocketPassword"])
        # Keys are case-insensitive: a password is one in any spelling.
        lower = await action("get_configuration", keys=["websocketpassword"])
        assert lower["configuration"] == {"WebSocketPassword": "**REDACTED**"}
        await action("change_configuration", key="authorizationkey", value=NEW_KEY.upper())
        assert charger.configuration_value("AuthorizationKey") == NEW_KEY.upper()

        # A card number where the frame log cuts frames (300 characters).
        def authorize(padding: str) -> str:
            return json.dumps([2, "cut", "Authorize", {"p": padding, "idTag": "C3B2A104"}])

        frame = authorize("P" * (296 - authorize("").index("C3B2A104")))
        assert frame.index("C3B2A104") == 296
        await charger.send_raw(frame)
        # A key written with a JSON escape is the same key once parsed.
        await charger.send_raw('[2, "esc", "Authorize", {"\\u0069dTag": "C3B2A104"}]')
        model = registered(central_system).charger
        assert "AuthorizationKey" not in model.configuration
        assert "WebSocketPassword" not in model.configuration
        assert not [key for key in model.configuration if key.lower() == "authorizationkey"]
        assert model.configuration["AuthEnabled"] == "true"
        diagnostics = await get_diagnostics_for_config_entry(
            hass, hass_client, central_system.entry
        )
    assert await hass.config_entries.async_unload(central_system.entry.entry_id)  # saves
    saved = json.dumps(hass_storage)
    exported = json.dumps(diagnostics)
    assert "AuthorizationKey" in exported  # the frames are there, without the values
    # What the integration logs (websockets' own frame dumps at debug level are not ours).
    logged = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.ocpp_hub") and "websockets" not in r.name
    )
    for secret in (AUTHORIZATION_KEY, WS_PASSWORD, NEW_KEY, NEW_KEY.upper(), "C3B2"):
        assert secret not in exported
        assert secret not in saved
        assert secret not in logged


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("SecurityCtrlr.BasicAuthPassword", True),
        ("securityctrlr.basicauthpassword", True),  # names are case-insensitive
        ("SECURITYCTRLR.BASICAUTHPASSWORD", True),
        ("authorizationkey", True),
        ("MqttToken", True),
        ("DevicePin", True),
        ("device_pin", True),
        ("PUK", True),
        ("WebSocketPwd", True),
        ("WebSocketPingInterval", False),  # a short word only as a word of its own
        ("websocketpinginterval", False),
        ("AuthEnabled", False),
        ("OCPPCommCtrlr.HeartbeatInterval", False),
    ],
)
def test_secret_key_names(key: str, secret: bool) -> None:
    """Which settings hold secrets, judged from their names in any case."""
    assert is_secret_key(key) is secret


async def test_configuration_map_is_bounded(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charger reporting new keys at every connection does not grow the stored map."""
    behaviour = ChargerBehaviour()
    model = registered(central_system).charger
    for round_ in range(5):
        for n in range(120):
            behaviour.configuration[f"Junk{round_}_{n}"] = ("x" * 100, False)
        async with SimulatedCharger(central_system.url, "wb1", behaviour=behaviour) as charger:
            await charger.boot()
            first = f"Junk{round_}_0"
            await wait_for(lambda key=first: key in model.configuration)
            await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
        for n in range(120):
            del behaviour.configuration[f"Junk{round_}_{n}"]
    assert len(model.configuration) <= MAX_CONFIGURATION_KEYS
    assert not any(key.startswith("Junk0_") for key in model.configuration)
    assert model.configuration["AuthEnabled"] == "true"


# ------------------------------------------------------------------ 10: energy


async def test_impossible_energy_readings_are_rejected(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1e15 Wh for an unknown transaction and a 4294967295 Wh glitch: ignored, shown, repaired."""
    issue_id = f"energy_rejected_{central_system.entry.entry_id}_wb1"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.meter_values(1, energy_wh=12_000)
        assert state_of(hass, "sensor.garage_energy") == "12.0"
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
        await charger.stop_transaction(424242, 10**15)  # a transaction nobody started
        assert state_of(hass, "sensor.garage_energy") == "12.0"
        await charger.meter_values(1, energy_wh=4_294_967_295)
        assert state_of(hass, "sensor.garage_energy") == "12.0"
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "energy_reading_rejected"
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["reading"] == "4294967.295"
        # A normal reading afterwards carries on from the last good one.
        await charger.meter_values(1, energy_wh=12_500)
        assert state_of(hass, "sensor.garage_energy") == "12.5"
        # A drop that is not to (near) zero is no meter reset: ignored too.
        await charger.meter_values(1, energy_wh=6_000)
        assert state_of(hass, "sensor.garage_energy") == "12.5"
        # A real restart from zero is followed.
        await charger.meter_values(1, energy_wh=100)
        assert state_of(hass, "sensor.garage_energy") == "12.6"
        diagnostics = await get_diagnostics_for_config_entry(
            hass, hass_client, central_system.entry
        )
    garage = next(c for c in diagnostics["chargers"] if c["identity"] == "wb1")
    energy = garage["state"]["connectors"]["1"]["energy"]
    assert energy["rejected"] == 3
    assert energy["last_rejected_wh"] == 6_000
    assert "4294967295" in caplog.text


async def test_a_glitching_meter_does_not_flood_the_log(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """25 impossible readings: two warnings (the 1st and the 10th), the issue counts all."""
    issue_id = f"energy_rejected_{central_system.entry.entry_id}_wb1"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.meter_values(1, energy_wh=12_000)
        for glitch in range(25):
            await charger.meter_values(1, energy_wh=4_294_967_295 - glitch)
        await hass.async_block_till_done()
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "more than it can have delivered" in r.getMessage()
    ]
    assert len(warnings) == 2
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "25"


async def test_unknown_transaction_is_not_folded_into_another_connector(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A StopTransaction nobody started, on a two-connector charger, moves no connector's meter."""
    async with SimulatedCharger(central_system.url, "wb1", connectors=2) as charger:
        await charger.boot()
        await charger.meter_values(1, energy_wh=1_000)
        await charger.meter_values(2, energy_wh=2_000)
        model = registered(central_system).charger
        await wait_for(lambda: model.configuration.get("NumberOfConnectors") == "2")
        await charger.stop_transaction(777, 2_900)  # connector 2's session, lost
        assert model.connector(1).energy.total_wh == 1_000
        assert model.connector(1).energy.last_register_wh == 1_000
        # Connector 2's own next reading counts its energy, once.
        await charger.meter_values(2, energy_wh=2_900)
        assert model.energy_wh == 3_900
        # A transaction that ran (and ended) on connector 2 stays there when stopped again.
        tx = (await charger.start_transaction(2, "TAG", 2_900))["transactionId"]
        await charger.stop_transaction(tx, 3_000)
        await charger.stop_transaction(tx, 3_000)
        assert model.connector(2).energy.total_wh == 3_000
        assert model.connector(1).energy.total_wh == 1_000


# ------------------------------------------------------------------ 11: retry cache


async def test_retry_cache_answers_only_the_same_question(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A reused message id with another action or payload is a new CALL; a true retry is not."""
    start = {
        "connectorId": 1,
        "idTag": "TAG",
        "meterStart": 0,
        "timestamp": "2026-11-01T10:00:00Z",
    }
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        heartbeat = await charger.send_raw(json.dumps([2, "1", "Heartbeat", {}]))
        assert heartbeat is not None
        assert "currentTime" in heartbeat[2]
        started = await charger.send_raw(json.dumps([2, "1", "StartTransaction", start]))
        assert started is not None
        assert started[:2] == [3, "1"]
        transaction_id = started[2]["transactionId"]
        charger_model = registered(central_system).charger
        assert charger_model.connector(1).transaction is not None
        assert charger_model.connector(1).transaction.transaction_id == str(transaction_id)
        # The same id and action with another payload: another transaction.
        other = await charger.send_raw(
            json.dumps([2, "1", "StartTransaction", {**start, "meterStart": 5}])
        )
        assert other is not None
        assert other[2]["transactionId"] == transaction_id + 1
        # A true retry (keys in another order): the same answer, nothing applied twice.
        again = await charger.send_raw(
            json.dumps(
                [2, "1", "StartTransaction", dict(reversed({**start, "meterStart": 5}.items()))]
            )
        )
        assert again == other


# ------------------------------------------------------------------ smaller ones


async def test_not_finite_numbers_are_refused(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """NaN, Infinity and 1e400 are not JSON numbers: a CALL carrying one is refused."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        for number in ("NaN", "Infinity", "1e400"):
            reply = await charger.send_raw(
                f'[2, "n", "StatusNotification", {{"connectorId": {number}, '
                '"status": "Available", "errorCode": "NoError"}]'
            )
            assert reply is not None
            assert reply[:3] == [4, "n", "TypeConstraintViolation"]
        assert "currentTime" in await charger.heartbeat()


@pytest.mark.parametrize("limit", ["NaN", "-Infinity", "1e400", "-6"])
async def test_composite_schedule_with_an_impossible_limit_is_refused(
    server: CentralSystem,  # noqa: F811
    limit: str,
) -> None:
    """A GetCompositeSchedule answer with a NaN (or infinite, or negative) limit is invalid."""
    async with connect(url(server), subprotocols=["ocpp1.6"]) as ws:
        await ws.send(json.dumps([2, "b", "Heartbeat", {}]))
        await ws.recv()
        handler = server.handler("cp1")
        assert handler is not None
        call = asyncio.ensure_future(handler.limit_in_force(1))
        frame = json.loads(await ws.recv())
        assert frame[2] == "GetCompositeSchedule"
        schedule = (
            '{"chargingRateUnit": "A", "chargingSchedulePeriod": '
            f'[{{"startPeriod": 0, "limit": {limit}}}]}}'
        )
        await ws.send(
            f'[3, "{frame[1]}", {{"status": "Accepted", "connectorId": 1, '
            f'"chargingSchedule": {schedule}}}]'
        )
        with pytest.raises(CallFailed) as err:
            await call
    assert err.value.reason is FailureReason.INVALID_RESPONSE


async def test_callerror_from_the_charger_is_bounded(
    server: CentralSystem,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A CALLERROR with a 25 kB code and a 20 kB description becomes a short one-line error."""
    caplog.set_level(logging.DEBUG)
    async with connect(url(server), subprotocols=["ocpp1.6"]) as ws:
        await ws.send(json.dumps([2, "b", "Heartbeat", {}]))
        await ws.recv()
        handler = server.handler("cp1")
        assert handler is not None
        call = asyncio.ensure_future(handler.read_configuration())
        frame = json.loads(await ws.recv())
        assert frame[2] == "GetConfiguration"
        await ws.send(json.dumps([4, frame[1], "Code\n" * 5_000, "Why\n" * 5_000, {}]))
        with pytest.raises(CallFailed) as err:
            await call
    assert err.value.reason is FailureReason.CALL_ERROR
    assert len(str(err.value)) < 300
    assert "\n" not in str(err.value)
    assert all(len(r.getMessage()) < 500 for r in caplog.records)


async def test_a_call_times_out_while_the_charger_does_not_read(
    server: CentralSystem,  # noqa: F811
) -> None:
    """A charger that stops reading cannot hold our call (and those behind it) for ever."""
    server.config.call_timeout = 0.5
    async with connect(url(server), subprotocols=["ocpp1.6"], max_queue=None) as ws:
        await ws.send(json.dumps([2, "b", "Heartbeat", {}]))
        await ws.recv()
        handler = server.handler("cp1")
        assert handler is not None
        handler.session.call_timeout = 0.5
        # Small socket buffers on both sides, and the client stops reading.
        client = ws.transport.get_extra_info("socket")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ours = handler.session.connection.transport.get_extra_info("socket")
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        ws.transport.pause_reading()
        transport = handler.session.connection.transport
        failures: list[Any] = []
        async with asyncio.timeout(20):  # guards against a hang; not a timing assertion
            while transport.get_write_buffer_size() == 0 and len(failures) < 10:
                with pytest.raises(CallFailed) as err:
                    await handler.data_transfer("com.example", data="x" * 60_000)
                failures.append(err.value.reason)
            # Sending itself is stuck now: the next call still ends, by its timeout.
            with pytest.raises(CallFailed) as err:
                await handler.data_transfer("com.example", data="x" * 60_000)
            failures.append(err.value.reason)
        assert transport.get_write_buffer_size() > 0
        assert set(failures) == {FailureReason.TIMEOUT}
        ws.transport.resume_reading()
    await wait_for(lambda: server.handler("cp1") is None, timeout=10)


async def test_learning_ignores_tags_that_are_no_card(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """NoAuthorization (Wallbox, authorization off) and a non-hex idTag are not learnt, not crashed on."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.garage_learn_card"}, blocking=True
        )
        started = await charger.start_transaction(1, "NoAuthorization", 0)
        assert started["idTagInfo"]["status"] == "Invalid"  # locked: no card, no charge
        assert (await charger.authorize("Kitchen door"))["idTagInfo"]["status"] == "Invalid"
        # The window is still open for a real card.
        assert (await charger.authorize("11223344"))["idTagInfo"]["status"] == "Accepted"
    subentry = central_system.entry.subentries[registered(central_system).subentry_id]
    assert [c["uid"] for c in subentry.data[CONF_CARDS]] == ["04A1B2C3", "11223344"]


async def test_free_vend_starts_do_not_pile_up(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """100 plug/unplug cycles with an unanswered start: one start at most, none after locking."""

    def free_vend_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name().endswith("free vend start")]

    behaviour = ChargerBehaviour(responses={"RemoteStartTransaction": "timeout"})
    async with SimulatedCharger(
        central_system.url, "wb1", vendor="Generic Co", model="GC-1", behaviour=behaviour
    ) as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
        controller = registered(central_system).controller
        await controller.async_set_locked(False)
        for _ in range(100):
            await charger.status(1, "Preparing")
            await charger.status(1, "Available")
        await charger.status(1, "Preparing")
        await wait_for(lambda: any(a == "RemoteStartTransaction" for a, _ in charger.received))
        assert len(free_vend_tasks()) <= 1  # each unplug dropped its start
        await controller.async_set_locked(True)
        sent = [a for a, _ in charger.received].count("RemoteStartTransaction")
        await hass.async_block_till_done()
        assert free_vend_tasks() == []
        await charger.status(1, "Available")
        await charger.heartbeat()
        assert [a for a, _ in charger.received].count("RemoteStartTransaction") == sent
