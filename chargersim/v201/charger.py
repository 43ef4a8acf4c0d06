"""A simulated OCPP 2.0.1 charging station."""

from __future__ import annotations

from ..rpc import CallHandlers
from .handlers import V201Handlers, V201Session
from .procedures import V201Procedures

__all__ = ["SimulatedCharger"]


class SimulatedCharger(V201Procedures):
    """A simulated OCPP 2.0.1 charging station (one connector per EVSE).

    The same station as the 1.6 one (`chargersim.v16.SimulatedCharger`): its
    EVSEs are the station's connectors, its settings are device-model
    variables (``Component.Variable`` in ``behaviour.configuration``), its
    transactions are named by the station itself (text ids). Messages are
    checked against the 2.0.1 schemas both ways (the ``ocpp`` library).
    """

    SUBPROTOCOL = "ocpp2.0.1"
    SESSION = V201Session

    def _call_handlers(self) -> CallHandlers:
        return V201Handlers(self)
