"""Text from the network, made fit for a log line or an error message.

Anything a charger (or anyone on the network) sends may be megabytes long and
may hold line breaks or terminal escapes that forge log lines. Every piece of
such text that goes into a log line, an exception or a CALLERROR description
passes through :func:`untrusted`: cut short, escaped, and marked when cut.
"""

from __future__ import annotations

import reprlib

LOG_TEXT_CHARS = 80
"""Characters of network text kept in a log line by default."""

_REPR = reprlib.Repr(maxlevel=2, maxdict=4, maxlist=4, maxtuple=4, maxlong=40, maxother=40)
_REPR.maxstring = LOG_TEXT_CHARS


def shown(text: str, limit: int = 100) -> str:
    """Network text as an entity attribute shows it: printable, at most ``limit`` characters."""
    return "".join(ch if ch.isprintable() else " " for ch in text[:limit])


def _escape(text: str) -> str:
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        char if char.isprintable() and char != "\\" else char.encode("unicode_escape").decode()
        for char in text
    )


def untrusted(value: object, limit: int = LOG_TEXT_CHARS) -> str:
    """``value`` as at most ``limit`` printable characters (plus a note of its length).

    Strings are cut and their control characters escaped (a line break becomes
    ``\\n``); other values (numbers, arrays, objects from a JSON frame) are shown
    by a bounded ``repr`` that never expands a huge or deeply nested value.
    """
    if not isinstance(value, str):
        try:
            value = _REPR.repr(value)
        except Exception:  # a value that cannot even be shown
            value = f"<{type(value).__name__}>"
    if len(value) <= limit:
        return _escape(value)
    return f"{_escape(value[:limit])}… ({len(value)} characters)"
