"""The pure charger model: meter parsing, power, energy, LED, transactions, storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_hub.csms.errors import CallFailed
from custom_components.ocpp_hub.csms.v16.mapping import (
    reported_settings,
    transaction_id,
    transaction_number,
)
from custom_components.ocpp_hub.csms.v16.metering import parse_sampled_values
from custom_components.ocpp_hub.csms.v201.mapping import reported_settings as v201_settings
from custom_components.ocpp_hub.model.charger import (
    Charger,
    ChargerInfo,
    Topic,
    Transaction,
    plausible_time,
)
from custom_components.ocpp_hub.model.control import LimitStatus
from custom_components.ocpp_hub.model.led import LedColour
from custom_components.ocpp_hub.model.meter import EnergyCounter, Sample, derive_power
from custom_components.ocpp_hub.model.profiles import GENERIC, WALLBOX, select_profile
from custom_components.ocpp_hub.model.settings import ReportedSettings
from custom_components.ocpp_hub.model.status import ConnectorStatus
from custom_components.ocpp_hub.model.storage_format import charger_as_dict, charger_from_dict

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def sv(value: str, measurand: str, unit: str = "", phase: str | None = None) -> dict[str, str]:
    """One sampledValue."""
    item = {"value": value, "measurand": measurand}
    if unit:
        item["unit"] = unit
    if phase:
        item["phase"] = phase
    return item


def test_parse_units_and_phases() -> None:
    """kWh and kW are scaled; per-phase currents and voltages are kept apart."""
    sample = parse_sampled_values(
        T0,
        [
            sv("12.5", "Energy.Active.Import.Register", "kWh"),
            sv("7.4", "Power.Active.Import", "kW"),
            sv("16", "Current.Import", "A", "L1"),
            sv("15.5", "Current.Import", "A", "L2"),
            sv("231", "Voltage", "V", "L1-N"),
            sv("32", "Current.Offered", "A"),
            sv("not a number", "Power.Offered", "W"),
            sv("nan", "SoC", "Percent"),
        ],
    )
    assert sample.energy_wh == 12500
    assert sample.power_w == 7400
    assert sample.currents_a == {"L1": 16.0, "L2": 15.5}
    assert sample.voltages_v == {"L1": 231.0}
    assert sample.current_offered_a == 32
    assert sample.power_offered_w is None
    assert sample.soc_percent is None
    assert "Power.Offered" in sample.measurands


def test_energy_without_measurand_is_the_register() -> None:
    """OCPP's default measurand is Energy.Active.Import.Register."""
    sample = parse_sampled_values(T0, [{"value": "1000"}])
    assert sample.energy_wh == 1000


@pytest.mark.parametrize(
    ("power", "currents", "voltages", "expected"),
    [
        (7400.0, {"L1": 32.0}, {"L1": 230.0}, (7400.0, False)),  # reported and plausible
        (0.0, {"L1": 16.0}, {"L1": 230.0}, (3680.0, True)),  # Copper SB: 0 W while current flows
        (None, {"L1": 16.0, "L2": 16.0, "L3": 16.0}, {"L1": 230.0}, (11040.0, True)),
        (0.0, {"L1": 0.0}, {"L1": 230.0}, (0.0, False)),  # really idle
        (None, {"L1": 16.0}, {}, (None, False)),  # nothing to derive from
    ],
)
def test_derive_power(
    power: float | None,
    currents: dict[str, float],
    voltages: dict[str, float],
    expected: tuple[float | None, bool],
) -> None:
    """Power comes from the meter unless it is missing or stuck at 0 while current flows."""
    sample = parse_sampled_values(T0, [])
    sample.power_w = power
    sample.currents_a = currents
    sample.voltages_v = voltages
    assert derive_power(sample) == expected


