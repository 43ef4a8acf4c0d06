"""What a charger says about itself (BootNotification), and whether to believe its clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# A charger clock further ahead than this, or before this year, is not believed.
_MAX_CLOCK_AHEAD = timedelta(minutes=10)
_EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=UTC)


def plausible_time(reported: datetime | None, received: datetime) -> datetime:
    """The charger's timestamp if believable, else the time we received it."""
    if reported is None or reported < _EARLIEST_PLAUSIBLE or reported > received + _MAX_CLOCK_AHEAD:
        return received
    return reported


@dataclass(slots=True)
class ChargerInfo:
    """What the charger says about itself in BootNotification."""

    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    meter_type: str | None = None
    meter_serial: str | None = None
