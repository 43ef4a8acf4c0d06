"""What the conversation with a charger is whatever its version: boot, approval, set-up.

:class:`Conversation` holds the version-neutral half of a version's handler:
binding the connection to a registered charger, holding an unknown charger
Pending until the owner approves it, the set-up after the boot (the version
reads the charger's settings, then the application applies its own), and the
charger's timestamps. A version's handler adds its routes and its commands.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Callable, Mapping
import contextlib
from datetime import UTC, datetime
import logging
from typing import Any, ClassVar

from ..model.charger import Charger, ChargerInfo, plausible_time
from ..model.reports import ChargerReport, ReportKind
from .backend import Backend
from .errors import CallFailed, OcppError, OcppErrorCode
from .logtext import shown, untrusted
from .session import Session
from .validation import parse_timestamp
from .version import HandlerSettings

_LOGGER = logging.getLogger(__name__)

# What an unknown (Pending) charger may send before the owner accepts it.
ALLOWED_WHILE_PENDING = frozenset({"BootNotification", "Heartbeat"})
MAX_CONNECTOR_ID = 64  # no charger has more; each connector gets its own entities

Route = Callable[[dict[str, Any]], dict[str, Any]]


class Conversation(ABC):
    """The version-neutral conversation with one connected charger."""

    #: The version's handlers of the charger's CALLs: action -> method name.
    ROUTES: ClassVar[Mapping[str, str]]

    def __init__(
        self,
        session: Session,
        backend: Backend,
        settings: HandlerSettings,
        on_closed: Callable[[Any], None] | None = None,
    ) -> None:
        """Serve ``session``; :meth:`bind` (or :meth:`adopt`) gives it the charger."""
        self.session = session
        self.backend = backend
        self.charger: Charger | None = None
        self.settings = settings
        self.info: ChargerInfo | None = None
        self._booted = asyncio.Event()
        self._boot_requested = False
        self._bad_connector_logged = False
        self._on_closed = on_closed
        self._setup_task_started = False

    @abstractmethod
    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now."""

    @abstractmethod
    async def read_at_boot(self) -> None:
        """Read what the version reads of the charger's settings after its boot."""

    def bind(self, charger: Charger) -> None:
        """Speak for the registered ``charger`` (the connection is authorised for it)."""
        self.charger = charger
        self._setup_task_started = True
        charger.apply_connected(True, self.session.remote_address)
        self.session.spawn(self._set_up(wait_for_boot=True), "set up")

    @property
    def booted(self) -> bool:
        """The charger booted (BootNotification accepted) on this connection."""
        return self._booted.is_set()

    # --------------------------------------------------------- session protocol
    def handle_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one CALL from the charger."""
        if self.charger is None and action not in ALLOWED_WHILE_PENDING:
            if self.info is None and not self._boot_requested:
                # It reconnected without booting: ask who it is, so the owner can approve it.
                self._boot_requested = True
                self.session.spawn(self.trigger_message("BootNotification"), "trigger boot")
            raise OcppError(
                OcppErrorCode.SECURITY_ERROR,
                "charger is not accepted yet: waiting for the owner's approval",
            )
        route: Route = getattr(self, self.ROUTES[action])
        return route(payload)

    def connection_closed(self) -> None:
        """Mark the charger disconnected (and say so when it was for flooding us)."""
        if self.charger is not None:
            self.charger.apply_connected(
                False, disconnect_reason="flooding" if self.session.flooded else None
            )
        if self._on_closed is not None:
            self._on_closed(self)

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this (Pending) charger: ask it to boot again now."""
        self.charger = charger
        charger.apply_connected(True, self.session.remote_address)
        self.session.spawn(self.trigger_message("BootNotification"), "trigger boot")

    def accept_boot(self, info: ChargerInfo, now: datetime) -> bool:
        """A BootNotification: True if accepted, False to hold the charger Pending.

        An unknown charger is the application's to accept (or to hold until the
        owner approves it); an accepted boot starts the set-up, once per connection.
        """
        self.info = info
        if self.charger is None:
            self.charger = self.backend.unknown_boot(
                self.session.identity, info, self.session.remote_address
            )
            if self.charger is None:
                return False
            self.charger.apply_connected(True, self.session.remote_address)
        self.charger.apply_boot(info, now)
        self._booted.set()
        if not self._setup_task_started:
            self._setup_task_started = True
            self.session.spawn(self._set_up(wait_for_boot=False), "set up")
        return True

    async def _set_up(self, *, wait_for_boot: bool) -> None:
        """Read the charger's settings, then let the application apply its own.

        Runs once per connection, after the boot. A registered charger that
        reconnected without booting is asked to boot (TriggerMessage) after a
        short grace period; nothing (no card list, no settings) goes to a
        connection that has not booted.
        """
        if wait_for_boot and not await self._wait_for_boot():
            _LOGGER.info(
                "Charger %s did not boot on this connection; nothing sent to it",
                self.session.identity,
            )
            return
        try:
            await self.read_at_boot()
        except CallFailed as err:  # the settings are applied all the same (and read back)
            _LOGGER.info("Charger %s: configuration not read: %s", self.session.identity, err)
        await self.backend.charger_ready(self)  # type: ignore[arg-type]  # a VersionHandler

    async def _wait_for_boot(self) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.boot_grace):
                await self._booted.wait()
        if self.booted:
            return True
        try:
            await self.trigger_message("BootNotification")
        except CallFailed as err:
            _LOGGER.info("Charger %s: boot not triggered: %s", self.session.identity, err)
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.boot_grace):
                await self._booted.wait()
        return self.booted

    # ------------------------------------------------- CALLs alike in every version
    def answer_boot(self, info: ChargerInfo) -> dict[str, Any]:
        """The answer to a BootNotification from the charger ``info`` describes."""
        now = datetime.now(UTC)
        accepted = self.accept_boot(info, now)
        return {
            "status": "Accepted" if accepted else "Pending",
            "currentTime": now.isoformat(),
            "interval": (
                self.settings.heartbeat_interval
                if accepted
                else self.settings.pending_retry_interval
            ),
        }

    def heartbeat(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Heartbeat: the time, and the charger is alive."""
        del payload
        now = datetime.now(UTC)
        if self.charger is not None:
            self.charger.apply_heartbeat(now)
        return {"currentTime": now.isoformat()}

    def vendor_request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """DataTransfer: accepted for the vendors the charger's profile knows."""
        assert self.charger is not None
        vendor_id = payload["vendorId"]
        if vendor_id not in self.charger.profile.data_transfer_vendor_ids:
            return {"status": "UnknownVendorId"}
        _LOGGER.debug(
            "Charger %s: DataTransfer %s/%s",
            self.session.identity,
            untrusted(vendor_id),
            untrusted(payload.get("messageId")),
        )
        return {"status": "Accepted"}

    def security_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        """SecurityEventNotification (2.0.1; 1.6 with the security extension): a report."""
        assert self.charger is not None
        _LOGGER.info(
            "Charger %s reported a security event: %s",
            self.session.identity,
            untrusted(payload["type"], 50),
        )
        self.charger.apply_report(
            ChargerReport(
                ReportKind.SECURITY,
                shown(payload["type"]),
                shown(payload.get("techInfo") or ""),
                self.stamp(payload["timestamp"], datetime.now(UTC)),
            )
        )
        return {}

    # ------------------------------------------------------------- timestamps
    def stamp(self, value: str | None, received: datetime) -> datetime:
        """The charger's timestamp, or the receive time if it is missing or implausible.

        An implausible clock is remembered in the model (diagnostics show it).
        """
        reported = parse_timestamp(value) if value else None
        used = plausible_time(reported, received)
        if reported is not None and used is not reported and self.charger is not None:
            self.charger.clock_skew_s = round((reported - received).total_seconds())
        return used

    def connector_ok(self, connector_id: int) -> bool:
        """A connector id a real charger may have (a huge one would create endless entities)."""
        if 0 <= connector_id <= MAX_CONNECTOR_ID:
            return True
        if not self._bad_connector_logged:
            self._bad_connector_logged = True
            _LOGGER.warning(
                "Charger %s reported connector %s; ignored (0 to %d expected)",
                self.session.identity,
                untrusted(connector_id, 20),
                MAX_CONNECTOR_ID,
            )
        return False
