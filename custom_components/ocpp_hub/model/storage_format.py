"""The stored form of a charger model: what survives a Home Assistant restart.

Plain dictionaries of JSON values, in Home Assistant's store of the central
system (whose versions and migrations are in the integration's ``storage``
module). A restored charger is disconnected until the charger reconnects; what
is measured live (power per phase, offered current) and the verification of a
limit start over.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .charger import MAX_CONFIGURATION_KEYS, Charger, ChargerInfo
from .connector import Connector, Transaction
from .control import LimitState, RebootRecord
from .energy import ChargeControl
from .meter import EnergyCounter
from .profiles import profile_by_key
from .settings import ReportedSettings
from .status import ConnectorStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def info_as_dict(info: ChargerInfo) -> dict[str, Any]:
    """What the charger said about itself, for storage and diagnostics."""
    return {
        "vendor": info.vendor,
        "model": info.model,
        "serial": info.serial,
        "firmware": info.firmware,
        "meter_type": info.meter_type,
        "meter_serial": info.meter_serial,
    }


def info_from_dict(data: dict[str, Any]) -> ChargerInfo:
    """Restore what the charger said about itself."""
    return ChargerInfo(**{k: data.get(k) for k in ChargerInfo.__slots__})


def transaction_as_dict(transaction: Transaction) -> dict[str, Any]:
    """A transaction, for storage."""
    return {
        "transaction_id": transaction.transaction_id,
        "connector_id": transaction.connector_id,
        "id_tag": transaction.id_tag,
        "meter_start_wh": transaction.meter_start_wh,
        "started_at": _iso(transaction.started_at),
        "meter_last_wh": transaction.meter_last_wh,
        "stopped_at": _iso(transaction.stopped_at),
        "meter_stop_wh": transaction.meter_stop_wh,
        "stop_reason": transaction.stop_reason,
    }


def transaction_from_dict(data: dict[str, Any]) -> Transaction:
    """Restore a transaction (its id is text since store version 1.2)."""
    return Transaction(
        transaction_id=str(data["transaction_id"]),
        connector_id=int(data["connector_id"]),
        id_tag=str(data["id_tag"]),
        meter_start_wh=float(data["meter_start_wh"]),
        started_at=_dt(data["started_at"]) or datetime.now(UTC),
        meter_last_wh=data.get("meter_last_wh"),
        stopped_at=_dt(data.get("stopped_at")),
        meter_stop_wh=data.get("meter_stop_wh"),
        stop_reason=data.get("stop_reason"),
    )


def connector_as_dict(connector: Connector) -> dict[str, Any]:
    """What of a connector must survive a restart."""
    return {
        "status": connector.status.value if connector.status else None,
        "error_code": connector.error_code,
        "transaction": transaction_as_dict(connector.transaction)
        if connector.transaction
        else None,
        "last_transaction": transaction_as_dict(connector.last_transaction)
        if connector.last_transaction
        else None,
        "energy": connector.energy.as_dict(),
        "power_w": connector.power_w,
    }


def connector_from_dict(connector_id: int, data: dict[str, Any]) -> Connector:
    """Restore a connector."""
    status = data.get("status")
    tx = data.get("transaction")
    last = data.get("last_transaction")
    return Connector(
        connector_id=connector_id,
        status=ConnectorStatus(status)
        if isinstance(status, str) and status in ConnectorStatus
        else None,
        error_code=data.get("error_code"),
        transaction=transaction_from_dict(tx) if tx else None,
        last_transaction=transaction_from_dict(last) if last else None,
        energy=EnergyCounter.from_dict(data.get("energy") or {}),
        power_w=data.get("power_w"),
    )


def charger_as_dict(charger: Charger) -> dict[str, Any]:
    """What of a charger must survive a Home Assistant restart.

    What the charger reported and what the owner wants (:attr:`Charger.owner`) are
    stored side by side, at the same level.
    """
    owner = charger.owner
    return {
        "info": info_as_dict(charger.info),
        "profile": charger.profile.key,
        "last_boot": _iso(charger.last_boot),
        "last_heartbeat": _iso(charger.last_heartbeat),
        "connectors": {str(cid): connector_as_dict(c) for cid, c in charger.connectors.items()},
        "configuration": dict(charger.configuration),
        "settings": charger.settings.as_dict(),
        "measurands": sorted(charger.measurands),
        "clock_skew_s": charger.clock_skew_s,
        "lock_wanted": owner.lock_wanted,
        "auto_lock_minutes": owner.auto_lock_minutes,
        "auto_lock_due": _iso(owner.auto_lock_due),
        "reboot": owner.reboot.as_dict() if owner.reboot else None,
        "limit": owner.limit.as_dict(),
        "control": owner.control.as_dict(),
    }


def charger_from_dict(identity: str, data: dict[str, Any]) -> Charger:
    """Restore a charger saved by :func:`charger_as_dict` (disconnected until it reconnects)."""
    charger = Charger(identity)
    charger.info = info_from_dict(data.get("info") or {})
    charger.profile = profile_by_key(data.get("profile"))
    charger.last_boot = _dt(data.get("last_boot"))
    charger.last_heartbeat = _dt(data.get("last_heartbeat"))
    for cid, cdata in (data.get("connectors") or {}).items():
        charger.connector(int(cid))
        charger.connectors[int(cid)] = connector_from_dict(int(cid), cdata)
    # Through the model's rule (one entry per key in any case, secrets out, the cap):
    # a store of an older version may hold one key in two spellings.
    charger.apply_configuration(
        dict(list((data.get("configuration") or {}).items())[:MAX_CONFIGURATION_KEYS]),
        complete=True,
    )
    charger.settings = ReportedSettings.from_dict(data.get("settings") or {})
    charger.measurands = set(data.get("measurands") or [])
    charger.clock_skew_s = data.get("clock_skew_s")
    owner = charger.owner
    owner.lock_wanted = bool(data.get("lock_wanted", True))
    owner.auto_lock_minutes = int(data.get("auto_lock_minutes", 0))
    owner.auto_lock_due = _dt(data.get("auto_lock_due"))
    reboot = data.get("reboot")
    owner.reboot = RebootRecord.from_dict(reboot) if reboot else None
    owner.limit = LimitState.from_dict(data.get("limit") or {})
    owner.control = ChargeControl.from_dict(data.get("control") or {})
    return charger
