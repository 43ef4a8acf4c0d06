"""What a ``load.py`` run is told to do: its settings, from the command line.

Apart from ``load.py`` (which parses them) so that the phases (``load_phases.py``) can
read them without importing the script that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Chargers connected for the cProfile phase (``--profile``).
PROFILE_CHARGERS = 100


@dataclass(slots=True)
class Settings:
    """What to run (from the command line)."""

    rate_chargers: list[int]
    max_chargers: list[int]
    ocpp: str
    measure: float
    warmup: float
    interval: float
    max_measure: float
    commands: int
    command_seconds: float
    subscription: str
    tracemalloc_chargers: int
    tracemalloc_frames: int
    gc_freeze: bool
    disable: list[str]
    quiet_wait: float
    retries: int
    profile: Path | None
    output: Path

    @property
    def registered(self) -> int:
        """How many chargers the entry registers: the largest N of any phase."""
        profile = PROFILE_CHARGERS if self.profile else 0
        return max(
            1,
            *self.rate_chargers,
            *self.max_chargers,
            self.tracemalloc_chargers,
            profile,
        )
