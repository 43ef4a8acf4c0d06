"""The charger model: what a charger reported, and what follows from it.

A :class:`Charger` lives as long as the charger is registered, across
connections and Home Assistant restarts (:mod:`.storage_format` saves and restores
it). The protocol layer applies what the charger reports through the
``apply_*`` methods; each ends with one notification of the listeners
(:mod:`.topics`). What the owner wants and what became of our commands are
held apart, in its ``owner`` (:class:`~.owner.OwnerState`); its connectors and
transactions are in :mod:`.connector`. Nothing here does I/O or knows about OCPP
frames or Home Assistant.
"""

from __future__ import annotations

from datetime import datetime

from .connector import Connector, Connectors, Transaction
from .control import LimitStatus, RebootResult
from .info import ChargerInfo, plausible_time
from .led import LedColour, LedInput
from .meter import Sample, derive_power
from .owner import CardDecision, OwnerState
from .profiles import GENERIC, QuirkProfile, select_profile
from .reports import ChargerReport, Reports
from .secrets import public_configuration
from .settings import ReportedSettings, SettingsReader
from .status import ConnectorStatus
from .topics import Topic

# Also importable from here: the parts a charger is made of.
__all__ = [
    "DEFAULT_MAX_CURRENT_A",
    "MAX_CONFIGURATION_KEYS",
    "MIN_CHARGING_CURRENT_A",
    "CardDecision",
    "Charger",
    "ChargerInfo",
    "Connector",
    "Topic",
    "Transaction",
    "plausible_time",
]

DEFAULT_MAX_CURRENT_A = 32
MIN_CHARGING_CURRENT_A = 6  # IEC 61851: no car charges with less
# A current above this is not a home charger's (it would void the energy plausibility check).
_MAX_PLAUSIBLE_CURRENT_A = 80
# Volts per phase and phases assumed for the most a charger can draw.
_MAX_VOLTAGE_V = 250.0
_MAX_PHASES = 3
# Configuration keys kept per charger (a Wallbox reports about 60; a full read replaces them).
MAX_CONFIGURATION_KEYS = 256


class Charger(Connectors):
    """A registered charger: what it reported, and what follows from it."""

    def __init__(self, identity: str) -> None:
        """Start with nothing known (:mod:`.storage_format` restores saved state)."""
        super().__init__()
        self.identity = identity
        # What the owner wants and what became of our commands (tells our listeners).
        self.owner = OwnerState(self.notify)
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
        self.configuration: dict[str, str] = {}
        # What the configuration says, by meaning (read by the version's mapping).
        self.settings = ReportedSettings()
        self.measurands: set[str] = set()
        # Seconds the charger's clock was off when it last sent an implausible time.
        self.clock_skew_s: int | None = None
        self.reports = Reports()  # events and security events it sent (2.0.1)

    # ------------------------------------------------------------------- derived
    @property
    def locked(self) -> bool | None:
        """Whether authorization is required to charge.

        Read back from the charger where it has a setting for it (a Wallbox's vendor
        key, 2.0.1's standard variable); otherwise the central system enforces the
        owner's setting itself through its answers, so that setting is the truth.
        """
        if not self.profile.lock_setting:
            return self.owner.lock_wanted
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
        reboot = self.owner.reboot
        if reboot is not None and reboot.result is RebootResult.PENDING:
            reboot.finish(RebootResult.SUCCEEDED, now)
        self.notify(Topic.BOOT, Topic.CONNECTION, Topic.REBOOT)

    def apply_report(self, report: ChargerReport) -> None:
        """The charger reported an event or a security event."""
        self.reports.add(report)
        self.notify(Topic.REPORT)

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
        :data:`MAX_CONFIGURATION_KEYS` keys are kept. Keys are case-insensitive: a
        value is kept under the spelling already known (one entry per key).
        ``reader``, the version's mapping, says what the configuration means
        (:attr:`settings`).
        """
        values = public_configuration(values)
        configuration = {} if complete else self.configuration
        spellings = {key.casefold(): key for key in configuration}
        for key, value in values.items():
            known = spellings.setdefault(key.casefold(), key)
            if known in configuration or len(configuration) < MAX_CONFIGURATION_KEYS:
                configuration[known] = value
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
            self.owner.availability_scheduled is not None
            and (status is ConnectorStatus.INOPERATIVE) is not self.owner.availability_scheduled
        ):
            self.owner.availability_scheduled = None  # the scheduled change happened
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
        limit_status = self.owner.limit.status
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
            home = self._connector_of_unknown_stop(transaction_id)
            if home is not None:
                for sample in sorted(samples, key=lambda s: s.timestamp):
                    if sample.energy_wh is not None:
                        self._fold_register(home, sample.energy_wh, sample.timestamp)
                self._fold_register(home, meter_stop_wh, stopped_at)
            self.notify(Topic.METER, connector_id=home.connector_id if home else None)
            return None
        limit_status = self.owner.limit.status
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
        if self.owner.limit.status is not limit_status:
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
            self.owner.check_limit_followed(sample.current_offered_a)
        if sample.power_offered_w is not None:
            connector.power_offered_w = sample.power_offered_w
        if sample.soc_percent is not None:
            connector.soc_percent = sample.soc_percent

    def _fold_register(self, connector: Connector, register_wh: float, when: datetime) -> bool:
        """Fold a register reading into the connector's total; False if it was implausible."""
        rejected = connector.energy.rejected
        connector.energy.update(register_wh, when, self.max_power_w)
        return connector.energy.rejected == rejected
