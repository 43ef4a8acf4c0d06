"""Entities follow the topics they show: woken by those changes only, never stale."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_component import DATA_INSTANCES
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_hub.binary_sensor import BINARY_SENSORS
from custom_components.ocpp_hub.button import BUTTONS
from custom_components.ocpp_hub.charger_settings import SETTINGS
from custom_components.ocpp_hub.csms.v16.mapping import reported_settings
from custom_components.ocpp_hub.energy_sensors import ENERGY_SENSORS
from custom_components.ocpp_hub.entity import OcppHubEntity, OcppHubEntityDescription
from custom_components.ocpp_hub.event import EVENTS
from custom_components.ocpp_hub.model.charger import (
    CardDecision,
    Charger,
    ChargerInfo,
    Topic,
    Transaction,
)
from custom_components.ocpp_hub.model.control import (
    LearnState,
    LearnStatus,
    LimitStatus,
    ProtectionStatus,
    RebootResult,
)
from custom_components.ocpp_hub.model.energy import ChargeMode, Reason
from custom_components.ocpp_hub.model.meter import Sample
from custom_components.ocpp_hub.model.reports import ChargerReport, ReportKind
from custom_components.ocpp_hub.model.schedule import ChargingWindow
from custom_components.ocpp_hub.model.status import ConnectorStatus
from custom_components.ocpp_hub.number import NUMBERS
from custom_components.ocpp_hub.select import SELECTS
from custom_components.ocpp_hub.sensor import SENSORS
from custom_components.ocpp_hub.switch import SWITCHES

from .conftest import CARD_ALICE

T0 = datetime(2026, 6, 22, 10, 0, 5, tzinfo=UTC)  # a Monday

ALL_DESCRIPTIONS: tuple[OcppHubEntityDescription, ...] = (
    *SENSORS,
    *ENERGY_SENSORS,
    *BINARY_SENSORS,
    *SWITCHES,
    *NUMBERS,
    *SELECTS,
    *SETTINGS,
    *EVENTS,
    *BUTTONS,
)


@pytest.fixture(autouse=True)
def every_entity_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Also the entities that are disabled by default (phase currents, voltage, ...)."""
    monkeypatch.setattr(OcppHubEntity, "entity_registry_enabled_default", True)


def ocpp_entities(hass: HomeAssistant) -> list[OcppHubEntity]:
    """Every entity of the integration that is in Home Assistant."""
    return [
        entity
        for component in hass.data[DATA_INSTANCES].values()
        for entity in component.entities
        if isinstance(entity, OcppHubEntity)
    ]


def _shown(entity: OcppHubEntity) -> tuple[str, str, bool]:
    return repr(entity._value), repr(entity._attrs), entity._reachable


def _fresh(entity: OcppHubEntity) -> tuple[str, str, bool]:
    value, attrs = entity._read()
    return repr(value), repr(attrs), entity._connected()


def _description_id(entity: OcppHubEntity) -> tuple[str, str, bool]:
    description = entity.entity_description
    return type(description).__name__, description.key, description.per_connector


class Watcher:
    """Checks after every step that each entity shows what the model says now."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing seen yet."""
        self.hass = hass
        self.seen: dict[str, set[tuple[str, str, bool]]] = {}
        self.kinds: dict[str, tuple[str, str, bool]] = {}

    async def step(self, name: str, change: Callable[[], Any]) -> None:
        """Make the change, let Home Assistant run, compare every entity with the model."""
        result = change()
        if isinstance(result, Awaitable):
            await result
        await self.hass.async_block_till_done()
        stale = []
        for entity in ocpp_entities(self.hass):
            if name in UNNOTIFIED and not getattr(entity.entity_description, "clock", False):
                continue
            shown, fresh = _shown(entity), _fresh(entity)
            if shown != fresh:
                stale.append(f"{entity.entity_id}: shows {shown}, the model says {fresh}")
            state = self.hass.states.get(entity.entity_id)
            assert state is not None, entity.entity_id
            self.seen.setdefault(entity.entity_id, set()).add(shown)
            self.kinds[entity.entity_id] = _description_id(entity)
        assert not stale, f"stale after {name}: " + "; ".join(stale)

    def changed_descriptions(self) -> set[tuple[str, str, bool]]:
        """The descriptions of which some entity showed more than one value."""
        return {self.kinds[entity_id] for entity_id, values in self.seen.items() if len(values) > 1}


# Changes nobody is told of, as before topics: time passing (the energy manager counts
# the session's surplus on its timer; the pause reason looks at the charging window)
# shows on the entities' own clocks, the rest with the charger's next report.
UNNOTIFIED = {"solar counted", "two minutes", "into the window"}


