"""The one registry of OCPP versions: which the central system speaks, and how to pick one.

The negotiated websocket subprotocol names a :class:`~.version.ProtocolVersion`
(its dialect, its handler, its settings' names). This is the only module outside
the version folders (``v16/``, ``v201/``) that imports them; everything else asks
the registry (``tests/test_layers.py`` checks it). :func:`reported_settings`
reads a configuration kept in a version's names by meaning (the storage
migration uses it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..model.settings import ReportedSettings
from . import v16, v201
from .v16.mapping import reported_settings as v16_settings
from .v201.mapping import reported_settings as v201_settings
from .version import ProtocolVersion

# Negotiated subprotocol -> the version's dialect and handler.
VERSIONS: dict[str, ProtocolVersion] = {
    version.subprotocol: version
    for version in (
        v201.VERSION,
        v16.VERSION,
    )
}
# Which version a charger that offers several gets (unless its registration pins one):
# the newest first.
PREFERENCE = ("ocpp2.0.1", "ocpp1.6")
# A charger that offers no subprotocol at all speaks this one.
DEFAULT_SUBPROTOCOL = "ocpp1.6"

_REPORTED_SETTINGS: dict[str, Callable[[Mapping[str, str]], ReportedSettings]] = {
    v16.VERSION.subprotocol: v16_settings,
    v201.VERSION.subprotocol: v201_settings,
}


def reported_settings(subprotocol: str, configuration: Mapping[str, str]) -> ReportedSettings:
    """What ``configuration``, in the names of version ``subprotocol``, says by meaning.

    KeyError for a version the central system does not speak.
    """
    return _REPORTED_SETTINGS[subprotocol](configuration)
