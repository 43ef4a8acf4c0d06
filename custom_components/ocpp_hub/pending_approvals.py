"""Unknown chargers waiting for the owner's approval: their discovery cards and repair issues."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
import logging

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import discovery_flow

from .const import DOMAIN, MAX_PENDING_APPROVALS
from .csms.logtext import untrusted
from .model.charger import ChargerInfo
from .repairs import RepairIssues

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class PendingCharger:
    """An unknown charger waiting for the owner's approval."""

    identity: str
    info: ChargerInfo
    remote_address: str | None
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


class PendingApprovals:
    """The unknown chargers of one central system, each with a discovery card, bounded."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, issues: RepairIssues) -> None:
        """None waiting yet."""
        self.hass = hass
        self.entry = entry
        self.issues = issues
        self.pending: OrderedDict[str, PendingCharger] = OrderedDict()

    def hold(self, pending: PendingCharger) -> None:
        """An unknown charger booted: a discovery card and a repair issue (once) ask the owner."""
        new = pending.identity not in self.pending
        self.pending[pending.identity] = pending
        self.pending.move_to_end(pending.identity)
        while len(self.pending) > MAX_PENDING_APPROVALS:
            # The oldest card of the address with the most: strangers flooding from
            # one address push out only their own cards, never a charger elsewhere.
            per_address = Counter(p.remote_address for p in self.pending.values())
            crowded = max(per_address.values())
            dropped = next(
                i for i, p in self.pending.items() if per_address[p.remote_address] == crowded
            )
            del self.pending[dropped]
            self.abort_discovery(dropped)
        if not new:
            return
        self.issues.waiting(
            pending.identity,
            " ".join(filter(None, (pending.info.vendor, pending.info.model))) or "?",
            pending.remote_address,
        )
        _LOGGER.info(
            "Unknown charger %s (%s %s) from %s is waiting for approval",
            pending.identity,
            untrusted(pending.info.vendor, 40),
            untrusted(pending.info.model, 40),
            pending.remote_address,
        )
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "entry_id": self.entry.entry_id,
                "identity": pending.identity,
                "vendor": pending.info.vendor or "",
                "model": pending.info.model or "",
                "serial": pending.info.serial or "",
                "firmware": pending.info.firmware or "",
                "address": pending.remote_address or "",
            },
        )

    def take(self, identity: str) -> PendingCharger | None:
        """The owner registered ``identity``: it waits no longer (None: it was not waiting)."""
        self.issues.not_waiting(identity)
        return self.pending.pop(identity, None)

    def abort_discovery(self, identity: str) -> None:
        """The discovery card of ``identity`` goes (approved elsewhere, or pushed out)."""
        self.issues.not_waiting(identity)
        unique_id = discovery_unique_id(self.entry.entry_id, identity)
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            if flow["context"].get("unique_id") == unique_id:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])

    def stop(self) -> None:
        """The central system stops: no charger waits any longer."""
        for identity in self.pending:
            self.issues.not_waiting(identity)


def discovery_unique_id(entry_id: str, identity: str) -> str:
    """The unique id of the discovery flow of an unknown charger."""
    return f"{entry_id}_{identity}"
