"""Connector status as Home Assistant shows it, and its mapping from OCPP."""

from __future__ import annotations

from enum import StrEnum


class ConnectorStatus(StrEnum):
    """OCPP ChargePointStatus in snake_case.

    OCPP's ``Unavailable`` becomes ``inoperative`` so that the sensor never shows
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

    @classmethod
    def from_ocpp(cls, value: str) -> ConnectorStatus:
        """Map an OCPP 1.6 status (already schema-validated) to ours."""
        return _FROM_OCPP[value]


_FROM_OCPP = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.INOPERATIVE,
    "Faulted": ConnectorStatus.FAULTED,
}

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
