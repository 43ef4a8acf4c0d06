"""The OCPP 2.0.1 calls a simulated station answers (CSMS -> station).

`V201Handlers` reads each call's 2.0.1 fields and answers from the station's
state through the version-neutral decisions of `StationHandlers`, unless
`ChargerBehaviour.responses` forces a status (see `chargersim.answers`); work
that follows an answer (the transaction after RequestStartTransaction, the
reboot after Reset) runs once the answer has been sent. `V201Session` is the
RPC session speaking 2.0.1: the library checks every message against the
2.0.1 schemas, both ways.
"""

from __future__ import annotations

from typing import Any, Final, cast

from ocpp.v201 import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppV201ChargePoint,
    call_result,
)

from ..behaviour import config_key
from ..handling import StationHandlers, on
from ..rpc import JSONDict, Refusal, RpcSession
from ..v16.messages import iso_time
from .answers import screen
from .device_model import key_of
from .procedures import V201Procedures

__all__ = ["V201Handlers", "V201Session"]


#: The calls whose items ItemsPerMessage bounds, and the field holding them.
_ITEMS: Final = {"GetVariables": "getVariableData", "SetVariables": "setVariableData"}


class V201Session(RpcSession, _OcppV201ChargePoint):  # type: ignore[misc]  # untyped library
    """The RPC session of an OCPP 2.0.1 connection (the library's 2.0.1 schemas)."""


def as_installed(profile: JSONDict) -> JSONDict:
    """A 2.0.1 chargingProfile in the shape the station's smart charging keeps (1.6's)."""
    schedules = profile["chargingSchedule"]
    installed = {
        key: value for key, value in profile.items() if key not in ("id", "chargingSchedule")
    }
    installed["chargingProfileId"] = profile["id"]
    installed["chargingSchedule"] = schedules[0]
    return installed


