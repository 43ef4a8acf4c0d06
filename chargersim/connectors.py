"""The state of a charger's connectors and the transactions on them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

__all__ = ["CAR_STATUSES", "ConnectorState", "connector_for_transaction"]

#: Statuses a connector has only with a car plugged in.
CAR_STATUSES: Final = frozenset(
    {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"}
)


@dataclass
class ConnectorState:
    """What the simulator knows about one connector."""

    connector_id: int
    status: str = "Available"
    error_code: str = "NoError"
    #: ChangeAvailability state; False = Inoperative.
    operative: bool = True
    #: ChangeAvailability(Inoperative) answered Scheduled: applied when the
    #: transaction ends.
    inoperative_scheduled: bool = False
    #: 1.6: the id the CSMS assigned; 2.0.1: the id the charger chose.
    transaction_id: int | str | None = None
    id_tag: str | None = None
    meter_start: int | None = None
    transaction_started: datetime | None = None
    #: Energy register (lifetime, Wh) as last reported or set.
    energy_wh: float = 0.0
    #: Last reported active power (W).
    power_w: float = 0.0
    #: A car is plugged in: set by `SimulatedCharger.status` with a status that
    #: needs one (Preparing, Charging, SuspendedEV/EVSE, Finishing), cleared by
    #: one that does not.
    car: bool = False
    #: A RemoteStartTransaction was accepted and waits for the car (Preparing,
    #: at most ConnectionTimeOut seconds).
    remote_start_pending: bool = False
    car_plugged: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def free(self) -> bool:
        """Operative and without a transaction: a transaction can start here."""
        return self.operative and self.transaction_id is None

    @property
    def numeric_transaction_id(self) -> int | None:
        """The transaction id where it is a number (OCPP 1.6: the CSMS's)."""
        return self.transaction_id if isinstance(self.transaction_id, int) else None

    @property
    def announced_status(self) -> str:
        """The status to announce after a (re)boot or an availability change."""
        if not self.operative:
            return "Unavailable"
        return "Available" if self.status == "Unavailable" else self.status

    def plug(self, status: str) -> None:
        """A status that needs a car means one is plugged in; others mean none is."""
        self.car = status in CAR_STATUSES
        if self.car:
            self.car_plugged.set()
        else:
            self.car_plugged.clear()

    def begin_transaction(
        self, transaction_id: int | str, id_tag: str, meter_start: int, started: datetime
    ) -> None:
        self.transaction_id = transaction_id
        self.id_tag = id_tag
        self.meter_start = meter_start
        self.transaction_started = started
        self.energy_wh = max(self.energy_wh, float(meter_start))

    def end_transaction(self, meter_stop: int) -> bool:
        """Free the connector; True if a scheduled Inoperative now takes effect."""
        self.transaction_id = None
        self.id_tag = None
        self.meter_start = None
        self.transaction_started = None
        self.power_w = 0.0
        self.energy_wh = max(self.energy_wh, float(meter_stop))
        if not self.inoperative_scheduled:
            return False
        self.inoperative_scheduled = False
        self.operative = False
        return True

    def set_availability(self, operative: bool) -> bool:
        """ChangeAvailability for this connector; True if its availability changed now."""
        if operative:
            self.inoperative_scheduled = False
            if self.operative:
                return False
            self.operative = True
            return True
        if self.transaction_id is not None:
            self.inoperative_scheduled = True
            return False
        if not self.operative:
            return False
        self.operative = False
        return True


def connector_for_transaction(
    connectors: Iterable[ConnectorState], transaction_id: int | str
) -> ConnectorState | None:
    """The connector holding a transaction, if any."""
    return next((c for c in connectors if c.transaction_id == transaction_id), None)
