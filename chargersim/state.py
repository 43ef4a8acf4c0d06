"""What a simulated charger knows, and what follows from it.

`StationState` answers from a charger's configuration, connectors and
installed charging profiles: configuration values, the current limit and
phases in force on a connector (`chargersim.smart_charging` does the
arithmetic), the connector holding a transaction. `ChargingStation` sets the
attributes declared here.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging

from . import smart_charging
from .behaviour import ChargerBehaviour, config_key, is_int
from .car import Car
from .connectors import ConnectorState, connector_for_transaction
from .rpc import JSONDict
from .smart_charging import PHASE_SWITCH_KEY, InstalledProfile, Period, Supply

__all__ = ["StationState"]

_LOGGER = logging.getLogger("chargersim")


class StationState:
    """A charger's state and the answers derived from it."""

    identity: str
    behaviour: ChargerBehaviour
    phases: int
    voltage: float
    connectors: dict[int, ConnectorState]
    cars: dict[int, Car]
    charging_profiles: list[InstalledProfile]

    def configuration_value(self, key: str, default: str | None = None) -> str | None:
        """Return a configuration value (key matched case-insensitively)."""
        canonical = config_key(self.behaviour.configuration, key)
        if canonical is None:
            return default
        return self.behaviour.configuration[canonical][0]

    @property
    def heartbeat_interval(self) -> int:
        """HeartbeatInterval from the configuration (set by an accepted boot)."""
        value = self.configuration_value("HeartbeatInterval", "3600") or "3600"
        return int(value) if is_int(value) and int(value) > 0 else 3600

    def connector_for_transaction(self, transaction_id: int | str) -> ConnectorState | None:
        return connector_for_transaction(self.connectors.values(), transaction_id)

    def car(self, connector_id: int) -> Car:
        """The car on a connector (`chargersim.car.Car`; the scenarios drive it)."""
        return self.cars[connector_id]

    def hardware_limit(self, connector_id: int) -> float:
        """The connector's current ceiling (``chargingALimitConn<n>``, default 32 A)."""
        value = self.configuration_value(f"chargingALimitConn{max(connector_id, 1)}")
        try:
            return float(value) if value is not None else 32.0
        except ValueError:
            return 32.0

    def current_limit(self, connector_id: int, now: datetime | None = None) -> float:
        """The current (A) the connector may offer now: hardware ceiling, profiles in force."""
        limits = [limit for limit, _ in self.periods_in_force(connector_id, now)]
        return max(0.0, min([self.hardware_limit(connector_id), *limits]))

    @property
    def supply(self) -> Supply:
        return Supply(self.phases, self.voltage)

    def periods_in_force(self, connector_id: int, now: datetime | None = None) -> list[Period]:
        """(limit in A, chargingSchedulePeriod) of the ChargePointMaxProfile and
        the TxProfile (or else the TxDefaultProfile) in force, highest stackLevel
        first. Connector 0 means the whole charge point."""

        def started(cid: int) -> datetime | None:
            connector = self.connectors.get(cid)
            return connector.transaction_started if connector else None

        return smart_charging.periods_in_force(
            self.charging_profiles,
            connector_id,
            now or datetime.now(UTC),
            supply=self.supply,
            transaction_start=started,
        )

    def offered_phases(self, connector_id: int, now: datetime | None = None) -> int:
        """The phases a connector offers now (see `smart_charging.offered_phases`)."""
        switching = (self.configuration_value(PHASE_SWITCH_KEY) or "").lower() == "true"
        periods = self.periods_in_force(connector_id, now) if switching else []
        return smart_charging.offered_phases(self.phases, periods, switching=switching)

    def install_profile(self, connector_id: int, profile: JSONDict) -> None:
        """Install a charging profile (SetChargingProfile, RemoteStartTransaction)."""
        self.charging_profiles = smart_charging.install_profile(
            self.charging_profiles, connector_id, profile, datetime.now(UTC)
        )
        _LOGGER.info(
            "%s: installed %s %s on connector %d: now %.1f A",
            self.identity,
            profile.get("chargingProfilePurpose"),
            profile.get("chargingProfileId"),
            connector_id,
            self.current_limit(max(connector_id, 1)),
        )
