"""OCPP 2.0.1 variables through the raw configuration actions, and the report of them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import logging
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from chargersim import ChargerBehaviour
from chargersim.v201 import SimulatedCharger as Charger201
from custom_components.ocpp_hub.const import DOMAIN
from custom_components.ocpp_hub.csms.errors import CallFailed, FailureReason
from custom_components.ocpp_hub.csms.v201 import variables
from custom_components.ocpp_hub.csms.v201.variables import VariableName
from custom_components.ocpp_hub.hub import OcppHub
from custom_components.ocpp_hub.model.charger import MAX_CONFIGURATION_KEYS
from custom_components.ocpp_hub.model.secrets import REDACTED

from .conftest import CentralSystemUnderTest
from .helpers import charger_device, state_of, wait_for
from .test_v201 import booted

SECRET = "hunter2-hunter2-x"
NEW_SECRET = "correct-horse-battery"
THIRD_SECRET = "tr0ub4dor-and-3"
EVENT_SECRET = "said-in-an-event-42"
COMPONENT_SECRET = "a-token-by-its-component"


def hub(central_system: CentralSystemUnderTest) -> OcppHub:
    """The running hub."""
    hub: OcppHub = central_system.entry.runtime_data
    return hub


@pytest.fixture
async def alfen(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> AsyncIterator[Charger201]:
    """A 2.0.1 station that asks a reboot for its heartbeat interval, with a secret variable."""
    behaviour = ChargerBehaviour(reboot_required_keys={"OCPPCommCtrlr.HeartbeatInterval"})
    behaviour.configuration["SecurityCtrlr.BasicAuthPassword"] = (SECRET, False)
    # Secret by its component's name (as the model judges names): its value too.
    behaviour.configuration["MqttToken.Value"] = (COMPONENT_SECRET, False)
    charger = await booted(hass, central_system, behaviour=behaviour)
    yield charger
    await charger.close()


async def action(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, service: str, **data: Any
) -> Any:
    """Call an action on wb1 and return its response."""
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    return await hass.services.async_call(
        DOMAIN, service, {"device_id": device.id, **data}, blocking=True, return_response=True
    )


def report_parts(charger: Charger201) -> list[bool]:
    """Record the tbc of every NotifyReport the station sends from now on."""
    parts: list[bool] = []
    send = charger.notify_report

    async def recorded(
        request_id: int, seq_no: int, report_data: list[dict[str, Any]], *, tbc: bool
    ) -> dict[str, Any]:
        parts.append(tbc)
        return await send(request_id, seq_no, report_data, tbc=tbc)

    charger.notify_report = recorded  # type: ignore[method-assign]
    return parts


# ------------------------------------------------------------ reading them all


async def test_read_all_variables_from_the_report(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """No keys: every variable, from a report in several parts, shaped as for 1.6."""
    parts = report_parts(alfen)
    result = await action(hass, central_system, "get_configuration")
    request = await alfen.wait_for_call("GetBaseReport")
    assert request["reportBase"] == "FullInventory"
    assert parts[-1] is False
    assert len(parts) >= 2  # the report came in parts (tbc)
    assert all(parts[:-1])
    assert set(result) == {"configuration", "unknown_keys"}
    assert result["unknown_keys"] == []
    configuration = result["configuration"]
    assert configuration["AuthCtrlr.Enabled"] == "true"
    assert configuration["SmartChargingCtrlr.Phases3to1"] == "false"
    assert configuration["EVSE/1.SupplyPhases"] == "1"  # a variable of an EVSE
    assert configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] == "16"  # an instance
    assert configuration["SecurityCtrlr.BasicAuthPassword"] == REDACTED
    assert "AuthEnabled" not in configuration  # 1.6 keys are no 2.0.1 variables
    # The charger's configuration (diagnostics) now holds what it reported, no secret.
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.configuration["AlignedDataCtrlr.Interval"] == "900"
    assert "SecurityCtrlr.BasicAuthPassword" not in charger.configuration


async def test_a_full_report_replaces_the_known_variables(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """A variable the charger no longer reports is forgotten, as a 1.6 key is."""
    await action(hass, central_system, "get_configuration")
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.configuration["LocalAuthListCtrlr.Enabled"] == "true"
    del alfen.behaviour.configuration["LocalAuthListCtrlr.Enabled"]
    result = await action(hass, central_system, "get_configuration")
    assert "LocalAuthListCtrlr.Enabled" not in result["configuration"]
    assert "LocalAuthListCtrlr.Enabled" not in charger.configuration
    assert charger.configuration["AlignedDataCtrlr.Interval"] == "900"


async def test_a_report_larger_than_the_model_keeps_what_the_mapping_reads(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """300 variables before the lock's in the report: the lock is still read from it."""
    behaviour = ChargerBehaviour()
    behaviour.configuration = {f"JunkCtrlr.Value{n}": ("x", False) for n in range(300)}
    station = await booted(hass, central_system, behaviour=behaviour)
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    behaviour.configuration["AuthCtrlr.Enabled"] = ("false", False)  # changed on the station
    result = await action(hass, central_system, "get_configuration")
    assert len(result["configuration"]) > MAX_CONFIGURATION_KEYS
    await wait_for(lambda: state_of(hass, "switch.garage_lock") == STATE_OFF)
    charger = hub(central_system).chargers["wb1"].charger
    assert len(charger.configuration) == MAX_CONFIGURATION_KEYS
    assert charger.configuration["AuthCtrlr.Enabled"] == "false"
    assert charger.configuration["SmartChargingCtrlr.Phases3to1"] == "false"
    await station.close()


