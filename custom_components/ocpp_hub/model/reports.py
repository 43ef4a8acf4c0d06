"""What a charger reports of itself beyond its status: events and security events.

OCPP 2.0.1 chargers send NotifyEvent (a component's variable changed: a fault,
a tamper switch, a temperature) and SecurityEventNotification (a firmware
update, a failed login, a reset); they are kept here, the last few, for the
*Charger report* event entity and for diagnostics. The text is the charger's,
cut to a sane length by the handler: untrusted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReportKind(StrEnum):
    """What kind of report: the event entity's event types."""

    EVENT = "event"  # NotifyEvent: a component's variable
    SECURITY = "security"  # SecurityEventNotification


@dataclass(frozen=True, slots=True)
class ChargerReport:
    """One report: what it is about and what it says."""

    kind: ReportKind
    name: str  # Component.Variable, or the security event's type
    value: str  # the variable's value, or the security event's technical info
    at: datetime

    def as_dict(self) -> dict[str, str]:
        """For diagnostics."""
        return {
            "kind": self.kind.value,
            "name": self.name,
            "value": self.value,
            "at": self.at.isoformat(),
        }


class Reports:
    """The last reports of a charger (not stored: they are news, not state)."""

    def __init__(self, size: int = 20) -> None:
        """Keep the last ``size``."""
        self.last: deque[ChargerReport] = deque(maxlen=size)
        self.count = 0  # reports ever received (the event entity fires when it grows)

    def add(self, report: ChargerReport) -> None:
        """Keep ``report``."""
        self.last.append(report)
        self.count += 1
