"""OCPP 1.6J: the calls the central system makes to a charger: the neutral port's commands.

Each method of :class:`~..port.ChargerPort` becomes the 1.6 call that does it;
what only 1.6 can do (raw configuration keys) is offered as a capability.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ...model.secrets import REDACTED, is_secret_key
from ...model.settings import reported_key
from ..commands import Commands, LimitWords, expect_status
from ..errors import CallFailed, FailureReason
from ..port import Capability, CommandStatus, Setting
from .mapping import (
    charging_profile,
    local_list,
    reported_settings,
    setting_key,
    transaction_number,
)


class V16Commands(Commands):
    """Our 1.6 calls to the charger of one session (one at a time, through the session).

    1.6 has every capability: raw configuration keys, DataTransfer, firmware and diagnostics.
    """

    CAPABILITIES = frozenset(Capability)
    LIMIT = LimitWords("connectorId", "csChargingProfiles", "id", "chargingSchedule")
    limit_profile = staticmethod(charging_profile)

    async def trigger_message(self, message: str, connector_id: int | None = None) -> None:
        """Ask the charger to send ``message`` now (TriggerMessage)."""
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        answer = await self.session.call("TriggerMessage", payload)
        expect_status(answer, "TriggerMessage", ("Accepted",))

    async def read_configuration(self, keys: list[str] | None = None) -> dict[str, str]:
        """Read configuration keys (all when ``keys`` is None) into the model."""
        values, _ = await self.get_configuration(keys)
        return values

    async def get_configuration(
        self, keys: list[str] | None = None
    ) -> tuple[dict[str, str], list[str]]:
        """(values, unknown keys) from GetConfiguration; the model learns the values.

        Values of secret keys (passwords, keys) are neither kept nor returned.
        """
        payload: dict[str, Any] = {"key": keys} if keys else {}
        answer = await self.session.call("GetConfiguration", payload)
        values = {
            item["key"]: item.get("value", "")
            for item in answer.get("configurationKey") or []
            if "key" in item
        }
        if self.charger is not None:
            self.charger.apply_configuration(values, reported_settings, complete=not keys)
        shown = {key: REDACTED if is_secret_key(key) else value for key, value in values.items()}
        return shown, list(answer.get("unknownKey") or [])

    async def change_configuration(self, key: str, value: str) -> str:
        """Set one configuration key; returns Accepted or RebootRequired.

        Rejected raises REJECTED, NotSupported (unknown key) raises NOT_SUPPORTED.
        The model learns the new value when the charger accepted it.
        """
        answer = await self.session.call("ChangeConfiguration", {"key": key, "value": value})
        status = expect_status(
            answer, "ChangeConfiguration", ("Accepted", "RebootRequired"), detail=key
        )
        if self.charger is not None:
            self.charger.apply_configuration({key: value}, reported_settings)
        return status

    async def reset(self, hard: bool = False) -> None:
        """Reboot the charger (Reset Soft or Hard); raises unless Accepted."""
        answer = await self.session.call("Reset", {"type": "Hard" if hard else "Soft"})
        expect_status(answer, "Reset", ("Accepted",))

    async def remote_start(self, id_tag: str, connector_id: int | None = None) -> None:
        """Ask the charger to start a transaction (RemoteStartTransaction)."""
        payload: dict[str, Any] = {"idTag": id_tag}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        answer = await self.session.call("RemoteStartTransaction", payload)
        expect_status(answer, "RemoteStartTransaction", ("Accepted",))

    async def remote_stop(self, transaction_id: str) -> None:
        """Ask the charger to stop a transaction (RemoteStopTransaction)."""
        answer = await self.session.call(
            "RemoteStopTransaction",
            {"transactionId": transaction_number(transaction_id, "RemoteStopTransaction")},
        )
        expect_status(answer, "RemoteStopTransaction", ("Accepted",))

    async def set_available(self, connector_id: int, available: bool) -> CommandStatus:
        """ChangeAvailability (Operative or not): Accepted or Scheduled (after the session)."""
        answer = await self.session.call(
            "ChangeAvailability",
            {"connectorId": connector_id, "type": "Operative" if available else "Inoperative"},
        )
        return CommandStatus(expect_status(answer, "ChangeAvailability", ("Accepted", "Scheduled")))

    async def unlock(self, connector_id: int) -> None:
        """UnlockConnector; NotSupported (tethered cable) and UnlockFailed raise."""
        answer = await self.session.call("UnlockConnector", {"connectorId": connector_id})
        expect_status(answer, "UnlockConnector", ("Unlocked",))

    # -------------------------------------------------------------------- cards
    async def send_cards(self, version: int, id_tags: Sequence[str]) -> None:
        """SendLocalList (Full): the charger's local authorization list becomes ``id_tags``."""
        answer = await self.session.call(
            "SendLocalList",
            {
                "listVersion": version,
                "localAuthorizationList": local_list(id_tags),
                "updateType": "Full",
            },
        )
        expect_status(answer, "SendLocalList", ("Accepted",))

    # ----------------------------------------------------------------- settings
    def _key(self, setting: Setting) -> str:
        """The configuration key of ``setting``, spelled as the charger reports it."""
        assert self.charger is not None
        key = setting_key(setting, self.charger.profile)
        if key is None:
            raise CallFailed("ChangeConfiguration", FailureReason.NOT_SUPPORTED, setting.value)
        return reported_key(self.charger.configuration, key) or key

    async def read_settings(self, settings: Sequence[Setting]) -> dict[Setting, str]:
        """GetConfiguration of the settings' keys."""
        keys = {setting: self._key(setting) for setting in settings}
        values = await self.read_configuration(list(keys.values()))
        lowered = {key.lower(): value for key, value in values.items()}
        return {
            setting: lowered[key.lower()] for setting, key in keys.items() if key.lower() in lowered
        }

    async def write_setting(self, setting: Setting, value: str) -> CommandStatus:
        """ChangeConfiguration of the setting's key."""
        return CommandStatus(await self.change_configuration(self._key(setting), value))

    async def update_firmware(self, location: str, retrieve_date: datetime) -> None:
        """Ask the charger to download and install firmware from ``location``."""
        await self.session.call(
            "UpdateFirmware", {"location": location, "retrieveDate": retrieve_date.isoformat()}
        )

    async def get_diagnostics(self, location: str) -> str | None:
        """Ask the charger to upload a diagnostics file; returns its file name if any."""
        answer = await self.session.call("GetDiagnostics", {"location": location})
        file_name: str | None = answer.get("fileName")
        return file_name