def _sample(at: datetime, **values: Any) -> Sample:
    return Sample(timestamp=at, **values)


def _steps(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> Iterator[tuple[str, Callable[[], Any]]]:
    """What chargers, owners and the energy manager do, one change after the other."""
    registered = entry.runtime_data.chargers["wb1"]
    model: Charger = registered.charger
    energy = entry.runtime_data.energy

    def now() -> datetime:
        return dt_util.utcnow()

    def tick(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(hass, dt_util.utcnow())

    def decide() -> None:
        # What the energy manager does when its decision changes.
        model.owner.control.decide(10.0, Reason.SURPLUS, surplus_w=2500.0)
        model.owner.control.phases = 1
        model.notify()

    def count_surplus() -> None:
        # The energy manager counts without notifying; the next meter values show it.
        model.owner.control.count_energy("1", 7000.0, 3500.0, 600.0)

    yield "connected", lambda: model.apply_connected(True, "127.0.0.1")
    yield (
        "boot",
        lambda: model.apply_boot(
            ChargerInfo(vendor="Wall Box Chargers", model="PLP1-0-2-4", firmware="6.7.11"),
            now(),
        ),
    )
    yield (
        "configuration",
        lambda: model.apply_configuration(
            {
                "AuthEnabled": "true",
                "chargingALimitConn1": "16",
                "MeterValueSampleInterval": "60",
                "ConnectionTimeOut": "120",
                "NumberOfConnectors": "2",
            },
            reported_settings,
            complete=True,
        ),
    )
    yield "status 1", lambda: model.apply_status(1, ConnectorStatus.AVAILABLE, "NoError")
    yield "status 2", lambda: model.apply_status(2, ConnectorStatus.AVAILABLE, "NoError")
    yield "heartbeat", lambda: model.apply_heartbeat(now())
    yield "plugged in", lambda: model.apply_status(1, ConnectorStatus.PREPARING, "NoError")
    yield "authorize", lambda: model.apply_authorize(CARD_ALICE, True, now())
    yield (
        "card presented",
        lambda: model.owner.apply_card_decision(
            CardDecision(CARD_ALICE, "Alice", accepted=True, status="Accepted", at=now())
        ),
    )
    yield (
        "the charger reports a problem",
        lambda: model.apply_report(
            ChargerReport(ReportKind.EVENT, "EVSE.Problem", "true", at=now())
        ),
    )
    yield (
        "start",
        lambda: model.apply_start(
            Transaction(
                transaction_id="1",
                connector_id=1,
                id_tag=CARD_ALICE,
                meter_start_wh=1000.0,
                started_at=now() - timedelta(minutes=5),
            )
        ),
    )
    yield "charging", lambda: model.apply_status(1, ConnectorStatus.CHARGING, "NoError")
    yield "two minutes", lambda: tick(120)
    yield (
        "meter values 1",
        lambda: model.apply_meter_values(
            1,
            "1",
            [
                _sample(
                    now(),
                    energy_wh=1500.0,
                    power_w=7000.0,
                    current_offered_a=16.0,
                    currents_a={"L1": 10.0, "L2": 10.5, "L3": 9.5},
                    voltages_v={"L1": 231.0},
                )
            ],
        ),
    )
    yield (
        "meter values 2",
        lambda: model.apply_meter_values(
            2, None, [_sample(now(), energy_wh=300.0, power_w=1500.0)]
        ),
    )
    yield (
        "limit asked",
        lambda: model.owner.apply_limit(requested_a=10.0, status=LimitStatus.PENDING),
    )
    yield "limit applied", lambda: model.owner.apply_limit(status=LimitStatus.APPLIED, sent_a=10.0)
    yield (
        "limit ignored",
        lambda: model.apply_meter_values(
            1, "1", [_sample(now() + timedelta(seconds=1), current_offered_a=16.0)]
        ),
    )
    yield "reported limit", lambda: model.owner.apply_limit(reported_a=10.0)
    yield "solar counted", count_surplus
    yield (
        "meter values after counting",
        lambda: model.apply_meter_values(
            1, "1", [_sample(now() + timedelta(seconds=2), energy_wh=1600.0, power_w=6900.0)]
        ),
    )
    yield "decision", decide
    yield "mode", lambda: energy.set_mode(registered, ChargeMode.SOLAR)
    yield "priority", lambda: energy.set_priority(registered, 2)
    yield "paused", lambda: model.owner.apply_pause(True, 10.0)
    yield "suspended", lambda: model.apply_status(1, ConnectorStatus.SUSPENDED_EVSE, "NoError")
    yield "resumed", lambda: model.owner.apply_pause(False, None)
    yield "unlocked", lambda: model.owner.apply_lock_wanted(False)
    yield "locked", lambda: model.owner.apply_lock_wanted(True)
    yield "auto lock", lambda: model.owner.apply_auto_lock(5)
    yield (
        "unlocked by configuration",
        lambda: model.apply_configuration(
            {"AuthEnabled": "false", "chargingALimitConn1": "20"}, reported_settings
        ),
    )
    yield (
        "schedule",
        lambda: model.owner.apply_schedule(
            ChargingWindow(frozenset(range(7)), time(22, 0), time(6, 0), inside_a=16.0)
        ),
    )
    yield "into the window", lambda: tick(12 * 3600)

    def window_reported() -> None:
        # What a charger reports when its charging profile pauses it: a status, meter values.
        model.apply_status(1, ConnectorStatus.SUSPENDED_EVSE, "NoError")
        model.apply_meter_values(1, "1", [_sample(now(), energy_wh=1700.0, power_w=0.0)])

    yield "the charger reports", window_reported
    yield "availability scheduled", lambda: model.owner.apply_availability_scheduled(False)
    yield "out of service", lambda: model.apply_status(1, ConnectorStatus.INOPERATIVE, "NoError")
    yield "reboot asked", lambda: model.owner.apply_reboot_requested(False, now())
    yield (
        "rebooted",
        lambda: model.apply_boot(
            ChargerInfo(vendor="Wall Box Chargers", model="PLP1-0-2-4", firmware="6.7.12"),
            now(),
        ),
    )
    yield "started", lambda: model.apply_status(1, ConnectorStatus.AVAILABLE, "NoError")
    yield (
        "reboot refused",
        lambda: model.owner.apply_reboot_outcome(RebootResult.REJECTED, now(), "Rejected"),
    )
    yield (
        "protection",
        lambda: model.owner.apply_protection(
            ProtectionStatus.NEEDS_REBOOT, ["LocalAuthorizeOffline"]
        ),
    )
    yield "firmware", lambda: model.apply_firmware_status("Downloading")
    yield "diagnostics", lambda: model.apply_diagnostics_status("Uploading")
    yield (
        "learning",
        lambda: model.owner.apply_learning(
            LearnState(LearnStatus.WAITING, until=now() + timedelta(minutes=1))
        ),
    )
    yield (
        "learned",
        lambda: model.owner.apply_learning(
            LearnState(LearnStatus.LEARNED, card_name="Bob", id_tag="0A0B0C0D")
        ),
    )
    yield "fault", lambda: model.apply_status(1, ConnectorStatus.FAULTED, "GroundFailure")
    yield (
        "stop",
        lambda: model.apply_stop(
            "1", 2500.0, now(), "Local", [_sample(now(), energy_wh=2400.0, power_w=100.0)]
        ),
    )
    yield "stopped status", lambda: model.apply_status(1, ConnectorStatus.FINISHING, "NoError")
    yield (
        "stop of a lost session",
        lambda: model.apply_stop("7", 2600.0, now() + timedelta(seconds=5), "Local", []),
    )
    yield "unplugged", lambda: model.apply_status(1, ConnectorStatus.AVAILABLE, "NoError")
    yield "plugged in 2", lambda: model.apply_status(2, ConnectorStatus.PREPARING, "NoError")
    yield (
        "start 2",
        lambda: model.apply_start(
            Transaction(
                transaction_id="2",
                connector_id=2,
                id_tag=CARD_ALICE,
                meter_start_wh=400.0,
                started_at=now(),
            )
        ),
    )
    yield "charging 2", lambda: model.apply_status(2, ConnectorStatus.CHARGING, "NoError")
    yield (
        "meter values of session 2",
        lambda: model.apply_meter_values(
            2, "2", [_sample(now() + timedelta(seconds=10), energy_wh=450.0, power_w=3700.0)]
        ),
    )
    yield (
        "meter values of session 2 on the wrong connector",
        lambda: model.apply_meter_values(
            1, "2", [_sample(now() + timedelta(seconds=20), energy_wh=480.0, power_w=3600.0)]
        ),
    )
    yield "stop 2", lambda: model.apply_stop("2", 500.0, now() + timedelta(seconds=30), None, [])
    yield "the charger as a whole", lambda: model.apply_status(0, ConnectorStatus.AVAILABLE, None)
    yield (
        "disconnected",
        lambda: model.apply_connected(False, disconnect_reason="ping timeout"),
    )


async def test_no_entity_goes_stale(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After every change of the model each entity shows what it would read now.

    A charger with two connectors goes through boot, configuration, statuses, a
    session with meter values, limits, pause, lock, schedule, availability,
    reboots, protection, learning, the energy manager's decisions and a
    disconnect. Every entity that follows topics is compared with a fresh read of
    the model after each step; and each description must have changed its value
    at least once (buttons have none), so the steps really exercise it.
    """
    freezer.move_to(T0)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    watcher = Watcher(hass)
    for name, change in _steps(hass, config_entry, freezer):
        await watcher.step(name, change)

    changed = watcher.changed_descriptions()
    expected = {
        (type(d).__name__, d.key, d.per_connector) for d in ALL_DESCRIPTIONS if d not in BUTTONS
    }
    assert expected - changed == set()
    # Every description is in Home Assistant: the check saw all of them.
    assert set(watcher.kinds.values()) >= expected
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


async def test_meter_values_wake_only_what_shows_them(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A MeterValues of connector 2 reads the meter entities of connector 2 and the sums."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    model: Charger = config_entry.runtime_data.chargers["wb1"].charger
    model.apply_connected(True, "127.0.0.1")
    for cid in (0, 1, 2):
        model.apply_status(cid, ConnectorStatus.CHARGING, "NoError")
    await hass.async_block_till_done()
    model.notify()  # the connectors' entities are there: no layout change pending

    woken: list[OcppHubEntity] = []
    read = OcppHubEntity._read

    def counting_read(self: OcppHubEntity) -> tuple[Any, dict[str, Any] | None]:
        woken.append(self)
        return read(self)

    monkeypatch.setattr(OcppHubEntity, "_read", counting_read)
    model.apply_meter_values(2, None, [_sample(dt_util.utcnow(), energy_wh=1000.0, power_w=3000.0)])
    names = sorted(((e.entity_description.key, e._connector_id) for e in woken), key=repr)
    assert names == sorted(
        [
            # Connector 2: its power, energy and session energy; its phase currents,
            # voltage and offered current are charger-level entities of the main connector.
            ("power", 2),
            ("energy", 2),
            ("session_energy", 2),
            # The charger's sums and main-connector readings (any connector's meter).
            ("power", None),
            ("energy", None),
            ("session_energy", None),
            ("current_l1", None),
            ("current_l2", None),
            ("current_l3", None),
            ("voltage", None),
            ("current_offered", None),
            ("solar_share", None),
        ],
        key=repr,
    )
    assert all(Topic.METER in (e.charger_topics or ()) for e in woken)

    woken.clear()
    model.apply_status(1, ConnectorStatus.SUSPENDED_EV, "NoError")
    keys = {(e.entity_description.key, e._connector_id) for e in woken}
    # Nothing of connector 2, and nothing that does not show a status.
    assert all(cid in (1, None) for _, cid in keys)
    assert ("status", 1) in keys
    assert ("status_led", 1) in keys
    assert ("energy", None) not in keys
    assert ("last_heartbeat", None) not in keys
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


def test_catch_all_and_topic_listeners() -> None:
    """``add_listener`` without topics hears everything; with them, only those."""
    charger = Charger("cp")
    charger.connector(1)
    charger.connector(2)
    calls: list[str] = []
    remove_all = charger.add_listener(lambda: calls.append("all"))
    remove_meter_2 = charger.add_listener(lambda: calls.append("meter 2"), {Topic.METER}, 2)
    charger.add_listener(lambda: calls.append("meter any"), [Topic.METER])
    charger.add_listener(
        lambda: calls.append("heartbeat"), {Topic.HEARTBEAT, Topic.METER}, connector_id=1
    )
    assert charger.listener_count == 5
    charger.notify()  # the connectors created above: everybody, every-change listeners first
    assert calls[0] == "all"
    assert sorted(calls) == ["all", "heartbeat", "meter 2", "meter any"]
    calls.clear()
    charger.notify(Topic.METER, connector_id=2)
    assert sorted(calls) == ["all", "meter 2", "meter any"]
    calls.clear()
    charger.notify(Topic.METER)  # any connector
    assert sorted(calls) == ["all", "heartbeat", "meter 2", "meter any"]
    calls.clear()
    charger.notify(Topic.HEARTBEAT, connector_id=2)  # a charger topic: the connector is moot
    assert sorted(calls) == ["all", "heartbeat"]
    calls.clear()
    charger.notify(Topic.LIMIT)
    assert calls == ["all"]
    calls.clear()
    charger.connector(3)  # a new connector: the next notification wakes everybody
    charger.notify(Topic.LIMIT)
    assert len(calls) == 4
    remove_all()
    remove_meter_2()
    calls.clear()
    charger.notify(Topic.METER, connector_id=2)
    assert calls == ["meter any"]
    assert charger.listener_count == 3
