"""A simulated charger talks to the central system in Home Assistant; entities follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.const import DOMAIN
from custom_components.ocpp_hub.sensor import SENSORS

from .conftest import BOTH_VERSIONS, CARD_ALICE, CentralSystemUnderTest, SimVersion
from .helpers import charger_device, state_of, wait_for, wait_for_state


@BOTH_VERSIONS
async def test_boot_creates_device_and_entities(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
    sim_version: SimVersion,
) -> None:
    """The device carries what the charger said at boot; Connection turns on, then off."""
    caplog.set_level(logging.INFO)
    assert state_of(hass, "binary_sensor.garage_connection") == STATE_OFF
    async with sim_version.simulator(
        central_system.url, "wb1", serial="WB-123456", firmware="6.7.11"
    ) as charger:
        answer = await charger.boot()
        assert answer["status"] == "Accepted"
        assert answer["interval"] == 300
        await wait_for_state(hass, "binary_sensor.garage_connection", STATE_ON)
        device = charger_device(hass, central_system.entry.entry_id, "wb1")
        assert device is not None
        assert device.name == "Garage"
        # Readable where the Wallbox profile knows the code; the code stays the model id.
        assert device.manufacturer == "Wallbox"
        assert device.model == "Pulsar Plus"
        assert device.model_id == "PLP1-0-2-4"
        assert device.serial_number == "WB-123456"
        assert device.sw_version == "6.7.11"
        # The central system reads the configuration after boot (the lock lives there).
        await charger.wait_for_call(sim_version.read_settings)
    await wait_for_state(hass, "binary_sensor.garage_connection", STATE_OFF)
    # Loss and return are logged once each, at info level.
    assert "Charger wb1 connected from 127.0.0.1" in caplog.text
    assert "Charger wb1 disconnected" in caplog.text


async def test_status_and_led(hass: HomeAssistant, central_system: CentralSystemUnderTest) -> None:
    """Status, LED, plugged in and charging follow StatusNotification and the lock."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.wait_for_call("GetConfiguration")
        # Booted, no status yet: the Wallbox halo rotates green.
        await wait_for_state(hass, "sensor.garage_status_led", "green_rotating")
        await charger.status(1, "Available")
        # AuthEnabled=true was read back: locked, yellow.
        await wait_for_state(hass, "sensor.garage_status_led", "yellow")
        assert state_of(hass, "sensor.garage_status") == "available"
        assert state_of(hass, "binary_sensor.garage_plugged_in") == STATE_OFF
        await charger.status(1, "Preparing")
        assert state_of(hass, "sensor.garage_status_led") == "yellow"
        assert state_of(hass, "binary_sensor.garage_plugged_in") == STATE_ON
        await charger.authorize("04A1B2C3")
        assert state_of(hass, "sensor.garage_status_led") == "turquoise"
        await charger.status(1, "Charging")
        assert state_of(hass, "sensor.garage_status") == "charging"
        assert state_of(hass, "sensor.garage_status_led") == "dark_blue_pulsing"
        assert state_of(hass, "binary_sensor.garage_charging") == STATE_ON
        await charger.status(1, "Unavailable")
        # Never the literal "unavailable": the charger is there, out of service.
        assert state_of(hass, "sensor.garage_status") == "inoperative"
        await charger.status(1, "Faulted", "GroundFailure")
        assert state_of(hass, "sensor.garage_status_led") == "red"
        assert state_of(hass, "sensor.garage_error_code") == "ground_failure"


