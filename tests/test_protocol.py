"""The wire: handshake, passwords, malformed frames, replaced connections, our calls."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import CONF_PING_INTERVAL
from custom_components.ocpp_hub.csms.errors import CallFailed, FailureReason
from custom_components.ocpp_hub.csms.handshake import basic_credentials, identity_from_path
from custom_components.ocpp_hub.hub import OcppHub

from .conftest import BOTH_VERSIONS, PASSWORD, CentralSystemUnderTest, SimVersion
from .helpers import state_of, wait_for_state


def hub_of(central_system: CentralSystemUnderTest) -> OcppHub:
    """The running hub of the central system under test."""
    hub: OcppHub = central_system.entry.runtime_data
    return hub


# ---------------------------------------------------------------- handshake


@pytest.mark.parametrize(
    ("path", "prefix", "identity"),
    [
        ("/wb1", "", "wb1"),
        ("/ws/wb1/wb1", "", "wb1"),  # identity typed into the URL too: last segment wins
        ("/wb1/", "", "wb1"),
        ("/Wallbox%20Garage", "", "Wallbox Garage"),
        ("/wb1?x=1", "", "wb1"),
        ("/ocpp/wb1", "ocpp", "wb1"),
        ("/other/wb1", "ocpp", None),
        ("/", "", None),
        ("/..", "", None),
        ("/" + "x" * 49, "", None),
        ("/" + "x" * 48, "", "x" * 48),
        ("/caf%C3%A9", "", None),  # not ASCII
        ("/a%0Ab", "", None),  # control character
        ("/a%2Fb", "", None),  # a slash smuggled in
    ],
)
def test_identity_from_path(path: str, prefix: str, identity: str | None) -> None:
    """The identity is the last path segment, URL-decoded, printable ASCII, at most 48."""
    assert identity_from_path(path, prefix) == identity


async def test_refused_identity_gets_400(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A path without an acceptable identity is refused before the websocket opens."""
    with pytest.raises(InvalidStatus) as err:
        await connect(central_system.url + "x" * 49, subprotocols=["ocpp1.6"])
    assert err.value.response.status_code == 400


async def test_password_required(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """wb2 has a password: missing or wrong gets HTTP 401, logged once, never the password."""
    caplog.set_level(logging.INFO)
    for password in (None, "wrong password", "wrong password"):
        charger = SimulatedCharger(central_system.url, "wb2", password=password)
        with pytest.raises(InvalidStatus) as err:
            await charger.connect()
        assert err.value.response.status_code == 401
        assert "Basic" in err.value.response.headers["WWW-Authenticate"]
    refusals = [r for r in caplog.records if "HTTP 401" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING, logging.WARNING]  # once per kind
    assert "wrong password" not in caplog.text
    assert state_of(hass, "binary_sensor.driveway_connection") == STATE_OFF

    async with SimulatedCharger(central_system.url, "wb2", password=PASSWORD) as charger:
        assert (await charger.boot())["status"] == "Accepted"
        await wait_for_state(hass, "binary_sensor.driveway_connection", STATE_ON)
    assert PASSWORD not in caplog.text


def test_basic_credentials_parsing() -> None:
    """Malformed Authorization headers are treated as no credentials."""
    from websockets.datastructures import Headers

    token = base64.b64encode(b"wb2:pa:ss").decode()
    assert basic_credentials(Headers({"Authorization": f"Basic {token}"})) == ("wb2", "pa:ss")
    for value in ("Bearer abc", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"x").decode()):
        assert basic_credentials(Headers({"Authorization": value})) is None
    assert basic_credentials(Headers()) is None


