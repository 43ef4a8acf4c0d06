"""How the simulated charger behaves: its vendor configuration and forced answers.

`default_configuration` is a Wallbox's configuration; `ChargerBehaviour` says
how the charger answers the central system (forced answers per action,
configuration keys, reboot timing, firmware quirks). The helpers below read
and check configuration values the way a Wallbox does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .smart_charging import PHASE_SWITCH_KEY

__all__ = [
    "TETHERED_MODELS",
    "ChargerBehaviour",
    "Configuration",
    "config_key",
    "default_configuration",
    "fit_configuration",
    "is_int",
    "valid_config_value",
]

#: key -> (value, readonly)
Configuration = dict[str, tuple[str, bool]]

#: Model codes of Wallbox chargers with a tethered cable.
TETHERED_MODELS: Final = ("PLP", "PUP", "CMX")


def default_configuration(connectors: int = 1) -> Configuration:
    """Return a Wallbox-like configuration: key -> (value, readonly).

    Taken from a public GetConfiguration dump of a Wallbox (see domain.md).
    """
    config: Configuration = {
        "AuthEnabled": ("true", False),
        "AuthEnabledOffline": ("true", False),
        "AuthDisabledIdTag": ("NoAuthorization", False),
    }
    for n in range(1, connectors + 1):
        config[f"chargingALimitConn{n}"] = ("32", False)
    config.update(
        {
            "AllowOfflineTxForUnknownId": ("true", False),
            "LocalAuthorizeOffline": ("true", False),
            "LocalPreAuthorize": ("true", False),
            "AuthorizationCacheEnabled": ("true", False),
            "LocalAuthListEnabled": ("true", False),
            "AuthorizeRemoteTxRequests": ("false", True),
            "StopTransactionOnInvalidId": ("true", False),
            # Seconds a remote start waits in Preparing for the car to be plugged in.
            "ConnectionTimeOut": ("60", False),
            "HeartbeatInterval": ("3600", False),
            "ChargeProfileMaxStackLevel": ("1", True),
            "MaxChargingProfilesInstalled": ("1", True),
            "ChargingScheduleAllowedChargingRateUnit": ("Current", True),
            "ConnectorSwitch3to1PhaseSupported": ("false", True),
            "NumberOfConnectors": (str(connectors), True),
            "SupportedFeatureProfiles": (
                "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger",
                True,
            ),
            "MeterValuesSampledData": (
                "Energy.Active.Import.Register,Power.Active.Import,"
                "Current.Import,Voltage,Current.Offered",
                False,
            ),
        }
    )
    return config


@dataclass
class ChargerBehaviour:
    """How the simulated charger answers CSMS-initiated calls.

    ``responses`` maps an action name to a forced answer:

    - a status of that action's answer (``"Accepted"``, ``"Rejected"``,
      ``"Scheduled"``, ``"RebootRequired"``, ``"VersionMismatch"``, ...);
      ``"Accepted"`` / ``"Rejected"`` also work for UnlockConnector
      (Unlocked / UnlockFailed), ClearChargingProfile (Rejected = Unknown) and
      SendLocalList (Rejected = Failed); for a 1.6 UpdateFirmware ``"Rejected"``
      means the download fails (2.0.1 answers Rejected and sends no status),
      for GetDiagnostics / GetLog that no file is uploaded;
      for GetLocalListVersion ``"NotSupported"`` answers listVersion -1;
    - ``"NotSupported"`` / ``"NotImplemented"`` where the action has no such
      status: a CALLERROR with that code;
    - ``"error"``: a CALLERROR InternalError;
    - ``"timeout"``: no answer at all.

    Actions not listed get realistic answers derived from the charger's state.
    A forced "Accepted" also performs the action where that is possible.
    ``configuration`` is updated in place by ChangeConfiguration.
    """

    responses: dict[str, str] = field(default_factory=dict)
    configuration: Configuration = field(default_factory=default_configuration)
    #: ChangeConfiguration answers RebootRequired for these keys (the value is
    #: stored at once all the same).
    reboot_required_keys: set[str] = field(default_factory=set)
    #: Seconds after Reset.conf before the charger closes its socket,
    #: reconnects and boots again; None = it closes the socket and never
    #: comes back.
    reboot_delay: float | None = 0.5
    #: `SimulatedCharger.boot_until_accepted` waits min(interval, this) between
    #: BootNotifications; None = honour the CSMS's interval like a real charger.
    boot_retry_cap: float | None = 0.2
    #: Answer SetChargingProfile as told but never apply the limit (a firmware
    #: quirk seen on Wallbox 6.4.x): the offered current does not change.
    ignore_charging_limits: bool = False
    #: ConnectorSwitch3to1PhaseSupported: the numberPhases of the schedule period
    #: in force decides the phases used; a switch pauses the car this many seconds.
    phase_switching: bool = False
    phase_switch_pause: float = 5.0
    #: 2.0.1: items per GetVariables / SetVariables enforced without being reported
    #: (no DeviceDataCtrlr.ItemsPerMessage variables: a station that does not say it).
    unreported_items_per_message: int | None = None


def fit_configuration(config: Configuration, connectors: int, *, phase_switching: bool) -> None:
    """Fit a configuration in place to the number of connectors and phase switching."""
    if "NumberOfConnectors" in config:
        config["NumberOfConnectors"] = (str(connectors), config["NumberOfConnectors"][1])
    if "chargingALimitConn1" in config:
        for n in range(2, connectors + 1):
            config.setdefault(f"chargingALimitConn{n}", config["chargingALimitConn1"])
    if phase_switching or PHASE_SWITCH_KEY in config:
        config[PHASE_SWITCH_KEY] = (str(phase_switching).lower(), True)


def config_key(config: Configuration, key: str) -> str | None:
    """The configuration's own spelling of ``key`` (matched case-insensitively)."""
    if key in config:
        return key
    lowered = key.lower()
    return next((k for k in config if k.lower() == lowered), None)


def valid_config_value(current: str, new: str) -> bool:
    """Whether ``new`` may replace ``current``: booleans stay booleans, integers integers."""
    if current.lower() in ("true", "false"):
        return new.lower() in ("true", "false")
    if is_int(current):
        return is_int(new)
    return True


def is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