async def test_a_report_is_bounded(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A charger reporting more than we keep: the first ones, and a warning."""
    monkeypatch.setattr(variables, "MAX_REPORT_ENTRIES", 3)
    result = await action(hass, central_system, "get_configuration")
    assert len(result["configuration"]) == 3
    assert "reported more than" in caplog.text
    # What was left out may be what the model needs: the variables known stay.
    known = hub(central_system).chargers["wb1"].charger.configuration
    assert "TxCtrlr.EVConnectionTimeOut" not in result["configuration"]
    assert known["TxCtrlr.EVConnectionTimeOut"] == "60"
    assert "SmartChargingCtrlr.Phases3to1" in known


async def test_an_unfinished_report_times_out(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last part never comes: the action fails, the model keeps the parts that came."""
    monkeypatch.setattr(variables, "REPORT_TIMEOUT", 0.3)

    async def first_part_only(request_id: int) -> None:
        await alfen.notify_report(
            request_id,
            0,
            [
                {
                    "component": {"name": "ClockCtrlr"},
                    "variable": {"name": "TimeSource"},
                    "variableAttribute": [{"value": "NTP,Heartbeat"}],
                }
            ],
            tbc=True,
        )

    monkeypatch.setattr(alfen, "send_report", first_part_only)
    with pytest.raises(HomeAssistantError, match="did not answer NotifyReport in time"):
        await action(hass, central_system, "get_configuration")
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.configuration["ClockCtrlr.TimeSource"] == "NTP,Heartbeat"


async def test_a_report_cut_by_a_disconnection(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    alfen: Charger201,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The charger goes away before its report: the action says so at once."""

    accepted = asyncio.Event()

    async def no_report(request_id: int) -> None:
        del request_id
        accepted.set()  # run once the GetBaseReport's answer is sent

    monkeypatch.setattr(alfen, "send_report", no_report)
    reading = hass.async_create_task(action(hass, central_system, "get_configuration"))
    await accepted.wait()
    await alfen.close()
    with pytest.raises(HomeAssistantError, match="disconnected before answering NotifyReport"):
        await reading


@pytest.mark.parametrize(
    ("answer", "error"), [("Rejected", "refused GetBaseReport"), ("NotSupported", "does not")]
)
async def test_report_refused(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, answer: str, error: str
) -> None:
    """A charger that will not report says so, as a 1.6 refusal does."""
    behaviour = ChargerBehaviour(responses={"GetBaseReport": answer})
    charger = await booted(hass, central_system, behaviour=behaviour)
    with pytest.raises(HomeAssistantError, match=error):
        await action(hass, central_system, "get_configuration")
    await charger.close()


async def test_empty_report(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """EmptyResultSet: nothing to report, an empty configuration."""
    behaviour = ChargerBehaviour(responses={"GetBaseReport": "EmptyResultSet"})
    charger = await booted(hass, central_system, behaviour=behaviour)
    result = await action(hass, central_system, "get_configuration")
    assert result == {"configuration": {}, "unknown_keys": []}
    await charger.close()


async def test_notify_report_not_asked_for_is_dropped(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """A NotifyReport of a request we never made is answered and changes nothing."""
    charger = hub(central_system).chargers["wb1"].charger
    before = dict(charger.configuration)
    reply = await alfen.send_raw(
        '[2, "r1", "NotifyReport", {"requestId": 4242, "generatedAt": "2026-01-01T00:00:00Z", '
        '"seqNo": 0, "reportData": [{"component": {"name": "AuthCtrlr"}, '
        '"variable": {"name": "Enabled"}, "variableAttribute": [{"value": "false"}]}]}]'
    )
    assert reply == [3, "r1", {}]
    assert charger.configuration == before
    assert alfen.connected


async def test_secret_variables_are_never_stored_logged_or_exported(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    central_system: CentralSystemUnderTest,
    *,
    alfen: Charger201,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A password variable read (report, GetVariables) or written stays out of everything."""
    caplog.set_level(logging.DEBUG)
    await action(hass, central_system, "get_configuration")
    read = await action(
        hass, central_system, "get_configuration", keys=["SecurityCtrlr.BasicAuthPassword"]
    )
    assert read["configuration"] == {"SecurityCtrlr.BasicAuthPassword": REDACTED}
    await action(
        hass,
        central_system,
        "change_configuration",
        key="SecurityCtrlr.BasicAuthPassword",
        value=NEW_SECRET,
    )
    assert alfen.configuration_value("SecurityCtrlr.BasicAuthPassword") == NEW_SECRET
    # Names are case-insensitive: a password is one in any spelling.
    read = await action(
        hass, central_system, "get_configuration", keys=["securityctrlr.basicauthpassword"]
    )
    assert read["configuration"] == {"securityctrlr.basicauthpassword": REDACTED}
    await action(
        hass,
        central_system,
        "change_configuration",
        key="SECURITYCTRLR.basicAuthPASSWORD",
        value=THIRD_SECRET,
    )
    assert alfen.configuration_value("SecurityCtrlr.BasicAuthPassword") == THIRD_SECRET
    read = await action(hass, central_system, "get_configuration", keys=["MqttToken.Value"])
    assert read["configuration"] == {"MqttToken.Value": REDACTED}
    # The station tells of its password in an event: the report names it, without the value.
    await alfen.notify_event("SecurityCtrlr", "BasicAuthPassword", EVENT_SECRET)
    reports = hub(central_system).chargers["wb1"].charger.reports
    await wait_for(lambda: any("BasicAuthPassword" in r.name for r in reports.last))
    assert all(r.value == REDACTED for r in reports.last if "BasicAuthPassword" in r.name)
    stored = hub(central_system).chargers["wb1"].charger.configuration
    assert not [key for key in stored if "password" in key.lower()]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, central_system.entry)
    await alfen.close()
    assert await hass.config_entries.async_unload(central_system.entry.entry_id)  # saves
    exported = json.dumps(diagnostics)
    assert "NotifyReport" in exported  # the frames are there, without the values
    assert "BasicAuthPassword" in exported
    saved = json.dumps(hass_storage)
    logged = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components.ocpp_hub") and "websockets" not in r.name
    )
    for secret in (SECRET, NEW_SECRET, THIRD_SECRET, EVENT_SECRET, COMPONENT_SECRET):
        assert secret not in exported
        assert secret not in saved
        assert secret not in logged


