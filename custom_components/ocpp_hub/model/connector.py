"""A charger's connectors and their transactions, as the charger reported them.

:class:`Connectors` holds a charger's connectors (created as they are reported)
and what follows from all of them: plugged in, charging, power, lifetime energy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .meter import EnergyCounter
from .status import PLUGGED_IN, ConnectorStatus
from .topics import Listeners


@dataclass(slots=True)
class Transaction:
    """One charging session, as the charger reported it."""

    # 1.6: the number we handed out, in decimal; 2.0.1: the charger's own id.
    transaction_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: float
    started_at: datetime
    meter_last_wh: float | None = None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None

    @property
    def energy_wh(self) -> float:
        """Energy delivered in this session so far; never negative."""
        last = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter_last_wh
        if last is None:
            return 0.0
        return max(0.0, last - self.meter_start_wh)

    def duration(self, now: datetime) -> timedelta:
        """How long the session has run (until it stopped); never negative."""
        end = self.stopped_at or now
        return max(timedelta(0), end - self.started_at)


@dataclass(slots=True)
class Connector:
    """One connector (OCPP connectorId >= 1), or the charger as a whole (0)."""

    connector_id: int
    status: ConnectorStatus | None = None
    error_code: str | None = None
    vendor_error_code: str | None = None
    status_info: str | None = None
    authorized: bool = False
    transaction: Transaction | None = None
    last_transaction: Transaction | None = None
    energy: EnergyCounter = field(default_factory=EnergyCounter)
    power_w: float | None = None
    power_derived: bool = False
    currents_a: dict[str, float] = field(default_factory=dict)
    voltages_v: dict[str, float] = field(default_factory=dict)
    current_offered_a: float | None = None
    power_offered_w: float | None = None
    soc_percent: float | None = None
    last_sample_at: datetime | None = None

    @property
    def plugged_in(self) -> bool | None:
        """Whether a vehicle is connected, from the status."""
        return None if self.status is None else self.status in PLUGGED_IN

    @property
    def charging(self) -> bool | None:
        """Whether energy is flowing into the vehicle."""
        return None if self.status is None else self.status is ConnectorStatus.CHARGING

    @property
    def session(self) -> Transaction | None:
        """The running transaction, else the last one (its figures stay visible)."""
        return self.transaction or self.last_transaction


class Connectors(Listeners):
    """A charger's connectors, and what follows from all of them."""

    def __init__(self) -> None:
        """No connector reported yet (connector 1 is assumed where one is needed)."""
        super().__init__()
        self.connectors: dict[int, Connector] = {}
        self._connector_count = 1  # the highest connector id seen (kept: read very often)

    @property
    def connector_count(self) -> int:
        """Number of physical connectors reported so far (at least one)."""
        return self._connector_count

    def connector(self, connector_id: int) -> Connector:
        """The connector with this id, created on first use."""
        found = self.connectors.get(connector_id)
        if found is None:
            found = self.connectors[connector_id] = Connector(connector_id)
            self._connector_count = max(self._connector_count, connector_id)
            self._layout_changed = True
        return found

    @property
    def main(self) -> Connector:
        """The connector that charger-level status follows.

        A single-connector charger: connector 1 (what users care about). With
        several connectors: connector 0 (the charger as a whole) once reported.
        """
        if self.connector_count > 1 and 0 in self.connectors:
            return self.connectors[0]
        return self.connector(1)

    @property
    def outlets(self) -> list[Connector]:
        """Physical connectors, 1..n."""
        return [self.connector(cid) for cid in range(1, self.connector_count + 1)]

    @property
    def plugged_in(self) -> bool | None:
        """Whether a vehicle is connected to any connector."""
        states = [c.plugged_in for c in self.outlets if c.plugged_in is not None]
        return any(states) if states else None

    @property
    def charging(self) -> bool | None:
        """Whether any connector is charging."""
        states = [c.charging for c in self.outlets if c.charging is not None]
        return any(states) if states else None

    @property
    def energy_rejections(self) -> int:
        """How many energy readings were refused as implausible (all connectors)."""
        return sum(c.energy.rejected for c in self.connectors.values())

    def last_rejected_connector(self) -> Connector | None:
        """The connector whose energy reading was refused most recently, if any."""
        refused = [
            (c.energy.last_rejected_at, c)
            for c in self.connectors.values()
            if c.energy.last_rejected_at is not None
        ]
        return max(refused, key=lambda pair: pair[0])[1] if refused else None

    @property
    def power_w(self) -> float | None:
        """Charging power of the whole charger."""
        values = [c.power_w for c in self.outlets if c.power_w is not None]
        return sum(values) if values else None

    @property
    def energy_wh(self) -> float | None:
        """Lifetime energy: the charger's own meter (connector 0) or the sum of connectors.

        The larger of the two: each only grows, so the figure never steps back when
        a charger starts (or stops) reporting its connector-0 meter.
        """
        counters = [c.energy for c in self.outlets if c.energy.last_register_wh is not None]
        outlets = sum(c.total_wh for c in counters) if counters else None
        whole = self.connectors.get(0)
        if whole is None or whole.energy.last_register_wh is None:
            return outlets
        return max(whole.energy.total_wh, outlets or 0.0)

    def find_transaction(self, transaction_id: str) -> Connector | None:
        """The connector running this transaction, if any."""
        return next(
            (
                c
                for c in self.connectors.values()
                if c.transaction and c.transaction.transaction_id == transaction_id
            ),
            None,
        )
