"""Repair issues: what went wrong that the owner can fix, raised and cleared in one way.

Every issue of the integration carries exact instructions in its translation
(translations/*.json, section "issues"); none needs a fix flow, because the
fix happens on the charger, the network or in the entry's own settings. The
issues of a running central system are derived here, by :class:`RepairIssues`,
from the state that calls for them; only the setup raises its own two (a
certificate that cannot be read, a port in use), before there is a hub.
"""

from __future__ import annotations

from collections.abc import Hashable
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .model.charger import Charger
from .model.control import LimitStatus, ProtectionStatus, RebootResult

_LOGGER = logging.getLogger(__name__)

# A limit the charger did not apply this many times in a row is a repair.
LIMIT_FAILURES_FOR_REPAIR = 3
# The limit's outcome is known (not while a request is on its way, nor before one).
_LIMIT_SETTLED = frozenset({LimitStatus.APPLIED, LimitStatus.NOT_APPLIED, LimitStatus.REJECTED})
# The issues of one charger (each id: kind, entry id, identity).
_CHARGER_ISSUES = (
    "reboot_failed",
    "limit_not_applied",
    "offline_protection",
    "energy_rejected",
    "no_password",
    "weak_password",
)

# What turns plain text into links, images or HTML in Markdown: brackets, angle brackets,
# and the slashes of bare URLs (autolinks). Emphasis is left alone: the same text also
# appears in plain-text titles, where every backslash shows.
_MARKDOWN = frozenset("\\[]<>/")
# Why the energy manager lacks a sensor's value -> the repair that says so in words
# (unavailable or unknown: "energy_sensor").
ENERGY_PROBLEM_ISSUES = {
    "not_configured": "energy_not_configured",
    "missing": "energy_sensor_missing",
    "not_a_number": "energy_sensor_invalid",
    "unit": "energy_sensor_invalid",
    "stale": "energy_sensor_stale",
}


def escape_markdown(text: str) -> str:
    """``text`` from a charger, shown literally where Home Assistant renders Markdown."""
    return "".join(
        " " if not ch.isprintable() else f"\\{ch}" if ch in _MARKDOWN else ch for ch in text
    )


@callback
def set_issue(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str | None,
    placeholders: dict[str, str] | None = None,
    *,
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    persistent: bool = True,
) -> None:
    """Raise the issue (``translation_key`` given) or clear it (``translation_key`` None)."""
    if translation_key is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=persistent,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