def test_energy_counter_never_decreases() -> None:
    """A register reset continues from the total; late samples do not count twice."""
    counter = EnergyCounter()
    assert counter.update(5000, T0)
    assert counter.total_wh == 5000
    assert counter.update(5500, T0 + timedelta(minutes=1))
    assert counter.total_wh == 5500
    assert not counter.update(5500, T0 + timedelta(minutes=2))
    # The meter restarted from 0 (or counts per session): nothing is subtracted.
    assert counter.update(200, T0 + timedelta(minutes=3))
    assert counter.total_wh == 5700
    # A late sample from before the newest one does not move the total.
    assert not counter.update(5400, T0 + timedelta(seconds=30))
    assert counter.total_wh == 5700
    assert not counter.update(-5, T0 + timedelta(minutes=4))
    restored = EnergyCounter.from_dict(counter.as_dict())
    assert restored == counter


def test_energy_counter_ignores_rounding_steps_back() -> None:
    """meterStop truncated below the last (rounded) MeterValues is not a meter reset."""
    counter = EnergyCounter()
    counter.update(6_463_368, T0)
    counter.update(6_470_001, T0 + timedelta(minutes=1))  # MeterValues, rounded up
    assert not counter.update(6_470_000, T0 + timedelta(minutes=2))  # meterStop, truncated
    assert counter.total_wh == 6_470_001
    assert counter.update(6_471_000, T0 + timedelta(minutes=3))
    assert counter.total_wh == 6_471_000  # nothing counted twice, nothing lost


def test_energy_counter_rejects_leaps_and_follows_a_replaced_meter() -> None:
    """A rise faster than the maximum power is a glitch; a new meter level that persists is followed."""
    counter = EnergyCounter()
    counter.update(12_000, T0, max_power_w=7_400)
    # 4294967295 Wh a minute later: not energy.
    assert not counter.update(4_294_967_295, T0 + timedelta(minutes=1), max_power_w=7_400)
    assert counter.total_wh == 12_000
    assert counter.rejected == 1
    # An hour at 7.4 kW is possible (the burst allowance absorbs timing slack).
    assert counter.update(19_000, T0 + timedelta(hours=1), max_power_w=7_400)
    assert counter.total_wh == 19_000
    # A meter replaced by one at 3,000 kWh: rejected until it has agreed three times,
    # then followed from there; the step itself is never counted.
    for minutes in (61, 62, 63):
        assert not counter.update(
            3_000_000 + minutes, T0 + timedelta(minutes=minutes), max_power_w=7_400
        )
    assert counter.total_wh == 19_000
    assert counter.update(3_000_163, T0 + timedelta(minutes=64), max_power_w=7_400)
    assert counter.total_wh == 19_100
    # Storage of an older version (no rejection fields) still loads.
    old = EnergyCounter.from_dict(
        {"total_wh": 5.0, "last_register_wh": 5.0, "last_timestamp": T0.isoformat()}
    )
    assert old.rejected == 0
    assert old.allowance_wh is None
    assert EnergyCounter.from_dict(counter.as_dict()) == counter


def test_plausible_time() -> None:
    """A clock hours ahead, or at 1970, is replaced by the receive time."""
    assert plausible_time(T0 - timedelta(hours=3), T0) == T0 - timedelta(hours=3)
    assert plausible_time(T0 + timedelta(hours=3), T0) == T0
    assert plausible_time(datetime(1970, 1, 1, tzinfo=UTC), T0) == T0
    assert plausible_time(None, T0) == T0


def test_profile_selection() -> None:
    """Wallbox by vendor name, everything else generic."""
    assert select_profile("Wall Box Chargers", "PLP1-0-2-4", "6.7.11") is WALLBOX
    assert select_profile("Wallbox", None, None) is WALLBOX
    assert select_profile("Alfen BV", "NG910", "6.1") is GENERIC
    assert select_profile(None, None, None) is GENERIC


def _wallbox(auth_enabled: str | None = "true") -> Charger:
    charger = Charger("wb1")
    charger.apply_connected(True, "127.0.0.1")
    charger.apply_boot(ChargerInfo(vendor="Wall Box Chargers", model="PLP1-0-2-4"), T0)
    if auth_enabled is not None:
        charger.apply_configuration({"AuthEnabled": auth_enabled}, reported_settings)
    return charger


