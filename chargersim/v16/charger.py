"""A simulated OCPP 1.6J charge point that behaves like a Wallbox."""

from __future__ import annotations

from ..rpc import CallHandlers
from .handlers import V16Handlers, V16Session
from .procedures import V16Procedures

__all__ = ["SimulatedCharger"]


class SimulatedCharger(V16Procedures):
    """A simulated OCPP 1.6J charge point (Wallbox-like).

    Charger-to-CSMS calls return the CSMS's answer payload as a plain dict
    (camelCase keys, as on the wire). They raise the ``ocpp.exceptions``
    error matching a CALLERROR answer, ``TimeoutError`` after
    ``call_timeout`` seconds without an answer, websockets' ``ConnectionClosed``
    if the connection closes while waiting, and `NotConnectedError` when
    there is no open connection. Calls are sent one at a time (the ocpp
    library's call lock), as real chargers do.
    """

    SUBPROTOCOL = "ocpp1.6"
    SESSION = V16Session

    def _call_handlers(self) -> CallHandlers:
        return V16Handlers(self)