# ------------------------------------------------------------ named variables


async def test_read_named_variables(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """Named keys are read with GetVariables; unknown ones (and 1.6 keys) come back as such."""
    keys = [
        "AuthCtrlr.Enabled",
        "evse/1.supplyphases",  # names are case-insensitive
        "DeviceDataCtrlr.ItemsPerMessage[SetVariables]",
        "NoSuchCtrlr.Thing",
        "AuthEnabled",
    ]
    result = await action(hass, central_system, "get_configuration", keys=keys)
    assert result == {
        "configuration": {
            "AuthCtrlr.Enabled": "true",
            "evse/1.supplyphases": "1",
            "DeviceDataCtrlr.ItemsPerMessage[SetVariables]": "16",
        },
        "unknown_keys": ["AuthEnabled", "NoSuchCtrlr.Thing"],
    }
    request = await alfen.wait_for_call("GetVariables")
    while len(request["getVariableData"]) != 4:  # the set-up's own read came first
        request = await alfen.wait_for_call("GetVariables")
    assert {
        "component": {"name": "evse", "evse": {"id": 1}},
        "variable": {"name": "supplyphases"},
    } in (request["getVariableData"])


async def test_one_variable_asked_in_two_spellings(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """Both keys come back with the value (read once); the model keeps the charger's one."""
    keys = ["AuthCtrlr.Enabled", "authctrlr.enabled", " AUTHCTRLR . ENABLED "]
    result = await action(hass, central_system, "get_configuration", keys=keys)
    assert result == {"configuration": dict.fromkeys(keys, "true"), "unknown_keys": []}
    request = [payload for name, payload in alfen.received if name == "GetVariables"][-1]
    assert request["getVariableData"] == [
        {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"}}
    ]
    charger = hub(central_system).chargers["wb1"].charger
    assert [key for key in charger.configuration if key.lower() == "authctrlr.enabled"] == [
        "AuthCtrlr.Enabled"
    ]


async def test_reads_respect_the_items_per_message(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A station taking two variables per GetVariables: every read is cut to fit."""
    behaviour = ChargerBehaviour()
    behaviour.configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] = ("2", True)
    station = await booted(hass, central_system, behaviour=behaviour)
    # The boot read (six variables) fitted: the lock is known, from the station.
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    keys = [
        "AuthCtrlr.Enabled",
        "AlignedDataCtrlr.Interval",
        "OCPPCommCtrlr.HeartbeatInterval",
        "TxCtrlr.EVConnectionTimeOut",
        "LocalAuthListCtrlr.Enabled",
    ]
    result = await action(hass, central_system, "get_configuration", keys=keys)
    assert result["unknown_keys"] == []
    assert result["configuration"]["OCPPCommCtrlr.HeartbeatInterval"] == "3600"
    assert set(result["configuration"]) == set(keys)
    requests = [payload for name, payload in station.received if name == "GetVariables"]
    # The limit, the boot read (3), the offline protection check (1), this read (3).
    assert len(requests) == 8
    assert max(len(request["getVariableData"]) for request in requests) == 2
    await station.close()


async def test_a_read_while_the_limit_is_asked_waits_for_it(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A read right after boot, while the set-up asks the station's ItemsPerMessage: it
    waits for the answer instead of sending more than the station takes."""
    behaviour = ChargerBehaviour()
    behaviour.configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] = ("2", True)
    station = Charger201(central_system.url, "wb1", vendor="Alfen BV", behaviour=behaviour)
    await station.connect()
    assert (await station.boot())["status"] == "Accepted"
    await station.wait_for_call("GetVariables")  # the set-up's first question: the limit
    keys = ["AuthCtrlr.Enabled", "OCPPCommCtrlr.HeartbeatInterval", "TxCtrlr.EVConnectionTimeOut"]
    result = await action(hass, central_system, "get_configuration", keys=keys)
    assert result["unknown_keys"] == []
    requests = [payload for name, payload in station.received if name == "GetVariables"]
    assert max(len(request["getVariableData"]) for request in requests) == 2
    await station.close()


async def test_a_limit_the_station_does_not_say_is_learnt_from_its_refusal(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A station that takes two variables per GetVariables without reporting its
    ItemsPerMessage: the boot read it refuses is read one variable per message, and so
    is everything after it on that connection."""
    behaviour = ChargerBehaviour(unreported_items_per_message=2)
    station = await booted(hass, central_system, behaviour=behaviour)
    assert state_of(hass, "switch.garage_lock") == STATE_ON  # the boot read came through
    keys = ["AuthCtrlr.Enabled", "OCPPCommCtrlr.HeartbeatInterval", "TxCtrlr.EVConnectionTimeOut"]
    result = await action(hass, central_system, "get_configuration", keys=keys)
    assert result["unknown_keys"] == []
    assert set(result["configuration"]) == set(keys)
    sizes = [len(p["getVariableData"]) for name, p in station.received if name == "GetVariables"]
    refused = [n for n in sizes if n > 2]
    assert len(refused) == 1  # the boot read's first message, once
    assert sizes[-len(keys) :] == [1] * len(keys)
    await station.close()


async def test_the_simulator_refuses_more_than_its_items_per_message(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """As a real station: a GetVariables over ItemsPerMessage is a CALLERROR."""
    data = [{"component": {"name": "AuthCtrlr"}, "variable": {"name": f"V{n}"}} for n in range(17)]
    handler = hub(central_system).server.handler("wb1")
    assert handler is not None
    with pytest.raises(CallFailed) as failure:
        await handler.session.call("GetVariables", {"getVariableData": data})
    assert failure.value.reason is FailureReason.CALL_ERROR
    assert "OccurrenceConstraintViolation" in failure.value.detail


async def test_change_variables(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """SetVariables by name: accepted, for the next boot, refused or unknown, in 1.6's words."""
    result = await action(
        hass, central_system, "change_configuration", key="AlignedDataCtrlr.Interval", value="300"
    )
    assert result == {"status": "Accepted", "reboot_required": False}
    assert alfen.configuration_value("AlignedDataCtrlr.Interval") == "300"
    result = await action(
        hass,
        central_system,
        "change_configuration",
        key="OCPPCommCtrlr.HeartbeatInterval",
        value="600",
    )
    assert result == {"status": "RebootRequired", "reboot_required": True}
    assert alfen.configuration_value("OCPPCommCtrlr.HeartbeatInterval") == "600"
    # The model learns a changed variable the application uses.
    await action(
        hass, central_system, "change_configuration", key="AuthCtrlr.Enabled", value="false"
    )
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.settings.authorization_required is False
    with pytest.raises(HomeAssistantError, match="refused SetVariables"):
        await action(
            hass, central_system, "change_configuration", key="EVSE/1.SupplyPhases", value="3"
        )
    assert alfen.configuration_value("EVSE/1.SupplyPhases") == "1"  # read-only
    with pytest.raises(HomeAssistantError, match="does not support SetVariables"):
        await action(hass, central_system, "change_configuration", key="No.Such", value="1")
    with pytest.raises(HomeAssistantError, match="does not support SetVariables"):
        await action(hass, central_system, "change_configuration", key="AuthEnabled", value="1")


async def test_a_variable_changed_in_another_case_is_one_variable(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """The lock variable changed in lower case: the Lock switch follows, one entry kept."""
    assert state_of(hass, "switch.garage_lock") == STATE_ON
    result = await action(
        hass, central_system, "change_configuration", key="authctrlr.enabled", value="false"
    )
    assert result == {"status": "Accepted", "reboot_required": False}
    assert alfen.configuration_value("AuthCtrlr.Enabled") == "false"
    await wait_for(lambda: state_of(hass, "switch.garage_lock") == STATE_OFF)
    charger = hub(central_system).chargers["wb1"].charger
    assert charger.locked is False
    assert [key for key in charger.configuration if key.lower() == "authctrlr.enabled"] == [
        "AuthCtrlr.Enabled"
    ]
    assert charger.configuration["AuthCtrlr.Enabled"] == "false"


@pytest.mark.parametrize(
    "results",
    [
        [],
        [
            {
                "component": {"name": "AuthCtrlr"},
                "variable": {"name": "LocalAuthorizeOffline"},
                "attributeStatus": "Accepted",
            }
        ],
        [
            {
                "component": {"name": "AuthCtrlr", "evse": {"id": 1}},
                "variable": {"name": "Enabled"},
                "attributeStatus": "Rejected",
            }
        ],
    ],
)
def test_a_set_answer_without_the_variable_is_invalid(results: list[dict[str, Any]]) -> None:
    """No result for the variable asked: the charger's answer is invalid, not a refusal."""
    with pytest.raises(CallFailed) as failure:
        variables.set_status(results, VariableName("AuthCtrlr", "Enabled"))
    assert failure.value.reason is FailureReason.INVALID_RESPONSE
    assert failure.value.detail == "no result for AuthCtrlr.Enabled"


def test_a_set_answer_is_read_in_any_case() -> None:
    """The charger may spell the variable its own way: its status is the answer."""
    result = {
        "component": {"name": "AUTHCTRLR"},
        "variable": {"name": "enabled"},
        "attributeStatus": "RebootRequired",
    }
    assert variables.set_status([result], VariableName("AuthCtrlr", "Enabled")) == "RebootRequired"


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("AuthCtrlr.Enabled", VariableName("AuthCtrlr", "Enabled")),
        (
            "Connector[Left]/2:1.Available[Now]",
            VariableName("Connector", "Available", "Left", 2, 1, "Now"),
        ),
        ("EVSE/1.Power", VariableName("EVSE", "Power", evse=1)),
        (
            "SampledDataCtrlr.TxEndedMeasurands",
            VariableName("SampledDataCtrlr", "TxEndedMeasurands"),
        ),
    ],
)
def test_variable_names(key: str, name: VariableName) -> None:
    """The notation reads and writes back the same; on the wire each part is in its field."""
    assert VariableName.parse(key) == name
    assert name.text == key
    wire = name.wire()
    assert VariableName.from_wire(wire["component"], wire["variable"]) == name


@pytest.mark.parametrize(
    "key",
    [
        "AuthEnabled",
        ".Enabled",
        "AuthCtrlr.",
        "A[x.Enabled",
        "",
        "EVSE/\u0661.Power",  # an Arabic-Indic one: EVSE ids are ASCII digits
        "EVSE/" + "1" * 5000 + ".Power",  # no int() of thousands of digits
        "EVSE/1234567890.Power",
        "EVSE/-1.Power",
        "EVSE/1:.Power",
        "Comp.Var/1",  # no variable named Var/1
        "AuthCtrlr.   ",
        "A[ ].Enabled",
        "C" * 51 + ".Enabled",  # OCPP's names and instances are at most 50 characters
        "AuthCtrlr." + "V" * 51,
        "AuthCtrlr[" + "i" * 51 + "].Enabled",
        "AuthCtrlr.Enabled[" + "i" * 51 + "]",
    ],
)
def test_not_variable_names(key: str) -> None:
    """A 1.6 key or a broken name is no variable."""
    assert VariableName.parse(key) is None


@pytest.mark.parametrize(
    ("key", "name"),
    [
        (" AuthCtrlr . Enabled ", VariableName("AuthCtrlr", "Enabled")),
        ("EVSE / 1 : 2 .Power", VariableName("EVSE", "Power", evse=1, connector=2)),
        (
            "Connector[ Left ].Available[ Now ]",
            VariableName("Connector", "Available", "Left", None, None, "Now"),
        ),
        ("C" * 50 + ".Enabled", VariableName("C" * 50, "Enabled")),
    ],
)
def test_spaces_around_parts_are_dropped(key: str, name: VariableName) -> None:
    """Spaces around a part are no part of the name (50 characters are allowed)."""
    assert VariableName.parse(key) == name


async def test_names_no_charger_can_have_are_not_sent(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, alfen: Charger201
) -> None:
    """A name longer than OCPP allows is unknown / not supported, not a CALLERROR."""
    too_long = "AuthCtrlr." + "V" * 51
    result = await action(
        hass, central_system, "get_configuration", keys=[too_long, "AuthCtrlr.Enabled"]
    )
    assert result == {"configuration": {"AuthCtrlr.Enabled": "true"}, "unknown_keys": [too_long]}
    with pytest.raises(HomeAssistantError, match="does not support SetVariables"):
        await action(hass, central_system, "change_configuration", key=too_long, value="1")
    assert alfen.connected