async def test_no_subprotocol_is_ocpp16(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A charger that offers no subprotocol is served as 1.6; one offering only 2.1 is refused."""
    caplog.set_level(logging.INFO)
    async with SimulatedCharger(central_system.url, "wb1", subprotocols=[]) as charger:
        assert (await charger.boot())["status"] == "Accepted"
    assert "offered no subprotocol" in caplog.text
    with pytest.raises(InvalidStatus) as err:
        await connect(central_system.url + "wb1", subprotocols=["ocpp2.1"])
    assert err.value.response.status_code == 400


# ---------------------------------------------------------------- malformed frames


def _in(v16: str, v201: str | None = None) -> dict[str, str]:
    """A frame or a code in each version's words (the same in both unless ``v201`` is given)."""
    return {"ocpp1.6": v16, "ocpp2.0.1": v16 if v201 is None else v201}


FORMAT = _in("FormationViolation", "FormatViolation")
RPC = _in("ProtocolError", "RpcFrameworkError")
OCCURRENCE = _in("OccurenceConstraintViolation", "OccurrenceConstraintViolation")


@BOTH_VERSIONS
@pytest.mark.parametrize(
    ("frame", "expected_id", "code"),
    [
        (_in("this is not json"), "-1", FORMAT),
        (_in('{"an": "object"}'), "-1", FORMAT),
        (_in("[]"), "-1", FORMAT),
        (_in("[2]"), "-1", RPC),
        (_in('[2, 17, "Heartbeat", {}]'), "-1", RPC),  # id must be a string
        # unknown message type
        (_in('[9, "m1", "Heartbeat", {}]'), "m1", _in("ProtocolError", "MessageTypeNotSupported")),
        (_in('[2, "m2", "Heartbeat"]'), "m2", RPC),  # missing payload
        (_in('[2, "m3", "Heartbeat", []]'), "m3", FORMAT),  # payload not an object
        (_in('[2, "m4", "FlyToTheMoon", {}]'), "m4", _in("NotImplemented")),
        # a CSMS -> charger action
        (_in('[2, "m5", "Reset", {"type": "Hard"}]'), "m5", _in("NotSupported")),
        (
            _in(
                '[2, "m6", "StatusNotification", {"connectorId": 1}]',
                '[2, "m6", "StatusNotification", {"evseId": 1}]',
            ),
            "m6",
            OCCURRENCE,
        ),
        (
            _in(
                '[2, "m7", "StatusNotification", {"connectorId": "one", "status": "Available", '
                '"errorCode": "NoError"}]',
                '[2, "m7", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", '
                '"connectorStatus": "Available", "evseId": "one", "connectorId": 1}]',
            ),
            "m7",
            _in("TypeConstraintViolation"),
        ),
        (
            _in(
                '[2, "m8", "StatusNotification", {"connectorId": 1, "status": "Sleeping", '
                '"errorCode": "NoError"}]',
                '[2, "m8", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", '
                '"connectorStatus": "Sleeping", "evseId": 1, "connectorId": 1}]',
            ),
            "m8",
            _in("PropertyConstraintViolation"),
        ),
        (_in('[2, "m9", "Heartbeat", {"extra": 1}]'), "m9", FORMAT),
        (
            _in(
                '[2, "m10", "Authorize", {"idTag": "' + "A" * 21 + '"}]',
                '[2, "m10", "Authorize", {"idToken": {"idToken": "'
                + "A" * 37
                + '", "type": "ISO14443"}}]',
            ),
            "m10",
            _in("TypeConstraintViolation"),
        ),
    ],
)
async def test_malformed_frame_gets_callerror(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    sim_version: SimVersion,
    *,
    frame: dict[str, str],
    expected_id: str,
    code: dict[str, str],
) -> None:
    """Each malformed frame gets the CALLERROR OCPP-J names; the connection stays up."""
    async with sim_version.simulator(central_system.url, "wb1") as charger:
        await charger.boot()
        reply = await charger.send_raw(frame[sim_version.name])
        assert reply is not None
        assert reply[:3] == [4, expected_id, code[sim_version.name]]
        assert isinstance(reply[3], str)
        assert reply[4] == {}
        # Still connected and served.
        assert "currentTime" in await charger.heartbeat()
        assert state_of(hass, "binary_sensor.garage_connection") == STATE_ON


@BOTH_VERSIONS
async def test_binary_frame_and_unexpected_result(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """A binary frame is answered; a CALLRESULT nobody asked for is ignored."""
    async with sim_version.simulator(central_system.url, "wb1") as charger:
        await charger.boot()
        reply = await charger.send_raw(b"\x00\x01binary")
        assert reply is not None
        assert reply[:3] == [4, "-1", FORMAT[sim_version.name]]
        assert await charger.send_raw('[3, "never-sent", {}]', expect_reply=False) is None
        assert (
            await charger.send_raw('[4, "never-sent", "GenericError", "", {}]', expect_reply=False)
            is None
        )
        assert "currentTime" in await charger.heartbeat()


async def test_repeated_call_is_answered_once_and_applied_once(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A retried StartTransaction (same message id) gets the same answer, one transaction."""
    frame = json.dumps(
        [
            2,
            "retry-1",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG",
                "meterStart": 0,
                "timestamp": "2026-11-01T10:00:00Z",
            },
        ]
    )
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        first = await charger.send_raw(frame)
        second = await charger.send_raw(frame)
        assert first == second
        assert first is not None
        following = await charger.start_transaction(1, "TAG", 0)
        assert following["transactionId"] == first[2]["transactionId"] + 1


# ---------------------------------------------------------------- connections


async def test_second_connection_replaces_the_first(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Same identity again: the old socket is closed, one device, still connected."""
    first = SimulatedCharger(central_system.url, "wb1")
    await first.connect()
    await first.boot()
    second = SimulatedCharger(central_system.url, "wb1")
    await second.connect()
    await first.wait_closed(timeout=5)
    assert (await second.boot())["status"] == "Accepted"
    await second.status(1, "Charging")
    assert state_of(hass, "binary_sensor.garage_connection") == STATE_ON
    assert state_of(hass, "sensor.garage_status") == "charging"
    assert len(hub_of(central_system).server.handlers) == 1
    await second.close()
    await first.close()
    await wait_for_state(hass, "binary_sensor.garage_connection", STATE_OFF)
    assert hub_of(central_system).server.handlers == {}


async def test_unload_closes_every_connection(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Unloading the entry closes the chargers' sockets and frees the port; reload works."""
    charger = SimulatedCharger(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()
    assert await hass.config_entries.async_unload(central_system.entry.entry_id)
    await charger.wait_closed(timeout=5)
    with pytest.raises(ConnectionRefusedError):
        await connect(central_system.url + "wb1", subprotocols=["ocpp1.6"], open_timeout=2)
    assert await hass.config_entries.async_setup(central_system.entry.entry_id)
    async with SimulatedCharger(central_system.url, "wb1") as again:
        assert (await again.boot())["status"] == "Accepted"
    await charger.close()


@pytest.fixture
def entry_options() -> dict[str, int]:
    """Fast pings so that a dead connection is noticed within the test."""
    return {CONF_PING_INTERVAL: 1}


async def test_dead_connection_is_closed_by_ping(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charger that stops answering pings is shown disconnected within a ping timeout."""
    async with connect(central_system.url + "wb1", subprotocols=["ocpp1.6"]) as ws:
        await ws.send(json.dumps([2, "b", "Heartbeat", {}]))
        await ws.recv()
        await wait_for_state(hass, "binary_sensor.garage_connection", STATE_ON)
        # Freeze the client: it no longer reads, so it no longer answers pings.
        ws.transport.pause_reading()
        await wait_for_state(hass, "binary_sensor.garage_connection", STATE_OFF, timeout=10)
        ws.transport.resume_reading()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


# ---------------------------------------------------------------- our calls


async def test_calls_go_one_at_a_time_and_report_their_outcome(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """One request in flight; later ones wait in order; each outcome reaches the caller."""
    behaviour = ChargerBehaviour(
        responses={
            "ClearCache": "timeout",
            "TriggerMessage": "Rejected",
            "GetDiagnostics": "NotImplemented",
        }
    )
    async with SimulatedCharger(central_system.url, "wb1", behaviour=behaviour) as charger:
        await charger.boot()
        await charger.wait_for_call("GetConfiguration")
        handler = hub_of(central_system).server.handler("wb1")
        assert handler is not None
        session = handler.session
        slow = asyncio.ensure_future(session.call("ClearCache", {}, timeout=0.5))
        second = asyncio.ensure_future(handler.trigger_message("Heartbeat"))
        third = asyncio.ensure_future(
            session.call("GetDiagnostics", {"location": "ftp://127.0.0.1/"})
        )
        await charger.wait_for_call("ClearCache")
        await asyncio.sleep(0.2)
        # The charger has not answered ClearCache: nothing else was sent meanwhile.
        assert [a for a, _ in charger.received][-1] == "ClearCache"
        with pytest.raises(CallFailed) as err:
            await slow
        assert err.value.reason is FailureReason.TIMEOUT
        with pytest.raises(CallFailed) as err:
            await second
        assert err.value.reason is FailureReason.REJECTED
        with pytest.raises(CallFailed) as err:
            await third
        assert err.value.reason is FailureReason.NOT_SUPPORTED
        assert [a for a, _ in charger.received][-3:] == [
            "ClearCache",
            "TriggerMessage",
            "GetDiagnostics",
        ]
        pending = asyncio.ensure_future(session.call("ClearCache", {}, timeout=30))
        await charger.wait_for_call("ClearCache")
    with pytest.raises(CallFailed) as err:
        await pending
    assert err.value.reason is FailureReason.OFFLINE
    with pytest.raises(CallFailed) as err:
        await session.call("ClearCache", {})
    assert err.value.reason is FailureReason.OFFLINE
