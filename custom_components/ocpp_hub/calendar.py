"""A calendar per charger: its charging sessions, browsable in the calendar panel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .entity import OcppHubSessionEntity
from .hub import OcppHubConfigEntry
from .model.charger import Topic
from .model.sessions import SessionRecord, StartedBy
from .registered_charger import RegisteredCharger

PARALLEL_UPDATES = 0

CALENDARS: tuple[CalendarEntityDescription, ...] = (
    CalendarEntityDescription(key="sessions", translation_key="sessions"),
)

_STARTED_BY = {
    StartedBy.CARD: "unknown card",
    StartedBy.FREE_VEND: "free vend",
    StartedBy.REMOTE: "started by Home Assistant",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A sessions calendar for every charger."""

    def factory(
        registered: RegisteredCharger, connector_ids: Sequence[int]
    ) -> list[SessionsCalendar]:
        if connector_ids:
            return []
        return [SessionsCalendar(registered, description) for description in CALENDARS]

    entry.runtime_data.async_register_platform(factory, async_add_entities)


def session_title(record: SessionRecord) -> str:
    """What the calendar shows of a session: energy and who charged."""
    who = record.card_name or _STARTED_BY[record.started_by]
    return f"{record.energy_kwh:.2f} kWh · {who}"


def session_description(record: SessionRecord, currency: str) -> str:
    """The details of a session, one per line."""
    charging = timedelta(seconds=round(record.charging_s))
    lines = [
        f"Energy: {record.energy_kwh:.3f} kWh",
        f"Duration: {record.duration - timedelta(microseconds=record.duration.microseconds)}"
        f" (charging {charging})",
        f"Connector: {record.connector_id}",
        f"Card: {record.card_name or '-'} ({record.id_tag}, {record.started_by})",
    ]
    if record.max_power_w is not None:
        lines.append(f"Maximum power: {record.max_power_w / 1000:.1f} kW")
    if record.cost is not None:
        lines.append(f"Cost: {record.cost:.2f} {currency}")
    if record.stop_reason:
        lines.append(f"Stopped: {record.stop_reason}")
    return "\n".join(lines)


class SessionsCalendar(OcppHubSessionEntity, CalendarEntity):
    """The charger's sessions as events; the running one is the current event."""

    def __init__(
        self, registered: RegisteredCharger, description: CalendarEntityDescription
    ) -> None:
        """One per charger."""
        super().__init__(registered, description.key)
        self.entity_description = description
        self._running: datetime | None = None

    def _event(self, record: SessionRecord) -> CalendarEvent:
        return CalendarEvent(
            start=record.started_at,
            end=max(record.ended_at, record.started_at + timedelta(minutes=1)),
            summary=session_title(record),
            description=session_description(record, self.hass.config.currency),
            uid=f"{self._registered.identity}-{record.connector_id}-{record.transaction_id}",
        )

    @property
    def event(self) -> CalendarEvent | None:
        """The session charging now, if any (until a minute from now)."""
        transaction = next(
            (c.transaction for c in self._registered.charger.outlets if c.transaction), None
        )
        if transaction is None:
            return None
        # A charger with a clock ahead may report a start in the future.
        return CalendarEvent(
            start=transaction.started_at,
            end=max(dt_util.utcnow(), transaction.started_at) + timedelta(minutes=1),
            summary=f"Charging · {transaction.energy_wh / 1000:.2f} kWh so far",
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The finished sessions in the range, oldest first."""
        records = self._registered.sessions.sessions(start_date, end_date)
        events = [self._event(record) for record in reversed(records)]
        if (window := self._registered.charger.owner.schedule) is not None:
            # The charging windows of the schedule, past and to come.
            local_start = dt_util.as_local(start_date)
            events += [
                CalendarEvent(
                    start=opened,
                    end=closed,
                    summary=f"Charging window · {window.inside_a:.0f} A",
                    uid=f"{self._registered.identity}-window-{opened.isoformat()}",
                )
                for opened, closed in window.windows(local_start, dt_util.as_local(end_date))
            ]
        return sorted(events, key=lambda event: event.start_datetime_local)

    async def async_added_to_hass(self) -> None:
        """Also follow the charger: a session starting or ending changes the state."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._registered.charger.add_listener(self._charger_changed, {Topic.SESSION})
        )

    @callback
    def _charger_changed(self) -> None:
        running = next(
            (c.transaction.started_at for c in self._registered.charger.outlets if c.transaction),
            None,
        )
        if running != self._running:
            self._running = running
            self.async_write_ha_state()
