"""RFID cards: how a card the user typed in matches the idTag a charger sends.

A card's UID is 4, 7 or 10 bytes. Chargers send it as hex without separators,
but not all in the same byte order: Wallbox reads it little-endian, OCPP 2.0.1
guidance says byte 0 first. What is printed on a card is often a decimal number
instead. So a card entered as hex matches either byte order, and a card entered
as a decimal number also matches its 4- and 7-byte hex forms in either order.
An all-digit entry is ambiguous (hex or decimal?): both readings are kept.

idTag is OCPP's CiString20: at most 20 characters, compared case-insensitively.
See docs/chargers.md (Wallbox) and the README, "Lock and cards".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
import re
import string
from typing import Any

ID_TAG_MAX_LENGTH = 20
"""idTag is CiString20."""

DECIMAL_UID_BYTES = (4, 7)
"""The UID widths a decimal card number is converted to (10-byte numbers are not printed)."""

_SEPARATORS = re.compile(r"[\s:.\-]+")
_HEX_DIGITS = frozenset(string.hexdigits.upper())


def normalise(text: str) -> str:
    """The text without spaces, colons, dashes and dots, in upper case."""
    return _SEPARATORS.sub("", text).upper()


def reverse_bytes(hex_text: str) -> str:
    """Hex text with its bytes (pairs of digits) in the opposite order."""
    if len(hex_text) % 2:
        raise ValueError(f"{hex_text!r} has an odd number of hex digits")
    return "".join(reversed([hex_text[i : i + 2] for i in range(0, len(hex_text), 2)]))


def _hex_forms(hex_text: str) -> set[str]:
    """The hex as given and, if it is whole bytes, byte-reversed."""
    if len(hex_text) % 2:
        return {hex_text}
    return {hex_text, reverse_bytes(hex_text)}


def _decimal_hex(value: int, width: int) -> str:
    """A number as big-endian hex of exactly ``width`` bytes."""
    return f"{value:0{2 * width}X}"


def _decimal_widths(value: int) -> list[int]:
    """The UID widths (in bytes) a decimal card number fits in."""
    return [width for width in DECIMAL_UID_BYTES if value < 256**width]


@lru_cache(maxsize=1024)
def id_tag_forms(entered: str) -> frozenset[str]:
    """Every idTag (upper case) that a card entered as printed may arrive as.

    Raises ValueError if the entry is empty, has characters that are neither hex
    digits nor separators, or has no form that fits in an idTag (20 characters).
    """
    text = normalise(entered)
    if not text:
        raise ValueError("The card number is empty: enter its UID in hex or its printed number")
    invalid = sorted(set(text) - _HEX_DIGITS)
    if invalid:
        raise ValueError(
            f"The card number {entered!r} has characters that are not hex digits: "
            f"{''.join(invalid)} (allowed: 0-9, A-F and the separators space : - .)"
        )
    forms = _hex_forms(text)
    if text.isdigit():
        value = int(text)
        for width in _decimal_widths(value):
            forms |= _hex_forms(_decimal_hex(value, width))
    fitting = frozenset(form for form in forms if len(form) <= ID_TAG_MAX_LENGTH)
    if not fitting:
        raise ValueError(
            f"The card number {entered!r} is too long: an idTag has at most "
            f"{ID_TAG_MAX_LENGTH} characters (a 10-byte UID is 20 hex digits)"
        )
    return fitting


@dataclass(frozen=True, slots=True)
class Card:
    """An RFID card the user registered.

    ``uid`` is what the user entered (hex UID or printed decimal number),
    normalised on construction; an entry that can never match raises ValueError.
    """

    uid: str
    name: str
    enabled: bool = True

    def __post_init__(self) -> None:
        """Normalise and check the entry."""
        object.__setattr__(self, "uid", normalise(self.uid))
        id_tag_forms(self.uid)

    @property
    def forms(self) -> frozenset[str]:
        """Every idTag (upper case) this card may arrive as."""
        return id_tag_forms(self.uid)

    def matches(self, id_tag: str) -> bool:
        """Whether a charger's idTag is this card (case-insensitive)."""
        return id_tag.upper() in self.forms

    def as_dict(self) -> dict[str, Any]:
        """For storage."""
        return {"uid": self.uid, "name": self.name, "enabled": self.enabled}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Card:
        """From storage; raises ValueError on data that is not a card."""
        uid = data.get("uid")
        name = data.get("name", "")
        enabled = data.get("enabled", True)
        if not (isinstance(uid, str) and isinstance(name, str) and isinstance(enabled, bool)):
            # One error type for every kind of corrupt card: callers catch ValueError.
            raise ValueError(f"A stored card is not valid: {dict(data)!r}")  # noqa: TRY004
        return cls(uid=uid, name=name, enabled=enabled)


def find_card(cards: Iterable[Card], id_tag: str) -> Card | None:
    """The first card that matches an idTag, enabled or not (the caller decides)."""
    return next((card for card in cards if card.matches(id_tag)), None)


def local_list_id_tag(card: Card, little_endian: bool) -> str:
    """The idTag to put in a charger's local authorization list for a card.

    ``little_endian`` is the charger's byte order (True for Wallbox). A hex entry
    is sent as entered, or byte-reversed for a little-endian charger. An all-digit
    entry is taken as a printed decimal number (the usual reason for one) and sent
    as its 4-byte hex, or 7-byte if it does not fit in 4; an all-digit number too
    large for 7 bytes can only be hex. An odd number of hex digits is not a UID
    and is sent as entered.
    """
    return local_list_id_tags(card, little_endian)[0]


def local_list_id_tags(card: Card, little_endian: bool) -> list[str]:
    """Every idTag a charger may read for a card, the likeliest first.

    The first is ``local_list_id_tag``. An all-digit entry that could also be a
    hex UID adds that reading second: a charger with room in its local list can
    take both, so the card works offline whichever it was.
    """
    uid = card.uid
    readings: list[str] = []
    if uid.isdigit() and (widths := _decimal_widths(int(uid))):
        readings.append(_decimal_hex(int(uid), widths[0]))
    if len(uid) <= ID_TAG_MAX_LENGTH:
        readings.append(uid)
    ordered = [
        reverse_bytes(hex_text) if little_endian and len(hex_text) % 2 == 0 else hex_text
        for hex_text in readings
    ]
    return list(dict.fromkeys(ordered))
