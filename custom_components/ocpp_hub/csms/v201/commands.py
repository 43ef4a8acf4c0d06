"""OCPP 2.0.1: the calls the central system makes to a charger: the neutral port's commands.

Each method of :class:`~..port.ChargerPort` becomes the 2.0.1 call that does it:
settings are device-model variables (GetVariables / SetVariables), limits are
charging profiles per evseId, cards are idTokens, firmware is UpdateFirmware
and diagnostics are GetLog (DiagnosticsLog). 2.0.1 has no raw 1.6
configuration keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
import itertools
import time
from typing import Any

from ..commands import Commands, LimitWords, expect_status
from ..errors import CallFailed, FailureReason
from ..port import Capability, CommandStatus, Setting
from .mapping import SETTING_VARIABLES, charging_profile, local_list, reported_settings

# remoteStartId: a number the charger repeats in the transaction it starts.
_REMOTE_START_IDS = itertools.count(int(time.time()) % 1_000_000_000)
# requestId of UpdateFirmware / GetLog: the charger repeats it in its status notifications.
_REQUEST_IDS = itertools.count(int(time.time()) % 1_000_000_000)


class V201Commands(Commands):
    """Our 2.0.1 calls to the charger of one session (one at a time, through the session).

    2.0.1 has DataTransfer and firmware / log uploads; no raw configuration keys.
    """

    CAPABILITIES = frozenset({Capability.DATA_TRANSFER, Capability.FIRMWARE})
    LIMIT = LimitWords("evseId", "chargingProfile", "chargingProfileId", "schedule")
    limit_profile = staticmethod(charging_profile)

    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now (TriggerMessage, per EVSE if given)."""
        payload: dict[str, Any] = {"requestedMessage": message}
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
    def _variable(setting: Setting) -> tuple[str, str]:
        names = SETTING_VARIABLES.get(setting)
        if names is None:
            raise CallFailed("SetVariables", FailureReason.NOT_SUPPORTED, setting.value)
        return names

    async def read_settings(self, settings: Sequence[Setting]) -> dict[Setting, str]:
        """GetVariables of the settings' variables; the model learns them (Component.Variable)."""
        wanted = {self._variable(s): s for s in settings if SETTING_VARIABLES.get(s) is not None}
        if not wanted:
            return {}
        answer = await self.session.call(
            "GetVariables",
            {
                "getVariableData": [
                    {"component": {"name": c}, "variable": {"name": v}} for c, v in wanted
                ]
            },
        )
        values: dict[str, str] = {}
        found: dict[Setting, str] = {}
        for result in answer["getVariableResult"]:
            names = (result["component"]["name"], result["variable"]["name"])
            setting = wanted.get(names)
            value = result.get("attributeValue")
            if setting is None or result["attributeStatus"] != "Accepted" or value is None:
                continue
            values[".".join(names)] = value
            found[setting] = value
        if self.charger is not None and values:
            self.charger.apply_configuration(values, reported_settings)
        return found

    async def write_setting(self, setting: Setting, value: str) -> CommandStatus:
        """SetVariables of the setting's variable: Accepted or RebootRequired; else raises."""
        component, variable = self._variable(setting)
        answer = await self.session.call(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": value,
                        "component": {"name": component},
                        "variable": {"name": variable},
                    }
                ]
            },
        )
        results = answer["setVariableResult"]
        status = str(results[0]["attributeStatus"]) if results else ""
        name = f"{component}.{variable}"
        if status not in ("Accepted", "RebootRequired"):
            reason = (
                FailureReason.NOT_SUPPORTED
                if status in ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType")
                else FailureReason.REJECTED
            )
            raise CallFailed("SetVariables", reason, f"{name}: {status}")
        if self.charger is not None:
            self.charger.apply_configuration({name: value}, reported_settings)
        return CommandStatus(status)

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
        """2.0.1 has no configuration keys (its device model is read by variable)."""
        raise CallFailed("GetConfiguration", FailureReason.NOT_SUPPORTED, "OCPP 2.0.1")

    async def change_configuration(self, key: str, value: str) -> str:
        """2.0.1 has no configuration keys (its device model is written by variable)."""
        raise CallFailed("ChangeConfiguration", FailureReason.NOT_SUPPORTED, "OCPP 2.0.1")
