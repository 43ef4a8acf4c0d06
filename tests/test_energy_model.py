"""The energy manager's pure decisions: sharing a budget, and the surplus controller."""

from __future__ import annotations

import pytest

from custom_components.ocpp_hub.model.energy import (
    REACTIONS,
    ChargeControl,
    ChargeMode,
    ChargerFacts,
    Reason,
    Timing,
    decide_solar,
)
from custom_components.ocpp_hub.model.sharing import (
    Claim,
    FuseCap,
    follow_fuse,
    share,
    site_budget_a,
    whole_amps,
)

BALANCED = REACTIONS["balanced"]


def test_equal_shares_and_the_rest_goes_to_who_wants_more() -> None:
    """Three chargers, 30 A: one wants only 6, the other two split the remaining 24."""
    result = share(30, [Claim("a", 6, 6), Claim("b", 6, 32), Claim("c", 6, 32)])
    assert result == {"a": 6, "b": 12, "c": 12}


def test_the_lowest_priority_pauses_when_minimums_do_not_fit() -> None:
    """10 A cannot give two chargers 6 A: the higher priority gets all of it."""
    result = share(10, [Claim("low", 6, 32, priority=2), Claim("high", 6, 32, priority=8)])
    assert result == {"low": 0, "high": 10}


def test_minimums_are_kept_when_the_level_is_below_them() -> None:
    """13 A for a 6 A-minimum charger and two that take anything: 6, then 3.5 each."""
    result = share(13, [Claim("a", 6, 32), Claim("b", 0, 32), Claim("c", 0, 32)])
    assert result == {"a": 6, "b": 3.5, "c": 3.5}


def test_whole_amps_below_the_minimum_become_zero() -> None:
    assert whole_amps({"a": 7.9, "b": 5.99}, {"a": 6, "b": 6}) == {"a": 7, "b": 0}


def test_site_budget_is_the_headroom_of_the_busiest_phase() -> None:
    """The meter says 20/12/10 A with the chargers drawing 8 A on each: the house is 12/4/2."""
    assert site_budget_a(25, 1, [20, 12, 10], [8, 8, 8]) == 12
    assert site_budget_a(25, 1, [40, 0, 0], [0, 0, 0]) == 0  # never negative


def facts(*, car: bool = True, phases: tuple[int, ...] = (1,)) -> ChargerFacts:
    return ChargerFacts(min_a=6, max_a=32, phases=phases, voltage_v=230, car=car, drawing_w=0.0)


def test_solar_waits_for_the_start_delay_then_follows() -> None:
    ctl = ChargeControl(mode=ChargeMode.SOLAR)
    decide_solar(ctl, facts(), 2000, 0, BALANCED)
    assert (ctl.target_a, ctl.reason) == (0, Reason.STARTING)
    assert ctl.detail["hold_until"] == BALANCED.start_delay_s
    decide_solar(ctl, facts(), 2000, BALANCED.start_delay_s, BALANCED)
    assert (ctl.target_a, ctl.reason) == (8, Reason.SURPLUS)


def test_solar_without_a_car_waits_at_zero_and_minimum_plus_solar_at_the_minimum() -> None:
    solar = ChargeControl(mode=ChargeMode.SOLAR)
    decide_solar(solar, facts(car=False), 5000, 0, BALANCED)
    assert (solar.target_a, solar.reason) == (0, Reason.NO_CAR)
    minimum = ChargeControl(mode=ChargeMode.MIN_SOLAR)
    decide_solar(minimum, facts(car=False), 5000, 0, BALANCED)
    assert (minimum.target_a, minimum.reason) == (6, Reason.NO_CAR)


def test_a_passing_dip_does_not_hold_back_a_raise() -> None:
    """The current rises to what the surplus paid for most of the interval."""
    timing = Timing(0, 0, 0, 0, 60, 600, 300)
    ctl = ChargeControl(mode=ChargeMode.MIN_SOLAR)
    decide_solar(ctl, facts(), 1380, 0, timing)
    assert ctl.target_a == 6
    for second in range(5, 60, 5):  # a reading every 5 s; a cloud at 30 s
        decide_solar(ctl, facts(), 1500 if second == 30 else 2300, second, timing)
        assert ctl.target_a == 6  # not before the interval is over
    decide_solar(ctl, facts(), 2300, 60, timing)
    assert ctl.target_a == 10
    # Nor does a passing peak raise it: 3500 W a quarter of the time pays for nothing more.
    for second in range(65, 125, 5):
        decide_solar(ctl, facts(), 2300 if second % 20 else 3500, second, timing)
    assert ctl.target_a == 10