class RepairIssues:
    """Every repair issue of one central system, set from the state that calls for it.

    Each method is given the state of one topic (a charger's model, the energy
    manager's fallback, a password presented) and derives from it which issues
    must exist and with which placeholders; the registry is written only when
    what an issue is derived from changed.
    """

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """No issue derived yet (those of an earlier run are brought in line on first news)."""
        self.hass = hass
        self.entry = entry
        self._derived_from: dict[str, tuple[Hashable, ...]] = {}
        self._rejections: dict[str, int] = {}  # energy readings refused, per charger

    def _changed(self, issue_id: str, *state: Hashable) -> bool:
        """Whether ``issue_id`` is now derived from another state than when last set."""
        if self._derived_from.get(issue_id) == state:
            return False
        self._derived_from[issue_id] = state
        return True

    def _charger_issue(self, kind: str, identity: str) -> str:
        return f"{kind}_{self.entry.entry_id}_{identity}"

    # ----------------------------------------------------------------- chargers
    @callback
    def charger_changed(self, name: str, charger: Charger) -> None:
        """A registered charger's model changed: its reboot, protection, meter, limit issues."""
        identity = charger.identity
        name = escape_markdown(name)  # the charger may have chosen it (auto-accepted)
        reboot = charger.owner.reboot
        issue_id = self._charger_issue("reboot_failed", identity)
        if reboot is not None and reboot.result is not RebootResult.PENDING:
            failed = reboot.result is RebootResult.FAILED
            if self._changed(issue_id, failed, name):
                set_issue(
                    self.hass,
                    issue_id,
                    "reboot_failed" if failed else None,
                    {"charger": name},
                    severity=ir.IssueSeverity.ERROR,
                )
        issue_id = self._charger_issue("offline_protection", identity)
        protection, keys = charger.owner.protection, ", ".join(charger.owner.protection_keys)
        if protection is not None and self._changed(issue_id, protection, keys, name):
            set_issue(
                self.hass,
                issue_id,
                None
                if protection is ProtectionStatus.ACTIVE
                else f"offline_protection_{protection}",
                {"charger": name, "keys": keys},
            )
        self._energy_rejected(name, charger)
        limit = charger.owner.limit
        issue_id = self._charger_issue("limit_not_applied", identity)
        ignored = limit.failures >= LIMIT_FAILURES_FOR_REPAIR
        if limit.status in _LIMIT_SETTLED and self._changed(
            issue_id, ignored, name, limit.requested_a, limit.reported_a
        ):
            set_issue(
                self.hass,
                issue_id,
                "limit_not_applied" if ignored else None,
                {
                    "charger": name,
                    "requested": f"{limit.requested_a or 0:.0f}",
                    "reported": "-" if limit.reported_a is None else f"{limit.reported_a:.1f}",
                },
            )

    def _energy_rejected(self, name: str, charger: Charger) -> None:
        """An energy reading was refused as implausible: tell the owner what and why.

        A charger whose meter keeps glitching must not flood the log: the 1st, 10th,
        100th ... refusal is a warning, the others are logged at debug level. The
        repair issue always shows the latest refused reading and the count so far.
        """
        count = charger.energy_rejections
        before = self._rejections.setdefault(charger.identity, count)
        self._rejections[charger.identity] = count
        connector = charger.last_rejected_connector()
        if not count or connector is None:
            return
        energy = connector.energy
        if count > before:
            reported = count == 1 or (count % 10 == 0 and str(count).rstrip("0") == "1")
            _LOGGER.log(
                logging.WARNING if reported else logging.DEBUG,
                "Charger %s reported an energy register of %.0f Wh on connector %d, more than "
                "it can have delivered since its last reading of %s Wh; ignored",
                charger.identity,
                energy.last_rejected_wh or 0.0,
                connector.connector_id,
                "-" if energy.last_register_wh is None else f"{energy.last_register_wh:.0f}",
            )
        issue_id = self._charger_issue("energy_rejected", charger.identity)
        if self._changed(issue_id, name, connector.connector_id, count):
            set_issue(
                self.hass,
                issue_id,
                "energy_reading_rejected",
                {
                    "charger": name,
                    "connector": str(connector.connector_id),
                    "reading": f"{(energy.last_rejected_wh or 0.0) / 1000:.3f}",
                    "previous": "-"
                    if energy.last_register_wh is None
                    else f"{energy.last_register_wh / 1000:.3f}",
                    "count": str(count),
                },
            )

    @callback
    def password_set(self, name: str, identity: str, has_password: bool) -> None:
        """The owner's password setting of a charger: none is a repair until there is one."""
        issue_id = self._charger_issue("no_password", identity)
        if self._changed(issue_id, has_password, name):
            set_issue(
                self.hass,
                issue_id,
                None if has_password else "charger_without_password",
                {"charger": escape_markdown(name)},
            )

    @callback
    def password_presented(self, name: str, identity: str, acceptable: bool) -> None:
        """The right password was presented: shorter than OCPP's 16 characters says so."""
        issue_id = self._charger_issue("weak_password", identity)
        if self._changed(issue_id, acceptable, name):
            set_issue(
                self.hass,
                issue_id,
                None if acceptable else "weak_password",
                {"charger": escape_markdown(name)},
            )

    @callback
    def password_changed(self, identity: str) -> None:
        """The owner changed a charger's password: what was presented before is over."""
        issue_id = self._charger_issue("weak_password", identity)
        if self._changed(issue_id, True):
            set_issue(self.hass, issue_id, None)

    @callback
    def wrong_passwords(self, identity: str, address: str, count: int) -> None:
        """Someone keeps presenting wrong passwords for a charger: who and from where.

        One issue per registered charger (the latest address named), so their
        number stays bounded.
        """
        issue_id = self._wrong_password_issue(identity)
        if self._changed(issue_id, address, count):
            set_issue(
                self.hass,
                issue_id,
                "repeated_wrong_password",
                {
                    "identity": escape_markdown(identity),
                    "address": escape_markdown(address),
                    "count": str(count),
                },
            )

    @callback
    def right_password(self, identity: str) -> None:
        """The right password was presented: the wrong-password issue is over."""
        issue_id = self._wrong_password_issue(identity)
        if self._changed(issue_id):
            set_issue(self.hass, issue_id, None)

    def _wrong_password_issue(self, identity: str) -> str:
        return f"wrong_password_{self.entry.entry_id}_{identity}"

    @callback
    def charger_removed(self, identity: str) -> None:
        """A charger the owner removed: none of its issues stays."""
        for issue_id in (
            *(self._charger_issue(kind, identity) for kind in _CHARGER_ISSUES),
            self._wrong_password_issue(identity),
        ):
            self._derived_from.pop(issue_id, None)
            set_issue(self.hass, issue_id, None)
        self._rejections.pop(identity, None)

    # ------------------------------------------------------------ central system
    def _waiting_issue(self, identity: str) -> str:
        return f"charger_waiting_{self.entry.entry_id}_{identity}"

    @callback
    def waiting(self, identity: str, model: str, address: str | None) -> None:
        """An unknown charger waits for the owner's approval."""
        issue_id = self._waiting_issue(identity)
        if self._changed(issue_id, model, address):
            set_issue(
                self.hass,
                issue_id,
                "charger_waiting",
                {
                    "identity": escape_markdown(identity),
                    "model": escape_markdown(model),
                    "address": escape_markdown(address or "?"),
                },
                persistent=False,
            )

    @callback
    def not_waiting(self, identity: str) -> None:
        """A charger no longer waits for approval (approved, dropped, or the entry stops)."""
        issue_id = self._waiting_issue(identity)
        if self._changed(issue_id):
            set_issue(self.hass, issue_id, None)

    @callback
    def storage_damaged(self, what: str) -> None:
        """The stored state could not all be read: what was lost."""
        set_issue(
            self.hass,
            f"storage_{self.entry.entry_id}",
            "storage_damaged",
            {"what": escape_markdown(what)},  # names a charger's identity
            persistent=False,
        )

    @callback
    def energy_fallback(self, problem: tuple[str, str] | None) -> None:
        """A sensor the energy decisions need is missing or stale (None: all are fine)."""
        issue_id = f"energy_sensor_{self.entry.entry_id}"
        if not self._changed(issue_id, problem):
            return
        if problem is None:
            set_issue(self.hass, issue_id, None)
            return
        entity, why = problem
        set_issue(
            self.hass,
            issue_id,
            ENERGY_PROBLEM_ISSUES.get(why, "energy_sensor"),
            {"entity": entity, "central_system": self.entry.title},
        )
