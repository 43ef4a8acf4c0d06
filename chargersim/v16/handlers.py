"""The OCPP 1.6 calls a simulated charger answers (CSMS -> charger).

`V16Handlers` reads each call's 1.6 fields and answers from the charger's
state through the version-neutral decisions of `StationHandlers`, unless
`ChargerBehaviour.responses` forces an answer (see `chargersim.answers`);
work that follows an answer (a StartTransaction after
RemoteStartTransaction.conf, the reboot after Reset.conf) runs once the
answer has been sent. `V16Session` is the RPC session speaking 1.6.
"""

from __future__ import annotations

from typing import Any, cast

from ocpp.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    FormationViolationError,
)
from ocpp.v16 import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppV16ChargePoint,
    call_result,
)

from ..behaviour import config_key, is_int
from ..handling import StationHandlers, on
from ..rpc import JSONDict, RpcSession
from .answers import screen
from .messages import iso_time
from .procedures import V16Procedures

__all__ = ["V16Handlers", "V16Session"]


class V16Session(RpcSession, _OcppV16ChargePoint):  # type: ignore[misc]  # untyped library
    """The RPC session of an OCPP 1.6 connection (the library's 1.6 schemas)."""

    format_violation = FormationViolationError


class V16Handlers(StationHandlers):
    """Answers the CSMS-initiated calls of OCPP 1.6 for one charger."""

    SCREEN = screen
    RESULTS = call_result
    charger: V16Procedures

    # -- CSMS-initiated calls --------------------------------------------------

    @on("Reset")
    def on_reset(self, **_: Any) -> Any:
        return call_result.Reset(
            status=self._reset("Accepted", str(self.payload.get("type", "Soft")))
        )

    @on("TriggerMessage")
    def on_trigger_message(self, **_: Any) -> Any:
        sim = self.charger
        requested = str(self.payload["requestedMessage"])
        connector_id = self.payload.get("connectorId")
        valid = connector_id is None or 0 <= connector_id <= sim.number_of_connectors
        status = self._forced("TriggerMessage", "Accepted" if valid else "Rejected")
        if status == "Accepted":
            self._after(lambda: sim.send_triggered(requested, connector_id))
        return call_result.TriggerMessage(status=status)

    @on("GetConfiguration")
    def on_get_configuration(self, **_: Any) -> Any:
        config = self.charger.behaviour.configuration
        wanted = self.payload.get("key") or list(config)
        known: list[JSONDict] = []
        unknown: list[str] = []
        for key in wanted:
            canonical = config_key(config, key)
            if canonical is None:
                unknown.append(key)
            else:
                value, readonly = config[canonical]
                known.append({"key": canonical, "readonly": readonly, "value": value})
        return call_result.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on("ChangeConfiguration")
    def on_change_configuration(self, **_: Any) -> Any:
        key, value = str(self.payload["key"]), str(self.payload["value"])
        return call_result.ChangeConfiguration(
            status=self._change_setting("ChangeConfiguration", key, value)
        )

    @on("RemoteStartTransaction")
    def on_remote_start_transaction(self, **_: Any) -> Any:
        sim = self.charger
        status, cid = self._start_target("RemoteStartTransaction", self.payload.get("connectorId"))
        if cid is not None:
            id_tag = str(self.payload["idTag"])
            profile = self.payload.get("chargingProfile")
            self._after(lambda: sim.remote_start(cid, id_tag, profile))
        return call_result.RemoteStartTransaction(status=status)

    @on("RemoteStopTransaction")
    def on_remote_stop_transaction(self, **_: Any) -> Any:
        transaction_id = int(self.payload["transactionId"])
        return call_result.RemoteStopTransaction(
            status=self._remote_stop("RemoteStopTransaction", transaction_id)
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **_: Any) -> Any:
        sim = self.charger
        max_stack = sim.configuration_value("ChargeProfileMaxStackLevel")
        status = self._set_profile(
            int(self.payload["connectorId"]),
            cast(JSONDict, self.payload["csChargingProfiles"]),
            max_stack_level=int(max_stack) if max_stack and is_int(max_stack) else None,
            allowed_units=sim.configuration_value("ChargingScheduleAllowedChargingRateUnit"),
        )
        return call_result.SetChargingProfile(status=status)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **_: Any) -> Any:
        return call_result.ClearChargingProfile(status=self._clear_profiles(self.payload))

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **_: Any) -> Any:
        connector_id = int(self.payload["connectorId"])
        status, unit, period = self._composite(connector_id, self.payload.get("chargingRateUnit"))
        if period is None:
            return call_result.GetCompositeSchedule(status=status)
        return call_result.GetCompositeSchedule(
            status=status,
            connector_id=connector_id,
            schedule_start=iso_time(),
            charging_schedule={
                "duration": int(self.payload["duration"]),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [period],
            },
        )

    @on("ChangeAvailability")
    def on_change_availability(self, **_: Any) -> Any:
        operative = self.payload["type"] == "Operative"
        return call_result.ChangeAvailability(
            status=self._availability(int(self.payload["connectorId"]), operative)
        )

    @on("UnlockConnector")
    def on_unlock_connector(self, **_: Any) -> Any:
        sim = self.charger
        connector = sim.connectors.get(int(self.payload["connectorId"]))
        if connector is None:
            default = "UnlockFailed"
        else:
            # A tethered cable (Pulsar Plus, Commander 2) has no lock to release.
            default = "NotSupported" if sim.tethered else "Unlocked"
        status = self._forced("UnlockConnector", default)
        if status == "Unlocked" and connector and connector.transaction_id is not None:
            cid = connector.connector_id
            self._after(lambda: sim.local_stop(cid, "UnlockCommand"))
        return call_result.UnlockConnector(status=status)

    @on("SendLocalList")
    def on_send_local_list(self, **_: Any) -> Any:
        entries = self.payload.get("localAuthorizationList") or []
        status = self._local_list(
            self.payload["updateType"] == "Full",
            [(str(e["idTag"]), e.get("idTagInfo")) for e in entries],
            int(self.payload["listVersion"]),
        )
        return call_result.SendLocalList(status=status)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        sim = self.charger
        enabled = sim.configuration_value("LocalAuthListEnabled", "true") != "false"
        status = self._forced("GetLocalListVersion", "Accepted" if enabled else "NotSupported")
        version = sim.local_list_version if status == "Accepted" else -1
        return call_result.GetLocalListVersion(list_version=version)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=self._forced("ClearCache", "Accepted"))

    @on("UpdateFirmware")
    def on_update_firmware(self, **_: Any) -> Any:
        # 1.6 answers no status: a refused update is a download that fails.
        self._update_firmware("UpdateFirmware", ["Downloading", "DownloadFailed"])
        return call_result.UpdateFirmware()

    @on("GetDiagnostics")
    def on_get_diagnostics(self, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=self._upload_diagnostics("GetDiagnostics"))