@pytest.mark.parametrize(
    ("auth_enabled", "status", "authorize", "expected"),
    [
        ("true", None, False, LedColour.GREEN_ROTATING),  # booted, no status yet
        ("true", ConnectorStatus.AVAILABLE, False, LedColour.YELLOW),
        ("false", ConnectorStatus.AVAILABLE, False, LedColour.GREEN),
        (None, ConnectorStatus.AVAILABLE, False, None),  # lock unknown: no guess
        ("true", ConnectorStatus.PREPARING, False, LedColour.YELLOW),
        ("true", ConnectorStatus.PREPARING, True, LedColour.TURQUOISE),
        ("false", ConnectorStatus.PREPARING, False, LedColour.TURQUOISE),
        ("true", ConnectorStatus.CHARGING, True, LedColour.DARK_BLUE_PULSING),
        ("true", ConnectorStatus.SUSPENDED_EV, True, LedColour.TURQUOISE),
        ("true", ConnectorStatus.SUSPENDED_EVSE, True, LedColour.TURQUOISE),
        ("true", ConnectorStatus.FINISHING, True, LedColour.TURQUOISE),
        ("true", ConnectorStatus.FAULTED, False, LedColour.RED),
        ("true", ConnectorStatus.INOPERATIVE, False, None),
    ],
)
def test_wallbox_led(
    auth_enabled: str | None,
    status: ConnectorStatus | None,
    authorize: bool,
    expected: LedColour | None,
) -> None:
    """The halo colour follows status, lock and authorization (domain.md's mapping)."""
    charger = _wallbox(auth_enabled)
    if authorize:
        charger.apply_authorize("AABBCCDD", True, T0)
    if status is not None:
        charger.apply_status(1, status, None)
    if authorize and status is ConnectorStatus.PREPARING:
        charger.apply_authorize("AABBCCDD", True, T0)
    assert charger.led() == expected


def test_wallbox_led_offline() -> None:
    """Disconnected: the halo rotates green (looking for its central system)."""
    charger = _wallbox()
    charger.apply_status(1, ConnectorStatus.CHARGING, None)
    charger.apply_connected(False)
    assert charger.led() is LedColour.GREEN_ROTATING


def test_generic_led() -> None:
    """Only the near-universal colours for chargers we know nothing about."""
    charger = Charger("x")
    assert charger.led() is None
    charger.apply_connected(True)
    charger.apply_status(1, ConnectorStatus.AVAILABLE, None)
    assert charger.led() is LedColour.GREEN
    charger.apply_status(1, ConnectorStatus.CHARGING, None)
    assert charger.led() is LedColour.BLUE
    charger.apply_status(1, ConnectorStatus.FAULTED, "GroundFailure")
    assert charger.led() is LedColour.RED
    charger.apply_status(1, ConnectorStatus.PREPARING, None)
    assert charger.led() is None


def _sample(minutes: int, energy: float, power: float | None = None) -> list:
    values = [sv(str(energy), "Energy.Active.Import.Register", "Wh")]
    if power is not None:
        values.append(sv(str(power), "Power.Active.Import", "W"))
    return [parse_sampled_values(T0 + timedelta(minutes=minutes), values)]


def test_transaction_lifecycle_and_storage() -> None:
    """Session energy, lifetime energy and a restart in the middle of a session."""
    charger = _wallbox()
    charger.apply_status(1, ConnectorStatus.CHARGING, None)
    charger.apply_start(Transaction("7", 1, "TAG", 10_000.0, T0))
    charger.apply_meter_values(1, "7", _sample(10, 11_200, 7200))
    connector = charger.connector(1)
    assert connector.transaction is not None
    assert connector.transaction.energy_wh == 1200
    assert charger.energy_wh == 11_200
    assert charger.power_w == 7200

    restored = charger_from_dict("wb1", charger_as_dict(charger))
    assert not restored.connected
    assert restored.connector(1).transaction == connector.transaction
    assert restored.energy_wh == 11_200

    stopped = restored.apply_stop("7", 12_000, T0 + timedelta(minutes=20), "EVDisconnected", [])
    assert stopped is not None
    assert stopped.energy_wh == 2000
    assert stopped.duration(T0 + timedelta(hours=5)) == timedelta(minutes=20)
    assert restored.connector(1).transaction is None
    assert restored.connector(1).session is stopped
    assert restored.energy_wh == 12_000
    assert restored.power_w == 0


