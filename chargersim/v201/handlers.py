"""The OCPP 2.0.1 calls a simulated station answers (CSMS -> station).

`V201Handlers` answers each call from the station's state, unless
`ChargerBehaviour.responses` forces a status (see `chargersim.v16.answers`,
the same for both versions); work that follows an answer (the transaction
after RequestStartTransaction, the reboot after Reset) runs once the answer
has been sent. `V201Session` is the RPC session speaking 2.0.1: the library
checks every message against the 2.0.1 schemas, both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from ocpp.routing import on as _ocpp_on  # type: ignore[import-untyped, unused-ignore]
from ocpp.v201 import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppV201ChargePoint,
    call_result,
)

from ..behaviour import config_key, valid_config_value
from ..rpc import CallHandlers, JSONDict, Refusal, RpcSession
from ..smart_charging import check_profile, composite_period, matching_profiles
from ..v16.answers import forced_status
from ..v16.messages import iso_time
from .answers import screen
from .procedures import V201Procedures

__all__ = ["V201Handlers", "V201Session"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _on(action: str) -> Callable[[_F], _F]:
    """Typed wrapper around the untyped ``ocpp.routing.on`` decorator."""
    return cast(Callable[[_F], _F], _ocpp_on(action))


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


class V201Handlers(CallHandlers):
    """Answers the CSMS-initiated calls of OCPP 2.0.1 for one station."""

    def __init__(self, charger: V201Procedures) -> None:
        super().__init__()
        self.charger = charger

    def screen(self, action: str, payload: JSONDict, *, handled: bool) -> Refusal | None:
        self.charger.calls.record(action, payload)
        return screen(
            self.charger.behaviour.responses, self.charger.identity, action, handled=handled
        )

    def _forced(self, action: str, default: str) -> str:
        return forced_status(self.charger.behaviour.responses, action, default)

    def _after(self, coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        charger = self.charger
        self.after(lambda: charger.spawn(coro_fn()))

    # -- CSMS-initiated calls --------------------------------------------------

    @_on("Reset")
    def on_reset(self, **_: Any) -> Any:
        sim = self.charger
        busy = any(c.transaction_id is not None for c in sim.connectors.values())
        on_idle = self.payload["type"] == "OnIdle"
        status = self._forced("Reset", "Scheduled" if busy and on_idle else "Accepted")
        if status == "Accepted":
            reset_type = "Soft" if on_idle else "Hard"
            self.after(lambda: sim.start_reboot(reset_type))
        return call_result.Reset(status=status)

    @_on("TriggerMessage")
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

    @_on("GetVariables")
    def on_get_variables(self, **_: Any) -> Any:
        config = self.charger.behaviour.configuration
        results: list[JSONDict] = []
        for item in self.payload["getVariableData"]:
            name = f"{item['component']['name']}.{item['variable']['name']}"
            canonical = config_key(config, name)
            result: JSONDict = {
                "component": item["component"],
                "variable": item["variable"],
                "attributeStatus": "Accepted" if canonical else "UnknownVariable",
            }
            if canonical is not None:
                result["attributeValue"] = config[canonical][0]
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @_on("SetVariables")
    def on_set_variables(self, **_: Any) -> Any:
        sim = self.charger
        config = sim.behaviour.configuration
        results: list[JSONDict] = []
        for item in self.payload["setVariableData"]:
            name = f"{item['component']['name']}.{item['variable']['name']}"
            value = str(item["attributeValue"])
            canonical = config_key(config, name)
            if canonical is None:
                default = "UnknownVariable"
            elif config[canonical][1] or not valid_config_value(config[canonical][0], value):
                default = "Rejected"
            elif canonical in sim.behaviour.reboot_required_keys:
                default = "RebootRequired"
            else:
                default = "Accepted"
            status = self._forced("SetVariables", default)
            if status in ("Accepted", "RebootRequired") and canonical is not None:
                config[canonical] = (value, config[canonical][1])
            results.append(
                {
                    "component": item["component"],
                    "variable": item["variable"],
                    "attributeStatus": status,
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @_on("RequestStartTransaction")
    def on_request_start_transaction(self, **_: Any) -> Any:
        sim = self.charger
        evse_id = self.payload.get("evseId")
        if evse_id is None:
            evse_id = next((c.connector_id for c in sim.connectors.values() if c.free), 1)
        connector = sim.connectors.get(evse_id)
        feasible = connector is not None and connector.free
        status = self._forced("RequestStartTransaction", "Accepted" if feasible else "Rejected")
        if status == "Accepted" and feasible:
            token = cast(JSONDict, self.payload["idToken"])
            remote_start_id = int(self.payload["remoteStartId"])
            profile = self.payload.get("chargingProfile")
            installed = as_installed(profile) if profile else None
            eid = int(evse_id)
            self._after(lambda: sim.remote_start(eid, token, remote_start_id, installed))
        return call_result.RequestStartTransaction(status=status)

    @_on("RequestStopTransaction")
    def on_request_stop_transaction(self, **_: Any) -> Any:
        sim = self.charger
        connector = sim.connector_for_transaction(str(self.payload["transactionId"]))
        status = self._forced("RequestStopTransaction", "Accepted" if connector else "Rejected")
        if status == "Accepted" and connector is not None:
            cid = connector.connector_id
            self._after(lambda: sim.local_stop(cid, "Remote"))
        return call_result.RequestStopTransaction(status=status)

    @_on("SetChargingProfile")
    def on_set_charging_profile(self, **_: Any) -> Any:
        sim = self.charger
        evse_id = int(self.payload["evseId"])
        profile = as_installed(cast(JSONDict, self.payload["chargingProfile"]))
        connector = sim.connectors.get(evse_id)
        default = check_profile(
            evse_id,
            profile,
            transaction_id=connector.transaction_id if connector else None,
            connector_exists=connector is not None,
            max_stack_level=None,
            allowed_units=None,
        )
        status = self._forced("SetChargingProfile", default)
        if status == "Accepted" and not sim.behaviour.ignore_charging_limits:
            sim.install_profile(evse_id, profile)
        return call_result.SetChargingProfile(status=status)

    @_on("ClearChargingProfile")
    def on_clear_charging_profile(self, **_: Any) -> Any:
        sim = self.charger
        criteria: JSONDict = {}
        if "chargingProfileId" in self.payload:
            criteria["id"] = self.payload["chargingProfileId"]
        more = self.payload.get("chargingProfileCriteria") or {}
        if "evseId" in more:
            criteria["connectorId"] = more["evseId"]
        for key in ("chargingProfilePurpose", "stackLevel"):
            if key in more:
                criteria[key] = more[key]
        matching = matching_profiles(sim.charging_profiles, criteria)
        status = self._forced("ClearChargingProfile", "Accepted" if matching else "Unknown")
        if status == "Accepted":
            sim.charging_profiles = [
                p for p in sim.charging_profiles if not any(p is m for m in matching)
            ]
        return call_result.ClearChargingProfile(status=status)

    @_on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **_: Any) -> Any:
        sim = self.charger
        evse_id = int(self.payload["evseId"])
        valid = evse_id == 0 or evse_id in sim.connectors
        status = self._forced("GetCompositeSchedule", "Accepted" if valid else "Rejected")
        if status != "Accepted" or not valid:
            return call_result.GetCompositeSchedule(status=status)
        unit = "W" if self.payload.get("chargingRateUnit") == "W" else "A"
        period = composite_period(
            sim.current_limit(evse_id), sim.periods_in_force(evse_id), unit, sim.supply
        )
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

    @_on("ChangeAvailability")
    def on_change_availability(self, **_: Any) -> Any:
        sim = self.charger
        evse = self.payload.get("evse")
        operative = self.payload["operationalStatus"] == "Operative"
        if evse is None:
            targets = list(sim.connectors.values())
        elif int(evse["id"]) in sim.connectors:
            targets = [sim.connectors[int(evse["id"])]]
        else:
            return call_result.ChangeAvailability(
                status=self._forced("ChangeAvailability", "Rejected")
            )
        busy = [c for c in targets if c.transaction_id is not None]
        default = "Scheduled" if busy and not operative else "Accepted"
        status = self._forced("ChangeAvailability", default)
        if status == "Rejected":
            return call_result.ChangeAvailability(status=status)
        changed = [c.connector_id for c in targets if c.set_availability(operative)]
        if changed:
            self._after(lambda: sim.announce(changed))
        return call_result.ChangeAvailability(status=status)

    @_on("UnlockConnector")
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

    @_on("DataTransfer")
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=self._forced("DataTransfer", "Accepted"))

    @_on("SendLocalList")
    def on_send_local_list(self, **_: Any) -> Any:
        sim = self.charger
        status = self._forced("SendLocalList", "Accepted")
        if status == "Accepted":
            if self.payload["updateType"] == "Full":
                sim.local_list = {}
            for entry in self.payload.get("localAuthorizationList") or []:
                tag = str(entry["idToken"]["idToken"])
                if "idTokenInfo" in entry:
                    sim.local_list[tag] = entry["idTokenInfo"]
                else:
                    sim.local_list.pop(tag, None)
            sim.local_list_version = int(self.payload["versionNumber"])
        return call_result.SendLocalList(status=status)
