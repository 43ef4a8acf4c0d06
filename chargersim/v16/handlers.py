"""The OCPP 1.6 calls a simulated charger answers (CSMS -> charger).

`V16Handlers` answers each call from the charger's state, unless
`ChargerBehaviour.responses` forces an answer (see `chargersim.v16.answers`);
work that follows an answer (a StartTransaction after
RemoteStartTransaction.conf, the reboot after Reset.conf) is queued and runs
once the answer has been sent. `V16Session` is the RPC session speaking 1.6.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from ocpp.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    FormationViolationError,
)
from ocpp.routing import on as _ocpp_on  # type: ignore[import-untyped, unused-ignore]
from ocpp.v16 import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppV16ChargePoint,
    call_result,
)

from ..behaviour import config_key, is_int, valid_config_value
from ..rpc import CallHandlers, JSONDict, Refusal, RpcSession
from ..smart_charging import check_profile, composite_period, matching_profiles
from .answers import forced_status, screen
from .messages import iso_time
from .procedures import V16Procedures

__all__ = ["V16Handlers", "V16Session"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _on(action: str) -> Callable[[_F], _F]:
    """Typed wrapper around the untyped ``ocpp.routing.on`` decorator."""
    return cast(Callable[[_F], _F], _ocpp_on(action))


class V16Session(RpcSession, _OcppV16ChargePoint):  # type: ignore[misc]  # untyped library
    """The RPC session of an OCPP 1.6 connection (the library's 1.6 schemas)."""

    format_violation = FormationViolationError


class V16Handlers(CallHandlers):
    """Answers the CSMS-initiated calls of OCPP 1.6 for one charger."""

    def __init__(self, charger: V16Procedures) -> None:
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
        """Run ``coro_fn()`` in a task once the answer has been sent."""
        charger = self.charger
        self.after(lambda: charger.spawn(coro_fn()))

    # -- CSMS-initiated calls --------------------------------------------------

    @_on("Reset")
    def on_reset(self, **_: Any) -> Any:
        status = self._forced("Reset", "Accepted")
        if status == "Accepted":
            reset_type = str(self.payload.get("type", "Soft"))
            charger = self.charger
            self.after(lambda: charger.start_reboot(reset_type))
        return call_result.Reset(status=status)

    @_on("TriggerMessage")
    def on_trigger_message(self, **_: Any) -> Any:
        sim = self.charger
        requested = str(self.payload["requestedMessage"])
        connector_id = self.payload.get("connectorId")
        valid = connector_id is None or 0 <= connector_id <= sim.number_of_connectors
        status = self._forced("TriggerMessage", "Accepted" if valid else "Rejected")
        if status == "Accepted":
            self._after(lambda: sim.send_triggered(requested, connector_id))
        return call_result.TriggerMessage(status=status)

    @_on("GetConfiguration")
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

    @_on("ChangeConfiguration")
    def on_change_configuration(self, **_: Any) -> Any:
        sim = self.charger
        key, value = str(self.payload["key"]), str(self.payload["value"])
        config = sim.behaviour.configuration
        canonical = config_key(config, key)
        if canonical is None:
            default = "NotSupported"
        elif config[canonical][1] or not valid_config_value(config[canonical][0], value):
            default = "Rejected"
        elif canonical in sim.behaviour.reboot_required_keys:
            default = "RebootRequired"
        else:
            default = "Accepted"
        status = self._forced("ChangeConfiguration", default)
        if status in ("Accepted", "RebootRequired"):
            name = canonical or key
            readonly = config[name][1] if name in config else False
            config[name] = (value, readonly)
        return call_result.ChangeConfiguration(status=status)

    @_on("RemoteStartTransaction")
    def on_remote_start_transaction(self, **_: Any) -> Any:
        sim = self.charger
        id_tag = str(self.payload["idTag"])
        connector_id = self.payload.get("connectorId")
        if connector_id is None:
            connector_id = next((c.connector_id for c in sim.connectors.values() if c.free), 1)
        connector = sim.connectors.get(connector_id)
        feasible = connector is not None and connector.free
        status = self._forced("RemoteStartTransaction", "Accepted" if feasible else "Rejected")
        if status == "Accepted" and feasible:
            profile = self.payload.get("chargingProfile")
            cid = int(connector_id)
            self._after(lambda: sim.remote_start(cid, id_tag, profile))
        return call_result.RemoteStartTransaction(status=status)

    @_on("RemoteStopTransaction")
    def on_remote_stop_transaction(self, **_: Any) -> Any:
        sim = self.charger
        transaction_id = int(self.payload["transactionId"])
        connector = sim.connector_for_transaction(transaction_id)
        status = self._forced("RemoteStopTransaction", "Accepted" if connector else "Rejected")
        if status == "Accepted" and connector is not None:
            cid = connector.connector_id
            self._after(lambda: sim.local_stop(cid, "Remote"))
        return call_result.RemoteStopTransaction(status=status)

    @_on("SetChargingProfile")
    def on_set_charging_profile(self, **_: Any) -> Any:
        sim = self.charger
        connector_id = int(self.payload["connectorId"])
        profile = cast(JSONDict, self.payload["csChargingProfiles"])
        connector = sim.connectors.get(connector_id)
        max_stack = sim.configuration_value("ChargeProfileMaxStackLevel")
        default = check_profile(
            connector_id,
            profile,
            transaction_id=connector.transaction_id if connector else None,
            connector_exists=connector is not None,
            max_stack_level=int(max_stack) if max_stack and is_int(max_stack) else None,
            allowed_units=sim.configuration_value("ChargingScheduleAllowedChargingRateUnit"),
        )
        status = self._forced("SetChargingProfile", default)
        if status == "Accepted" and not sim.behaviour.ignore_charging_limits:
            sim.install_profile(connector_id, profile)
        return call_result.SetChargingProfile(status=status)

    @_on("ClearChargingProfile")
    def on_clear_charging_profile(self, **_: Any) -> Any:
        sim = self.charger
        matching = matching_profiles(sim.charging_profiles, self.payload)
        status = self._forced("ClearChargingProfile", "Accepted" if matching else "Unknown")
        if status == "Accepted":
            sim.charging_profiles = [
                p for p in sim.charging_profiles if not any(p is m for m in matching)
            ]
        return call_result.ClearChargingProfile(status=status)

    @_on("GetCompositeSchedule")
    def on_get_composite_schedule(self, **_: Any) -> Any:
        sim = self.charger
        connector_id = int(self.payload["connectorId"])
        duration = int(self.payload["duration"])
        valid = 0 <= connector_id <= sim.number_of_connectors
        status = self._forced("GetCompositeSchedule", "Accepted" if valid else "Rejected")
        if status != "Accepted" or not valid:
            return call_result.GetCompositeSchedule(status=status)
        unit = "W" if self.payload.get("chargingRateUnit") == "W" else "A"
        period = composite_period(
            sim.current_limit(connector_id), sim.periods_in_force(connector_id), unit, sim.supply
        )
        return call_result.GetCompositeSchedule(
            status=status,
            connector_id=connector_id,
            schedule_start=iso_time(),
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [period],
            },
        )

    @_on("ChangeAvailability")
    def on_change_availability(self, **_: Any) -> Any:
        sim = self.charger
        connector_id = int(self.payload["connectorId"])
        operative = self.payload["type"] == "Operative"
        if connector_id == 0:
            targets = list(sim.connectors.values())
        elif connector_id in sim.connectors:
            targets = [sim.connectors[connector_id]]
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

    @_on("DataTransfer")
    def on_data_transfer(self, **_: Any) -> Any:
        return call_result.DataTransfer(status=self._forced("DataTransfer", "Accepted"))

    @_on("SendLocalList")
    def on_send_local_list(self, **_: Any) -> Any:
        sim = self.charger
        status = self._forced("SendLocalList", "Accepted")
        if status == "Accepted":
            entries = self.payload.get("localAuthorizationList") or []
            if self.payload["updateType"] == "Full":
                sim.local_list = {}
            for entry in entries:
                tag = str(entry["idTag"])
                if "idTagInfo" in entry:
                    sim.local_list[tag] = entry["idTagInfo"]
                else:
                    sim.local_list.pop(tag, None)
            sim.local_list_version = int(self.payload["listVersion"])
        return call_result.SendLocalList(status=status)

    @_on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        sim = self.charger
        enabled = sim.configuration_value("LocalAuthListEnabled", "true") != "false"
        status = self._forced("GetLocalListVersion", "Accepted" if enabled else "NotSupported")
        version = sim.local_list_version if status == "Accepted" else -1
        return call_result.GetLocalListVersion(list_version=version)

    @_on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=self._forced("ClearCache", "Accepted"))

    @_on("UpdateFirmware")
    def on_update_firmware(self, **_: Any) -> Any:
        sim = self.charger
        if self._forced("UpdateFirmware", "Accepted") == "Accepted":
            steps = ["Downloading", "Downloaded", "Installing", "Installed"]
        else:
            steps = ["Downloading", "DownloadFailed"]
        self._after(lambda: sim.report_progress("firmware", steps))
        return call_result.UpdateFirmware()

    @_on("GetDiagnostics")
    def on_get_diagnostics(self, **_: Any) -> Any:
        sim = self.charger
        if self._forced("GetDiagnostics", "Accepted") != "Accepted":
            return call_result.GetDiagnostics()
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._after(lambda: sim.report_progress("diagnostics", ["Uploading", "Uploaded"]))
        return call_result.GetDiagnostics(file_name=f"{sim.serial}-diagnostics-{stamp}.log")
