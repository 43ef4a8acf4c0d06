"""Charging sessions: kept once each, shown in a calendar, priced, exported.

A real central system in Home Assistant and a real simulated Wallbox over
127.0.0.1; the price is an input_number the test moves.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
import io
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from chargersim import SimulatedCharger
from custom_components.ocpp_hub.const import (
    CONF_PING_INTERVAL,
    CONF_PRICE_ENTITY,
    CONF_SESSIONS_MAX_COUNT,
    DOMAIN,
)
from custom_components.ocpp_hub.model.sessions import (
    SessionHistory,
    SessionRecord,
    SessionTracker,
    StartedBy,
)
from custom_components.ocpp_hub.session_export import sessions_csv

from .conftest import (
    BOTH_VERSIONS,
    CARD_ALICE,
    AnyCharger,
    CentralSystemUnderTest,
    SimVersion,
    meter_during_transaction,
    stop_transaction,
)
from .helpers import charger_device, state_of, wait_for

PRICE = "input_number.price"


async def _session(
    charger: AnyCharger,
    start: datetime,
    energy: list[tuple[int, float]],
    *,
    id_tag: str = CARD_ALICE,
    stop_at: datetime | None = None,
) -> None:
    """A session from ``start``: meter values (register Wh, power W) in turn, then the stop."""
    await charger.start_transaction(1, id_tag, energy[0][0], timestamp=start)
    await charger.status(1, "Charging")
    for register, power in energy[1:]:
        await meter_during_transaction(charger, 1, energy_wh=register, power_w=power)
    await stop_transaction(
        charger, 1, energy[-1][0], reason="EVDisconnected", timestamp=stop_at or datetime.now(UTC)
    )
    await charger.status(1, "Available")


async def _get_sessions(hass: HomeAssistant, device_id: str, **data: Any) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"device_id": device_id, **data},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    sessions: list[dict[str, Any]] = response["sessions"]
    return sessions


@BOTH_VERSIONS
async def test_a_session_is_kept_and_shown(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    hass_client: ClientSessionGenerator,
    sim_version: SimVersion,
) -> None:
    """Alice charges 5 kWh: calendar event, last-session sensors, action and CSV agree."""
    start = datetime.now(UTC) - timedelta(minutes=40)
    async with sim_version.simulator(central_system.url, "wb1") as charger:
        await charger.boot()
        await _session(charger, start, [(10_000, 0), (12_000, 7_200), (15_000, 7_400)])
        await hass.async_block_till_done()

    assert state_of(hass, "sensor.garage_last_session_energy") == "5.0"
    assert state_of(hass, "sensor.garage_last_session_card") == "Alice"
    assert 39 <= float(state_of(hass, "sensor.garage_last_session_duration")) <= 41
    assert hass.states.get("sensor.garage_last_session_cost") is None  # no price configured
    assert state_of(hass, "calendar.garage_sessions") == "off"  # nothing charging now

    events = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.garage_sessions",
            "start_date_time": start - timedelta(hours=1),
            "end_date_time": datetime.now(UTC) + timedelta(hours=1),
        },
        blocking=True,
        return_response=True,
    )
    (event,) = events["calendar.garage_sessions"]["events"]
    assert event["summary"] == "5.00 kWh · Alice"
    assert "Maximum power: 7.4 kW" in event["description"]
    assert "Stopped: EVDisconnected" in event["description"]

    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    (session,) = await _get_sessions(hass, device.id)
    assert session["energy_kwh"] == 5.0
    assert session["card"] == "Alice"
    assert session["started_by"] == "card"
    assert session["max_power_kw"] == 7.4
    assert session["cost"] is None
    assert abs(datetime.fromisoformat(session["start"]) - start) < timedelta(seconds=1)

    client = await hass_client()
    response = await client.get(f"/api/ocpp_hub/sessions/{device.id}.csv")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="wb1-sessions.csv"'
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["card"] for row in rows] == ["Alice"]
    # The CSV's energy adds up to what the energy sensor counted for the session.
    assert sum(float(row["energy_kwh"]) for row in rows) == pytest.approx(
        float(state_of(hass, "sensor.garage_energy")) - 10.0
    )
    assert (await client.get("/api/ocpp_hub/sessions/nonsense.csv")).status == 404
    bad = await client.get(f"/api/ocpp_hub/sessions/{device.id}.csv?start=yesterday")
    assert bad.status == 400


async def test_sessions_in_diagnostics_without_card_numbers(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, hass_client: ClientSessionGenerator
) -> None:
    """The device's diagnostics list its last sessions; the card number is redacted."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        await _session(charger, datetime.now(UTC) - timedelta(minutes=5), [(0, 0), (1500, 3000)])
        await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    result = await get_diagnostics_for_device(hass, hass_client, central_system.entry, device)
    (session,) = result["last_sessions"]
    assert session["energy_wh"] == 1500
    assert session["card_name"] == "Alice"
    assert session["id_tag"] == "**REDACTED**"


