"""The OCPP 1.6J simulated charger: the messages it sends, the calls it answers."""

from .charger import SimulatedCharger

__all__ = ["SimulatedCharger"]
