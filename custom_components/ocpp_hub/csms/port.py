"""The version-neutral face of one connected charger: what the application may ask of it.

Home Assistant's controls and services talk to a charger only through
:class:`ChargerPort`; each OCPP version's handler implements it and turns the
requests into its own messages (profiles, configuration keys, list entries).
Every call raises :class:`~.errors.CallFailed` when it does not succeed.
Settings have neutral names (:class:`Setting`) and neutral values (``"true"``,
``"false"``, whole numbers as text); the version says what the charger calls them.
What only one version can do is offered behind :meth:`ChargerPort.supports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from ..model.schedule import ChargingWindow

if TYPE_CHECKING:
    from ..model.charger import Charger
    from .session import Session


class Setting(StrEnum):
    """A charger setting the application reads or writes, by what it means."""

    # Authorization required (locked) rather than free vend; chargers without such a
    # setting are locked by our answers to their authorization requests.
    AUTHORIZATION_REQUIRED = "authorization_required"
    # Offline, start for cards the charger does not know.
    OFFLINE_UNKNOWN_CARDS = "offline_unknown_cards"
    # Offline, start for the cards of its local list.
    OFFLINE_LOCAL_AUTHORIZE = "offline_local_authorize"
    # Seconds between meter values during a transaction (0: none).
    METER_INTERVAL = "meter_interval"
    # Seconds the charger waits for the car after a card or a remote start.
    CONNECTION_TIMEOUT = "connection_timeout"
    # The idTag a charger in free vend starts its transactions with.
    FREE_VEND_ID_TAG = "free_vend_id_tag"


class Capability(StrEnum):
    """What only some versions (or chargers) can do."""

    CONFIGURATION_KEYS = "configuration_keys"  # raw keys: read all, write any (1.6)
    DATA_TRANSFER = "data_transfer"  # vendor-specific requests
    FIRMWARE = "firmware"  # firmware update and diagnostics upload


class CommandStatus(StrEnum):
    """How a charger took a command it did not refuse."""

    ACCEPTED = "Accepted"
    SCHEDULED = "Scheduled"  # applies after the running session (availability)
    REBOOT_REQUIRED = "RebootRequired"  # applies after the next boot (a setting)


@dataclass(frozen=True, slots=True)
class LimitRequest:
    """A current limit for the whole charger, with what shapes it."""

    amps: float
    phases: int | None = None  # None: the charger's own choice
    # The owner's weekly charging window (the lower of it and ``amps`` applies), and
    # the local time now (its week starts on this Monday, 00:00 local).
    window: ChargingWindow | None = None
    now: datetime | None = None


class ChargerPort(Protocol):
    """One charger connection, of whatever OCPP version."""

    session: Session
    charger: Charger | None  # None while the identity waits for the owner's approval

    @property
    def booted(self) -> bool:
        """The charger booted (its boot was accepted) on this connection."""

    def bind(self, charger: Charger) -> None:
        """Speak for the registered ``charger`` (the connection is authorised for it)."""

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this waiting charger: ask it to boot again now."""

    def supports(self, capability: Capability) -> bool:
        """Whether this connection can do ``capability``."""

    # ------------------------------------------------------------ commands
    async def reset(self, hard: bool = False) -> None:
        """Reboot the charger."""

    async def remote_start(self, id_tag: str, connector_id: int | None = None) -> None:
        """Start a transaction for ``id_tag``."""

    async def remote_stop(self, transaction_id: str) -> None:
        """Stop a transaction."""

    async def set_available(self, connector_id: int, available: bool) -> CommandStatus:
        """Make a connector (0: the charger) available or not: Accepted or Scheduled."""

    async def unlock(self, connector_id: int) -> None:
        """Release the cable lock of a connector."""

    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now.

        ``message`` is one of the names the trigger action offers (BootNotification,
        DiagnosticsStatusNotification, FirmwareStatusNotification, Heartbeat,
        MeterValues, StatusNotification); the version says it in its own words.
        """

    # --------------------------------------------------------- current limit
    async def set_limit(self, request: LimitRequest) -> float | None:
        """Install the limit; what the charger then reports in force (None: not known).

        Raises when the charger refuses the limit; a failure to read it back is None.
        """

    async def clear_limit(self) -> bool:
        """Remove our limit; False when the charger had none."""

    async def limit_in_force(self, connector_id: int = 1) -> float | None:
        """The current limit the charger reports in force now (A); None if none."""

    # ------------------------------------------------------------- cards
    async def send_cards(self, version: int, id_tags: Sequence[str]) -> None:
        """Replace the charger's local list (offline authorization) with ``id_tags``."""

    # ----------------------------------------------------------- settings
    async def read_settings(self, settings: Sequence[Setting]) -> dict[Setting, str]:
        """Read settings back (the model learns them too); absent: not reported."""

    async def write_setting(self, setting: Setting, value: str) -> CommandStatus:
        """Change one setting: Accepted or RebootRequired; refusals raise."""

    # ----------------------------------------- version-only (see :meth:`supports`)
    async def get_configuration(
        self, keys: list[str] | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """Raw configuration keys: (values, unknown keys); CONFIGURATION_KEYS."""

    async def change_configuration(self, key: str, value: str) -> str:
        """Set one raw configuration key; CONFIGURATION_KEYS."""

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """A vendor-specific request and the charger's answer; DATA_TRANSFER."""

    async def update_firmware(self, location: str, retrieve_date: datetime) -> None:
        """Download and install firmware from ``location``; FIRMWARE."""

    async def get_diagnostics(self, location: str) -> str | None:
        """Upload a diagnostics file to ``location``; its name if any; FIRMWARE."""
