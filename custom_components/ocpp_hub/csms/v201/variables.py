"""OCPP 2.0.1 device-model variables by name, and the report that lists them all.

A 2.0.1 charger has no configuration keys: its settings are variables of
components. The application names one in a single string, the key of the raw
configuration actions and of the model's configuration::

    Component[instance]/evse:connector.Variable[instance]

where only ``Component.Variable`` is required (``AuthCtrlr.Enabled``,
``EVSE/1.AvailabilityState``, ``DeviceDataCtrlr.ItemsPerMessage[GetVariables]``).
The value is the variable's Actual attribute. Names are case-insensitive, as
2.0.1 says.

:class:`ReportCollector` gathers the NotifyReport parts a charger sends for one
GetBaseReport of ours, bounded (:data:`MAX_REPORT_ENTRIES`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import re
from typing import Any

from ...model.settings import reported_value
from ..errors import CallFailed, FailureReason

#: Entries of a report kept at most (a charger's whole inventory; more are dropped).
MAX_REPORT_ENTRIES = 2000
#: Seconds to wait for the last part of a report after the charger accepted to send it.
REPORT_TIMEOUT = 60.0
#: The variable saying how many variables one GetVariables / SetVariables may carry.
ITEMS_PER_MESSAGE = "DeviceDataCtrlr.ItemsPerMessage[{}]"

#: Characters of a name or instance at most (OCPP 2.0.1: string[0..50]).
MAX_NAME_LENGTH = 50

# EVSE and connector ids: ASCII digits, at most nine (an integer, not a number of
# thousands of digits); the variable's name holds no "/" (``Comp.Var/1`` is no name).
_NAME = re.compile(
    r"^(?P<component>[^.\[\]/:]+)"
    r"(?:\[(?P<component_instance>[^\]]+)\])?"
    r"(?:/\s*(?P<evse>[0-9]{1,9})\s*(?::\s*(?P<connector>[0-9]{1,9})\s*)?)?"
    r"\.(?P<variable>[^\[\]/]+?)"
    r"(?:\[(?P<variable_instance>[^\]]+)\])?$"
)
# SetVariables statuses -> why the change failed (the rest are refusals).
_SET_NOT_SUPPORTED = frozenset({"UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"})


@dataclass(frozen=True, slots=True)
class VariableName:
    """One variable of one component (of one EVSE), as 2.0.1 addresses it."""

    component: str
    variable: str
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    variable_instance: str | None = None

    @classmethod
    def parse(cls, text: str) -> VariableName | None:
        """The variable a key names; None if it is no ``Component.Variable`` name.

        Spaces around each part are dropped; a name or instance that is empty or
        longer than :data:`MAX_NAME_LENGTH` (no charger can have it) is no name.
        """
        match = _NAME.match(text.strip())
        if match is None:
            return None
        parts = {
            part: None if match[part] is None else match[part].strip()
            for part in ("component", "component_instance", "variable", "variable_instance")
        }
        if any(
            value is not None and not 0 < len(value) <= MAX_NAME_LENGTH for value in parts.values()
        ):
            return None
        evse, connector = match["evse"], match["connector"]
        return cls(
            component=str(parts["component"]),
            variable=str(parts["variable"]),
            component_instance=parts["component_instance"],
            evse=None if evse is None else int(evse),
            connector=None if connector is None else int(connector),
            variable_instance=parts["variable_instance"],
        )

    @classmethod
    def from_wire(cls, component: dict[str, Any], variable: dict[str, Any]) -> VariableName:
        """The name of a (schema-checked) ComponentType and VariableType."""
        evse = component.get("evse") or {}
        return cls(
            component=component["name"],
            variable=variable["name"],
            component_instance=component.get("instance"),
            evse=evse.get("id"),
            connector=evse.get("connectorId"),
            variable_instance=variable.get("instance"),
        )

    @property
    def text(self) -> str:
        """The key: ``Component[instance]/evse:connector.Variable[instance]``."""
        name = self.component
        if self.component_instance is not None:
            name += f"[{self.component_instance}]"
        if self.evse is not None:
            name += f"/{self.evse}"
            if self.connector is not None:
                name += f":{self.connector}"
        name += f".{self.variable}"
        if self.variable_instance is not None:
            name += f"[{self.variable_instance}]"
        return name

    @property
    def folded(self) -> str:
        """The key compared case-insensitively (2.0.1 names are)."""
        return self.text.casefold()

    def wire(self) -> dict[str, Any]:
        """The ``component`` and ``variable`` of a GetVariables / SetVariables entry."""
        component: dict[str, Any] = {"name": self.component}
        if self.component_instance is not None:
            component["instance"] = self.component_instance
        if self.evse is not None:
            component["evse"] = {"id": self.evse}
            if self.connector is not None:
                component["evse"]["connectorId"] = self.connector
        variable: dict[str, Any] = {"name": self.variable}
        if self.variable_instance is not None:
            variable["instance"] = self.variable_instance
        return {"component": component, "variable": variable}


def items_per_message(configuration: Mapping[str, str], action: str) -> int | None:
    """How many variables one ``action`` (GetVariables, SetVariables) may carry, if known.

    The charger's ``DeviceDataCtrlr.ItemsPerMessage[action]``; None if it has not
    said (or said something that is no positive number).
    """
    value = (reported_value(configuration, ITEMS_PER_MESSAGE.format(action)) or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        return None
    return int(value) or None


def set_status(results: Sequence[dict[str, Any]], name: VariableName) -> str:
    """The status of ``name`` in a SetVariables answer's ``setVariableResult``.

    An answer without a result for the variable asked (none, or another
    variable's) is an invalid answer, not a refusal.
    """
    for result in results:
        if VariableName.from_wire(result["component"], result["variable"]).folded == name.folded:
            return str(result["attributeStatus"])
    raise CallFailed("SetVariables", FailureReason.INVALID_RESPONSE, f"no result for {name.text}")


def set_failure(status: str) -> FailureReason | None:
    """Why a SetVariables result failed (None: Accepted or RebootRequired, it did not)."""
    if status in ("Accepted", "RebootRequired"):
        return None
    return FailureReason.NOT_SUPPORTED if status in _SET_NOT_SUPPORTED else FailureReason.REJECTED


def actual_value(entry: dict[str, Any]) -> str | None:
    """The Actual attribute's value of a NotifyReport entry ("" if write-only); None if none."""
    for attribute in entry["variableAttribute"]:
        if attribute.get("type", "Actual") == "Actual":
            return str(attribute.get("value", ""))
    return None


class ReportCollector:
    """The parts of one report (NotifyReport, by requestId) until the last one.

    Parts repeated (the same seqNo again) are not applied twice; entries past
    :data:`MAX_REPORT_ENTRIES` are dropped (counted in :attr:`dropped`).
    :attr:`done` is set by the last part (:attr:`complete`) or when the
    connection closes (:attr:`closed`).
    """

    def __init__(self, request_id: int) -> None:
        """Wait for the parts of the report ``request_id``."""
        self.request_id = request_id
        self.values: dict[str, str] = {}
        self.dropped = 0
        self.complete = False
        self.closed = False
        self.done = asyncio.Event()
        self._seen: set[int] = set()

    def abandon(self) -> None:
        """The connection closed: no more parts will come."""
        self.closed = True
        self.done.set()

    def add(self, payload: dict[str, Any]) -> None:
        """One NotifyReport of this report (schema-checked)."""
        seq_no = payload["seqNo"]
        if seq_no in self._seen or self.done.is_set():
            return
        if len(self._seen) < MAX_REPORT_ENTRIES:
            self._seen.add(seq_no)
        for entry in payload.get("reportData") or []:
            value = actual_value(entry)
            if value is None:
                continue
            key = VariableName.from_wire(entry["component"], entry["variable"]).text
            if key in self.values or len(self.values) < MAX_REPORT_ENTRIES:
                self.values[key] = value
            else:
                self.dropped += 1
        if not payload.get("tbc", False):
            self.complete = True
            self.done.set()
