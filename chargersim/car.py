"""A simulated electric car on a connector: it follows the charger's offer.

`Car` models what a real car does with the current a charger offers (IEC
61851 control pilot): it draws at most its own maximum, on at most its own
phases, nothing below its minimum current (6 A), and it ramps towards a new
current (2 A/s up, 4 A/s down by default) instead of jumping. When the energy
it still wants is delivered it stops drawing (the connector goes SuspendedEV).
When the charger switches phases (OCPP ``ConnectorSwitch3to1PhaseSupported``)
the car draws nothing for the charger's switching pause, then ramps up again.

The car has no clock of its own: time is whatever the caller passes
(``advance(t)``, ``offer(t, ...)``, ``current_at(t)``), normally the event
loop's time, so that a benchmark on an accelerated virtual clock sees the
same dynamics. Between two calls the current is piecewise linear and the
delivered energy is its exact integral. Times earlier than the last one
passed are ignored (the car never goes back in time).

How many phases a connector offers is the charger's to say
(`SimulatedCharger.offered_phases`, from `chargersim.smart_charging`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import math
import random

__all__ = ["MIN_CURRENT", "Car", "loop_time"]

#: Below this current a car does not charge (IEC 61851).
MIN_CURRENT = 6.0


def loop_time() -> float | None:
    """The running event loop's time, None outside a running loop."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return None


