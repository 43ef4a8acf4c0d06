"""OCPP 2.0.1: the calls the central system makes to a charger: the neutral port's commands.

Each method of :class:`~..port.ChargerPort` becomes the 2.0.1 call that does it:
settings are device-model variables (GetVariables / SetVariables), limits are
charging profiles per evseId, cards are idTokens, firmware is UpdateFirmware
and diagnostics are GetLog (DiagnosticsLog). The raw configuration actions
read and write variables by name (:mod:`.variables`); reading them all is a
GetBaseReport answered by the charger's NotifyReports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
from datetime import datetime
from functools import cached_property
import itertools
import logging
import time
from typing import Any

from ...model.secrets import REDACTED, is_secret_key
from ..commands import Commands, LimitWords, expect_status
from ..errors import CallFailed, FailureReason
from ..port import Capability, CommandStatus, Setting
from . import variables
from .mapping import (
    SETTING_VARIABLES,
    charging_profile,
    local_list,
    mapped_first,
    reported_settings,
)
from .variables import (
    MAX_REPORT_ENTRIES,
    ReportCollector,
    VariableName,
    set_failure,
    set_status,
)

_LOGGER = logging.getLogger(__name__)

# remoteStartId: a number the charger repeats in the transaction it starts.
_REMOTE_START_IDS = itertools.count(int(time.time()) % 1_000_000_000)
# requestId of UpdateFirmware / GetLog / GetBaseReport: the charger repeats it in what follows.
_REQUEST_IDS = itertools.count(int(time.time()) % 1_000_000_000)
# What the trigger action offers in 1.6's words, said in 2.0.1's where they differ.
_TRIGGER_NAMES = {"DiagnosticsStatusNotification": "LogStatusNotification"}


class V201Commands(Commands):
    """Our 2.0.1 calls to the charger of one session (one at a time, through the session).

    2.0.1 has DataTransfer, firmware / log uploads and raw variables (the
    configuration actions, by ``Component.Variable`` name).
    """

    CAPABILITIES = frozenset(
        {Capability.CONFIGURATION_KEYS, Capability.DATA_TRANSFER, Capability.FIRMWARE}
    )
    LIMIT = LimitWords("evseId", "chargingProfile", "chargingProfileId", "schedule")
    limit_profile = staticmethod(charging_profile)

    @cached_property
    def _reports(self) -> dict[int, ReportCollector]:
        """The reports we asked for and wait for, by requestId."""
        return {}

    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now (TriggerMessage, per EVSE if given)."""
        payload: dict[str, Any] = {"requestedMessage": _TRIGGER_NAMES.get(message, message)}
        if connector_id:
            payload["evse"] = {"id": connector_id}
        answer = await self.session.call("TriggerMessage", payload)
        expect_status(answer, "TriggerMessage", ("Accepted",))

    async def reset(self, hard: bool = False) -> None:
        """Reset Immediate (hard) or OnIdle; Scheduled (after the transaction) is taken too."""
        answer = await self.session.call("Reset", {"type": "Immediate" if hard else "OnIdle"})
        expect_status(answer, "Reset", ("Accepted", "Scheduled"))

    async def remote_start(self, id_tag: str, connector_id: int | None = None) -> None:
        """RequestStartTransaction for ``id_tag`` (a Central idToken: our own)."""
        payload: dict[str, Any] = {
            "idToken": {"idToken": id_tag, "type": "Central"},
            "remoteStartId": next(_REMOTE_START_IDS),
        }
        if connector_id is not None:
            payload["evseId"] = connector_id
        answer = await self.session.call("RequestStartTransaction", payload)
        expect_status(answer, "RequestStartTransaction", ("Accepted",))

    async def remote_stop(self, transaction_id: str) -> None:
        """RequestStopTransaction of a running transaction (its id is the charger's own)."""
        if self.charger is None or self.charger.find_transaction(transaction_id) is None:
            raise CallFailed(
                "RequestStopTransaction", FailureReason.REJECTED, "no such transaction running"
            )
        answer = await self.session.call(
            "RequestStopTransaction", {"transactionId": transaction_id}
        )
        expect_status(answer, "RequestStopTransaction", ("Accepted",))

    async def set_available(self, connector_id: int, available: bool) -> CommandStatus:
        """ChangeAvailability of an EVSE (0: the station): Accepted or Scheduled."""
        payload: dict[str, Any] = {"operationalStatus": "Operative" if available else "Inoperative"}
        if connector_id:
            payload["evse"] = {"id": connector_id}
        answer = await self.session.call("ChangeAvailability", payload)
        return CommandStatus(expect_status(answer, "ChangeAvailability", ("Accepted", "Scheduled")))

    async def unlock(self, connector_id: int) -> None:
        """UnlockConnector of the EVSE's connector; anything but Unlocked raises."""
        answer = await self.session.call(
            "UnlockConnector", {"evseId": connector_id, "connectorId": 1}
        )
        expect_status(answer, "UnlockConnector", ("Unlocked",))

    # -------------------------------------------------------------------- cards
    async def send_cards(self, version: int, id_tags: Sequence[str]) -> None:
        """SendLocalList (Full): the charger's local authorization list becomes ``id_tags``."""
        payload: dict[str, Any] = {"versionNumber": version, "updateType": "Full"}
        if id_tags:
            payload["localAuthorizationList"] = local_list(id_tags)
        answer = await self.session.call("SendLocalList", payload)
        expect_status(answer, "SendLocalList", ("Accepted",))

    # ----------------------------------------------------------------- settings
    @staticmethod
    def _variable(setting: Setting) -> VariableName:
        names = SETTING_VARIABLES.get(setting)
        if names is None:
            raise CallFailed("SetVariables", FailureReason.NOT_SUPPORTED, setting.value)
        return VariableName(*names)

    async def read_settings(self, settings: Sequence[Setting]) -> dict[Setting, str]:
        """GetVariables of the settings' variables; the model learns them (Component.Variable)."""
        wanted = {
            self._variable(s).folded: s for s in settings if SETTING_VARIABLES.get(s) is not None
        }
        if not wanted:
            return {}
        values, _ = await self.read_variables([self._variable(s).text for s in wanted.values()])
        return {wanted[key.casefold()]: value for key, value in values.items()}

    async def write_setting(self, setting: Setting, value: str) -> CommandStatus:
        """SetVariables of the setting's variable: Accepted or RebootRequired; else raises."""
        return CommandStatus(await self._set_variable(self._variable(setting), value))

    async def read_variables(self, keys: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        """GetVariables of named variables: (values, keys not read); the model learns them.

        Each key read has its value under the key as asked (two spellings of one
        variable: both). A key that is no ``Component.Variable`` name is not asked
        for; a variable the charger does not know (or gives no value of) is not
        read. No GetVariables carries more than the charger's ItemsPerMessage.
        """
        asked: dict[str, tuple[VariableName, list[str]]] = {}
        unknown: list[str] = []
        for key in keys:
            name = VariableName.parse(key)
            if name is None:
                unknown.append(key)
            else:
                asked.setdefault(name.folded, (name, []))[1].append(key)
        if not asked:
            return {}, unknown
        names = [name for name, _ in asked.values()]
        size = await self._items_per_message("GetVariables", len(names)) or len(names)
        read: dict[str, tuple[str, str]] = {}  # folded -> (the charger's spelling, value)
        start = 0
        while start < len(names):
            try:
                answer = await self.session.call(
                    "GetVariables",
                    {"getVariableData": [name.wire() for name in names[start : start + size]]},
                )
            except CallFailed as err:
                if size == 1 or not _too_many_items(err):
                    raise
                # A limit the charger did not say (or said wrong): one variable per
                # message from now on, on this connection.
                size = 1
                self._refused_batches.add("GetVariables")
                continue
            start += size
            for result in answer["getVariableResult"]:
                name = VariableName.from_wire(result["component"], result["variable"])
                value = result.get("attributeValue")
                if (
                    name.folded in asked
                    and name.folded not in read  # not ours to read, or answered twice
                    and result["attributeStatus"] == "Accepted"
                    and value is not None
                ):
                    read[name.folded] = (name.text, value)
        values: dict[str, str] = {}
        for folded, (_, asked_keys) in asked.items():
            if folded in read:
                values.update(dict.fromkeys(asked_keys, read[folded][1]))
            else:
                unknown.extend(asked_keys)
        if self.charger is not None and read:
            self.charger.apply_configuration(dict(read.values()), reported_settings)
        return values, unknown

    @cached_property
    def _batch_sizes(self) -> dict[str, int | None]:
        """ItemsPerMessage asked of the charger on this connection, by action."""
        return {}

    @cached_property
    def _refused_batches(self) -> set[str]:
        """Actions the charger refused as too long on this connection: one item each."""
        return set()

    @cached_property
    def _batch_size_asked(self) -> asyncio.Lock:
        """Held while ItemsPerMessage is asked: other reads wait for the answer."""
        return asyncio.Lock()

    async def _items_per_message(self, action: str, count: int) -> int | None:
        """How many variables one ``action`` may carry, if known, for ``count`` of them.

        What the model knows, else asked of the charger (once per connection,
        alone: one variable always fits; a read meanwhile waits for the answer, and
        a question that timed out is asked again by the next read).
        """
        if count <= 1:
            return None
        if action in self._refused_batches:
            return 1
        async with self._batch_size_asked:
            if self.charger is not None and (
                known := variables.items_per_message(self.charger.configuration, action)
            ):
                return known
            if action not in self._batch_sizes:
                key = variables.ITEMS_PER_MESSAGE.format(action)
                try:
                    values, _ = await self.read_variables([key])
                except CallFailed as err:
                    if err.reason in (FailureReason.TIMEOUT, FailureReason.OFFLINE):
                        raise
                    values = {}  # refused: the read itself says whether it fails too
                self._batch_sizes[action] = variables.items_per_message(values, action)
            return self._batch_sizes[action]

    async def _set_variable(self, name: VariableName, value: str) -> str:
        """SetVariables of one variable: Accepted or RebootRequired; refusals raise.

        An answer without a result for this variable is an invalid answer.
        """
        answer = await self.session.call(
            "SetVariables", {"setVariableData": [{"attributeValue": value, **name.wire()}]}
        )
        status = set_status(answer["setVariableResult"], name)
        if (reason := set_failure(status)) is not None:
            raise CallFailed("SetVariables", reason, f"{name.text}: {status}")
        if self.charger is not None:
            self.charger.apply_configuration({name.text: value}, reported_settings)
        return status

    async def full_report(self) -> dict[str, str]:
        """Every variable's value: GetBaseReport (FullInventory), then its NotifyReports.

        Waits for the report's last part (at most :data:`REPORT_TIMEOUT` seconds).
        A complete report replaces what the model knew (as a 1.6 GetConfiguration
        of every key does), the variables the mapping reads kept first; of one
        that stays incomplete the model learns what came.
        """
        collector = ReportCollector(next(_REQUEST_IDS))
        self._reports[collector.request_id] = collector
        try:
            answer = await self.session.call(
                "GetBaseReport",
                {"requestId": collector.request_id, "reportBase": "FullInventory"},
            )
            if expect_status(answer, "GetBaseReport", ("Accepted", "EmptyResultSet")) == (
                "EmptyResultSet"
            ):
                return {}
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(variables.REPORT_TIMEOUT):
                    await collector.done.wait()
        finally:
            del self._reports[collector.request_id]
        if collector.dropped:
            _LOGGER.warning(
                "Charger %s reported more than %d variables; %d left out",
                self.session.identity,
                MAX_REPORT_ENTRIES,
                collector.dropped,
            )
        if self.charger is not None and (collector.values or collector.complete):
            self.charger.apply_configuration(
                mapped_first(collector.values),
                reported_settings,
                # Variables left out of a report too large may be ones the model needs.
                complete=collector.complete and not collector.dropped,
            )
        if collector.closed:
            raise CallFailed("NotifyReport", FailureReason.OFFLINE)
        if not collector.complete:
            raise CallFailed(
                "NotifyReport",
                FailureReason.TIMEOUT,
                f"{len(collector.values)} variables before the report stopped",
            )
        return collector.values

    # ------------------------------------------------------ firmware and logs
    async def update_firmware(self, location: str, retrieve_date: datetime) -> None:
        """UpdateFirmware from ``location``; FirmwareStatusNotification tells how it goes."""
        answer = await self.session.call(
            "UpdateFirmware",
            {
                "requestId": next(_REQUEST_IDS),
                "firmware": {
                    "location": location,
                    "retrieveDateTime": retrieve_date.isoformat(),
                },
            },
        )
        # AcceptedCanceled: accepted, and an update under way was given up for it.
        expect_status(answer, "UpdateFirmware", ("Accepted", "AcceptedCanceled"))

    async def get_diagnostics(self, location: str) -> str | None:
        """GetLog of the DiagnosticsLog to ``location``; its file name if the charger says."""
        answer = await self.session.call(
            "GetLog",
            {
                "logType": "DiagnosticsLog",
                "requestId": next(_REQUEST_IDS),
                "log": {"remoteLocation": location},
            },
        )
        expect_status(answer, "GetLog", ("Accepted", "AcceptedCanceled"))
        filename = answer.get("filename")
        return None if filename is None else str(filename)

    # ----------------------------------------- version-only (see :meth:`supports`)
    async def get_configuration(
        self, keys: list[str] | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """(values, unknown keys): all variables (a full report) or the named ones.

        Keys are ``Component[instance]/evse:connector.Variable[instance]``
        (see :mod:`.variables`); values of secret variables are not returned.
        """
        if keys:
            values, unknown = await self.read_variables(keys)
        else:
            values, unknown = await self.full_report(), []
        shown = {key: REDACTED if is_secret_key(key) else value for key, value in values.items()}
        return shown, unknown

    async def change_configuration(self, key: str, value: str) -> str:
        """SetVariables of the variable ``key`` names: Accepted or RebootRequired.

        Rejected raises REJECTED; an unknown component or variable (or a key that
        names none) raises NOT_SUPPORTED, as an unknown 1.6 key does.
        """
        name = VariableName.parse(key)
        if name is None:
            raise CallFailed(
                "SetVariables", FailureReason.NOT_SUPPORTED, f"{key}: not Component.Variable"
            )
        return await self._set_variable(name, value)


def _too_many_items(err: CallFailed) -> bool:
    """Whether a call failed for carrying more items than the charger takes."""
    return err.reason is FailureReason.CALL_ERROR and "OccurrenceConstraintViolation" in err.detail
