"""Charger simulator: an OCPP 1.6J charge point that behaves like a Wallbox.

Used by the test suite (asyncio, loopback websockets), by demo scripts that
keep a simulated charger connected to a live Home Assistant, and from the
command line (``python -m chargersim --help``) to try a setup without a
charger. `SimulatedCharger` is the charge point, `ChargerBehaviour` sets how
it answers the central system, `chargersim.scenario` scripts a car and a user.
"""

from .charger import (
    ChargerBehaviour,
    ConnectorState,
    NotConnectedError,
    SimulatedCharger,
    build_url,
    default_configuration,
)

__all__ = [
    "ChargerBehaviour",
    "ConnectorState",
    "NotConnectedError",
    "SimulatedCharger",
    "build_url",
    "default_configuration",
]
