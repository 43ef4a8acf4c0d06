"""Vendor quirk profiles, chosen by (vendor, model, firmware).

A profile collects what differs between chargers so that no other module has
to test vendor names: the LED mapping, whether the lock is a setting of the
charger, which DataTransfer vendor ids are understood. Facts marked
"inferred" in docs/chargers.md live here, in one place, easy to correct.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .led import LedColour, LedInput, generic_led, wallbox_led


@dataclass(frozen=True, slots=True)
class QuirkProfile:
    """What we know about one family of chargers."""

    key: str
    name: str
    led: Callable[[LedInput], LedColour | None]
    # The charger has a setting that switches free vend off (authorization required):
    # the lock is read back from it (each version's mapping says what it is called).
    lock_setting: bool = False
    data_transfer_vendor_ids: frozenset[str] = frozenset()
    # Byte order of RFID UIDs in idTags (Wallbox: little-endian hex).
    little_endian_uids: bool = False
    # Smart charging: stack level and profile id of our limit, and whether the charger
    # needs it as a TxProfile of the running transaction (instead of TxDefaultProfile).
    limit_stack_level: int = 0
    limit_profile_id: int = 1
    limit_as_tx_profile: bool = False
    min_current_a: int = 6
    # How the device page names the maker, and the models by the start of their code
    # (the raw code stays the device's model id).
    brand: str | None = None
    model_names: tuple[tuple[str, str], ...] = ()

    def model_name(self, model: str | None) -> str | None:
        """A readable model name where the profile knows the code."""
        code = (model or "").strip().upper()
        return next((name for prefix, name in self.model_names if code.startswith(prefix)), None)


GENERIC = QuirkProfile(
    key="generic",
    name="Generic OCPP 1.6J charger",
    led=generic_led,
)

WALLBOX = QuirkProfile(
    key="wallbox",
    name="Wallbox (Pulsar, Commander, Copper)",
    led=wallbox_led,
    # A vendor setting requires authorization (inferred, see docs/chargers.md).
    lock_setting=True,
    data_transfer_vendor_ids=frozenset({"com.wallbox"}),
    little_endian_uids=True,
    brand="Wallbox",
    # Model codes (inferred from Wallbox's part numbers, see docs/chargers.md).
    model_names=(
        ("PLP", "Pulsar Plus"),
        ("PUP", "Pulsar Plus"),
        ("CMX", "Commander 2"),
        ("CPB", "Copper SB"),
    ),
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
