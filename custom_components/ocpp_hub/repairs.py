"""Repair issues: what went wrong that the owner can fix, raised and cleared in one way.

Every issue of the integration carries exact instructions in its translation
(translations/*.json, section "issues"); none needs a fix flow, because the
fix happens on the charger, the network or in the entry's own settings.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

# What turns plain text into links, images or HTML in Markdown: brackets, angle brackets,
# and the slashes of bare URLs (autolinks). Emphasis is left alone: the same text also
# appears in plain-text titles, where every backslash shows.
_MARKDOWN = frozenset("\\[]<>/")


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