async def test_meter_values_power_and_energy(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charging session: power, lifetime energy, session energy and duration."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(1, "Charging")
        start = datetime.now(UTC) - timedelta(minutes=30)
        answer = await charger.start_transaction(1, "04A1B2C3", 1_000_000, timestamp=start)
        assert answer["idTagInfo"]["status"] == "Accepted"
        tx = answer["transactionId"]
        await charger.meter_values(
            1,
            transaction_id=tx,
            energy_wh=1_003_700,
            power_w=7400,
            currents=[32.1],
            voltage=230.5,
            current_offered=32,
        )
        assert state_of(hass, "sensor.garage_charging_power") == "7400.0"
        assert state_of(hass, "sensor.garage_energy") == "1003.7"
        assert state_of(hass, "sensor.garage_session_energy") == "3.7"
        assert state_of(hass, "sensor.garage_offered_current") == "32.0"
        assert 29 <= float(state_of(hass, "sensor.garage_session_duration")) <= 31
        await charger.stop_transaction(tx, 1_005_000, reason="EVDisconnected")
        assert state_of(hass, "sensor.garage_charging_power") == "0.0"
        assert state_of(hass, "sensor.garage_session_energy") == "5.0"
        assert state_of(hass, "sensor.garage_energy") == "1005.0"


async def test_transaction_ids_are_unique(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Every StartTransaction gets a new id, across chargers."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        ids = set()
        for _ in range(3):
            tx = (await charger.start_transaction(1, "TAG", 0))["transactionId"]
            await charger.stop_transaction(tx, 10)
            ids.add(tx)
        assert len(ids) == 3


async def test_missing_power_is_derived(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charger that reports 0 W while 16 A flow (Copper SB) shows current x voltage."""
    async with SimulatedCharger(central_system.url, "wb1", model="CPB1-S-2-4") as charger:
        await charger.boot()
        await charger.status(1, "Charging")
        await charger.meter_values(1, power_w=0, currents=[16.0], voltage=230.0)
        assert state_of(hass, "sensor.garage_charging_power") == "3680.0"
        await charger.meter_values(1, currents=[10.0, 10.0, 10.0], voltage=230.0)
        assert state_of(hass, "sensor.garage_charging_power") == "6900.0"


async def test_energy_never_decreases(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A register that goes backwards does not make the Energy dashboard count negative."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.meter_values(1, energy_wh=50_000)
        await charger.meter_values(1, energy_wh=400)  # the meter restarted from zero
        assert state_of(hass, "sensor.garage_energy") == "50.4"
        await charger.meter_values(1, energy_wh=1_400)
        assert state_of(hass, "sensor.garage_energy") == "51.4"


async def test_state_written_only_when_changed(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The same values again write no state (no recorder or frontend churn)."""
    writes: list[str] = []

    @callback
    def _record(event: Event) -> None:
        if event.data["entity_id"].startswith(("sensor.garage", "binary_sensor.garage")):
            writes.append(event.data["entity_id"])

    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(1, "Charging")
        await charger.meter_values(1, energy_wh=1000, power_w=7000)
        # Let the set-up after boot finish (lock, offline protection, card list).
        await wait_for_state(hass, "sensor.garage_offline_protection", "active")
        await hass.async_block_till_done()
        unsub = hass.bus.async_listen("state_changed", _record)
        await charger.meter_values(1, energy_wh=1000, power_w=7000)
        await charger.status(1, "Charging")
        await hass.async_block_till_done()
        assert writes == []
        await charger.meter_values(1, energy_wh=1000, power_w=7100)
        await hass.async_block_till_done()
        assert writes == ["sensor.garage_charging_power"]
        unsub()


async def test_multi_connector_entities(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A second connector brings per-connector entities; charger-level ones stay."""
    async with SimulatedCharger(central_system.url, "wb1", connectors=2) as charger:
        await charger.boot()
        await charger.status(0, "Available")
        await charger.status(1, "Charging")
        await charger.status(2, "Preparing")
        await wait_for(lambda: hass.states.get("sensor.garage_connector_2_status") is not None)
        await hass.async_block_till_done()
        assert state_of(hass, "sensor.garage_connector_1_status") == "charging"
        assert state_of(hass, "sensor.garage_connector_2_status") == "preparing"
        assert state_of(hass, "sensor.garage_status") == "available"
        assert state_of(hass, "binary_sensor.garage_charging") == STATE_ON
        assert state_of(hass, "binary_sensor.garage_connector_2_plugged_in") == STATE_ON
        await charger.meter_values(2, energy_wh=2000, power_w=3000)
        await charger.meter_values(1, energy_wh=5000, power_w=7000)
        assert state_of(hass, "sensor.garage_connector_2_charging_power") == "3000.0"
        assert state_of(hass, "sensor.garage_charging_power") == "10000.0"
        assert state_of(hass, "sensor.garage_energy") == "7.0"


async def test_entity_registry_snapshot(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The entity model of a charger, as reviewers see it."""
    entries = sorted(
        (
            e
            for e in er.async_entries_for_config_entry(
                entity_registry, central_system.entry.entry_id
            )
            if "garage" in e.entity_id
        ),
        key=lambda e: e.entity_id,
    )
    assert [
        {
            "entity_id": e.entity_id,
            "translation_key": e.translation_key,
            "device_class": e.original_device_class,
            "entity_category": e.entity_category,
            "disabled_by": e.disabled_by,
            "unit": e.unit_of_measurement,
            "capabilities": e.capabilities,
        }
        for e in entries
    ] == snapshot


async def test_heartbeat(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    entity_registry: er.EntityRegistry,
) -> None:
    """Heartbeat answers the time and is shown (diagnostic, disabled by default)."""
    entity_id = "sensor.garage_last_heartbeat"
    entity = entity_registry.async_get(entity_id)
    assert entity is not None
    assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    entity_registry.async_update_entity(entity_id, disabled_by=None)
    await hass.config_entries.async_reload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, entity_id) == STATE_UNKNOWN
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        answer = await charger.heartbeat()
        assert datetime.fromisoformat(answer["currentTime"]) <= datetime.now(UTC)
        await wait_for(lambda: state_of(hass, entity_id) != STATE_UNKNOWN)


async def test_other_charger_messages(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """DataTransfer, firmware and diagnostics notifications, StopTransaction with an idTag."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        assert (await charger.data_transfer("com.example", "x"))["status"] == "UnknownVendorId"
        # The Wallbox profile knows its own vendor id.
        assert (await charger.data_transfer("com.wallbox", "hello", "{}"))["status"] == "Accepted"
        assert await charger.firmware_status("Downloading") == {}
        assert await charger.diagnostics_status("Uploaded") == {}
        model = central_system.entry.runtime_data.chargers["wb1"].charger
        assert model.firmware_status == "Downloading"
        assert model.diagnostics_status == "Uploaded"
        tx = (await charger.start_transaction(1, CARD_ALICE, 0))["transactionId"]
        stop = await charger.stop_transaction(
            tx,
            500,
            id_tag=CARD_ALICE,
            transaction_data=[
                {
                    "timestamp": datetime.now(UTC).isoformat(),
                    "sampledValue": [
                        {"value": "250", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                    ],
                }
            ],
        )
        assert stop["idTagInfo"]["status"] == "Accepted"
        assert state_of(hass, "sensor.garage_session_energy") == "0.5"


async def test_absurd_values_are_ignored(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connector 2**31-1 creates no entities; 1E+306 kWh does not become infinite energy."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(2147483647, "Available")
        reply = await charger.send_raw(
            '[2, "big", "MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "'
            + datetime.now(UTC).isoformat()
            + '", "sampledValue": [{"value": "1E+306", "unit": "kWh"}]}]}]'
        )
        assert reply is not None
        assert reply[0] == 3
        await charger.meter_values(1, energy_wh=5000)
        await hass.async_block_till_done()
    model = central_system.entry.runtime_data.chargers["wb1"].charger
    assert model.connector_count == 1
    assert hass.states.get("sensor.garage_connector_2_status") is None
    assert state_of(hass, "sensor.garage_energy") == "5.0"
    assert "reported connector 2147483647; ignored" in caplog.text


async def test_charge_switch_keeps_the_entity_id_of_existing_installs(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The start/stop switch is called "Charge" (beside the Charging binary sensor).

    An install from before the rename has switch.garage_charging in its entity
    registry: the unique id did not change, so that entity id (its history and the
    automations that use it) stays; only new installs get switch.garage_charge.
    """
    config_entry.add_to_hass(hass)
    subentry_id = next(iter(config_entry.subentries))
    old = entity_registry.async_get_or_create(
        "switch",
        DOMAIN,
        f"{config_entry.entry_id}_wb1_charging",
        suggested_object_id="garage_charging",
        config_entry=config_entry,
        config_subentry_id=subentry_id,
        original_name="Charging",
        translation_key="charging",
    )
    assert old.entity_id == "switch.garage_charging"
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    entry = entity_registry.async_get("switch.garage_charging")
    assert entry is not None
    assert entry.unique_id == old.unique_id
    assert entry.translation_key == "charge"
    assert hass.states.get("switch.garage_charge") is None
    state = hass.states.get("switch.garage_charging")
    assert state is not None
    assert state.attributes["friendly_name"] == "Garage Charge"
    # A charger registered now gets the new id; its binary sensor keeps "Charging".
    driveway = hass.states.get("switch.driveway_charge")
    assert driveway is not None
    assert driveway.attributes["friendly_name"] == "Driveway Charge"
    assert state_of(hass, "binary_sensor.driveway_charging") is not None
    assert (
        hass.states.get("binary_sensor.driveway_charging").attributes[  # type: ignore[union-attr]
            "friendly_name"
        ]
        == "Driveway Charging"
    )
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


async def test_display_precision_fits_each_value(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    entity_registry: er.EntityRegistry,
) -> None:
    """Offered current in whole amps, phase currents to 0.1 A, volts and watts whole."""
    expected = {
        "sensor.garage_offered_current": 0,
        "sensor.garage_charging_power": 0,
        "sensor.garage_energy": 2,
        "sensor.garage_session_duration": 0,
    }
    for entity_id, digits in expected.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.options["sensor"]["suggested_display_precision"] == digits, entity_id
    # Disabled by default (no registry options until enabled): the descriptions say it.
    precision = {d.key: d.suggested_display_precision for d in SENSORS if not d.per_connector}
    assert (precision["current_l1"], precision["voltage"]) == (1, 0)


async def test_plain_words_before_anything_happened(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Never rebooted, no limit set, idle without a reading: said so, not Unknown."""
    assert state_of(hass, "sensor.garage_last_reboot") == "never"
    assert state_of(hass, "sensor.garage_current_limit_status") == "no_limit"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        assert state_of(hass, "sensor.garage_charging_power") == STATE_UNKNOWN  # no status yet
        await charger.status(1, "Available")
        assert state_of(hass, "sensor.garage_charging_power") == "0.0"
        await charger.status(1, "Charging")
        # Charging and nothing measured yet: unknown, not a made-up 0 W.
        assert state_of(hass, "sensor.garage_charging_power") == STATE_UNKNOWN
        await charger.meter_values(1, power_w=7000)
        assert state_of(hass, "sensor.garage_charging_power") == "7000.0"


async def test_device_of_an_unknown_model_shows_what_it_sent(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A model code no profile knows, from another vendor: shown as the charger sent it."""
    async with SimulatedCharger(
        central_system.url, "wb1", vendor="Acme EV", model="X-1000"
    ) as charger:
        await charger.boot()
        await wait_for_state(hass, "binary_sensor.garage_connection", STATE_ON)
        device = charger_device(hass, central_system.entry.entry_id, "wb1")
        assert device is not None
        assert (device.manufacturer, device.model, device.model_id) == (
            "Acme EV",
            "X-1000",
            "X-1000",
        )
    # The same charger comes back as a Copper SB: the device page follows.
    async with SimulatedCharger(central_system.url, "wb1", model="CPB1-S-2-4") as charger:
        await charger.boot()
        await wait_for(
            lambda: (
                (d := charger_device(hass, central_system.entry.entry_id, "wb1")) is not None
                and d.model == "Copper SB"
            )
        )
        device = charger_device(hass, central_system.entry.entry_id, "wb1")
        assert device is not None
        assert (device.manufacturer, device.model_id) == ("Wallbox", "CPB1-S-2-4")


async def test_session_duration_moves_with_the_clock(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The duration follows the clock on its own timer, not only the next message."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await charger.status(1, "Charging")
        start = datetime.now(UTC) - timedelta(minutes=30, seconds=5)
        await charger.start_transaction(1, CARD_ALICE, 1000, timestamp=start)
        assert state_of(hass, "sensor.garage_session_duration") == "30"
        # Two minutes pass without a message from the charger.
        model = central_system.entry.runtime_data.chargers["wb1"].charger
        transaction = model.connector(1).transaction
        assert transaction is not None
        transaction.started_at -= timedelta(minutes=2)
        assert state_of(hass, "sensor.garage_session_duration") == "30"
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        await hass.async_block_till_done()
        assert state_of(hass, "sensor.garage_session_duration") == "32"
