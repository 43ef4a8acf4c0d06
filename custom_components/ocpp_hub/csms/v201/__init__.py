"""OCPP 2.0.1: the version's dialect, its handler and its mapping to the model.

Only the server's registry of versions imports this package.
"""

from __future__ import annotations

from ..version import ProtocolVersion
from .dialect import COMMAND_ACTIONS, DIALECT, HANDLED_ACTIONS
from .handler import V201Handler
from .mapping import setting_variable

VERSION = ProtocolVersion(
    subprotocol="ocpp2.0.1",
    dialect=DIALECT,
    handled_actions=HANDLED_ACTIONS,
    command_actions=COMMAND_ACTIONS,
    handler=V201Handler,
    setting_name=setting_variable,
)

__all__ = ["COMMAND_ACTIONS", "DIALECT", "HANDLED_ACTIONS", "VERSION", "V201Handler"]