class V201Handlers(StationHandlers):
    """Answers the CSMS-initiated calls of OCPP 2.0.1 for one station."""

    SCREEN = screen
    RESULTS = call_result
    charger: V201Procedures

    # -- CSMS-initiated calls --------------------------------------------------

    @on("Reset")
    def on_reset(self, **_: Any) -> Any:
        busy = any(c.transaction_id is not None for c in self.charger.connectors.values())
        on_idle = self.payload["type"] == "OnIdle"
        default = "Scheduled" if busy and on_idle else "Accepted"
        return call_result.Reset(status=self._reset(default, "Soft" if on_idle else "Hard"))

    @on("TriggerMessage")
    def on_trigger_message(self, **_: Any) -> Any:
        sim = self.charger
        requested = str(self.payload["requestedMessage"])
        evse = self.payload.get("evse")
        evse_id = int(evse["id"]) if evse else None
        valid = evse_id is None or evse_id in sim.connectors
        status = self._forced("TriggerMessage", "Accepted" if valid else "Rejected")
        if status == "Accepted":
            self._after(lambda: sim.send_triggered(requested, evse_id))
        return call_result.TriggerMessage(status=status)

    def screen(self, action: str, payload: JSONDict, *, handled: bool) -> Refusal | None:
        """Also refuse a request longer than ``DeviceDataCtrlr.ItemsPerMessage[action]``.

        As OCPP 2.0.1 has a station answer: a CALLERROR OccurrenceConstraintViolation.
        """
        refusal = super().screen(action, payload, handled=handled)
        items = payload.get(_ITEMS.get(action, ""))
        if refusal is not None or not isinstance(items, list):
            return refusal
        behaviour = self.charger.behaviour
        config = behaviour.configuration
        canonical = config_key(config, f"DeviceDataCtrlr.ItemsPerMessage[{action}]")
        limit = config[canonical][0] if canonical is not None else ""
        if behaviour.unreported_items_per_message is not None:
            limit = str(behaviour.unreported_items_per_message)
        if limit.isdigit() and len(items) > int(limit):
            return Refusal(
                "OccurrenceConstraintViolation", f"{len(items)} items, ItemsPerMessage is {limit}"
            )
        return None

    @on("GetVariables")
    def on_get_variables(self, **_: Any) -> Any:
        config = self.charger.behaviour.configuration
        results: list[JSONDict] = []
        for item in self.payload["getVariableData"]:
            canonical = config_key(config, key_of(item["component"], item["variable"]))
            result: JSONDict = {
                "component": item["component"],
                "variable": item["variable"],
                "attributeStatus": "Accepted" if canonical else "UnknownVariable",
            }
            if canonical is not None:
                result["attributeValue"] = config[canonical][0]
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, **_: Any) -> Any:
        results: list[JSONDict] = []
        for item in self.payload["setVariableData"]:
            name = key_of(item["component"], item["variable"])
            status = self._change_setting("SetVariables", name, str(item["attributeValue"]))
            results.append(
                {
                    "component": item["component"],
                    "variable": item["variable"],
                    "attributeStatus": "UnknownVariable" if status == "NotSupported" else status,
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @on("GetBaseReport")
    def on_get_base_report(self, **_: Any) -> Any:
        sim = self.charger
        request_id = int(self.payload["requestId"])
        status = self._forced("GetBaseReport", "Accepted")
        if status == "Accepted":
            self._after(lambda: sim.send_report(request_id))
        return call_result.GetBaseReport(status=status)

    @on("RequestStartTransaction")
    def on_request_start_transaction(self, **_: Any) -> Any:
        sim = self.charger
        status, evse_id = self._start_target("RequestStartTransaction", self.payload.get("evseId"))
        if evse_id is not None:
            token = cast(JSONDict, self.payload["idToken"])
            remote_start_id = int(self.payload["remoteStartId"])
            profile = self.payload.get("chargingProfile")
            installed = as_installed(profile) if profile else None
            self._after(lambda: sim.remote_start(evse_id, token, remote_start_id, installed))
        return call_result.RequestStartTransaction(status=status)

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, **_: Any) -> Any:
        transaction_id = str(self.payload["transactionId"])
        return call_result.RequestStopTransaction(
            status=self._remote_stop("RequestStopTransaction", transaction_id)
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(self, **_: Any) -> Any:
        profile = as_installed(cast(JSONDict, self.payload["chargingProfile"]))
        status = self._set_profile(int(self.payload["evseId"]), profile)
        return call_result.SetChargingProfile(status=status)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **_: Any) -> Any:
        criteria: JSONDict = {}
        if "chargingProfileId" in self.payload:
            criteria["id"] = self.payload["chargingProfileId"]
        more = self.payload.get("chargingProfileCriteria") or {}
        if "evseId" in more:
            criteria["connectorId"] = more["evseId"]
        for key in ("chargingProfilePurpose", "stackLevel"):
            if key in more:
                criteria[key] = more[key]
        return call_result.ClearChargingProfile(status=self._clear_profiles(criteria))

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **_: Any) -> Any:
        evse_id = int(self.payload["evseId"])
        status, unit, period = self._composite(evse_id, self.payload.get("chargingRateUnit"))
        if period is None:
            return call_result.GetCompositeSchedule(status=status)
        return call_result.GetCompositeSchedule(
            status=status,
            schedule={
                "evseId": evse_id,
                "duration": int(self.payload["duration"]),
                "scheduleStart": iso_time(),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [period],
            },
        )

    @on("ChangeAvailability")
    def on_change_availability(self, **_: Any) -> Any:
        evse = self.payload.get("evse")
        operative = self.payload["operationalStatus"] == "Operative"
        return call_result.ChangeAvailability(
            status=self._availability(int(evse["id"]) if evse else None, operative)
        )

    @on("UnlockConnector")
    def on_unlock_connector(self, **_: Any) -> Any:
        sim = self.charger
        connector = sim.connectors.get(int(self.payload["evseId"]))
        if connector is None or int(self.payload["connectorId"]) != 1:
            default = "UnknownConnector"
        elif connector.transaction_id is not None:
            default = "OngoingAuthorizedTransaction"
        else:
            # A tethered cable has no lock to release.
            default = "UnlockFailed" if sim.tethered else "Unlocked"
        return call_result.UnlockConnector(status=self._forced("UnlockConnector", default))

    @on("SendLocalList")
    def on_send_local_list(self, **_: Any) -> Any:
        entries = self.payload.get("localAuthorizationList") or []
        status = self._local_list(
            self.payload["updateType"] == "Full",
            [(str(e["idToken"]["idToken"]), e.get("idTokenInfo")) for e in entries],
            int(self.payload["versionNumber"]),
        )
        return call_result.SendLocalList(status=status)

    @on("UpdateFirmware")
    def on_update_firmware(self, **_: Any) -> Any:
        self.charger.firmware_request_id = int(self.payload["requestId"])
        # A refused update (answered so) sends no status.
        return call_result.UpdateFirmware(status=self._update_firmware("UpdateFirmware", []))

    @on("GetLog")
    def on_get_log(self, **_: Any) -> Any:
        self.charger.diagnostics_request_id = int(self.payload["requestId"])
        filename = self._upload_diagnostics("GetLog")
        status = self._forced("GetLog", "Accepted") if filename is None else "Accepted"
        return call_result.GetLog(status=status, filename=filename)
