"""The version-neutral part of a simulated charge point.

`ChargingStation` holds what a charger is whatever OCPP version it speaks:
its identity and hardware, connectors and cars, configuration and behaviour,
installed charging profiles, the transaction messages it sent and the calls
the CSMS sent it. Its life on the network (connecting, booting, reconnecting
with backoff, rebooting, closing) is `chargersim.lifecycle.StationLifecycle`,
what follows from its state `chargersim.state.StationState`. An OCPP version's
charger (`chargersim.v16.SimulatedCharger`) adds the messages it sends and the
handlers that answer the CSMS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import ssl as ssl_lib
from typing import Any, ClassVar

from .behaviour import TETHERED_MODELS, ChargerBehaviour, fit_configuration
from .call_log import CallLog
from .car import Car, loop_time
from .connectors import ConnectorState
from .lifecycle import StationLifecycle
from .rpc import JSONDict, RpcSession
from .smart_charging import InstalledProfile
from .state import StationState
from .transport import Transport, build_url

__all__ = ["ChargingStation", "MeterReading"]


@dataclass(frozen=True)
class MeterReading:
    """What a connector's meter read (None: not sampled), for `ChargingStation.report_meter`."""

    energy_wh: float | None = None
    power_w: float | None = None
    #: Current per phase (A), L1 first.
    currents: list[float] | None = None
    voltage: float | None = None
    current_offered: float | None = None
    #: When it was read; None = now.
    timestamp: datetime | None = None


