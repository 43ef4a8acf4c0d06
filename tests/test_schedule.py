"""Scheduled charging: a weekly window the charger keeps by itself.

The window is set in the charger's settings (its gear, *Charging schedule*) and sent
as one recurring weekly profile; the simulated Wallbox evaluates that profile on its
own, so what it would offer at any moment can be asked of it with Home Assistant
stopped.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ocpp_hub.model.schedule import ChargingWindow

from .conftest import CentralSystemUnderTest
from .helpers import state_of, wait_for, wait_for_state
from .test_control import connected_charger, registered, set_limit

SCHEDULE = "sensor.garage_charging_schedule"


async def _set_schedule(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, **fields: Any
) -> None:
    subentry_id = registered(central_system).subentry_id
    result = await central_system.entry.start_subentry_reconfigure_flow(hass, subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "schedule"}
    )
    assert result["step_id"] == "schedule"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.ABORT, result.get("errors")
    await hass.async_block_till_done()


def _around_now(hours_before: float, hours_after: float) -> tuple[str, str]:
    """A window from some hours before now to some hours after (local time)."""
    now = dt_util.now()
    start = (now - timedelta(hours=hours_before)).time().replace(microsecond=0)
    end = (now + timedelta(hours=hours_after)).time().replace(microsecond=0)
    return start.isoformat(), end.isoformat()


def _window(start: str, end: str, inside: float = 16, outside: float = 0) -> dict[str, Any]:
    return {
        "enabled": True,
        "days": [str(day) for day in range(7)],
        "start": start,
        "end": end,
        "current_in_window": inside,
        "current_outside_window": outside,
    }


async def test_the_charger_keeps_the_window_with_home_assistant_stopped(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """16 A from an hour ago to an hour from now, nothing outside; then HA stops."""
    charger = await connected_charger(hass, central_system)
    start, end = _around_now(1, 1)
    await _set_schedule(hass, central_system, **_window(start, end))
    profile = await charger.wait_for_call("SetChargingProfile")
    assert profile["csChargingProfiles"]["chargingProfileKind"] == "Recurring"
    assert profile["csChargingProfiles"]["recurrencyKind"] == "Weekly"
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert state_of(hass, SCHEDULE) == "in_window"
    schedule = hass.states.get(SCHEDULE)
    assert schedule is not None
    closes = dt_util.parse_datetime(schedule.attributes["next_change"])
    assert closes is not None
    assert timedelta(minutes=50) < closes - dt_util.now() < timedelta(minutes=70)

    # Home Assistant stops; the charger goes on by its profile alone.
    assert await hass.config_entries.async_unload(central_system.entry.entry_id)
    await hass.async_block_till_done()
    now = datetime.now(UTC)
    assert charger.current_limit(1, now) == 16
    assert charger.current_limit(1, now + timedelta(hours=3)) == 0
    assert charger.current_limit(1, now + timedelta(days=1)) == 16  # the next day's window
    assert charger.current_limit(1, now + timedelta(days=1, hours=3)) == 0
    await charger.close()


async def test_the_limit_and_the_window_the_lower_applies(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A 10 A limit inside a 16 A window: 10 A; outside a 6 A window side: 6 A."""
    charger = await connected_charger(hass, central_system)
    registered(central_system).controller.limit_interval = 0
    start, end = _around_now(1, 1)
    await _set_schedule(hass, central_system, **_window(start, end, inside=16, outside=6))
    await wait_for(lambda: charger.current_limit(1) == 16)
    await set_limit(hass, 10)
    await wait_for(lambda: charger.current_limit(1) == 10)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert charger.current_limit(1, datetime.now(UTC) + timedelta(hours=3)) == 6
    await charger.close()


