"""The colour a charger's status LED shows, derived from what we know of it.

Each vendor profile owns a mapping function; this module holds the colours, the
inputs and the two mappings we know: Wallbox's halo (from the Pulsar manuals)
and a generic fallback that only names what is nearly universal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .status import ConnectorStatus


class LedColour(StrEnum):
    """What the user sees on the wall (values are the Home Assistant states)."""

    GREEN_ROTATING = "green_rotating"
    GREEN = "green"
    YELLOW = "yellow"
    TURQUOISE = "turquoise"
    TURQUOISE_PULSING = "turquoise_pulsing"
    DARK_BLUE_PULSING = "dark_blue_pulsing"
    BLUE = "blue"
    PURPLE_ROTATING = "purple_rotating"
    RED = "red"


@dataclass(frozen=True, slots=True)
class LedInput:
    """Everything an LED mapping may look at."""

    connected: bool
    starting: bool
    status: ConnectorStatus | None
    authorized: bool
    locked: bool | None


def wallbox_led(state: LedInput) -> LedColour | None:
    """Wallbox Pulsar / Commander / Copper halo colours (README, "Status LED")."""
    if not state.connected or state.starting:
        return LedColour.GREEN_ROTATING
    match state.status:
        case ConnectorStatus.AVAILABLE:
            if state.locked is None:
                return None
            return LedColour.YELLOW if state.locked else LedColour.GREEN
        case ConnectorStatus.PREPARING:
            if state.authorized or state.locked is False:
                return LedColour.TURQUOISE
            return LedColour.YELLOW
        case ConnectorStatus.CHARGING:
            return LedColour.DARK_BLUE_PULSING
        case (
            ConnectorStatus.SUSPENDED_EV
            | ConnectorStatus.SUSPENDED_EVSE
            | ConnectorStatus.FINISHING
        ):
            return LedColour.TURQUOISE
        case ConnectorStatus.FAULTED:
            return LedColour.RED
        case _:
            # Unavailable and Reserved: no reliable report of the colour.
            return None


def generic_led(state: LedInput) -> LedColour | None:
    """Fallback for chargers whose LED we do not know: only the near-universal colours."""
    if not state.connected:
        return None
    match state.status:
        case ConnectorStatus.AVAILABLE:
            return LedColour.GREEN
        case ConnectorStatus.CHARGING:
            return LedColour.BLUE
        case ConnectorStatus.FAULTED:
            return LedColour.RED
        case _:
            return None
