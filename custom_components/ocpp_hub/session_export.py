"""Sessions out of Home Assistant: the action's response and a CSV download.

``GET /api/ocpp_hub/sessions/<device id>.csv?start=2026-11-01&end=2026-12-01`` (a
Home Assistant API request of an administrator: a long-lived access token in the
``Authorization: Bearer`` header, as the README shows) returns the charger's
sessions in that range (start inclusive, end exclusive, in Home Assistant's time
zone; both optional), newest first, with columns named for a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Callable
import csv
from datetime import date, datetime, time
from http import HTTPStatus
import io
from typing import Any

from aiohttp import web
from homeassistant.components.http.decorators import require_admin
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util import dt as dt_util

from .model.sessions import SessionRecord
from .registered_charger import RegisteredCharger

# The registered charger behind a device id (raises HomeAssistantError if none).
type ChargerLookup = Callable[[HomeAssistant, str], RegisteredCharger]

CSV_COLUMNS = (
    "start",
    "end",
    "duration_min",
    "charging_min",
    "energy_kwh",
    "card",
    "id_tag",
    "started_by",
    "connector",
    "max_power_kw",
    "stop_reason",
)


def session_as_dict(record: SessionRecord, currency: str) -> dict[str, Any]:
    """A session as the get_sessions action returns it."""
    return {
        "start": record.started_at.isoformat(),
        "end": record.ended_at.isoformat(),
        "energy_kwh": record.energy_kwh,
        "card": record.card_name,
        "id_tag": record.id_tag,
        "started_by": str(record.started_by),
        "connector": record.connector_id,
        "duration_min": round(record.duration.total_seconds() / 60, 1),
        "charging_min": round(record.charging_s / 60, 1),
        "max_power_kw": None if record.max_power_w is None else round(record.max_power_w / 1000, 2),
        "stop_reason": record.stop_reason,
        "cost": record.cost,
        "currency": currency if record.cost is not None else None,
    }


def sessions_csv(records: list[SessionRecord], currency: str) -> str:
    """The sessions as CSV: local times, kWh, minutes and the cost in ``currency``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, f"cost_{currency.lower()}"])
    for record in records:
        row = session_as_dict(record, currency)
        row["start"] = _local(record.started_at)
        row["end"] = _local(record.ended_at)
        writer.writerow([*(_cell(row[c]) for c in CSV_COLUMNS), _cost(record.cost)])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A value for a spreadsheet; text from a charger never starts a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _local(when: datetime) -> str:
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M:%S")


def _cost(cost: float | None) -> str:
    return "" if cost is None else f"{cost:.2f}"


def _day(text: str | None) -> datetime | None:
    """The start of a day (YYYY-MM-DD) in Home Assistant's time zone; ValueError if not one."""
    if not text:
        return None
    day = datetime.combine(date.fromisoformat(text), time(), dt_util.get_default_time_zone())
    return dt_util.as_utc(day)


class SessionsCsvView(HomeAssistantView):
    """The sessions of one charger device as a CSV file."""

    url = "/api/ocpp_hub/sessions/{device_id}.csv"
    name = "api:ocpp_hub:sessions"
    requires_auth = True

    def __init__(self, lookup: ChargerLookup) -> None:
        """``lookup`` finds the charger of a device (the actions' own lookup)."""
        self._lookup = lookup

    @require_admin
    async def get(self, request: web.Request, device_id: str) -> web.Response:
        """The CSV, or 404 for a device that is no charger, 400 for a bad date."""
        hass = request.app[KEY_HASS]
        try:
            start = _day(request.query.get("start"))
            end = _day(request.query.get("end"))
        except ValueError:
            return self.json_message("start and end are dates: YYYY-MM-DD", HTTPStatus.BAD_REQUEST)
        try:
            registered = self._lookup(hass, device_id)
        except HomeAssistantError:
            return self.json_message("no such charger", HTTPStatus.NOT_FOUND)
        currency = hass.config.currency
        body = sessions_csv(registered.sessions.sessions(start, end), currency)
        filename = f"{registered.identity}-sessions.csv"
        return web.Response(
            text=body,
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
