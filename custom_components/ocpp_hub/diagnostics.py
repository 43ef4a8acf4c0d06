"""Diagnostics download: the central system and each charger, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_PASSWORD_HASH
from .hub import OcppHub, OcppHubConfigEntry
from .model.secrets import REDACTED, public_configuration
from .model.storage_format import charger_as_dict
from .registered_charger import RegisteredCharger

TO_REDACT = {
    CONF_PASSWORD_HASH,
    "serial",
    "meter_serial",
    "id_tag",
    "remote_address",
}


def _charger_diagnostics(hub: OcppHub, registered: RegisteredCharger) -> dict[str, Any]:
    charger = registered.charger
    control = charger.owner.control
    handler = hub.server.handler(registered.identity)
    state = charger_as_dict(charger)
    # The model keeps no secret settings; this guards the export all the same.
    state["configuration"] = public_configuration(state["configuration"])
    return {
        "name": registered.name,
        "identity": registered.identity,
        "password_required": registered.password_hash is not None,
        "connected": charger.connected,
        "remote_address": charger.remote_address,
        "profile": charger.profile.key,
        # The OCPP version negotiated on the live connection ("ocpp1.6", "ocpp2.0.1").
        "protocol": (handler.session.connection.subprotocol or "ocpp1.6") if handler else None,
        "firmware_status": charger.firmware_status,
        "diagnostics_status": charger.diagnostics_status,
        "state": async_redact_data(state, TO_REDACT),
        # What the energy manager decided last, and what it sent.
        "energy": {
            "mode": control.mode.value,
            "reason": control.reason.value if control.reason else None,
            "wanted_a": control.target_a,
            "phases": control.phases,
            "detail": dict(control.detail),
            "sent_a": registered.controller.energy_a,
        },
        "recent_card_decisions": [
            {
                "at": d.at.isoformat(),
                "id_tag": REDACTED,
                "card_name": d.card_name,
                "status": d.status,
                "learned": d.learned,
            }
            for d in charger.owner.decisions
        ],
        # The last sessions; their card numbers are redacted with the rest (id_tag).
        "last_sessions": [r.as_dict() for r in registered.sessions.history.records[:10]],
        "last_reports": [report.as_dict() for report in charger.reports.last],
        # Redacted by the session as they were kept (on the parsed frame, before cutting).
        "last_frames": [
            {"direction": direction, "frame": frame}
            for direction, frame in (handler.session.frames if handler else ())
        ],
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OcppHubConfigEntry
) -> dict[str, Any]:
    """Everything about one central system."""
    hub = entry.runtime_data
    return {
        "entry": {
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "energy_fallback": list(hub.energy.fallback) if hub.energy.fallback else None,
        "pending_approvals": [
            {
                "identity": p.identity,
                "vendor": p.info.vendor,
                "model": p.info.model,
                "firmware": p.info.firmware,
                "since": p.since.isoformat(),
            }
            for p in hub.pending.values()
        ],
        "chargers": [
            async_redact_data(_charger_diagnostics(hub, r), TO_REDACT)
            for r in hub.chargers.values()
        ],
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: OcppHubConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Everything about one charger."""
    hub = entry.runtime_data
    registered = next(
        (r for r in hub.chargers.values() if r.device_identifier in device.identifiers), None
    )
    if registered is None:
        return {"error": "this device has no registered charger"}
    return async_redact_data(_charger_diagnostics(hub, registered), TO_REDACT)
