"""Vendor quirk profiles, chosen by (vendor, model, firmware).

A profile collects what differs between chargers so that no other module has
to test vendor names: the LED mapping, how the lock is read from the charger's
configuration, which DataTransfer vendor ids are understood. Facts marked
"inferred" in docs/domain.md live here, in one place, easy to correct.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .led import LedColour, LedInput, generic_led, wallbox_led


def _lock_from_standard_keys(configuration: dict[str, str]) -> bool | None:
    """Generic chargers: no standard key says "free vend"; unknown until we enforce it."""
    del configuration
    return None


def _lock_from_wallbox_keys(configuration: dict[str, str]) -> bool | None:
    """Wallbox: AuthEnabled=true means authorization required (inferred, see domain.md)."""
    value = configuration.get("AuthEnabled")
    if value is None:
        return None
    return value.strip().lower() == "true"


@dataclass(frozen=True, slots=True)
class QuirkProfile:
    """What we know about one family of chargers."""

    key: str
    name: str
    led: Callable[[LedInput], LedColour | None]
    lock_from_configuration: Callable[[dict[str, str]], bool | None]
    data_transfer_vendor_ids: frozenset[str] = frozenset()


GENERIC = QuirkProfile(
    key="generic",
    name="Generic OCPP 1.6J charger",
    led=generic_led,
    lock_from_configuration=_lock_from_standard_keys,
)

WALLBOX = QuirkProfile(
    key="wallbox",
    name="Wallbox (Pulsar, Commander, Copper)",
    led=wallbox_led,
    lock_from_configuration=_lock_from_wallbox_keys,
    data_transfer_vendor_ids=frozenset({"com.wallbox"}),
)

PROFILES = (WALLBOX, GENERIC)


def select_profile(vendor: str | None, model: str | None, firmware: str | None) -> QuirkProfile:
    """Pick the profile for a charger; the generic one when nothing matches.

    Model and firmware are accepted now so that firmware-line quirks (5.x vs
    6.x on Wallbox) can be added without changing any caller.
    """
    del model, firmware
    normalised = (vendor or "").strip().lower()
    if normalised.startswith("wall box") or normalised.startswith("wallbox"):
        return WALLBOX
    return GENERIC


def profile_by_key(key: str | None) -> QuirkProfile:
    """Restore a profile from its stored key."""
    return next((p for p in PROFILES if p.key == key), GENERIC)
