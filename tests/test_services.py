"""Actions: targeted at charger devices, with responses and translated errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from chargersim import ChargerBehaviour, SimulatedCharger
from custom_components.ocpp_hub.const import CONF_CARDS, DOMAIN
from custom_components.ocpp_hub.services import TRIGGERABLE

from .conftest import BOTH_VERSIONS, CentralSystemUnderTest, SimVersion
from .helpers import charger_device, state_of, wait_for


@pytest.fixture
async def wallbox(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> AsyncIterator[SimulatedCharger]:
    """wb1 connected and set up, answering RebootRequired for HeartbeatInterval."""
    charger = SimulatedCharger(
        central_system.url,
        "wb1",
        behaviour=ChargerBehaviour(reboot_required_keys={"HeartbeatInterval"}),
    )
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
    yield charger
    await charger.close()


def device_id(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> str:
    """wb1's device id."""
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    return device.id


async def action(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    service: str,
    response: bool = False,
    **data: Any,
) -> Any:
    """Call an action of the integration on wb1."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"device_id": device_id(hass, central_system), **data},
        blocking=True,
        return_response=response,
    )


async def test_get_and_change_configuration(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: SimulatedCharger
) -> None:
    """Configuration comes back as response data; RebootRequired is reported."""
    result = await action(
        hass, central_system, "get_configuration", True, keys=["AuthEnabled", "NoSuchKey"]
    )
    assert result == {"configuration": {"AuthEnabled": "true"}, "unknown_keys": ["NoSuchKey"]}
    everything = await action(hass, central_system, "get_configuration", True)
    assert everything["configuration"]["chargingALimitConn1"] == "32"
    result = await action(
        hass, central_system, "change_configuration", True, key="HeartbeatInterval", value="600"
    )
    assert result == {"status": "RebootRequired", "reboot_required": True}
    assert wallbox.configuration_value("HeartbeatInterval") == "600"


async def test_limit_in_watts(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: SimulatedCharger
) -> None:
    """A limit in W becomes amps with the phases and voltage the charger reports."""
    await wallbox.meter_values(1, currents=[10.0, 10.0, 10.0], voltage=230.0)
    await action(hass, central_system, "set_current_limit", power=11040)
    await wait_for(lambda: wallbox.current_limit(1) == 16)
    await action(hass, central_system, "clear_current_limit")
    assert any(a == "ClearChargingProfile" for a, _ in wallbox.received)
    with pytest.raises(ServiceValidationError, match="as a current"):
        await action(hass, central_system, "set_current_limit")


async def test_cards_by_action(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: SimulatedCharger
) -> None:
    """Cards added or removed by action are used at once, online and in the local list."""
    result = await action(hass, central_system, "add_card", True, uid="aa:bb:cc:dd", name="Bob")
    assert result == {"uid": "AABBCCDD", "name": "Bob"}
    assert (await wallbox.authorize("DDCCBBAA"))["idTagInfo"]["status"] == "Accepted"
    # The charger's local list (for offline use) follows.
    await wait_for(
        lambda: (
            "DDCCBBAA"
            in [
                e["idTag"]
                for e in [p for a, p in wallbox.received if a == "SendLocalList"][-1][
                    "localAuthorizationList"
                ]
            ]
        )
    )
    await action(hass, central_system, "remove_card", uid="DDCCBBAA")
    assert (await wallbox.authorize("DDCCBBAA"))["idTagInfo"]["status"] == "Invalid"
    subentry = next(iter(central_system.entry.subentries.values()))
    assert "AABBCCDD" not in [c["uid"] for c in subentry.data[CONF_CARDS]]
    with pytest.raises(ServiceValidationError, match="No card"):
        await action(hass, central_system, "remove_card", uid="DDCCBBAA")
    with pytest.raises(ServiceValidationError, match="not a card number"):
        await action(hass, central_system, "add_card", uid="xyz!")


async def test_other_actions(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, wallbox: SimulatedCharger
) -> None:
    """Start, stop, unlock, trigger, data transfer, firmware, diagnostics reach the charger."""
    await wallbox.status(1, "Preparing")
    await action(hass, central_system, "start_charging")
    await wait_for(lambda: state_of(hass, "switch.garage_charge") == "on")
    await action(hass, central_system, "stop_charging")
    await wait_for(lambda: state_of(hass, "switch.garage_charge") == "off")
    # The session is over once the charger also says it stopped charging (its status
    # follows the StopTransaction): only then may it reboot without confirming.
    charger = central_system.entry.runtime_data.chargers["wb1"].charger
    await wait_for(lambda: not charger.charging)
    # The simulated Pulsar Plus has a tethered cable: nothing to unlock, and it says so.
    with pytest.raises(HomeAssistantError, match="cannot unlock its connector"):
        await action(hass, central_system, "unlock_connector", connector_id=1)
    assert await wallbox.wait_for_call("UnlockConnector") == {"connectorId": 1}
    await action(hass, central_system, "trigger_message", message="Heartbeat")
    answer = await action(
        hass, central_system, "data_transfer", True, vendor_id="com.wallbox", data="x"
    )
    assert "status" in answer
    await action(hass, central_system, "update_firmware", location="https://example.com/fw.bin")
    result = await action(
        hass, central_system, "get_diagnostics", True, location="ftp://127.0.0.1/diag/"
    )
    assert "file_name" in result
    await action(hass, central_system, "reboot", hard=True)
    assert await wallbox.wait_for_call("Reset") == {"type": "Hard"}
    sent = [a for a, _ in wallbox.received]
    for expected in (
        "UnlockConnector",
        "TriggerMessage",
        "DataTransfer",
        "UpdateFirmware",
        "GetDiagnostics",
    ):
        assert expected in sent


async def test_action_on_a_device_that_is_not_a_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A device of another integration (or none) is a clear validation error."""
    with pytest.raises(ServiceValidationError, match="not a charger"):
        await hass.services.async_call(
            DOMAIN, "reboot", {"device_id": "no-such-device"}, blocking=True
        )


async def test_version_only_action_on_a_version_without_it(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    wallbox: SimulatedCharger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An action only some OCPP versions have says it is not supported, and sends nothing."""
    handler = central_system.entry.runtime_data.server.handler("wb1")
    assert handler is not None
    monkeypatch.setattr(handler, "supports", lambda capability: False)
    sent = len(wallbox.received)
    with pytest.raises(HomeAssistantError, match="does not support GetConfiguration"):
        await action(hass, central_system, "get_configuration", response=True)
    assert len(wallbox.received) == sent


@BOTH_VERSIONS
async def test_every_triggerable_message_reaches_the_charger_in_its_version(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Each message the trigger action offers is asked for in the words of the charger's
    version (2.0.1's diagnostics upload status is a LogStatusNotification), and it accepts."""
    charger = sim_version.simulator(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()
    await charger.status(1, "Available")
    await wait_for(lambda: state_of(hass, "sensor.garage_offline_protection") != "unknown")
    v201 = sim_version.name == "ocpp2.0.1"
    for message in TRIGGERABLE:
        await action(hass, central_system, "trigger_message", message=message)
        asked = await charger.wait_for_call("TriggerMessage")
        expected = "LogStatusNotification" if v201 and message.startswith("Diag") else message
        assert asked["requestedMessage"] == expected
    await charger.close()