def test_what_the_owner_wants_is_held_apart_and_tells_the_chargers_listeners() -> None:
    """The owner's wishes live in ``charger.owner``; entities of the charger still hear them.

    They are stored beside the charger's reports as before, and a restored charger's
    owner state tells the restored charger's listeners.
    """
    charger = Charger("cp1")
    lock_heard: list[bool | None] = []
    meter_heard: list[float | None] = []
    charger.add_listener(lambda: lock_heard.append(charger.locked), [Topic.LOCK])
    charger.add_listener(lambda: meter_heard.append(charger.power_w), [Topic.METER])

    charger.owner.apply_lock_wanted(False)
    charger.owner.apply_auto_lock(15)
    charger.owner.apply_limit(requested_a=10.0, status=LimitStatus.PENDING)
    # A charger with no lock setting of its own: the owner's wish is the truth.
    assert lock_heard == [False, False]
    assert not meter_heard

    stored = charger_as_dict(charger)
    assert set(stored) == {
        *("info", "profile", "last_boot", "last_heartbeat", "connectors"),
        *("configuration", "settings", "measurands", "clock_skew_s"),
        *("lock_wanted", "auto_lock_minutes", "auto_lock_due", "reboot", "limit", "control"),
    }
    assert (stored["lock_wanted"], stored["auto_lock_minutes"]) == (False, 15)

    restored = charger_from_dict("cp1", stored)
    limits: list[float | None] = []
    restored.add_listener(lambda: limits.append(restored.owner.limit.requested_a), [Topic.LIMIT])
    assert restored.locked is False
    assert restored.owner.auto_lock_minutes == 15
    restored.owner.apply_limit(requested_a=16.0)
    assert limits == [16.0]
    assert charger.owner.limit.requested_a == 10.0


def test_stop_of_unknown_transaction_keeps_the_energy() -> None:
    """A StopTransaction for a transaction we never saw still moves lifetime energy."""
    charger = _wallbox()
    charger.apply_meter_values(1, None, _sample(0, 1000))
    assert charger.apply_stop("999", 1500, T0 + timedelta(minutes=5), None, []) is None
    assert charger.energy_wh == 1500


def test_multi_connector_totals() -> None:
    """Charger-level power and energy add up the connectors; status follows connector 0."""
    charger = Charger("dual")
    charger.apply_connected(True)
    charger.apply_status(0, ConnectorStatus.AVAILABLE, None)
    charger.apply_status(1, ConnectorStatus.CHARGING, None)
    charger.apply_status(2, ConnectorStatus.PREPARING, None)
    charger.apply_meter_values(1, None, _sample(0, 1000, 3000))
    charger.apply_meter_values(2, None, _sample(0, 2000, 0))
    assert charger.connector_count == 2
    assert charger.main.connector_id == 0
    assert charger.power_w == 3000
    assert charger.energy_wh == 3000
    assert charger.plugged_in is True
    assert charger.charging is True


def test_parse_other_measurands() -> None:
    """Frequency, SoC, temperature, offered power and per-phase power are read."""
    sample = parse_sampled_values(
        T0,
        [
            sv("50.01", "Frequency", "Hertz"),
            sv("64", "SoC", "Percent"),
            sv("41.5", "Temperature", "Celsius"),
            sv("11", "Power.Offered", "kW"),
            sv("2300", "Power.Active.Import", "W", "L1"),
            sv("2400", "Power.Active.Import", "W", "L2"),
            sv("1000", "Energy.Active.Import.Register", "Wh", "L1"),  # per phase: not the total
            {"measurand": "Voltage"},  # no value at all
        ],
    )
    assert sample.frequency_hz == 50.01
    assert sample.soc_percent == 64
    assert sample.temperature_c == 41.5
    assert sample.power_offered_w == 11000
    assert sample.power_w == 4700
    assert sample.energy_wh is None


