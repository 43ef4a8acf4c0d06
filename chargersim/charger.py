"""The simulated charger's names where they have always been imported from.

The simulator is split by concern (see the package's modules): the OCPP 1.6J
charger is `chargersim.v16.SimulatedCharger`; its behaviour and configuration
are in `chargersim.behaviour`, connector state in `chargersim.connectors`,
the websocket in `chargersim.transport`.
"""

from .behaviour import TETHERED_MODELS, ChargerBehaviour, default_configuration
from .connectors import ConnectorState
from .rpc import NotConnectedError
from .transport import build_url
from .v16 import SimulatedCharger

__all__ = [
    "TETHERED_MODELS",
    "ChargerBehaviour",
    "ConnectorState",
    "NotConnectedError",
    "SimulatedCharger",
    "build_url",
    "default_configuration",
]
