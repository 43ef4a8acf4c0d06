"""OCPP 1.6J: the version's dialect, its handler and its mapping to the model.

Only the server's registry of versions imports this package.
"""

from __future__ import annotations

from ..version import ProtocolVersion
from .dialect import COMMAND_ACTIONS, DIALECT, HANDLED_ACTIONS
from .handler import V16Handler
from .mapping import setting_key

VERSION = ProtocolVersion(
    subprotocol="ocpp1.6",
    dialect=DIALECT,
    handled_actions=HANDLED_ACTIONS,
    command_actions=COMMAND_ACTIONS,
    handler=V16Handler,
    setting_name=setting_key,
)

__all__ = ["COMMAND_ACTIONS", "DIALECT", "HANDLED_ACTIONS", "VERSION", "V16Handler"]