class ChargingStation(StationState, StationLifecycle, ABC):
    """A simulated charge point, whatever OCPP version it speaks.

    A subclass names its websocket subprotocol and RPC session, sends the boot
    and status messages of its version and answers the CSMS (`_call_handlers`).
    """

    #: The websocket subprotocol offered unless ``subprotocols`` says otherwise.
    SUBPROTOCOL: ClassVar[str]
    #: The RPC session speaking this version.
    SESSION: ClassVar[type[RpcSession]]
    #: The last status sent in a firmware / diagnostics (log upload) status notification.
    firmware_status_value = "Idle"
    diagnostics_status_value = "Idle"
    #: The requestId of the last UpdateFirmware / log upload (2.0.1 repeats it; 1.6 has none).
    firmware_request_id: int | None = None
    diagnostics_request_id: int | None = None

    def __init__(
        self,
        url: str,
        identity: str,
        *,
        password: str | None = None,
        vendor: str = "Wall Box Chargers",
        model: str = "PLP1-0-2-4",
        serial: str = "SIM-000001",
        firmware: str = "6.7.11",
        connectors: int = 1,
        ssl: ssl_lib.SSLContext | None = None,
        subprotocols: list[str] | None = None,
        behaviour: ChargerBehaviour | None = None,
        call_timeout: float = 10.0,
        phases: int | None = None,
        tethered: bool | None = None,
    ) -> None:
        if connectors < 1:
            raise ValueError("a charger has at least one connector")
        self.base_url = url
        self.identity = identity
        #: The URL actually connected to: ``url`` + ``/`` + identity.
        self.url = build_url(url, identity)
        self.password = password
        self.vendor = vendor
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.number_of_connectors = connectors
        self.ssl = ssl
        self.subprotocols = [self.SUBPROTOCOL] if subprotocols is None else list(subprotocols)
        self.behaviour = behaviour if behaviour is not None else ChargerBehaviour()
        self.call_timeout = call_timeout
        #: Electrical supply used to convert W <-> A (and by the scenarios):
        #: single phase unless told otherwise; 240 V for North American models.
        self.phases = phases if phases is not None else 1
        self.voltage = 240.0 if model.upper().startswith("PUP") else 230.0
        #: A fixed cable (UnlockConnector answers NotSupported): the Pulsar Plus and
        #: Commander 2 by default, not the Copper SB (a socket) or other models.
        self.tethered = (
            tethered if tethered is not None else model.upper().startswith(TETHERED_MODELS)
        )
        fit_configuration(
            self.behaviour.configuration,
            connectors,
            phase_switching=self.behaviour.phase_switching,
        )

        self.connectors: dict[int, ConnectorState] = {
            n: ConnectorState(n) for n in range(1, connectors + 1)
        }
        self.cars = {n: Car(seed=f"{identity}:{n}", clock=loop_time) for n in self.connectors}
        self.charging_profiles: list[InstalledProfile] = []
        self.local_list: dict[str, Any] = {}
        self.local_list_version = 0
        self.calls = CallLog()
        #: How many BootNotifications were sent in total.
        self.boots = 0
        #: The answer to the last BootNotification, if any.
        self.last_boot: JSONDict | None = None

        self._transport = Transport(
            identity,
            self.url,
            session_class=self.SESSION,
            password=password,
            ssl=ssl,
            subprotocols=self.subprotocols,
            call_timeout=call_timeout,
            on_closed=self._disconnected,
        )
        self._init_lifecycle()
        #: The transaction messages sent, oldest first (a test may `resend` one).
        self.transaction_messages: list[Any] = []

    # -- what a version adds (and what `StationLifecycle` asks of it) -----------

    @abstractmethod
    async def status(self, connector_id: int, status: str) -> JSONDict:
        """Send a connector's status (the version's StatusNotification)."""

    @abstractmethod
    async def local_stop(
        self, connector_id: int, reason: str, *, id_tag: str | None = None
    ) -> None:
        """Stop the connector's transaction (a remote stop, an unlock, the user's
        card ``id_tag`` ...)."""

    @abstractmethod
    async def report_meter(self, connector_id: int, reading: MeterReading) -> JSONDict:
        """Send the connector's periodic meter values (of its transaction, if one runs)."""

    @abstractmethod
    async def firmware_status(self, status: str) -> JSONDict:
        """Send a firmware status (FirmwareStatusNotification)."""

    @abstractmethod
    async def diagnostics_status(self, status: str) -> JSONDict:
        """Send a diagnostics upload status (1.6 DiagnosticsStatus, 2.0.1 LogStatus)."""

    async def report_progress(self, kind: str, steps: list[str]) -> None:
        """Walk through firmware / diagnostics statuses, 0.1 s apart."""
        for step in steps:
            await asyncio.sleep(0.1)
            if kind == "firmware":
                await self.firmware_status(step)
            else:
                await self.diagnostics_status(step)

    # -- talking to the CSMS ----------------------------------------------------

    async def _call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        return await self._transport.call(payload, on_reply)

    async def _transaction_call(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        """Send a transaction message, and keep it (`transaction_messages`)."""
        self.transaction_messages.append(payload)
        return await self._call(payload, on_reply)

    async def resend(self, message: Any) -> JSONDict:
        """Send a transaction message again, as it was (a charger that missed our answer)."""
        return await self._call(message)

    async def send_raw(
        self, frame: str | bytes, *, expect_reply: bool = True, timeout: float = 5
    ) -> list[Any] | None:
        """Send a frame as-is (text, or binary for bytes), bypassing the library.

        Returns the next frame from the server that is not a CALL and is not
        the reply to one of the library's own calls (parsed JSON list), or
        None when ``expect_reply`` is False. CALLs arriving meanwhile are
        answered as usual. ``TimeoutError`` if nothing comes within
        ``timeout`` s; ``ConnectionClosed`` if the server closes instead.
        """
        return await self._transport.send_raw(frame, expect_reply=expect_reply, timeout=timeout)

    # -- what the CSMS sent us -------------------------------------------------

    @property
    def received(self) -> list[tuple[str, JSONDict]]:
        """(action, payload) of every CSMS-initiated call, in arrival order
        (recorded when the call arrives, before it is answered)."""
        return self.calls.received

    @property
    def call_counts(self) -> Counter[str]:
        return self.calls.counts

    async def wait_for_call(self, action: str, timeout: float = 5) -> JSONDict:
        """Return the payload of the oldest not yet waited-for call ``action``.

        Waits for the next one if there is none. ``TimeoutError`` otherwise.
        """
        return await self.calls.wait_for(action, timeout)
