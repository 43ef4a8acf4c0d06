"""OCPP 2.0.1 end to end: a real central system and the 2.0.1 simulated charger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from chargersim import ChargerBehaviour
from chargersim.v201 import SimulatedCharger as Charger201
from custom_components.ocpp_hub.const import DOMAIN
from custom_components.ocpp_hub.csms.errors import CallFailed, FailureReason, OcppErrorCode
from custom_components.ocpp_hub.csms.port import Capability, CommandStatus, LimitRequest, Setting
from custom_components.ocpp_hub.csms.server import VERSIONS
from custom_components.ocpp_hub.csms.v201 import dialect as v201
from custom_components.ocpp_hub.csms.v201.mapping import (
    charging_profile,
    charging_state,
    connector_status,
    limit_in_force,
)
from custom_components.ocpp_hub.csms.v201.metering import parse_meter_value
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.model.charger import Charger, Transaction
from custom_components.ocpp_hub.model.profiles import GENERIC
from custom_components.ocpp_hub.model.schedule import ChargingWindow
from custom_components.ocpp_hub.model.status import ConnectorStatus

from .conftest import CARD_ALICE, CentralSystemUnderTest
from .helpers import charger_device, state_of, wait_for, wait_for_state
from .test_discovery import discovery_flows


def hub(central_system: CentralSystemUnderTest) -> OcppHub:
    """The running hub."""
    hub: OcppHub = central_system.entry.runtime_data
    return hub


def station(
    central_system: CentralSystemUnderTest, identity: str = "wb1", **kwargs: Any
) -> Charger201:
    """A 2.0.1 station (not a Wallbox: those speak 1.6 only)."""
    kwargs.setdefault("vendor", "Alfen BV")
    kwargs.setdefault("model", "NG910-60023")
    return Charger201(central_system.url, identity, **kwargs)


async def booted(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, **kwargs: Any
) -> Charger201:
    """wb1 speaking 2.0.1, booted, its EVSE available, its set-up after boot done."""
    charger = station(central_system, **kwargs)
    await charger.connect()
    assert (await charger.boot())["status"] == "Accepted"
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
    return charger


@pytest.fixture
async def alfen(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> AsyncIterator[Charger201]:
    """A connected 2.0.1 station with default behaviour."""
    charger = await booted(hass, central_system)
    yield charger
    await charger.close()


async def switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Turn a switch on or off the way the frontend does."""
    await hass.services.async_call(
        "switch", "turn_on" if on else "turn_off", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def variable(charger: Charger201, name: str) -> str | None:
    """A device-model variable of the simulated station."""
    return charger.configuration_value(name)


# ------------------------------------------------------------ boot and status


async def test_boot_status_and_version(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """2.0.1 negotiated; the boot fills the device; Occupied is a car plugged in."""
    handler = hub(central_system).server.handler("wb1")
    assert handler is not None
    assert handler.session.connection.subprotocol == "ocpp2.0.1"
    assert state_of(hass, "binary_sensor.garage_connection") == STATE_ON
    assert state_of(hass, "sensor.garage_status") == "available"
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.info is not None
    assert (charger.info.vendor, charger.info.serial) == ("Alfen BV", "SIM-000001")
    await alfen.status(1, "Occupied")
    await wait_for_state(hass, "sensor.garage_status", "preparing")
    assert state_of(hass, "binary_sensor.garage_plugged_in") == STATE_ON
    await alfen.status(1, "Faulted")
    await wait_for_state(hass, "sensor.garage_status", "faulted")
    assert (await alfen.heartbeat())["currentTime"]


async def test_newest_version_preferred(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A station offering both versions gets 2.0.1."""
    charger = station(central_system, subprotocols=["ocpp1.6", "ocpp2.0.1"])
    await charger.connect()
    await charger.boot()
    handler = hub(central_system).server.handler("wb1")
    assert handler is not None
    assert handler.session.connection.subprotocol == "ocpp2.0.1"
    await charger.close()


async def test_unknown_station_pending_then_approved(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Pending at boot (as for 1.6); approved: triggered to boot again, accepted."""
    charger = station(central_system, "carport")
    await charger.connect()
    answer = await charger.boot()
    assert answer["status"] == "Pending"
    reply = await charger.send_raw(
        '[2, "s1", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", '
        '"connectorStatus": "Available", "evseId": 1, "connectorId": 1}]'
    )
    assert reply is not None
    assert reply[:3] == [4, "s1", "SecurityError"]
    await hass.async_block_till_done(wait_background_tasks=True)
    (flow,) = discovery_flows(hass)
    await hass.config_entries.flow.async_configure(flow["flow_id"])
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"name": "Carport", "password_choice": "none"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert await charger.wait_for_call("TriggerMessage") == {"requestedMessage": "BootNotification"}
    await wait_for(
        lambda: charger.last_boot is not None and charger.last_boot["status"] == "Accepted"
    )
    await charger.status(1, "Available")
    await wait_for_state(hass, "sensor.carport_status", "available")
    # Its settings are read by their 2.0.1 names from the first connection on.
    await wait_for_state(hass, "number.carport_meter_value_sample_interval", "60")
    await charger.close()


async def test_diagnostics_show_the_version(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
) -> None:
    """The device's diagnostics name the negotiated version and the station's variables."""
    await async_setup_component(hass, "diagnostics", {})
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    result = await get_diagnostics_for_device(hass, hass_client, central_system.entry, device)
    assert result["protocol"] == "ocpp2.0.1"
    assert result["state"]["configuration"]["AuthCtrlr.LocalAuthorizeOffline"] == "true"


# ------------------------------------------------------------ transactions


async def test_transaction_feeds_session_and_energy(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """Started / Updated / Ended with meter values inside; the charger's text id is kept."""
    await alfen.status(1, "Occupied")
    answer = await alfen.start_transaction(1, CARD_ALICE, meter_start=1_000_000)
    assert answer["idTokenInfo"]["status"] == "Accepted"
    charger = hub(central_system).chargers["wb1"].charger
    transaction = charger.connector(1).transaction
    assert transaction is not None
    assert transaction.transaction_id == alfen.connectors[1].transaction_id
    alfen.connectors[1].status = "Charging"
    await alfen.meter_values(1, energy_wh=1_003_700, power_w=7200)
    await wait_for_state(hass, "sensor.garage_status", "charging")
    assert state_of(hass, "sensor.garage_session_energy") == "3.7"
    assert state_of(hass, "sensor.garage_energy") == "1003.7"
    assert state_of(hass, "sensor.garage_charging_power") == "7200.0"
    alfen.connectors[1].energy_wh = 1_005_000
    await alfen.stop_transaction(1, "Local", id_tag=CARD_ALICE)
    await wait_for_state(hass, "sensor.garage_status", "finishing")
    assert charger.connector(1).transaction is None
    assert state_of(hass, "sensor.garage_last_session_energy") == "5.0"
    assert state_of(hass, "sensor.garage_energy") == "1005.0"


async def test_an_ended_event_whose_started_was_lost_counts_its_energy(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """Only the Ended arrives (its Started lost in an outage): the session still counts
    from the register known before it, not from the Ended's own reading (0 kWh)."""
    await alfen.meter_values(1, energy_wh=4200)  # outside a transaction
    await wait_for_state(hass, "sensor.garage_energy", "4.2")
    now = datetime.now(UTC).isoformat()
    ended = (
        '[2, "e1", "TransactionEvent", {"eventType": "Ended", '
        f'"timestamp": "{now}", "triggerReason": "EVDeparted", "seqNo": 7, '
        '"evse": {"id": 1, "connectorId": 1}, '
        '"transactionInfo": {"transactionId": "lost-1", "stoppedReason": "EVDisconnected"}, '
        f'"meterValue": [{{"timestamp": "{now}", '
        '"sampledValue": [{"value": 9200, "context": "Transaction.End"}]}]}]'
    )
    assert (await alfen.send_raw(ended))[:2] == [3, "e1"]  # type: ignore[index]
    await wait_for_state(hass, "sensor.garage_last_session_energy", "5.0")
    assert state_of(hass, "sensor.garage_energy") == "9.2"


async def test_a_started_event_starts_from_its_own_reading(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """The register moved while nobody watched: the session starts at its Started's reading."""
    await alfen.meter_values(1, energy_wh=4200)  # outside a transaction
    await wait_for_state(hass, "sensor.garage_energy", "4.2")
    await alfen.status(1, "Occupied")
    await alfen.start_transaction(1, CARD_ALICE, meter_start=10_000)
    alfen.connectors[1].energy_wh = 12_000
    await alfen.stop_transaction(1, "Local", id_tag=CARD_ALICE)
    await wait_for_state(hass, "sensor.garage_last_session_energy", "2.0")


async def test_repeated_and_offline_events(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """A seqNo seen before is answered and not applied; an offline event is applied."""
    await alfen.status(1, "Occupied")
    await alfen.start_transaction(1, CARD_ALICE, meter_start=500)
    tx = str(alfen.connectors[1].transaction_id)

    def updated(seq: int, wh: int, offline: bool) -> str:
        return (
            f'[2, "u{seq}", "TransactionEvent", {{"eventType": "Updated", '
            f'"timestamp": "2026-01-01T00:00:0{seq}Z", "triggerReason": "MeterValuePeriodic", '
            f'"seqNo": {seq + 100}, "offline": {str(offline).lower()}, '
            f'"transactionInfo": {{"transactionId": "{tx}"}}, "meterValue": [{{"timestamp": '
            f'"2026-01-01T00:00:0{seq}Z", "sampledValue": [{{"value": {wh}}}]}}]}}]'
        )

    assert (await alfen.send_raw(updated(1, 2500, True)))[:2] == [3, "u1"]  # type: ignore[index]
    await wait_for_state(hass, "sensor.garage_session_energy", "2.0")
    # The same seqNo again (another message id): not applied twice, nor its other value.
    assert (await alfen.send_raw(updated(1, 9500, False).replace("u1", "u9")))[:2] == [3, "u9"]  # type: ignore[index]
    assert state_of(hass, "sensor.garage_session_energy") == "2.0"


async def test_authorize_cards(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """Locked: the owner's card (as printed, byte 0 first) accepted, another refused."""
    await switch(hass, "switch.garage_lock", True)
    assert (await alfen.authorize(CARD_ALICE))["idTokenInfo"]["status"] == "Accepted"
    assert (await alfen.authorize("DEADBEEF"))["idTokenInfo"]["status"] == "Invalid"


async def test_reports_are_events_and_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
) -> None:
    """NotifyEvent and SecurityEventNotification fire the Charger report event and are
    in the device's diagnostics; DataTransfer is answered as in 1.6."""
    entity = "event.garage_charger_report"
    assert state_of(hass, entity) == "unknown"
    assert await alfen.notify_event("EVSE", "Problem", "true\x1b[2J") == {}
    await wait_for(lambda: hass.states.get(entity).attributes.get("event_type") == "event")  # type: ignore[union-attr]
    state = hass.states.get(entity)
    assert state is not None
    # What the charger says, printable only (no terminal escapes in a dashboard).
    assert state.attributes["name"] == "EVSE.Problem"
    assert state.attributes["value"] == "true [2J"
    assert await alfen.security_event("SettingSystemTime") == {}
    await wait_for(lambda: hass.states.get(entity).attributes.get("event_type") == "security")  # type: ignore[union-attr]
    assert hass.states.get(entity).attributes["name"] == "SettingSystemTime"  # type: ignore[union-attr]
    await async_setup_component(hass, "diagnostics", {})
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    result = await get_diagnostics_for_device(hass, hass_client, central_system.entry, device)
    assert [(r["kind"], r["name"]) for r in result["last_reports"]] == [
        ("event", "EVSE.Problem"),
        ("security", "SettingSystemTime"),
    ]
    assert (await alfen.data_transfer("com.example"))["status"] == "UnknownVendorId"
    await alfen.meter_values(1, energy_wh=4200)  # outside a transaction: MeterValues
    await wait_for_state(hass, "sensor.garage_energy", "4.2")


# ------------------------------------------------------------ commands


async def test_meter_interval_is_a_variable(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """The meter value interval entity is SampledDataCtrlr.TxUpdatedInterval."""
    entity = "number.garage_meter_value_sample_interval"
    assert state_of(hass, entity) == "60"
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: entity, "value": 30}, blocking=True
    )
    assert variable(alfen, "SampledDataCtrlr.TxUpdatedInterval") == "30"
    await wait_for_state(hass, entity, "30")


async def test_lock_with_set_variables(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """The lock is AuthCtrlr.Enabled, read back; offline protection set at boot."""
    assert state_of(hass, "sensor.garage_offline_protection") == "active"
    assert variable(alfen, "AuthCtrlr.OfflineTxForUnknownIdEnabled") == "false"
    assert variable(alfen, "AuthCtrlr.LocalAuthorizeOffline") == "true"
    await switch(hass, "switch.garage_lock", True)
    assert variable(alfen, "AuthCtrlr.Enabled") == "true"
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    await switch(hass, "switch.garage_lock", False)
    assert variable(alfen, "AuthCtrlr.Enabled") == "false"
    assert state_of(hass, "switch.garage_lock") == STATE_OFF
    sets = [p for a, p in alfen.received if a == "SetVariables"]
    assert sets[-1]["setVariableData"] == [
        {
            "attributeValue": "false",
            "component": {"name": "AuthCtrlr"},
            "variable": {"name": "Enabled"},
        }
    ]
    assert any(a == "SendLocalList" for a, _ in alfen.received)
    assert CARD_ALICE in alfen.local_list or "C3B2A104" in alfen.local_list


async def test_current_limit_verified(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """A TxDefaultProfile on evseId 0, checked with GetCompositeSchedule."""
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_current_limit", "value": 16},
        blocking=True,
    )
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    (payload,) = [p for a, p in alfen.received if a == "SetChargingProfile"]
    assert payload["evseId"] == 0
    profile = payload["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 16
    assert alfen.current_limit(1) == 16
    assert await alfen.wait_for_call("GetCompositeSchedule") == {
        "evseId": 1,
        "duration": 60,
        "chargingRateUnit": "A",
    }


async def test_current_limit_ignored(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Accepted but not in force: the same verification says so."""
    charger = await booted(
        hass, central_system, behaviour=ChargerBehaviour(ignore_charging_limits=True)
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_current_limit", "value": 10},
        blocking=True,
    )
    await wait_for_state(hass, "sensor.garage_current_limit_status", "not_applied")
    await charger.close()


async def test_start_and_stop(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """RequestStart with our Central idToken; RequestStop by the charger's transaction id."""
    await alfen.status(1, "Occupied")
    await switch(hass, "switch.garage_charge", True)
    request = await alfen.wait_for_call("RequestStartTransaction")
    assert request["idToken"] == {"idToken": "HOMEASSISTANT", "type": "Central"}
    assert request["evseId"] == 1
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    tx = alfen.connectors[1].transaction_id
    assert isinstance(tx, str)
    assert not hub(central_system).chargers["wb1"].charger.owner.decisions
    await switch(hass, "switch.garage_charge", False)
    assert await alfen.wait_for_call("RequestStopTransaction") == {"transactionId": tx}
    await wait_for_state(hass, "switch.garage_charge", STATE_OFF)


async def test_reset_outcome(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """Reset OnIdle, the station goes away and boots again: succeeded."""
    charger = await booted(hass, central_system)
    charger.spawn(charger.run_forever(min_backoff=0.05, max_backoff=0.2, boot_on_reconnect=True))
    boots = charger.boots
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.garage_reboot"}, blocking=True
    )
    assert await charger.wait_for_call("Reset") == {"type": "OnIdle"}
    await wait_for(lambda: charger.boots > boots)
    await wait_for_state(hass, "sensor.garage_last_reboot", "succeeded")
    await charger.close()


async def test_availability_and_unlock(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """ChangeAvailability per EVSE; UnlockConnector of the EVSE's connector."""
    await switch(hass, "switch.garage_available", False)
    request = await alfen.wait_for_call("ChangeAvailability")
    assert request["operationalStatus"] == "Inoperative"
    await wait_for_state(hass, "sensor.garage_status", "inoperative")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.garage_unlock_connector"}, blocking=True
    )
    assert await alfen.wait_for_call("UnlockConnector") == {"evseId": 1, "connectorId": 1}


async def test_start_charging_without_a_car(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """No car plugged in: the station waits for one, then starts nothing; the EVSE stays free.

    Unlike 1.6 there is no Preparing while it waits: a 2.0.1 EVSE is Available
    until a car is plugged in (Occupied). Asked again with the car coming: it charges.
    """
    behaviour = ChargerBehaviour()
    behaviour.configuration["TxCtrlr.EVConnectionTimeOut"] = ("0.5", False)
    charger = await booted(hass, central_system, behaviour=behaviour)
    await switch(hass, "switch.garage_charge", True)
    assert (await charger.wait_for_call("RequestStartTransaction"))["evseId"] == 1
    await wait_for(lambda: charger.connectors[1].remote_start_pending)
    await wait_for(lambda: not charger.connectors[1].remote_start_pending)
    assert state_of(hass, "sensor.garage_status") == "available"
    assert state_of(hass, "switch.garage_charge") == STATE_OFF
    assert state_of(hass, "sensor.garage_charging_power") == "0.0"
    assert hub(central_system).chargers["wb1"].charger.connector(1).transaction is None
    behaviour.configuration["TxCtrlr.EVConnectionTimeOut"] = ("30", False)
    await switch(hass, "switch.garage_charge", True)
    await wait_for(lambda: charger.connectors[1].remote_start_pending)
    await charger.status(1, "Occupied")  # the car
    await wait_for_state(hass, "switch.garage_charge", STATE_ON)
    await wait_for_state(hass, "sensor.garage_status", "charging")
    await charger.close()


@pytest.mark.parametrize("tethered", [True, False])
async def test_unlock_a_tethered_station(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, tethered: bool
) -> None:
    """2.0.1 has no NotSupported for UnlockConnector: a fixed cable answers UnlockFailed.

    The owner is told the charger refused; a socket releases the cable.
    """
    charger = await booted(hass, central_system, tethered=tethered)
    if tethered:
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                "button", "press", {ATTR_ENTITY_ID: "button.garage_unlock_connector"}, blocking=True
            )
        assert str(refused.value) == "Charger Garage refused UnlockConnector (UnlockFailed)"
    else:
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.garage_unlock_connector"}, blocking=True
        )
    assert await charger.wait_for_call("UnlockConnector") == {"evseId": 1, "connectorId": 1}
    await charger.close()


# ------------------------------------------------------------ hostile frames


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('[7, "h1", "Heartbeat", {}]', "MessageTypeNotSupported"),
        ('[2, "h1", "Heartbeat"]', "RpcFrameworkError"),
        ('[2, 17, "Heartbeat", {}]', "RpcFrameworkError"),
        ('[2, "h1", "BootNotification", {"reason": "PowerUp"}]', "OccurrenceConstraintViolation"),
        ('[2, "h1", "Heartbeat", {"extra": 1}]', "FormatViolation"),
        ('[2, "h1", "StartTransaction", {}]', "NotImplemented"),
        ('[2, "h1", "NotifyEVChargingNeeds", {}]', "NotSupported"),
        ('[2, "h1", "NotifyReport", {}]', "OccurrenceConstraintViolation"),
    ],
)
async def test_hostile_frame_answered_in_201_terms(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
    frame: str,
    code: str,
) -> None:
    """Each bad frame gets the 2.0.1 CALLERROR code; the connection stays up."""
    reply = await alfen.send_raw(frame)
    assert reply is not None
    assert reply[0] == 4
    assert reply[2] == code
    assert (await alfen.heartbeat())["currentTime"]
    assert alfen.connected


# ------------------------------------------------------------ the port's contract


async def test_port_commands_in_201_terms(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """What 2.0.1 does not have says so; the rest becomes 2.0.1 calls."""
    handler = hub(central_system).server.handler("wb1")
    assert handler is not None
    assert handler.supports(Capability.DATA_TRANSFER)
    assert handler.supports(Capability.CONFIGURATION_KEYS)  # variables by name
    assert handler.supports(Capability.FIRMWARE)  # UpdateFirmware, GetLog
    for command in (
        handler.change_configuration("AuthEnabled", "true"),  # a 1.6 key: no variable
        handler.write_setting(Setting.FREE_VEND_ID_TAG, "x"),
        handler.remote_stop(123456),
    ):
        with pytest.raises(CallFailed) as failed:
            await command
        assert failed.value.reason in (FailureReason.NOT_SUPPORTED, FailureReason.REJECTED)
    assert await handler.read_settings([Setting.FREE_VEND_ID_TAG]) == {}
    answer = await handler.data_transfer("com.example", "hello", "data")
    assert answer["status"] == "Accepted"
    await handler.trigger_message("StatusNotification", 1)
    assert await alfen.wait_for_call("TriggerMessage") == {
        "requestedMessage": "StatusNotification",
        "evse": {"id": 1},
    }
    assert await handler.set_available(0, True) is CommandStatus.ACCEPTED
    assert await alfen.wait_for_call("ChangeAvailability") == {"operationalStatus": "Operative"}


async def test_settings_refused_and_limit_cleared(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A refused variable raises (rejected or unknown); our profile is cleared by its id."""
    behaviour = ChargerBehaviour(responses={"SetVariables": "Rejected"})
    charger = await booted(hass, central_system, behaviour=behaviour)
    handler = hub(central_system).server.handler("wb1")
    assert handler is not None
    with pytest.raises(CallFailed) as failed:
        await handler.write_setting(Setting.METER_INTERVAL, "30")
    assert failed.value.reason is FailureReason.REJECTED
    behaviour.responses["SetVariables"] = "UnknownVariable"
    with pytest.raises(CallFailed) as failed:
        await handler.write_setting(Setting.CONNECTION_TIMEOUT, "30")
    assert failed.value.reason is FailureReason.NOT_SUPPORTED
    assert await handler.set_limit(LimitRequest(amps=10)) == 10
    assert await handler.clear_limit() is True
    assert await charger.wait_for_call("ClearChargingProfile") == {"chargingProfileId": 1}
    assert await handler.clear_limit() is False  # none left: Unknown
    assert await handler.limit_in_force(1) == 32  # the station's own ceiling
    await charger.close()


async def test_late_and_unknown_transaction_events(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """An event after the end changes nothing; an Ended never started is recorded as a session."""
    await alfen.status(1, "Occupied")
    await alfen.start_transaction(1, CARD_ALICE, meter_start=100)
    tx = str(alfen.connectors[1].transaction_id)
    await alfen.stop_transaction(1, "EVDisconnected")
    charger = hub(central_system).chargers["wb1"].charger
    last = charger.connector(1).last_transaction
    assert last is not None
    assert last.transaction_id == tx

    def event(kind: str, transaction: str, seq: int) -> str:
        return (
            f'[2, "late{seq}", "TransactionEvent", {{"eventType": "{kind}", '
            '"timestamp": "2026-01-01T00:00:00Z", "triggerReason": "EVDeparted", '
            f'"seqNo": {seq}, "transactionInfo": {{"transactionId": "{transaction}"}}}}]'
        )

    assert (await alfen.send_raw(event("Updated", tx, 50)))[:2] == [3, "late50"]  # type: ignore[index]
    assert charger.connector(1).transaction is None
    assert (await alfen.send_raw(event("Ended", "never-seen", 51)))[:2] == [3, "late51"]  # type: ignore[index]
    other = charger.connector(1).last_transaction
    assert other is not None
    assert other.transaction_id == "never-seen"
    assert charger.connector(1).transaction is None


def test_registered_version() -> None:
    """2.0.1 is in the server's registry with its own dialect and the standard variables."""
    version = VERSIONS["ocpp2.0.1"]
    assert version.dialect is v201.DIALECT
    assert version.dialect.spell(OcppErrorCode.RPC_FRAMEWORK_ERROR) == "RpcFrameworkError"
    assert {"TransactionEvent", "NotifyEvent"} <= version.handled_actions
    assert version.setting_name(Setting.AUTHORIZATION_REQUIRED, GENERIC) == "AuthCtrlr.Enabled"
    assert version.setting_name(Setting.METER_INTERVAL, GENERIC) == (
        "SampledDataCtrlr.TxUpdatedInterval"
    )
    assert version.setting_name(Setting.FREE_VEND_ID_TAG, GENERIC) is None


# ------------------------------------------------------------ 2.0.1 payloads <-> model


def test_sampled_values_units_and_multipliers() -> None:
    """Numbers with a unit of measure: kWh and multipliers become Wh; absurd ones are skipped."""
    when = datetime(2026, 1, 1, tzinfo=UTC)

    def energy(item: dict[str, Any]) -> float | None:
        return parse_meter_value(when, {"timestamp": "", "sampledValue": [item]}).energy_wh

    assert energy({"value": 1.5, "unitOfMeasure": {"unit": "kWh"}}) == 1500
    assert energy({"value": 12, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}) == 12000
    assert energy({"value": 7}) == 7  # no measurand: the energy register, in Wh
    assert energy({"value": 7, "unitOfMeasure": {"multiplier": 99}}) is None
    assert energy({"value": 10**400}) is None  # a JSON integer beyond any float


async def test_absurd_reading_does_not_lose_the_end_of_a_session(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """An Ended whose reading is a number beyond any float still ends the session."""
    await alfen.status(1, "Occupied")
    await alfen.start_transaction(1, CARD_ALICE, meter_start=1_000)
    tx = alfen.connectors[1].transaction_id
    reply = await alfen.send_raw(
        '[2, "end", "TransactionEvent", {"eventType": "Ended", '
        '"timestamp": "2026-01-01T00:00:00Z", "triggerReason": "EVDeparted", "seqNo": 90, '
        f'"transactionInfo": {{"transactionId": "{tx}", "stoppedReason": "EVDisconnected"}}, '
        '"meterValue": [{"timestamp": "2026-01-01T00:00:00Z", '
        '"sampledValue": [{"value": 1' + "0" * 400 + "}]}]}]"
    )
    assert reply is not None
    assert reply[:2] == [3, "end"]
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.connector(1).transaction is None
    assert state_of(hass, "sensor.garage_energy") == "1.0"  # the absurd reading is not kept


def test_statuses() -> None:
    """Connector statuses and charging states as the model's statuses."""
    charger = Charger("x")
    connector = charger.connector(1)
    assert connector_status("Reserved", connector) is ConnectorStatus.RESERVED
    assert connector_status("Unavailable", connector) is ConnectorStatus.INOPERATIVE
    assert connector_status("Occupied", connector) is ConnectorStatus.PREPARING
    connector.status = ConnectorStatus.SUSPENDED_EV
    assert connector_status("Occupied", connector) is ConnectorStatus.SUSPENDED_EV
    assert charging_state(None, ended=False) is None
    assert charging_state("Idle", ended=True) is None  # unplugged: its status follows
    assert charging_state("EVConnected", ended=True) is ConnectorStatus.FINISHING
    assert charging_state("SuspendedEVSE", ended=False) is ConnectorStatus.SUSPENDED_EVSE


def test_limits_and_profiles() -> None:
    """The composite schedule's limit; a weekly window; a TxProfile by the charger's id."""
    assert limit_in_force({"status": "Accepted"}) is None
    with pytest.raises(CallFailed):
        limit_in_force({"schedule": {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": -1}]}})
    charger = Charger("x")
    window = ChargingWindow(frozenset({0}), time(22), time(6), 16, 0)
    now = datetime(2026, 1, 7, 12, tzinfo=UTC)
    evse, profile = charging_profile(charger, LimitRequest(amps=10, window=window, now=now))
    assert evse == 0
    assert profile["chargingProfileKind"] == "Recurring"
    assert profile["recurrencyKind"] == "Weekly"
    assert profile["chargingSchedule"][0]["startSchedule"].startswith("2026-01-05")
    charger.profile = replace(GENERIC, limit_as_tx_profile=True)
    charger.apply_start(
        Transaction(
            transaction_id="tx-abc",
            connector_id=1,
            id_tag="",
            meter_start_wh=0,
            started_at=now,
        )
    )
    evse, profile = charging_profile(charger, LimitRequest(amps=10, phases=1))
    assert evse == 1
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == "tx-abc"
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["numberPhases"] == 1


# ------------------------------------------------------- firmware and diagnostics


@pytest.mark.parametrize(
    ("kind", "sent", "shown"),
    [
        ("firmware", "DownloadScheduled", "Downloading"),
        ("firmware", "DownloadPaused", "Downloading"),
        ("firmware", "SignatureVerified", "Downloaded"),
        ("firmware", "InvalidSignature", "DownloadFailed"),
        ("firmware", "InstallScheduled", "Installing"),
        ("firmware", "InstallRebooting", "Installing"),
        ("firmware", "InstallVerificationFailed", "InstallationFailed"),
        ("firmware", "Installed", "Installed"),
        ("diagnostics", "BadMessage", "UploadFailed"),
        ("diagnostics", "PermissionDenied", "UploadFailed"),
        ("diagnostics", "NotSupportedOperation", "UploadFailed"),
        ("diagnostics", "UploadFailure", "UploadFailed"),
        ("diagnostics", "AcceptedCanceled", "Uploading"),
        ("diagnostics", "Uploaded", "Uploaded"),
    ],
)
async def test_201_statuses_in_16_words(
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
    kind: str,
    sent: str,
    shown: str,
) -> None:
    """A FirmwareStatus- or LogStatusNotification shows the status a 1.6 charger would give.

    The 2.0.1-only statuses become the 1.6 status of their phase.
    """
    send = alfen.firmware_status if kind == "firmware" else alfen.diagnostics_status
    assert await send(sent) == {}
    model = hub(central_system).chargers["wb1"].charger
    assert getattr(model, f"{kind}_status") == shown


@pytest.mark.parametrize("action", ["UpdateFirmware", "GetLog"])
async def test_201_firmware_or_log_refused(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, action: str
) -> None:
    """A refused UpdateFirmware or GetLog is the action's translated error; no status follows."""
    charger = await booted(
        hass, central_system, behaviour=ChargerBehaviour(responses={action: "Rejected"})
    )
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    service = "update_firmware" if action == "UpdateFirmware" else "get_diagnostics"
    with pytest.raises(HomeAssistantError, match=f"Garage refused {action}"):
        await hass.services.async_call(
            DOMAIN,
            service,
            {"device_id": device.id, "location": "https://example.com/file"},
            blocking=True,
            return_response=service == "get_diagnostics",
        )
    await asyncio.sleep(0.3)
    model = hub(central_system).chargers["wb1"].charger
    assert (model.firmware_status, model.diagnostics_status) == (None, None)
    await charger.close()
