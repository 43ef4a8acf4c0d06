"""The charger model: identity, connectors, transactions and meter state.

A :class:`Charger` lives as long as the charger is registered, across
connections and Home Assistant restarts (it is saved with :meth:`as_dict`).
The protocol layer applies what the charger reports through the ``apply_*``
methods; every change ends with one call to the listeners, so an entity
subscribed to its charger updates in the same event-loop turn as the message.
A listener subscribes to everything, or to the :class:`Topic` s it shows (for
a connector, or for any connector): a MeterValues wakes what shows meter
readings, not the ~25 entities of the charger. Nothing here does I/O or knows
about OCPP frames or Home Assistant.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from .control import (
    LearnState,
    LimitState,
    LimitStatus,
    ProtectionStatus,
    RebootRecord,
    RebootResult,
)
from .energy import ChargeControl
from .led import LedColour, LedInput
from .meter import EnergyCounter, Sample, derive_power
from .profiles import GENERIC, QuirkProfile, profile_by_key, select_profile
from .schedule import ChargingWindow
from .secrets import public_configuration
from .settings import ReportedSettings, SettingsReader
from .status import PLUGGED_IN, ConnectorStatus

# A charger clock further ahead than this, or before this year, is not believed.
_MAX_CLOCK_AHEAD = timedelta(minutes=10)
_EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=UTC)
DEFAULT_MAX_CURRENT_A = 32
MIN_CHARGING_CURRENT_A = 6  # IEC 61851: no car charges with less
# A current above this is not a home charger's (it would void the energy plausibility check).
_MAX_PLAUSIBLE_CURRENT_A = 80
# Volts per phase and phases assumed for the most a charger can draw.
_MAX_VOLTAGE_V = 250.0
_MAX_PHASES = 3
# Configuration keys kept per charger (a Wallbox reports about 60; a full read replaces them).
MAX_CONFIGURATION_KEYS = 256


def plausible_time(reported: datetime | None, received: datetime) -> datetime:
    """The charger's timestamp if believable, else the time we received it."""
    if reported is None or reported < _EARLIEST_PLAUSIBLE or reported > received + _MAX_CLOCK_AHEAD:
        return received
    return reported


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class ChargerInfo:
    """What the charger says about itself in BootNotification."""

    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    meter_type: str | None = None
    meter_serial: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and diagnostics."""
        return {
            "vendor": self.vendor,
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "meter_type": self.meter_type,
            "meter_serial": self.meter_serial,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargerInfo:
        """Restore from storage."""
        return cls(**{k: data.get(k) for k in cls.__slots__})


@dataclass(slots=True)
class Transaction:
    """One charging session, as the charger reported it."""

    # 1.6: the number we handed out, in decimal; 2.0.1: the charger's own id.
    transaction_id: str
    connector_id: int
    id_tag: str
    meter_start_wh: float
    started_at: datetime
    meter_last_wh: float | None = None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None

    @property
    def energy_wh(self) -> float:
        """Energy delivered in this session so far; never negative."""
        last = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter_last_wh
        if last is None:
            return 0.0
        return max(0.0, last - self.meter_start_wh)

    def duration(self, now: datetime) -> timedelta:
        """How long the session has run (until it stopped); never negative."""
        end = self.stopped_at or now
        return max(timedelta(0), end - self.started_at)

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "transaction_id": self.transaction_id,
            "connector_id": self.connector_id,
            "id_tag": self.id_tag,
            "meter_start_wh": self.meter_start_wh,
            "started_at": _iso(self.started_at),
            "meter_last_wh": self.meter_last_wh,
            "stopped_at": _iso(self.stopped_at),
            "meter_stop_wh": self.meter_stop_wh,
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        """Restore from storage."""
        return cls(
            transaction_id=str(data["transaction_id"]),
            connector_id=int(data["connector_id"]),
            id_tag=str(data["id_tag"]),
            meter_start_wh=float(data["meter_start_wh"]),
            started_at=_dt(data["started_at"]) or datetime.now(UTC),
            meter_last_wh=data.get("meter_last_wh"),
            stopped_at=_dt(data.get("stopped_at")),
            meter_stop_wh=data.get("meter_stop_wh"),
            stop_reason=data.get("stop_reason"),
        )


@dataclass(slots=True)
class Connector:
    """One connector (OCPP connectorId >= 1), or the charger as a whole (0)."""

    connector_id: int
    status: ConnectorStatus | None = None
    error_code: str | None = None
    vendor_error_code: str | None = None
    status_info: str | None = None
    authorized: bool = False
    transaction: Transaction | None = None
    last_transaction: Transaction | None = None
    energy: EnergyCounter = field(default_factory=EnergyCounter)
    power_w: float | None = None
    power_derived: bool = False
    currents_a: dict[str, float] = field(default_factory=dict)
    voltages_v: dict[str, float] = field(default_factory=dict)
    current_offered_a: float | None = None
    power_offered_w: float | None = None
    soc_percent: float | None = None
    last_sample_at: datetime | None = None

    @property
    def plugged_in(self) -> bool | None:
        """Whether a vehicle is connected, from the status."""
        return None if self.status is None else self.status in PLUGGED_IN

    @property
    def charging(self) -> bool | None:
        """Whether energy is flowing into the vehicle."""
        return None if self.status is None else self.status is ConnectorStatus.CHARGING

    @property
    def session(self) -> Transaction | None:
        """The running transaction, else the last one (its figures stay visible)."""
        return self.transaction or self.last_transaction

    def as_dict(self) -> dict[str, Any]:
        """Serialise what must survive a restart."""
        return {
            "status": self.status.value if self.status else None,
            "error_code": self.error_code,
            "transaction": self.transaction.as_dict() if self.transaction else None,
            "last_transaction": self.last_transaction.as_dict() if self.last_transaction else None,
            "energy": self.energy.as_dict(),
            "power_w": self.power_w,
        }

    @classmethod
    def from_dict(cls, connector_id: int, data: dict[str, Any]) -> Connector:
        """Restore from storage."""
        status = data.get("status")
        tx = data.get("transaction")
        last = data.get("last_transaction")
        return cls(
            connector_id=connector_id,
            status=ConnectorStatus(status)
            if isinstance(status, str) and status in ConnectorStatus
            else None,
            error_code=data.get("error_code"),
            transaction=Transaction.from_dict(tx) if tx else None,
            last_transaction=Transaction.from_dict(last) if last else None,
            energy=EnergyCounter.from_dict(data.get("energy") or {}),
            power_w=data.get("power_w"),
        )


@dataclass(frozen=True, slots=True)
class CardDecision:
    """A card (idTag) presented at the charger and what the central system answered."""

    id_tag: str
    card_name: str | None
    accepted: bool
    status: str  # the OCPP AuthorizationStatus sent
    at: datetime
    learned: bool = False


Listener = Callable[[], None]


class Topic(StrEnum):
    """What an ``apply_*`` method changed: what a listener may subscribe to.

    The first group belongs to the charger as a whole; :data:`CONNECTOR_TOPICS`
    are news of one connector (or, notified without a connector, of any).
    """

    # The websocket: connected, its address, why we closed it; whether the charger
    # is still starting (after BootNotification, until its first StatusNotification).
    CONNECTION = "connection"
    BOOT = "boot"  # BootNotification: identity, vendor profile (LED, lock), last boot
    REBOOT = "reboot"  # the reboot record
    HEARTBEAT = "heartbeat"
    CONFIGURATION = "configuration"  # configuration keys (lock, current ceiling, settings)
    LOCK = "lock"  # the owner's lock and auto-lock settings
    LIMIT = "limit"  # the current limit: asked for, sent, its status; pause
    SCHEDULE = "schedule"  # the owner's charging window
    AVAILABILITY = "availability"  # an availability change scheduled after the session
    PROTECTION = "protection"  # offline protection applied at boot
    FIRMWARE = "firmware"  # firmware and diagnostics upload status
    LEARN = "learn"  # the Learn card window
    CARD = "card"  # authorization decisions (cards presented)
    # Charge mode, priority and the energy manager's decision (and the session's
    # solar share).
    CONTROL = "control"
    # Per connector.
    STATUS = "status"  # StatusNotification: status, error code, its info
    SESSION = "session"  # the running and last transaction; authorization
    METER = "meter"  # energy register, power, currents, voltages, offered, SoC


CONNECTOR_TOPICS = frozenset({Topic.STATUS, Topic.SESSION, Topic.METER})


class Charger:
    """A registered charger: what it reported, and what follows from it."""

    def __init__(self, identity: str) -> None:
        """Start with nothing known; :meth:`from_dict` restores saved state."""
        self.identity = identity
        self.info = ChargerInfo()
        self.profile: QuirkProfile = GENERIC
        self.connected = False
        self.disconnect_reason: str | None = None
        self.starting = False
        self.firmware_status: str | None = None
        self.diagnostics_status: str | None = None
        self.remote_address: str | None = None
        self.last_boot: datetime | None = None
        self.last_heartbeat: datetime | None = None
        self.connectors: dict[int, Connector] = {}
        self._connector_count = 1  # the highest connector id seen (kept: read very often)
        self.configuration: dict[str, str] = {}
        # What the configuration says, by meaning (read by the version's mapping).
        self.settings = ReportedSettings()
        self.measurands: set[str] = set()
        # Seconds the charger's clock was off when it last sent an implausible time.
        self.clock_skew_s: int | None = None
        # What the owner wants, and what became of our commands.
        self.lock_wanted = True
        # Minutes after the car is unplugged before the charger locks again (0: never).
        self.auto_lock_minutes = 0
        self.auto_lock_due: datetime | None = None  # when it locks again (counting down)
        # Charge mode and priority, and what the energy manager decided.
        self.control = ChargeControl()
        # The owner's charging window (from the charger's settings, not saved here).
        self.schedule: ChargingWindow | None = None
        self.reboot: RebootRecord | None = None
        self.limit = LimitState()
        self.protection: ProtectionStatus | None = None
        self.protection_keys: list[str] = []
        # ChangeAvailability answered Scheduled: the state it will take after the session.
        self.availability_scheduled: bool | None = None
        self.learn = LearnState()
        self.decisions: deque[CardDecision] = deque(maxlen=20)
        self.decision_count = 0
        # Listeners of every change, and of topics: per topic, per connector (None: any).
        self._listeners: list[Listener] = []
        self._topic_listeners: dict[Topic, dict[int | None, list[Listener]]] = {}
        # A connector appeared: what "main" and "outlets" are may have changed.
        self._layout_changed = False

    # ----------------------------------------------------------------- listeners
    def add_listener(
        self,
        listener: Listener,
        topics: Iterable[Topic] | None = None,
        connector_id: int | None = None,
    ) -> Callable[[], None]:
        """Call ``listener`` after changes; returns the function that removes it.

        Without ``topics``: after every change. With them: after changes of those
        topics, and after a notification without topics. ``connector_id`` narrows
        the connector topics (:data:`CONNECTOR_TOPICS`) to that connector; without
        it they mean any connector. The charger's topics ignore it.
        """
        if topics is None:
            self._listeners.append(listener)
            return lambda: self._listeners.remove(listener)
        lists: list[list[Listener]] = []
        for topic in set(topics):
            scope = connector_id if topic in CONNECTOR_TOPICS else None
            listeners = self._topic_listeners.setdefault(topic, {}).setdefault(scope, [])
            listeners.append(listener)
            lists.append(listeners)

        def remove() -> None:
            for listeners in lists:
                listeners.remove(listener)

        return remove

    @property
    def listener_count(self) -> int:
        """Subscriptions: every-change listeners, and one per topic of the others."""
        return len(self._listeners) + sum(
            len(listeners)
            for by_connector in self._topic_listeners.values()
            for listeners in by_connector.values()
        )

    def notify(self, *topics: Topic, connector_id: int | None = None) -> None:
        """Tell the listeners of ``topics`` (no topics: every listener) that they changed.

        ``connector_id``: the connector the connector topics are news of (None:
        possibly any). Each listener is called once, those of every change first.
        A connector that appeared since the last notification wakes everyone.
        """
        if self._layout_changed:
            self._layout_changed = False
            topics = ()
        woken = list(self._listeners)
        if not topics:
            for by_connector in self._topic_listeners.values():
                for listeners in by_connector.values():
                    woken += listeners
        else:
            for topic in topics:
                subscribed = self._topic_listeners.get(topic)
                if not subscribed:
                    continue
                if connector_id is None or topic not in CONNECTOR_TOPICS:
                    for listeners in subscribed.values():
                        woken += listeners
                else:
                    woken += subscribed.get(connector_id, ())
                    woken += subscribed.get(None, ())
        for listener in dict.fromkeys(woken):
            listener()

    # ------------------------------------------------------------------- derived
    @property
    def connector_count(self) -> int:
        """Number of physical connectors reported so far (at least one)."""
        return self._connector_count

    def connector(self, connector_id: int) -> Connector:
        """The connector with this id, created on first use."""
        found = self.connectors.get(connector_id)
        if found is None:
            found = self.connectors[connector_id] = Connector(connector_id)
            self._connector_count = max(self._connector_count, connector_id)
            self._layout_changed = True
        return found

    @property
    def main(self) -> Connector:
        """The connector that charger-level status follows.

        A single-connector charger: connector 1 (what users care about). With
        several connectors: connector 0 (the charger as a whole) once reported.
        """
        if self.connector_count > 1 and 0 in self.connectors:
            return self.connectors[0]
        return self.connector(1)

    @property
    def outlets(self) -> list[Connector]:
        """Physical connectors, 1..n."""
        return [self.connector(cid) for cid in range(1, self.connector_count + 1)]

    @property
    def plugged_in(self) -> bool | None:
        """Whether a vehicle is connected to any connector."""
        states = [c.plugged_in for c in self.outlets if c.plugged_in is not None]
        return any(states) if states else None

    @property
    def charging(self) -> bool | None:
        """Whether any connector is charging."""
        states = [c.charging for c in self.outlets if c.charging is not None]
        return any(states) if states else None

    @property
    def locked(self) -> bool | None:
        """Whether authorization is required to charge.

        Read back from the charger where it has a setting for it (a Wallbox's vendor
        key, 2.0.1's standard variable); otherwise the central system enforces the
        owner's setting itself through its answers, so that setting is the truth.
        """
        if not self.profile.lock_setting:
            return self.lock_wanted
        return self.settings.authorization_required

    @property
    def max_current_a(self) -> int:
        """The highest current limit: the charger's hardware ceiling where it reports one."""
        amps = self.settings.current_ceiling_a
        if amps is None:
            return DEFAULT_MAX_CURRENT_A
        # What the charger says, within what a car can take: 6 A to the plausible ceiling.
        return int(min(max(amps, MIN_CHARGING_CURRENT_A), _MAX_PLAUSIBLE_CURRENT_A))

    @property
    def phase_switching(self) -> bool:
        """Whether the charger switches between one and three phases (numberPhases)."""
        return self.settings.phase_switching

    @property
    def max_power_w(self) -> float:
        """The most this charger can draw: its current ceiling on three phases at 250 V.

        Energy readings that rise faster than this are glitches, not energy.
        """
        return min(self.max_current_a, _MAX_PLAUSIBLE_CURRENT_A) * _MAX_PHASES * _MAX_VOLTAGE_V

    @property
    def energy_rejections(self) -> int:
        """How many energy readings were refused as implausible (all connectors)."""
        return sum(c.energy.rejected for c in self.connectors.values())

    def last_rejected_connector(self) -> Connector | None:
        """The connector whose energy reading was refused most recently, if any."""
        refused = [c for c in self.connectors.values() if c.energy.last_rejected_at is not None]
        return (
            max(refused, key=lambda c: c.energy.last_rejected_at or _EARLIEST_PLAUSIBLE)
            if refused
            else None
        )

    @property
    def power_w(self) -> float | None:
        """Charging power of the whole charger."""
        values = [c.power_w for c in self.outlets if c.power_w is not None]
        return sum(values) if values else None

    @property
    def energy_wh(self) -> float | None:
        """Lifetime energy: the charger's own meter (connector 0) or the sum of connectors.

        The larger of the two: each only grows, so the figure never steps back when
        a charger starts (or stops) reporting its connector-0 meter.
        """
        counters = [c.energy for c in self.outlets if c.energy.last_register_wh is not None]
        outlets = sum(c.total_wh for c in counters) if counters else None
        whole = self.connectors.get(0)
        if whole is None or whole.energy.last_register_wh is None:
            return outlets
        return max(whole.energy.total_wh, outlets or 0.0)

    def led(self, connector: Connector | None = None) -> LedColour | None:
        """The LED colour for the charger (or one connector) per the vendor profile."""
        target = connector or self.main
        return self.profile.led(
            LedInput(
                connected=self.connected,
                starting=self.starting,
                status=target.status,
                authorized=target.authorized or target.transaction is not None,
                locked=self.locked,
            )
        )

    def find_transaction(self, transaction_id: str) -> Connector | None:
        """The connector running this transaction, if any."""
        return next(
            (
                c
                for c in self.connectors.values()
                if c.transaction and c.transaction.transaction_id == transaction_id
            ),
            None,
        )

    def _connector_of_unknown_stop(self, transaction_id: str) -> Connector | None:
        """Where a StopTransaction for a transaction not running here belongs, if that is known.

        The connector that ran it last, or the only connector of a charger that
        has one; otherwise none (StopTransaction names no connector, and folding
        its register into another connector's would count energy that is not there).
        """
        for connector in self.connectors.values():
            last = connector.last_transaction
            if last is not None and last.transaction_id == transaction_id:
                return connector
        if self.connector_count == 1 and self.settings.connector_count in (None, 1):
            return self.connector(1)
        return None

    # ------------------------------------------------------------------ events
    def apply_connected(
        self,
        connected: bool,
        remote_address: str | None = None,
        *,
        disconnect_reason: str | None = None,
    ) -> None:
        """The websocket opened or closed (``disconnect_reason``: we closed it, and why)."""
        self.connected = connected
        self.starting = False
        if connected:
            self.remote_address = remote_address
        else:
            self.disconnect_reason = disconnect_reason
        self.notify(Topic.CONNECTION)

    def apply_boot(self, info: ChargerInfo, now: datetime) -> None:
        """An accepted BootNotification: identity details and the profile."""
        self.info = info
        self.profile = select_profile(info.vendor, info.model, info.firmware)
        self.starting = True
        self.last_boot = now
        if self.reboot is not None and self.reboot.result is RebootResult.PENDING:
            self.reboot.finish(RebootResult.SUCCEEDED, now)
        self.notify(Topic.BOOT, Topic.CONNECTION, Topic.REBOOT)

    def apply_reboot_requested(self, hard: bool, now: datetime) -> None:
        """The charger accepted our Reset: its return is now awaited."""
        self.reboot = RebootRecord(requested_at=now, hard=hard)
        self.notify(Topic.REBOOT)

    def apply_reboot_outcome(self, result: RebootResult, now: datetime, detail: str = "") -> None:
        """A reboot was refused, or did not come back by the deadline."""
        if self.reboot is None or self.reboot.result is not RebootResult.PENDING:
            self.reboot = RebootRecord(requested_at=now, hard=False)
        self.reboot.finish(result, now, detail or None)
        self.notify(Topic.REBOOT)

    def apply_limit(
        self,
        *,
        requested_a: float | None = None,
        status: LimitStatus | None = None,
        reported_a: float | None = None,
        sent_a: float | None = None,
    ) -> None:
        """What we asked for as current limit, and what the charger does with it."""
        if requested_a is not None:
            self.limit.requested_a = requested_a
        if sent_a is not None:
            self.limit.sent_a = sent_a
        if status is not None:
            self.limit.status = status
            if status is LimitStatus.APPLIED:
                self.limit.failures = 0
            elif status is not LimitStatus.PENDING:
                self.limit.failures += 1
        if reported_a is not None:
            self.limit.reported_a = reported_a
        self.notify(Topic.LIMIT)

    def apply_protection(self, status: ProtectionStatus, keys: list[str]) -> None:
        """The result of applying offline protection at boot."""
        self.protection = status
        self.protection_keys = list(keys)
        self.notify(Topic.PROTECTION)

    def apply_availability_scheduled(self, operative: bool | None) -> None:
        """The charger will become (in)operative after its session (None: nothing pending)."""
        self.availability_scheduled = operative
        self.notify(Topic.AVAILABILITY)

    def apply_lock_wanted(self, locked: bool) -> None:
        """The owner locked or unlocked the charger."""
        self.lock_wanted = locked
        self.notify(Topic.LOCK)

    def apply_auto_lock(self, minutes: int) -> None:
        """The owner set how long after unplugging the charger locks again (0: never)."""
        self.auto_lock_minutes = minutes
        self.notify(Topic.LOCK)

    def apply_schedule(self, window: ChargingWindow | None) -> None:
        """The owner set (or removed) the charging window."""
        self.schedule = window
        self.notify(Topic.SCHEDULE)

    def apply_pause(self, paused: bool, resume_a: float | None) -> None:
        """The owner paused (0 A, the session stays open) or resumed charging."""
        self.limit.paused = paused
        self.limit.resume_a = resume_a
        self.notify(Topic.LIMIT)

    def apply_heartbeat(self, now: datetime) -> None:
        """A Heartbeat arrived."""
        self.last_heartbeat = now
        self.notify(Topic.HEARTBEAT)

    def apply_configuration(
        self,
        values: dict[str, str],
        reader: SettingsReader | None = None,
        *,
        complete: bool = False,
    ) -> None:
        """Configuration keys read back from the charger (``complete``: all of them).

        Secret values (passwords, keys) are never kept. A complete read replaces
        what was known, so keys a charger no longer reports go; at most
        :data:`MAX_CONFIGURATION_KEYS` keys are kept. ``reader``, the version's
        mapping, says what the configuration means (:attr:`settings`).
        """
        values = public_configuration(values)
        configuration = {} if complete else self.configuration
        for key, value in values.items():
            if key in configuration or len(configuration) < MAX_CONFIGURATION_KEYS:
                configuration[key] = value
        self.configuration = configuration
        if reader is not None:
            self.settings = reader(configuration)
        self.notify(Topic.CONFIGURATION)

    def apply_status(
        self,
        connector_id: int,
        status: ConnectorStatus,
        error_code: str | None,
        *,
        info: str | None = None,
        vendor_error_code: str | None = None,
    ) -> None:
        """A StatusNotification."""
        topics = [Topic.STATUS]
        if self.starting:
            self.starting = False
            topics.append(Topic.CONNECTION)
        if (
            self.availability_scheduled is not None
            and (status is ConnectorStatus.INOPERATIVE) is not self.availability_scheduled
        ):
            self.availability_scheduled = None  # the scheduled change happened
            topics.append(Topic.AVAILABILITY)
        connector = self.connector(connector_id)
        connector.status = status
        connector.error_code = error_code
        connector.status_info = info
        connector.vendor_error_code = vendor_error_code
        if status is ConnectorStatus.AVAILABLE:
            if connector.authorized:
                connector.authorized = False
                topics.append(Topic.SESSION)
            if connector.power_w:
                connector.power_w = 0.0
                topics.append(Topic.METER)
        elif status is not ConnectorStatus.CHARGING and connector.power_w:
            # The car stopped drawing; a last meter value may not follow.
            connector.power_w = 0.0
            topics.append(Topic.METER)
        self.notify(*topics, connector_id=connector_id)

    def apply_firmware_status(self, status: str) -> None:
        """A FirmwareStatusNotification."""
        self.firmware_status = status
        self.notify(Topic.FIRMWARE)

    def apply_diagnostics_status(self, status: str) -> None:
        """A DiagnosticsStatusNotification."""
        self.diagnostics_status = status
        self.notify(Topic.FIRMWARE)

    def apply_learning(self, learn: LearnState) -> None:
        """The Learn card window opened, learned a card or closed without one."""
        self.learn = learn
        self.notify(Topic.LEARN)

    def apply_card_decision(self, decision: CardDecision) -> None:
        """Record an authorization decision (shown by the Card presented event)."""
        self.decisions.append(decision)
        self.decision_count += 1
        self.notify(Topic.CARD)

    def apply_authorize(self, id_tag: str, accepted: bool, now: datetime) -> None:
        """An Authorize request and our answer to it."""
        if accepted:
            for connector in self.outlets:
                if connector.status is ConnectorStatus.PREPARING or self.connector_count == 1:
                    connector.authorized = True
        self.notify(Topic.SESSION)

    def apply_start(self, transaction: Transaction) -> None:
        """A StartTransaction we accepted. A transaction still open on the connector ends."""
        connector = self.connector(transaction.connector_id)
        if (previous := connector.transaction) is not None:
            # Its StopTransaction was lost: it ended when the next one began.
            previous.stopped_at = max(transaction.started_at, previous.started_at)
            previous.stop_reason = previous.stop_reason or "Other"
            connector.last_transaction = previous
        connector.power_w = None  # the last session's reading is not this one's
        connector.transaction = transaction
        connector.authorized = True
        transaction.meter_last_wh = transaction.meter_start_wh
        self._fold_register(connector, transaction.meter_start_wh, transaction.started_at)
        self.notify(Topic.SESSION, Topic.METER, connector_id=connector.connector_id)

    def apply_meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[Sample]
    ) -> None:
        """A MeterValues request (or a StopTransaction's transactionData)."""
        connector = self.connector(connector_id)
        if transaction_id is not None and (
            connector.transaction is None or connector.transaction.transaction_id != transaction_id
        ):
            # Values for a transaction on another connector (or a finished one):
            # attach to whichever connector runs it.
            connector = self.find_transaction(transaction_id) or connector
        limit_status = self.limit.status
        for sample in sorted(samples, key=lambda s: s.timestamp):
            self._apply_sample(connector, transaction_id, sample)
        self._notify_meter(connector, limit_status)

    def apply_stop(
        self,
        transaction_id: str,
        meter_stop_wh: float,
        stopped_at: datetime,
        reason: str | None,
        samples: list[Sample],
    ) -> Transaction | None:
        """A StopTransaction; returns the closed transaction, or None if it was unknown."""
        connector = self.find_transaction(transaction_id)
        if connector is None:
            # Not running here (lost, or already stopped): keep the register reading
            # where it belongs, if that is known.
            owner = self._connector_of_unknown_stop(transaction_id)
            if owner is not None:
                for sample in sorted(samples, key=lambda s: s.timestamp):
                    if sample.energy_wh is not None:
                        self._fold_register(owner, sample.energy_wh, sample.timestamp)
                self._fold_register(owner, meter_stop_wh, stopped_at)
            self.notify(Topic.METER, connector_id=owner.connector_id if owner else None)
            return None
        limit_status = self.limit.status
        for sample in sorted(samples, key=lambda s: s.timestamp):
            self._apply_sample(connector, transaction_id, sample)
        transaction = connector.transaction
        assert transaction is not None
        if not self._fold_register(connector, meter_stop_wh, stopped_at):
            # An implausible meterStop: the session ends at its last good reading.
            meter_stop_wh = transaction.meter_last_wh or transaction.meter_start_wh
        transaction.meter_stop_wh = meter_stop_wh
        transaction.meter_last_wh = meter_stop_wh
        transaction.stopped_at = max(stopped_at, transaction.started_at)
        transaction.stop_reason = reason
        connector.last_transaction = transaction
        connector.transaction = None
        connector.authorized = False
        connector.power_w = 0.0
        self._notify_meter(connector, limit_status, Topic.SESSION)
        return transaction

    # ----------------------------------------------------------------- helpers
    def _notify_meter(
        self, connector: Connector, limit_status: LimitStatus | None, *topics: Topic
    ) -> None:
        """Meter values applied to ``connector`` (a limit the charger ignores shows too)."""
        if self.limit.status is not limit_status:
            topics = (*topics, Topic.LIMIT)
        self.notify(Topic.METER, *topics, connector_id=connector.connector_id)

    def _apply_sample(
        self, connector: Connector, transaction_id: str | None, sample: Sample
    ) -> None:
        self.measurands |= sample.measurands
        newest = connector.last_sample_at is None or sample.timestamp >= connector.last_sample_at
        if sample.energy_wh is not None:
            plausible = self._fold_register(connector, sample.energy_wh, sample.timestamp)
            tx = connector.transaction
            if (
                plausible
                and tx is not None
                and (transaction_id is None or tx.transaction_id == transaction_id)
                and sample.energy_wh >= (tx.meter_last_wh or 0.0)
            ):
                tx.meter_last_wh = sample.energy_wh
        if not newest:
            # A late sample (queued while offline): energy counts, live values do not.
            return
        connector.last_sample_at = sample.timestamp
        power, derived = derive_power(sample)
        if power is not None:
            connector.power_w = power
            connector.power_derived = derived
        if sample.currents_a:
            connector.currents_a = dict(sample.currents_a)
        if sample.voltages_v:
            connector.voltages_v = dict(sample.voltages_v)
        if sample.current_offered_a is not None:
            connector.current_offered_a = sample.current_offered_a
            self._check_limit_followed(sample.current_offered_a)
        if sample.power_offered_w is not None:
            connector.power_offered_w = sample.power_offered_w
        if sample.soc_percent is not None:
            connector.soc_percent = sample.soc_percent

    def _check_limit_followed(self, offered_a: float) -> None:
        """A charger that offers more than our applied limit is ignoring it (fw 6.4.x)."""
        limit = self.limit
        sent = limit.sent_a if limit.sent_a is not None else limit.requested_a
        if limit.status is LimitStatus.APPLIED and sent is not None and offered_a > sent + 1.0:
            limit.status = LimitStatus.NOT_APPLIED
            limit.failures += 1

    def _fold_register(self, connector: Connector, register_wh: float, when: datetime) -> bool:
        """Fold a register reading into the connector's total; False if it was implausible."""
        rejected = connector.energy.rejected
        connector.energy.update(register_wh, when, self.max_power_w)
        return connector.energy.rejected == rejected

    # ----------------------------------------------------------------- storage
    def as_dict(self) -> dict[str, Any]:
        """What must survive a Home Assistant restart."""
        return {
            "info": self.info.as_dict(),
            "profile": self.profile.key,
            "last_boot": _iso(self.last_boot),
            "last_heartbeat": _iso(self.last_heartbeat),
            "connectors": {str(cid): c.as_dict() for cid, c in self.connectors.items()},
            "configuration": dict(self.configuration),
            "settings": self.settings.as_dict(),
            "measurands": sorted(self.measurands),
            "clock_skew_s": self.clock_skew_s,
            "lock_wanted": self.lock_wanted,
            "auto_lock_minutes": self.auto_lock_minutes,
            "auto_lock_due": _iso(self.auto_lock_due),
            "reboot": self.reboot.as_dict() if self.reboot else None,
            "limit": self.limit.as_dict(),
            "control": self.control.as_dict(),
        }

    @classmethod
    def from_dict(cls, identity: str, data: dict[str, Any]) -> Charger:
        """Restore a charger saved by :meth:`as_dict` (disconnected until it reconnects)."""
        charger = cls(identity)
        charger.info = ChargerInfo.from_dict(data.get("info") or {})
        charger.profile = profile_by_key(data.get("profile"))
        charger.last_boot = _dt(data.get("last_boot"))
        charger.last_heartbeat = _dt(data.get("last_heartbeat"))
        for cid, cdata in (data.get("connectors") or {}).items():
            charger.connector(int(cid))
            charger.connectors[int(cid)] = Connector.from_dict(int(cid), cdata)
        charger.configuration = public_configuration(
            dict(list((data.get("configuration") or {}).items())[:MAX_CONFIGURATION_KEYS])
        )
        charger.settings = ReportedSettings.from_dict(data.get("settings") or {})
        charger.measurands = set(data.get("measurands") or [])
        charger.clock_skew_s = data.get("clock_skew_s")
        charger.lock_wanted = bool(data.get("lock_wanted", True))
        charger.auto_lock_minutes = int(data.get("auto_lock_minutes", 0))
        charger.auto_lock_due = _dt(data.get("auto_lock_due"))
        reboot = data.get("reboot")
        charger.reboot = RebootRecord.from_dict(reboot) if reboot else None
        charger.limit = LimitState.from_dict(data.get("limit") or {})
        charger.control = ChargeControl.from_dict(data.get("control") or {})
        return charger
