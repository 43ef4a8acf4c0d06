"""The simulated OCPP 2.0.1 charging station."""

from .charger import SimulatedCharger

__all__ = ["SimulatedCharger"]