async def test_outside_the_window_and_off_again(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Outside the window nothing is offered; turning the schedule off removes it."""
    charger = await connected_charger(hass, central_system)
    start, end = _around_now(-2, 4)  # opens in two hours
    await _set_schedule(hass, central_system, **_window(start, end))
    await wait_for(lambda: charger.current_limit(1) == 0)
    await wait_for_state(hass, "sensor.garage_current_limit_status", "applied")
    assert state_of(hass, SCHEDULE) == "outside_window"
    await _set_schedule(hass, central_system, **{**_window(start, end), "enabled": False})
    assert await charger.wait_for_call("ClearChargingProfile") is not None
    await wait_for(lambda: charger.current_limit(1) == 32)
    assert state_of(hass, SCHEDULE) == "off"
    await charger.close()


async def test_a_schedule_the_charger_lost_is_sent_again(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """The charger forgets its profiles; at its next boot it gets the window again."""
    charger = await connected_charger(hass, central_system)
    start, end = _around_now(-2, 4)
    await _set_schedule(hass, central_system, **_window(start, end))
    await wait_for(lambda: charger.current_limit(1) == 0)
    await charger.close()
    charger.charging_profiles = []
    charger = await connected_charger(hass, central_system)
    await wait_for(lambda: charger.current_limit(1) == 0)
    await charger.close()


async def test_the_calendar_shows_the_windows(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Three days ahead: three windows, beside the sessions."""
    await _set_schedule(hass, central_system, **_window("22:00:00", "06:00:00"))
    start = dt_util.start_of_local_day() + timedelta(days=1)
    events = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": "calendar.garage_sessions",
            "start_date_time": start,
            "end_date_time": start + timedelta(days=3),
        },
        blocking=True,
        return_response=True,
    )
    windows = events["calendar.garage_sessions"]["events"]
    # The one from the evening before reaches into the first day: four in all.
    assert [w["summary"] for w in windows] == ["Charging window · 16 A"] * 4
    first = dt_util.parse_datetime(windows[1]["start"])
    assert first is not None
    assert first.time() == time(22, 0)


async def test_a_window_needs_days_and_a_current_a_car_takes(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """No day, or 3 A: errors in the form; nothing saved."""
    subentry_id = registered(central_system).subentry_id
    result = await central_system.entry.start_subentry_reconfigure_flow(hass, subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "schedule"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**_window("22:00:00", "06:00:00"), "days": []}
    )
    assert result["errors"] == {"days": "no_days"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _window("22:00:00", "06:00:00", inside=3)
    )
    assert result["errors"] == {"base": "schedule_current"}
    assert registered(central_system).charger.owner.schedule is None


@pytest.mark.parametrize(
    ("days", "start", "end", "expected"),
    [
        # Every night 22:00 to 06:00: Monday starts inside (Sunday night's window).
        (range(7), time(22), time(6), [(0, 16), (21600, 0), (79200, 16)]),
        # Sunday night only: its tail is Monday morning, at the start of the week.
        ([6], time(22), time(6), [(0, 16), (21600, 0), (597600, 16)]),
        # Weekdays 9 to 17.
        (range(5), time(9), time(17), [(0, 0), (32400, 16), (61200, 0), (118800, 16)]),
    ],
)
def test_periods_of_the_week(
    days: Any, start: time, end: time, expected: list[tuple[int, int]]
) -> None:
    """The weekly profile's periods, from Monday 00:00."""
    window = ChargingWindow(frozenset(days), start, end, 16, 0)
    periods = [(int(p["startPeriod"]), int(p["limit"])) for p in window.periods(32)]
    assert periods[: len(expected)] == expected


def test_next_change_and_the_lower_of_limit_and_window() -> None:
    """Next change across midnight and into the next week; the limit caps the window."""
    window = ChargingWindow(frozenset({6}), time(22), time(6), 16, 0)
    tz = dt_util.get_default_time_zone()
    sunday_noon = datetime(2026, 12, 6, 12, tzinfo=tz)
    assert window.next_change(sunday_noon) == datetime(2026, 12, 6, 22, tzinfo=tz)
    monday_five = datetime(2026, 12, 7, 5, tzinfo=tz)
    assert window.in_window(monday_five)
    assert window.limit_at(monday_five, 10) == 10
    assert window.next_change(monday_five) == datetime(2026, 12, 7, 6, tzinfo=tz)
    assert window.next_change(datetime(2026, 12, 7, 7, tzinfo=tz)) == datetime(
        2026, 12, 13, 22, tzinfo=tz
    )
    assert ChargingWindow.from_dict(window.as_dict()) == window
