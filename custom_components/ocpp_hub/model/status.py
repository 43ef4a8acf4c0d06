"""Connector status as Home Assistant shows it (each version maps its own onto it)."""

from __future__ import annotations

from enum import StrEnum


class ConnectorStatus(StrEnum):
    """What a connector is doing, in snake_case.

    A connector out of service is ``inoperative`` so that the sensor never shows
    Home Assistant's reserved state ``unavailable`` for a charger that is there.
    """

    AVAILABLE = "available"
    PREPARING = "preparing"
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"
    SUSPENDED_EVSE = "suspended_evse"
    FINISHING = "finishing"
    RESERVED = "reserved"
    INOPERATIVE = "inoperative"
    FAULTED = "faulted"


# A vehicle is connected in these states.
PLUGGED_IN = frozenset(
    {
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.FINISHING,
    }
)
