"""Charger simulator: an OCPP 1.6J charge point that behaves like a Wallbox
(and `chargersim.v201.SimulatedCharger`, the same station speaking OCPP 2.0.1).

Used by the test suite (asyncio, loopback websockets), by demo scripts that
keep a simulated charger connected to a live Home Assistant, and from the
command line (``python -m chargersim --help``) to try a setup without a
charger. `SimulatedCharger` is the charge point, `ChargerBehaviour` sets how
it answers the central system, `Car` (``SimulatedCharger.car(n)``) is the car
on a connector that follows the charger's offer, `chargersim.scenario` scripts
the car and a user.
"""

from .behaviour import ChargerBehaviour, default_configuration
from .car import Car
from .connectors import ConnectorState
from .rpc import NotConnectedError
from .transport import build_url
from .v16 import SimulatedCharger

__all__ = [
    "Car",
    "ChargerBehaviour",
    "ConnectorState",
    "NotConnectedError",
    "SimulatedCharger",
    "build_url",
    "default_configuration",
]