class Car:
    """An electric car plugged into a connector.

    Its settings (``max_current_a``, ``phases``, ``energy_wanted_kwh``) can be
    changed before or while charging; with a ``clock`` the car first catches
    up to the clock's time, so a change applies from then on (without one it
    applies from the last time the car was given). ``current_a`` and
    ``power_w`` are read at the clock's time, or at the last time given.
    """

    def __init__(
        self,
        *,
        max_current_a: float = 32.0,
        phases: int = 3,
        min_current_a: float = MIN_CURRENT,
        ramp_up_a_per_s: float = 2.0,
        ramp_down_a_per_s: float = 4.0,
        energy_wanted_kwh: float | None = None,
        jitter_a: float = 0.4,
        seed: int | str | None = None,
        clock: Callable[[], float | None] | None = None,
    ) -> None:
        if ramp_up_a_per_s <= 0 or ramp_down_a_per_s <= 0:
            raise ValueError("ramps must be positive (math.inf: instant)")
        self._max_current_a = float(max_current_a)
        self._phases = self._valid_phases(phases)
        self._energy_wanted_kwh = energy_wanted_kwh
        #: Below this offered current (A) the car does not draw.
        self.min_current_a = min_current_a
        #: How fast (A/s) the car's current rises / falls towards the offer.
        self.ramp_up_a_per_s = ramp_up_a_per_s
        self.ramp_down_a_per_s = ramp_down_a_per_s
        #: The car draws up to this much (A) less than it may (drawn anew
        #: each time the offer changes); 0 = exactly what it may.
        self.jitter_a = jitter_a
        #: The source of the jitter (seed it for a reproducible run).
        self.random = random.Random(seed)
        #: Time source for the settings and for ``current_a`` / ``power_w``.
        self.clock = clock
        #: Energy delivered to the car in total (Wh).
        self.energy_wh = 0.0
        #: How often the charger switched phases while the car was charging.
        self.phase_switches = 0

        self._time: float | None = None  # the last time given
        self._current = 0.0  # drawn at self._time, per phase in use
        self._target = 0.0  # where the current is heading
        self._pause_until = -math.inf  # phase switch: nothing drawn until then
        self._limit = 0.0  # the offered current; 0 = not allowed to draw
        self._offered_phases: int | None = None
        self._voltage = 230.0
        self._ideal: float | None = None  # min(offer, max) the shortfall was drawn for
        self._shortfall = 0.0

    @staticmethod
    def _valid_phases(phases: int) -> int:
        if phases not in (1, 2, 3):
            raise ValueError(f"a car charges on 1, 2 or 3 phases, not {phases}")
        return phases

    # -- settings ----------------------------------------------------------------

    @property
    def max_current_a(self) -> float:
        """The most current (A per phase) the car draws."""
        return self._max_current_a

    @max_current_a.setter
    def max_current_a(self, value: float) -> None:
        self._catch_up()
        self._max_current_a = float(value)
        self._retarget()

    @property
    def phases(self) -> int:
        """The phases the car can charge on (its on-board charger)."""
        return self._phases

    @phases.setter
    def phases(self, value: int) -> None:
        self._catch_up()
        self._phases = self._valid_phases(value)

    @property
    def energy_wanted_kwh(self) -> float | None:
        """Energy the car still wants (kWh; None = unlimited); it falls while charging."""
        return self._energy_wanted_kwh

    @energy_wanted_kwh.setter
    def energy_wanted_kwh(self, value: float | None) -> None:
        self._catch_up()
        self._energy_wanted_kwh = value
        self._retarget()

    # -- state -------------------------------------------------------------------

    @property
    def full(self) -> bool:
        """The car wants no more energy."""
        return self._energy_wanted_kwh is not None and self._energy_wanted_kwh <= 0

    @property
    def phases_in_use(self) -> int:
        """The phases the car is connected on: the offered ones it can use."""
        offered = self._offered_phases if self._offered_phases is not None else self._phases
        return min(offered, self._phases)

    @property
    def voltage(self) -> float:
        """The supply voltage (V, phase to neutral) of the last offer."""
        return self._voltage

    @property
    def current_a(self) -> float:
        """The current (A per phase in use) drawn now."""
        return self.current_at(self._now())

    @property
    def power_w(self) -> float:
        """The power (W) drawn now."""
        return self.power_at(self._now())

    def current_at(self, t: float | None) -> float:
        """The current (A per phase in use) at time ``t`` (not before the last time given)."""
        if self._time is None or t is None or t <= self._time:
            return self._current
        return self._integrate(t)[0]

    def power_at(self, t: float | None) -> float:
        """The power (W) at time ``t``: current x voltage x phases in use."""
        return self.current_at(t) * self._voltage * self.phases_in_use

    def switching_at(self, t: float) -> bool:
        """The charger is switching phases at ``t`` (the car draws nothing)."""
        return t < self._pause_until

    # -- what the charger does ---------------------------------------------------

    def advance(self, t: float) -> None:
        """Move the car to time ``t``: its current follows the ramp, energy is counted."""
        if self._time is None:
            self._time = t
            return
        if t <= self._time:
            return
        current, energy_wh, full = self._integrate(t)
        self._time = t
        self._current = current
        self.energy_wh += energy_wh
        if self._energy_wanted_kwh is not None:
            self._energy_wanted_kwh = (
                0.0 if full else max(0.0, self._energy_wanted_kwh - energy_wh / 1000)
            )
        if self.full:
            self._retarget()

    def offer(
        self,
        t: float,
        limit_a: float,
        phases: int,
        *,
        voltage: float = 230.0,
        switch_pause: float = 5.0,
    ) -> None:
        """At time ``t`` the charger offers ``limit_a`` (A per phase) on ``phases`` phases.

        A change of the offered phases while the car charges (or is about to)
        is a phase switch: nothing is drawn for ``switch_pause`` seconds.
        """
        self.advance(t)
        if (
            self._offered_phases is not None
            and phases != self._offered_phases
            and (self._current > 0 or self._target > 0)
        ):
            self.phase_switches += 1
            self._pause_until = t + switch_pause
            self._current = 0.0
        self._offered_phases = phases
        self._voltage = voltage
        self._limit = max(0.0, limit_a)
        self._retarget()

    def stop(self, t: float) -> None:
        """At time ``t`` the charger stops supplying the car (no transaction, paused, ...)."""
        self.advance(t)
        self._limit = 0.0
        self._current = 0.0
        self._retarget()

    # -- the model ---------------------------------------------------------------

    def _now(self) -> float | None:
        now = self.clock() if self.clock is not None else None
        return now if now is not None else self._time

    def _catch_up(self) -> None:
        now = self._now()
        if now is not None:
            self.advance(now)

    def _retarget(self) -> None:
        """Where the current heads, from the offer and the car's settings."""
        ideal = min(self._limit, self._max_current_a)
        if self.full or ideal < self.min_current_a:
            self._target = 0.0
            self._ideal = None
            if self.full:
                self._current = 0.0
            return
        if ideal != self._ideal:
            self._ideal = ideal
            self._shortfall = self.random.uniform(0, self.jitter_a) if self.jitter_a > 0 else 0.0
        self._target = max(0.0, ideal - self._shortfall)

    def _integrate(self, t: float) -> tuple[float, float, bool]:
        """(current at ``t``, energy delivered until ``t`` in Wh, the car got full)."""
        assert self._time is not None
        start, current = self._time, self._current
        segments: list[tuple[float, float, float]] = []  # (seconds, start current, A/s)
        if self._pause_until > start:  # the current is 0 during a phase switch
            start = min(t, self._pause_until)
        if start < t and current != self._target:
            rising = self._target > current
            rate = self.ramp_up_a_per_s if rising else self.ramp_down_a_per_s
            ramp = abs(self._target - current) / rate
            seconds = min(ramp, t - start)
            if seconds >= ramp:
                segments.append((ramp, current, (self._target - current) / ramp if ramp else 0))
                current = self._target
            else:
                slope = rate if rising else -rate
                segments.append((seconds, current, slope))
                current += slope * seconds
            start += seconds
        if start < t:
            segments.append((t - start, current, 0.0))
        wh_per_as = self._voltage * self.phases_in_use / 3600
        wanted_wh = None if self._energy_wanted_kwh is None else self._energy_wanted_kwh * 1000
        energy = 0.0
        for seconds, amps, slope in segments:
            wh = wh_per_as * (amps * seconds + slope * seconds * seconds / 2)
            if wanted_wh is not None and wh > 0 and energy + wh >= wanted_wh:
                return 0.0, wanted_wh, True
            energy += wh
        return current, energy, False