async def test_a_start_in_the_future_is_still_an_event(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A charger whose clock runs ahead: the session is accepted and is the calendar's event."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        ahead = datetime.now(UTC) + timedelta(minutes=7)
        answer = await charger.start_transaction(1, CARD_ALICE, 0, timestamp=ahead)
        assert answer["idTagInfo"]["status"] == "Accepted"
        await hass.async_block_till_done()
        calendar = hass.states.get("calendar.garage_sessions")
        assert calendar is not None
        assert calendar.attributes["message"] == "Charging · 0.00 kWh so far"
        start = dt_util.parse_datetime(calendar.attributes["start_time"])
        assert start is not None
        # Its start is the one the charger reported (shown in local time, to the second).
        assert abs(
            dt_util.as_utc(start.replace(tzinfo=dt_util.get_default_time_zone())) - ahead
        ) < (timedelta(seconds=1))


async def test_a_session_cut_short_by_the_next_is_kept(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A lost StopTransaction: the next StartTransaction ends it; it is kept, with its power."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        first = (await charger.start_transaction(1, CARD_ALICE, 0))["transactionId"]
        await charger.meter_values(1, transaction_id=first, energy_wh=5_000, power_w=7_000)
        # The charger lost the stop (power cut) and starts the next session.
        second = (await charger.start_transaction(1, CARD_ALICE, 5_000))["transactionId"]
        await charger.stop_transaction(second, 6_000)
        await hass.async_block_till_done()
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    sessions = await _get_sessions(hass, device.id)
    assert [s["energy_kwh"] for s in sessions] == [1.0, 5.0]
    assert sessions[1]["max_power_kw"] == 7.0
    assert sessions[0]["max_power_kw"] is None  # it never reported its power


async def test_csv_is_for_administrators(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """Card numbers and habits: a user who is no administrator gets no sessions."""
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    hass_admin_user.groups = []
    client = await hass_client()
    assert (await client.get(f"/api/ocpp_hub/sessions/{device.id}.csv")).status == 401


def test_csv_cells_never_start_a_formula() -> None:
    """An idTag such as =HYPERLINK(...) from a charger stays text in a spreadsheet."""
    record = SessionRecord(
        transaction_id="1",
        connector_id=1,
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        ended_at=datetime(2026, 12, 1, 1, tzinfo=UTC),
        energy_wh=1000.0,
        id_tag='=HYPERLINK("http://x")',
        started_by=StartedBy.CARD,
        card_name="+Alice",
    )
    (row,) = csv.DictReader(io.StringIO(sessions_csv([record], "EUR")))
    assert row["id_tag"] == '\'=HYPERLINK("http://x")'
    assert row["card"] == "'+Alice"


async def test_csv_needs_a_login(
    hass: HomeAssistant,
    central_system: CentralSystemUnderTest,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The download is Home Assistant's authenticated API: no token, no sessions."""
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    client = await hass_client_no_auth()
    assert (await client.get(f"/api/ocpp_hub/sessions/{device.id}.csv")).status == 401


async def test_date_range_and_csv_sums(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, hass_client: ClientSessionGenerator
) -> None:
    """Three sessions on three days: the range picks, newest first; the CSV sums per range."""
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days = [now - timedelta(days=d) for d in (2, 1, 0)]
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        register = 0
        for number, day in enumerate(days, start=1):
            energy = [(register, 0.0), (register + number * 1000, 3_000.0)]
            await _session(charger, day, energy, stop_at=day + timedelta(hours=1))
            register += number * 1000
        await hass.async_block_till_done()

    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    everything = await _get_sessions(hass, device.id)
    assert [s["energy_kwh"] for s in everything] == [3.0, 2.0, 1.0]  # newest first
    last_two = await _get_sessions(hass, device.id, start=days[1] - timedelta(minutes=1))
    assert [s["energy_kwh"] for s in last_two] == [3.0, 2.0]

    client = await hass_client()
    first_day = dt_util.as_local(days[0]).date().isoformat()
    second_day = dt_util.as_local(days[1]).date().isoformat()
    response = await client.get(
        f"/api/ocpp_hub/sessions/{device.id}.csv?start={first_day}&end={second_day}"
    )
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [float(r["energy_kwh"]) for r in rows] == [1.0]
    response = await client.get(f"/api/ocpp_hub/sessions/{device.id}.csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert sum(float(r["energy_kwh"]) for r in rows) == pytest.approx(
        float(state_of(hass, "sensor.garage_energy"))
    )


@BOTH_VERSIONS
async def test_late_stop_after_an_outage_lands_once_in_its_place(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """The StopTransaction arrives after a reconnect with past times, and again: one session."""
    start = datetime.now(UTC) - timedelta(hours=5)
    stopped = start + timedelta(hours=2)
    charger = sim_version.simulator(central_system.url, "wb1")
    async with charger:
        await charger.boot()
        await charger.start_transaction(1, CARD_ALICE, 0, timestamp=start)
    # The connection drops; the car is unplugged meanwhile; the charger comes back.
    async with charger:
        await charger.boot()
        await stop_transaction(charger, 1, 9_000, reason="EVDisconnected", timestamp=stopped)
        # The charger did not get our answer and sends it again after another reconnect.
        await charger.resend(charger.transaction_messages[-1])
        await hass.async_block_till_done()
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    (session,) = await _get_sessions(hass, device.id)
    assert session["energy_kwh"] == 9.0
    assert abs(datetime.fromisoformat(session["end"]) - stopped) < timedelta(seconds=1)
    # It sits five hours back in the calendar, where it happened.
    events = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.garage_sessions",
            "start_date_time": start - timedelta(minutes=1),
            "end_date_time": stopped + timedelta(minutes=1),
        },
        blocking=True,
        return_response=True,
    )
    assert len(events["calendar.garage_sessions"]["events"]) == 1


@BOTH_VERSIONS
async def test_restart_mid_session_keeps_its_measurements(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, sim_version: SimVersion
) -> None:
    """Home Assistant restarts while the car charges: the session is still whole."""
    entry = central_system.entry
    charger = sim_version.simulator(central_system.url, "wb1")
    async with charger:
        await charger.boot()
        start = datetime.now(UTC) - timedelta(minutes=20)
        await charger.start_transaction(1, CARD_ALICE, 0, timestamp=start)
        await charger.status(1, "Charging")
        await meter_during_transaction(charger, 1, energy_wh=2_000, power_w=11_000)
        await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    async with charger:
        await charger.boot()
        await meter_during_transaction(charger, 1, energy_wh=4_000, power_w=6_000)
        await stop_transaction(charger, 1, 4_000, reason="Local")
        await hass.async_block_till_done()
    device = charger_device(hass, entry.entry_id, "wb1")
    assert device is not None
    (session,) = await _get_sessions(hass, device.id)
    assert session["energy_kwh"] == 4.0
    assert session["max_power_kw"] == 11.0  # measured before the restart
    assert session["stop_reason"] == "Local"


PRICED = pytest.mark.parametrize(
    "entry_options",
    [{CONF_PING_INTERVAL: 20, CONF_PRICE_ENTITY: PRICE, CONF_SESSIONS_MAX_COUNT: 3}],
)


@pytest.fixture
async def price(hass: HomeAssistant) -> None:
    """The price per kWh, 0.30 to begin with."""
    assert await async_setup_component(
        hass,
        "input_number",
        {"input_number": {"price": {"min": 0, "max": 2, "step": 0.01, "initial": 0.30}}},
    )


async def _set_price(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": PRICE, "value": value}, blocking=True
    )


@PRICED
async def test_price_change_mid_session(
    hass: HomeAssistant, price: None, central_system: CentralSystemUnderTest
) -> None:
    """4 kWh at 0.30 then 6 kWh at 0.10: the session costs 1.80, not 10 x either price."""
    hass.config.currency = "EUR"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        tx = (await charger.start_transaction(1, CARD_ALICE, 0))["transactionId"]
        await charger.meter_values(1, transaction_id=tx, energy_wh=4_000, power_w=7_000)
        await hass.async_block_till_done()
        await _set_price(hass, 0.10)
        await charger.meter_values(1, transaction_id=tx, energy_wh=10_000, power_w=7_000)
        await charger.stop_transaction(tx, 10_000)
        await hass.async_block_till_done()
    assert float(state_of(hass, "sensor.garage_last_session_cost")) == pytest.approx(1.80)
    cost = hass.states.get("sensor.garage_last_session_cost")
    assert cost is not None
    assert cost.attributes["unit_of_measurement"] == "EUR"


@PRICED
async def test_bounded_by_count(
    hass: HomeAssistant, price: None, central_system: CentralSystemUnderTest
) -> None:
    """Five sessions with at most three kept: the three newest."""
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        for number in range(5):
            tx = (await charger.start_transaction(1, CARD_ALICE, number * 1000))["transactionId"]
            await charger.stop_transaction(tx, (number + 1) * 1000)
        await hass.async_block_till_done()
    device = charger_device(hass, central_system.entry.entry_id, "wb1")
    assert device is not None
    await wait_for(lambda: state_of(hass, "sensor.garage_last_session_energy") == "1.0")
    sessions = await _get_sessions(hass, device.id)
    # The three newest: their ids are the last three handed out, newest first.
    registered = central_system.entry.runtime_data.chargers["wb1"]
    kept = [r.transaction_id for r in registered.sessions.history.records]
    assert len(sessions) == 3
    assert kept == sorted(kept, reverse=True)
    assert [s["start"] for s in sessions] == sorted((s["start"] for s in sessions), reverse=True)


def test_history_keeps_each_session_once_and_in_order() -> None:
    """The model: duplicates refused, order by start, age bound."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    history = SessionHistory(max_sessions=10, max_age=timedelta(days=30))

    def record(tx: int, days_ago: float) -> SessionRecord:
        start = now - timedelta(days=days_ago)
        return SessionRecord(
            transaction_id=str(tx),
            connector_id=1,
            started_at=start,
            ended_at=start + timedelta(hours=1),
            energy_wh=1000.0,
            id_tag="T",
            started_by=StartedBy.REMOTE,
        )

    assert history.add(record(1, 2), now)
    assert history.add(record(2, 5), now)  # late: lands behind the newer one
    assert not history.add(record(1, 2), now)
    assert not history.add(record(3, 40), now)  # older than the bound
    assert [r.transaction_id for r in history.records] == ["1", "2"]
    restored = SessionHistory()
    assert restored.restore([*history.as_list(), {"transaction_id": "broken"}]) == 1
    assert restored.records == history.records


def test_tracker_prices_energy_as_it_arrives() -> None:
    """No price for a while: that energy is simply not priced."""
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    tracker = SessionTracker("1", t0)
    tracker.update(t0, 0, 0, charging=True, price_per_kwh=None)
    tracker.update(t0 + timedelta(minutes=10), 1000, 6000, charging=True, price_per_kwh=None)
    assert tracker.cost is None
    tracker.update(t0 + timedelta(minutes=20), 2000, 7000, charging=False, price_per_kwh=0.5)
    assert tracker.cost == pytest.approx(0.5)
    assert tracker.max_power_w == 7000
    assert tracker.charging_s == 1200
    assert SessionTracker.from_dict(tracker.as_dict()) == tracker