def test_password_hashes() -> None:
    """Hashes are salted, verify, and a damaged stored hash never matches."""
    from custom_components.ocpp_hub.csms.auth import check_password, hash_password

    first, second = hash_password("secret"), hash_password("secret")
    assert first != second
    assert check_password("secret", first)
    assert not check_password("Secret", first)
    assert not check_password("secret", "plain-text")
    assert not check_password("secret", "bcrypt$1$2$3$4$5")
    assert not check_password("secret", "scrypt$x$8$1$AAAA$AAAA")


async def test_password_verifier_remembers_success() -> None:
    """A verified password is remembered (no second scrypt); a wrong one is not."""
    from custom_components.ocpp_hub.csms.auth import PasswordVerifier, hash_password

    stored = hash_password("secret")
    verifier = PasswordVerifier()
    assert not await verifier.verify("wrong", stored)
    assert await verifier.verify("secret", stored)
    assert await verifier.verify("secret", stored)
    assert not await verifier.verify("wrong", stored)


@pytest.mark.parametrize("reported", ["1e400", "inf", "0", "-5", "nan", "5000"])
def test_a_strange_current_ceiling_cannot_stop_the_energy_count(reported: str) -> None:
    """chargingALimitConn1 comes from the charger: any value keeps energy counting."""
    charger = Charger("wb1")
    charger.apply_configuration({"chargingALimitConn1": reported}, reported_settings)
    assert 6 <= charger.max_current_a <= 80
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    charger.apply_meter_values(1, None, [Sample(timestamp=t0, energy_wh=1000.0)])
    later = t0 + timedelta(hours=1)
    charger.apply_meter_values(1, None, [Sample(timestamp=later, energy_wh=4000.0)])
    assert charger.energy_wh == 4000.0


def test_settings_by_meaning_from_each_version() -> None:
    """Each version's mapping reads its own keys; what is not a value is not reported."""
    settings = reported_settings(
        {
            "AuthEnabled": "TRUE",
            "chargingALimitConn1": "sixteen",
            "ConnectorSwitch3to1PhaseSupported": "true",
            "NumberOfConnectors": "2.5",
        }
    )
    assert settings == ReportedSettings(authorization_required=True, phase_switching=True)
    assert reported_settings({"NumberOfConnectors": "2"}).connector_count == 2
    assert v201_settings({"AuthCtrlr.Enabled": "false"}).authorization_required is False
    assert v201_settings({"AuthEnabled": "false"}) == ReportedSettings()
    stored = ReportedSettings(False, 16.0, True, 2)
    assert ReportedSettings.from_dict(stored.as_dict()) == stored
    damaged = {"authorization_required": "yes", "current_ceiling_a": True, "connector_count": 2.0}
    assert ReportedSettings.from_dict(damaged) == ReportedSettings()


def test_a_transaction_id_that_is_no_number_is_no_1_6_transaction() -> None:
    """1.6 names transactions by number: the model's text id converts back, or refuses."""
    assert transaction_number(transaction_id(41), "RemoteStopTransaction") == 41
    with pytest.raises(CallFailed, match=r"not a 1\.6 transaction"):
        transaction_number("e1b7-finished", "RemoteStopTransaction")


def test_a_key_stored_in_two_spellings_is_one_after_a_restart() -> None:
    """An older store may hold one key in two spellings (one the charger's, one typed by
    the owner): restored, it is one key, and what the charger reports next decides the lock."""
    stored = charger_as_dict(Charger("cp1"))
    stored["configuration"] = {"AuthEnabled": "true", "authenabled": "true", "Other": "1"}
    restored = charger_from_dict("cp1", stored)
    assert [k for k in restored.configuration if k.casefold() == "authenabled"] == ["AuthEnabled"]
    restored.apply_configuration({"AuthEnabled": "false"}, reported_settings)
    assert restored.settings.authorization_required is False
    assert restored.configuration == {"AuthEnabled": "false", "Other": "1"}
