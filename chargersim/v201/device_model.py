"""The simulated station's device model: its variables by name, and its report of them.

The station keeps its variables in ``behaviour.configuration`` under one key
each, ``Component[instance]/evse:connector.Variable[instance]`` (only
``Component.Variable`` is required), with (value, read-only). Keys without a
dot are not variables (the station's 1.6-like settings it shares with the
1.6 simulator) and are never reported.
"""

from __future__ import annotations

import re
from typing import Final

from ..behaviour import Configuration
from ..rpc import JSONDict

__all__ = ["default_variables", "key_of", "report_data", "wire_of"]

_KEY: Final = re.compile(
    r"^(?P<component>[^.\[\]/:]+)(?:\[(?P<ci>[^\]]+)\])?(?:/(?P<evse>\d+)(?::(?P<conn>\d+))?)?"
    r"\.(?P<variable>[^\[\]]+?)(?:\[(?P<vi>[^\]]+)\])?$"
)


def default_variables() -> Configuration:
    """The device-model variables of a new station: (value, read-only)."""
    return {
        "AuthCtrlr.Enabled": ("true", False),
        # The stock offline rules that let anyone charge while the CSMS is away.
        "AuthCtrlr.OfflineTxForUnknownIdEnabled": ("true", False),
        "AuthCtrlr.LocalAuthorizeOffline": ("true", False),
        "SampledDataCtrlr.TxUpdatedInterval": ("60", False),
        "AlignedDataCtrlr.Interval": ("900", False),
        "TxCtrlr.EVConnectionTimeOut": ("60", False),
        "OCPPCommCtrlr.HeartbeatInterval": ("3600", False),
        "LocalAuthListCtrlr.Enabled": ("true", False),
        "DeviceDataCtrlr.ItemsPerMessage[GetVariables]": ("16", True),
        "DeviceDataCtrlr.ItemsPerMessage[SetVariables]": ("16", True),
    }


def key_of(component: JSONDict, variable: JSONDict) -> str:
    """The key of a component's variable, as the station keeps it."""
    key = str(component["name"])
    if "instance" in component:
        key += f"[{component['instance']}]"
    if evse := component.get("evse"):
        key += f"/{evse['id']}"
        if "connectorId" in evse:
            key += f":{evse['connectorId']}"
    key += f".{variable['name']}"
    if "instance" in variable:
        key += f"[{variable['instance']}]"
    return key


def wire_of(key: str) -> tuple[JSONDict, JSONDict] | None:
    """(component, variable) of a key; None if it is no variable."""
    match = _KEY.match(key)
    if match is None:
        return None
    component: JSONDict = {"name": match["component"]}
    if match["ci"]:
        component["instance"] = match["ci"]
    if match["evse"]:
        component["evse"] = {"id": int(match["evse"])}
        if match["conn"]:
            component["evse"]["connectorId"] = int(match["conn"])
    variable: JSONDict = {"name": match["variable"]}
    if match["vi"]:
        variable["instance"] = match["vi"]
    return component, variable


def _data_type(value: str) -> str:
    if value.lower() in ("true", "false"):
        return "boolean"
    if value.lstrip("-").isdigit():
        return "integer"
    return "string"


def report_data(configuration: Configuration) -> list[JSONDict]:
    """The ReportDataType entries of every variable (a full inventory)."""
    entries: list[JSONDict] = []
    for key, (value, readonly) in configuration.items():
        wire = wire_of(key)
        if wire is None:
            continue
        component, variable = wire
        entries.append(
            {
                "component": component,
                "variable": variable,
                "variableAttribute": [
                    {
                        "type": "Actual",
                        "value": value,
                        "mutability": "ReadOnly" if readonly else "ReadWrite",
                    }
                ],
                "variableCharacteristics": {
                    "dataType": _data_type(value),
                    "supportsMonitoring": False,
                },
            }
        )
    return entries
