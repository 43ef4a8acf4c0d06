"""How a simulated station answers the CSMS, whatever OCPP version it speaks.

`StationHandlers` holds what the answers of every version have in common:
forced answers (`ChargerBehaviour.responses`, screened before a handler runs),
work that follows an answer (run once it has been sent), and the decisions
behind the calls both versions have: a setting changed, a remote start or stop,
a charging profile installed or cleared, the composite schedule, availability,
the local list, a firmware update and a diagnostics upload. A version's handlers
(`chargersim.v16.handlers`) read their payload's fields, call these, and wrap the
status in their answer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ocpp.routing import on as _ocpp_on  # type: ignore[import-untyped, unused-ignore]

from .answers import forced_status
from .behaviour import config_key, valid_config_value
from .rpc import CallHandlers, JSONDict, Refusal
from .smart_charging import check_profile, composite_period, matching_profiles

if TYPE_CHECKING:
    from .connectors import ConnectorState
    from .station import ChargingStation

__all__ = ["StationHandlers", "on"]

_F = TypeVar("_F", bound=Callable[..., Any])


def on(action: str) -> Callable[[_F], _F]:
    """Typed wrapper around the untyped ``ocpp.routing.on`` decorator."""
    return cast(Callable[[_F], _F], _ocpp_on(action))


class StationHandlers(CallHandlers):
    """The version-neutral half of answering the CSMS-initiated calls of one station."""

    #: The version's screening of forced answers (``answers.screen`` with its statuses).
    SCREEN: Callable[..., Refusal | None]
    #: The version's answer payloads (the ``ocpp`` library's ``call_result`` module).
    RESULTS: Any

    def __init__(self, charger: ChargingStation) -> None:
        super().__init__()
        self.charger = charger

    def screen(self, action: str, payload: JSONDict, *, handled: bool) -> Refusal | None:
        self.charger.calls.record(action, payload)
        return type(self).SCREEN(
            self.charger.behaviour.responses, self.charger.identity, action, handled=handled
        )

    def _forced(self, action: str, default: str) -> str:
        return forced_status(self.charger.behaviour.responses, action, default)

    def _after(self, coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``coro_fn()`` in a task once the answer has been sent."""
        charger = self.charger
        self.after(lambda: charger.spawn(coro_fn()))

    # -- calls both versions answer alike ---------------------------------------

    @on("DataTransfer")
    def on_data_transfer(self, **_: Any) -> Any:
        return self.RESULTS.DataTransfer(status=self._forced("DataTransfer", "Accepted"))

    # -- decisions both versions make --------------------------------------------

    def _reset(self, default: str, reset_type: str) -> str:
        """Reboot after the answer, if it accepts."""
        status = self._forced("Reset", default)
        if status == "Accepted":
            charger = self.charger
            self.after(lambda: charger.start_reboot(reset_type))
        return status

    def _change_setting(self, action: str, name: str, value: str) -> str:
        """Set a configuration key or variable; the status (``NotSupported`` if unknown)."""
        behaviour = self.charger.behaviour
        config = behaviour.configuration
        canonical = config_key(config, name)
        if canonical is None:
            default = "NotSupported"
        elif config[canonical][1] or not valid_config_value(config[canonical][0], value):
            default = "Rejected"
        elif canonical in behaviour.reboot_required_keys:
            default = "RebootRequired"
        else:
            default = "Accepted"
        status = self._forced(action, default)
        if status in ("Accepted", "RebootRequired"):
            key = canonical or name
            config[key] = (value, config[key][1] if key in config else False)
        return status

    def _start_target(self, action: str, connector_id: int | None) -> tuple[str, int | None]:
        """The status of a remote start and the connector it starts on (None: refused)."""
        charger = self.charger
        if connector_id is None:
            connector_id = next((c.connector_id for c in charger.connectors.values() if c.free), 1)
        connector = charger.connectors.get(connector_id)
        feasible = connector is not None and connector.free
        status = self._forced(action, "Accepted" if feasible else "Rejected")
        return status, connector_id if status == "Accepted" and feasible else None

    def _remote_stop(self, action: str, transaction_id: int | str) -> str:
        """Stop the transaction after the answer (reason Remote), if it runs here."""
        charger = self.charger
        connector = charger.connector_for_transaction(transaction_id)
        status = self._forced(action, "Accepted" if connector else "Rejected")
        if status == "Accepted" and connector is not None:
            cid = connector.connector_id
            self._after(lambda: charger.local_stop(cid, "Remote"))
        return status

    def _set_profile(
        self,
        connector_id: int,
        profile: JSONDict,
        *,
        max_stack_level: int | None = None,
        allowed_units: str | None = None,
    ) -> str:
        """Check and install a charging profile (1.6's shape); the status."""
        charger = self.charger
        connector = charger.connectors.get(connector_id)
        default = check_profile(
            connector_id,
            profile,
            transaction_id=connector.transaction_id if connector else None,
            connector_exists=connector is not None,
            max_stack_level=max_stack_level,
            allowed_units=allowed_units,
        )
        status = self._forced("SetChargingProfile", default)
        if status == "Accepted" and not charger.behaviour.ignore_charging_limits:
            charger.install_profile(connector_id, profile)
        return status

    def _clear_profiles(self, criteria: JSONDict) -> str:
        """Remove the profiles matching ``criteria`` (1.6's names); Unknown if none."""
        charger = self.charger
        matching = matching_profiles(charger.charging_profiles, criteria)
        status = self._forced("ClearChargingProfile", "Accepted" if matching else "Unknown")
        if status == "Accepted":
            charger.charging_profiles = [
                p for p in charger.charging_profiles if not any(p is m for m in matching)
            ]
        return status

    def _composite(self, connector_id: int, unit: str | None) -> tuple[str, str, JSONDict | None]:
        """(status, unit, the period in force) of GetCompositeSchedule (0: the station)."""
        charger = self.charger
        valid = connector_id == 0 or connector_id in charger.connectors
        status = self._forced("GetCompositeSchedule", "Accepted" if valid else "Rejected")
        unit = "W" if unit == "W" else "A"
        if status != "Accepted" or not valid:
            return status, unit, None
        period = composite_period(
            charger.current_limit(connector_id),
            charger.periods_in_force(connector_id),
            unit,
            charger.supply,
        )
        return status, unit, period

    def _availability(self, connector_id: int | None, operative: bool) -> str:
        """Change the availability of a connector (None or 0: all); announce what changed."""
        charger = self.charger
        targets: list[ConnectorState]
        if not connector_id:
            targets = list(charger.connectors.values())
        elif connector_id in charger.connectors:
            targets = [charger.connectors[connector_id]]
        else:
            return self._forced("ChangeAvailability", "Rejected")
        busy = [c for c in targets if c.transaction_id is not None]
        status = self._forced(
            "ChangeAvailability", "Scheduled" if busy and not operative else "Accepted"
        )
        if status == "Rejected":
            return status
        changed = [c.connector_id for c in targets if c.set_availability(operative)]
        if changed:
            self._after(lambda: charger.announce(changed))
        return status

    def _update_firmware(self, action: str, refused_steps: list[str]) -> str:
        """The status of a firmware update; its statuses follow the answer.

        Accepted: Downloading, Downloaded, Installing, Installed; else ``refused_steps``
        (a version whose answer cannot refuse says so by a failed download).
        """
        status = self._forced(action, "Accepted")
        if status == "Accepted":
            steps = ["Downloading", "Downloaded", "Installing", "Installed"]
        else:
            steps = refused_steps
        if steps:
            charger = self.charger
            self._after(lambda: charger.report_progress("firmware", steps))
        return status

    def _upload_diagnostics(self, action: str) -> str | None:
        """The file a diagnostics upload goes to (None: refused); Uploading, Uploaded follow."""
        charger = self.charger
        if self._forced(action, "Accepted") != "Accepted":
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._after(lambda: charger.report_progress("diagnostics", ["Uploading", "Uploaded"]))
        return f"{charger.serial}-diagnostics-{stamp}.log"

    def _local_list(
        self, full: bool, entries: Iterable[tuple[str, JSONDict | None]], version: int
    ) -> str:
        """Take in a SendLocalList: (card, its info or None to remove it) per entry."""
        charger = self.charger
        status = self._forced("SendLocalList", "Accepted")
        if status == "Accepted":
            if full:
                charger.local_list = {}
            for tag, info in entries:
                if info is not None:
                    charger.local_list[tag] = info
                else:
                    charger.local_list.pop(tag, None)
            charger.local_list_version = version
        return status