@pytest.mark.parametrize(
    ("surplus", "expected"), [(7000, (3, 10)), (3000, (1, 13)), (1000, (1, 6))]
)
def test_phases_follow_the_surplus(surplus: float, expected: tuple[int, int]) -> None:
    """Three phases only when the surplus pays for 6 A on three (after the start delay)."""
    timing = Timing(0, 0, 0, 0, 0, 0, 300)
    ctl = ChargeControl(mode=ChargeMode.MIN_SOLAR)
    decide_solar(ctl, facts(phases=(1, 3)), surplus, 0, timing)
    assert (ctl.phases, ctl.target_a) == expected


def test_stored_control_survives_and_bad_values_fall_back() -> None:
    ctl = ChargeControl(mode=ChargeMode.SOLAR, priority=8)
    ctl.count_energy("42", 2000, 1500, 3600)
    restored = ChargeControl.from_dict(ctl.as_dict())
    assert (restored.mode, restored.priority, restored.solar_share) == (
        ChargeMode.SOLAR,
        8,
        75.0,
    )
    broken = ChargeControl.from_dict({"mode": "turbo", "priority": "high", "charged_wh": "x"})
    assert (broken.mode, broken.priority, broken.charged_wh) == (ChargeMode.FAST, 5, 0.0)


def test_timing_from_options_keeps_the_preset_for_what_is_missing() -> None:
    timing = Timing.from_dict({"start_delay_s": 5, "min_on_s": -1}, BALANCED)
    assert timing.start_delay_s == 5
    assert timing.min_on_s == BALANCED.min_on_s


def test_a_sensor_faster_than_once_a_second_keeps_its_history() -> None:
    """Readings 0.9 s apart all count (a burst within one second counts once)."""
    timing = Timing(0, 0, 0, 0, 60, 600, 300)
    ctl = ChargeControl(mode=ChargeMode.MIN_SOLAR)
    decide_solar(ctl, facts(), 2300, 0.0, timing)
    for step in range(1, 40):
        decide_solar(ctl, facts(), 2300, step * 0.9, timing)
    decide_solar(ctl, facts(), 2300, 35.15, timing)  # the same second as 35.1
    times = [moment for moment, _ in ctl.history]
    assert len(times) >= 35  # one per second at least (two readings in a second: one)
    assert times[-2:] == [pytest.approx(34.2), 35.15]


def test_the_fuse_lowers_at_once_only_past_the_fuse_itself() -> None:
    """Within the margin a share changes after the wait; past the fuse at once."""
    free = FuseCap()
    assert follow_fuse(free, 16, 20, 21, now=0, wait_s=30) == free  # does not bind
    bound = follow_fuse(free, 16, 12, 13, now=0, wait_s=30)
    assert bound == FuseCap(12)  # binds: at once
    # The house wanders by an amp within the margin: no change until it held.
    lower = follow_fuse(bound, 16, 11, 12, now=5, wait_s=30)
    assert lower == FuseCap(12, 5)
    assert follow_fuse(lower, 16, 11, 12, now=34, wait_s=30) == FuseCap(12, 5)
    assert follow_fuse(lower, 16, 11, 12, now=35, wait_s=30) == FuseCap(11)
    # Back where it was before the wait ended: nothing pending.
    assert follow_fuse(lower, 16, 12, 13, now=20, wait_s=30) == FuseCap(12)
    # A step past the fuse itself: at once, whatever was pending.
    assert follow_fuse(lower, 16, 6, 7, now=6, wait_s=30) == FuseCap(6)
    # The fuse stops binding only after the wait too.
    rise = follow_fuse(bound, 16, 18, 19, now=40, wait_s=30)
    assert rise == FuseCap(12, 40)
    assert follow_fuse(rise, 16, 18, 19, now=70, wait_s=30) == FuseCap()
