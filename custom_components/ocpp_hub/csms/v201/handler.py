"""OCPP 2.0.1: the charger's messages into model events.

:class:`V201Handler` answers a 2.0.1 charger's CALLs (payloads already
validated against the official schemas) by applying them to the same
:class:`Charger` model the 1.6 handler feeds, so the same entities work:

- an EVSE is a model connector (``evseId``); ``Occupied`` is a car plugged in;
- a transaction is named by the charger (text): that name is the model's
  ``transaction_id``, by which later events and our stop request find it;
- TransactionEvent Started / Updated / Ended carry the meter values, the
  charging state and the idToken (authorized like a 1.6 idTag, same cards);
- FirmwareStatusNotification and LogStatusNotification become the model's
  firmware and diagnostics-upload statuses, in 1.6's words (see ``mapping``);
- NotifyEvent and SecurityEventNotification are kept for diagnostics only
  (logged); DataTransfer is answered as in 1.6;
- NotifyReport is taken only for a report we asked for (GetBaseReport, by its
  requestId) and while we wait for it; any other is answered and dropped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property
import logging
from types import MappingProxyType
from typing import Any

from ...model.charger import Charger, Connector, Transaction
from ...model.meter import Sample
from ...model.reports import ChargerReport, ReportKind
from ...model.secrets import REDACTED, is_secret_key
from ..backend import AuthorizationStatus
from ..conversation import Conversation
from ..errors import OcppError, OcppErrorCode
from ..logtext import shown, untrusted
from ..metering import ENERGY_REGISTER
from ..version import ProtocolVersion
from .commands import V201Commands
from .dialect import DIALECT, HANDLED_ACTIONS
from .mapping import (
    BOOT_VARIABLES,
    charger_info,
    charging_state,
    connector_status,
    firmware_status,
    id_token_info,
    log_status,
    setting_variable,
)
from .metering import parse_meter_value
from .variables import VariableName

_LOGGER = logging.getLogger(__name__)
_MAX_REGISTER_WH = 1e15  # a petawatt-hour: anything above is not a meter reading
_SEQ_MEMORY = 16  # transactions whose last seqNo is remembered (duplicates are not applied)


def _now() -> datetime:
    return datetime.now(UTC)


class V201Handler(V201Commands, Conversation):
    """The OCPP 2.0.1 conversation with one connected charger."""

    actions = HANDLED_ACTIONS
    ROUTES = MappingProxyType(
        {
            "Authorize": "_authorize",
            "BootNotification": "_boot_notification",
            "DataTransfer": "vendor_request",
            "FirmwareStatusNotification": "_firmware_status",
            "Heartbeat": "heartbeat",
            "LogStatusNotification": "_log_status",
            "MeterValues": "_meter_values",
            "NotifyEvent": "_notify_event",
            "NotifyReport": "_notify_report",
            "SecurityEventNotification": "security_event",
            "StatusNotification": "_status_notification",
            "TransactionEvent": "_transaction_event",
        }
    )

    @cached_property
    def _seq(self) -> dict[str, int]:
        """The last seqNo applied per transaction of the charger (a repeat is not applied)."""
        return {}

    def bind(self, charger: Charger) -> None:
        """Speak for ``charger``; its lock is the standard variable AuthCtrlr.Enabled."""
        _standard_lock(charger)
        super().bind(charger)

    def adopt(self, charger: Charger) -> None:
        """The owner accepted this (Pending) charger: ask it to boot again now."""
        _standard_lock(charger)
        super().adopt(charger)

    def connection_closed(self) -> None:
        """No report we wait for will come now."""
        for collector in self._reports.values():
            collector.abandon()
        super().connection_closed()

    async def read_at_boot(self) -> None:
        """2.0.1 reads the neutral settings' variables and phase switching (GetVariables)."""
        await self.read_variables(BOOT_VARIABLES)

    # ------------------------------------------------------------- the charger's CALLs
    def _boot_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.answer_boot(charger_info(payload))
        if answer["status"] == "Accepted":
            assert self.charger is not None
            _standard_lock(self.charger)  # the boot chose the vendor's profile
        _LOGGER.debug(
            "Charger %s booted (%s)", self.session.identity, untrusted(payload["reason"], 40)
        )
        return answer

    def _status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        evse_id = payload["evseId"]
        if not self.connector_ok(evse_id) or evse_id == 0:
            return {}
        connector = self.charger.connector(evse_id)
        status = connector_status(payload["connectorStatus"], connector)
        error = "Faulted" if payload["connectorStatus"] == "Faulted" else None
        self.charger.apply_status(evse_id, status, error)
        return {}

    def _firmware_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_firmware_status(firmware_status(payload["status"]))
        return {}

    def _log_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_diagnostics_status(log_status(payload["status"]))
        return {}

    def _authorization(self, token: dict[str, Any], action: str) -> AuthorizationStatus:
        """The backend's decision on an idToken, as on a 1.6 idTag (the same cards)."""
        assert self.charger is not None
        return self.backend.authorize(self.charger, token["idToken"], action)

    def _authorize(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        token = payload["idToken"]
        status = self._authorization(token, "Authorize")
        self.charger.apply_authorize(
            token["idToken"], status is AuthorizationStatus.ACCEPTED, _now()
        )
        return {"idTokenInfo": id_token_info(status)}

    def _meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        evse_id = payload["evseId"]
        if not self.connector_ok(evse_id):
            return {}
        received = _now()
        self.charger.apply_meter_values(
            evse_id, None, [self._sample(mv, received) for mv in payload["meterValue"]]
        )
        return {}

    def _sample(self, meter_value: dict[str, Any], received: datetime) -> Sample:
        return parse_meter_value(self.stamp(meter_value["timestamp"], received), meter_value)

    # ----------------------------------------------------------- transactions
    def _running(self, charger_id: str) -> Connector | None:
        """The connector running the charger's transaction ``charger_id``, if any."""
        return next(
            (
                c
                for c in self.charger.connectors.values()  # type: ignore[union-attr]
                if c.transaction is not None and c.transaction.transaction_id == charger_id
            ),
            None,
        )

    def _ended_here(self, charger_id: str) -> Transaction | None:
        """The transaction ``charger_id`` if it ended already (its last event repeated)."""
        assert self.charger is not None
        for connector in self.charger.connectors.values():
            last = connector.last_transaction
            if last is not None and last.transaction_id == charger_id:
                return last
        return None

    def _transaction_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        info = payload["transactionInfo"]
        charger_id: str = info["transactionId"]
        event = payload["eventType"]
        seq_no = payload["seqNo"]
        token = payload.get("idToken")
        action = "StopTransaction" if event == "Ended" else "StartTransaction"
        answer: dict[str, Any] = {}
        if token is not None:
            answer["idTokenInfo"] = id_token_info(self._authorization(token, action))
        last_seq = self._seq.get(charger_id)
        if last_seq is not None and seq_no <= last_seq:
            _LOGGER.debug(
                "Charger %s: TransactionEvent %s seqNo %s again; not applied",
                self.session.identity,
                untrusted(charger_id, 40),
                seq_no,
            )
            return answer
        self._remember_seq(charger_id, seq_no)
        when = self.stamp(payload["timestamp"], received)
        samples = [self._sample(mv, received) for mv in payload.get("meterValue") or []]
        if payload.get("offline"):
            _LOGGER.debug(
                "Charger %s: TransactionEvent %s %s happened offline",
                self.session.identity,
                untrusted(charger_id, 40),
                event,
            )
        connector = self._running(charger_id)
        if connector is None and self._ended_here(charger_id) is not None:
            return answer  # a late event of a transaction that ended: nothing to run
        if connector is None:
            connector = self._start(payload, charger_id, when, samples)
            if connector is None:
                return answer
        transaction = connector.transaction
        assert transaction is not None
        if token is not None and not transaction.id_tag and event != "Ended":
            transaction.id_tag = token["idToken"]  # authorized after plugging in
        if event == "Ended":
            stop_wh = _last_register(samples)
            if stop_wh is None:
                stop_wh = transaction.meter_last_wh or transaction.meter_start_wh
            self.charger.apply_stop(
                transaction.transaction_id, stop_wh, when, info.get("stoppedReason"), samples
            )
        elif samples:
            self.charger.apply_meter_values(
                connector.connector_id, transaction.transaction_id, samples
            )
        status = charging_state(info.get("chargingState"), ended=event == "Ended")
        if status is not None and status is not connector.status:
            self.charger.apply_status(connector.connector_id, status, None)
        return answer

    def _start(
        self, payload: dict[str, Any], charger_id: str, when: datetime, samples: list[Sample]
    ) -> Connector | None:
        """A transaction we have not seen yet (Started, or its Started was lost)."""
        assert self.charger is not None
        evse = payload.get("evse") or {}
        evse_id = evse.get("id")
        if evse_id is None:
            only = self.charger.outlets
            evse_id = only[0].connector_id if len(only) == 1 else 1
        if not self.connector_ok(evse_id) or evse_id == 0:
            raise OcppError(
                OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                "a transaction needs an evse.id between 1 and 64",
            )
        connector = self.charger.connector(evse_id)
        first = _last_register(samples[:1])
        known = connector.energy.last_register_wh
        if payload["eventType"] == "Started" and first is not None:
            start_wh = first  # its own Transaction.Begin reading
        else:
            # Its start register is lost with the Started: the register we last knew
            # (from before the transaction) is the better start, unless the first reading
            # here is lower (a new meter). An Ended alone then still counts the charge.
            start_wh = min((wh for wh in (first, known) if wh is not None), default=0.0)
        token = payload.get("idToken")
        self.charger.apply_start(
            Transaction(
                transaction_id=charger_id,
                connector_id=evse_id,
                id_tag=token["idToken"] if token else "",
                meter_start_wh=start_wh,
                started_at=when,
            )
        )
        return connector

    def _remember_seq(self, charger_id: str, seq_no: int) -> None:
        self._seq.pop(charger_id, None)
        self._seq[charger_id] = seq_no
        if len(self._seq) > _SEQ_MEMORY:
            del self._seq[next(iter(self._seq))]

    # ------------------------------------------------------------- reports
    def _notify_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        for event in payload["eventData"]:
            name = f"{event['component']['name']}.{event['variable']['name']}"
            # An event on a secret variable (a password changed) does not show its value.
            whole = VariableName.from_wire(event["component"], event["variable"]).text
            value = REDACTED if is_secret_key(whole) else event["actualValue"]
            _LOGGER.debug(
                "Charger %s: event %s = %s",
                self.session.identity,
                untrusted(name, 100),
                untrusted(value, 100),
            )
            self.charger.apply_report(
                ChargerReport(
                    ReportKind.EVENT,
                    shown(name),
                    shown(value),
                    self.stamp(event["timestamp"], received),
                )
            )
        return {}

    def _notify_report(self, payload: dict[str, Any]) -> dict[str, Any]:
        request_id = payload["requestId"]
        collector = self._reports.get(request_id)
        entries = len(payload.get("reportData") or [])
        if collector is None:
            _LOGGER.debug(
                "Charger %s: NotifyReport %s not asked for; ignored",
                self.session.identity,
                untrusted(request_id, 20),
            )
            return {}
        _LOGGER.debug(
            "Charger %s: report %s part %s, %d variables%s",
            self.session.identity,
            request_id,
            payload["seqNo"],
            entries,
            ", more to come" if payload.get("tbc") else "",
        )
        collector.add(payload)
        return {}


def _standard_lock(charger: Charger) -> None:
    """A 2.0.1 charger's lock is read back from AuthCtrlr.Enabled, whatever its vendor."""
    if not charger.profile.lock_setting:
        charger.profile = replace(charger.profile, lock_setting=True)


def _last_register(samples: list[Sample]) -> float | None:
    """The newest energy register among ``samples`` (Wh), if plausible."""
    readings = [s for s in samples if s.energy_wh is not None and ENERGY_REGISTER in s.measurands]
    if not readings:
        return None
    newest = max(readings, key=lambda s: s.timestamp).energy_wh
    assert newest is not None
    return newest if 0 <= newest <= _MAX_REGISTER_WH else None


#: OCPP 2.0.1 as the registry of versions (csms/versions.py) knows it.
VERSION = ProtocolVersion("ocpp2.0.1", DIALECT, V201Handler, setting_variable)
