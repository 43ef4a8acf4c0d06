"""Form fields shared by the config, subentry and options flows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import CONF_PASSWORD, CONF_PROTOCOL
from .csms.auth import generate_password, password_acceptable

TEXT = TextSelector()
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
CONF_NAME = "name"


def box(minimum: float, maximum: float, unit: str | None = None) -> NumberSelector:
    """A whole number typed in a box."""
    config = NumberSelectorConfig(min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


# ------------------------------------------------------------------ password of a new charger
CONF_PASSWORD_CHOICE = "password_choice"
PASSWORD_GENERATE = "generate"
PASSWORD_OWN = "own"
PASSWORD_NONE = "none"
_PASSWORD_CHOICE = SelectSelector(
    SelectSelectorConfig(
        options=[PASSWORD_GENERATE, PASSWORD_OWN, PASSWORD_NONE],
        translation_key=CONF_PASSWORD_CHOICE,
        mode=SelectSelectorMode.LIST,
    )
)


def password_fields() -> dict[Any, Any]:
    """How a new charger gets its password: generated unless the owner says otherwise."""
    return {
        probatio.Optional(CONF_PASSWORD_CHOICE, default=PASSWORD_GENERATE): _PASSWORD_CHOICE,
        probatio.Optional(CONF_PASSWORD): PASSWORD,
    }


def chosen_password(user_input: Mapping[str, Any]) -> tuple[str | None, bool, str | None]:
    """(password or None for none, whether it was generated, the password field's error or None).

    A password typed in wins over the choice; it must follow the OCPP rule
    (16 to 40 printable characters). No password is only ever an explicit choice.
    """
    typed = str(user_input.get(CONF_PASSWORD) or "")
    choice = user_input.get(CONF_PASSWORD_CHOICE, PASSWORD_GENERATE)
    if typed:
        return (
            (typed, False, None) if password_acceptable(typed) else (None, False, "weak_password")
        )
    if choice == PASSWORD_OWN:
        return None, False, "password_missing"
    if choice == PASSWORD_NONE:
        return None, False, None
    return generate_password(), True, None


# ------------------------------------------------------------------ OCPP version of a charger
CONF_OCPP_VERSION = "ocpp_version"
OCPP_AUTOMATIC = "automatic"
# The owner's choice -> the subprotocol its registration pins (None: the newest both speak).
OCPP_VERSIONS: dict[str, str | None] = {
    OCPP_AUTOMATIC: None,
    "ocpp16": "ocpp1.6",
    "ocpp201": "ocpp2.0.1",
}
OCPP_VERSION_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=list(OCPP_VERSIONS),
        translation_key=CONF_OCPP_VERSION,
        mode=SelectSelectorMode.LIST,
    )
)


def version_choice(data: Mapping[str, Any]) -> str:
    """The choice that shows a charger's stored pin (automatic when none)."""
    pinned = data.get(CONF_PROTOCOL)
    return next((key for key, value in OCPP_VERSIONS.items() if value == pinned), OCPP_AUTOMATIC)


def with_version(data: Mapping[str, Any], user_input: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the version chosen in ``user_input`` pinned (or no pin: automatic)."""
    new = dict(data)
    new.pop(CONF_PROTOCOL, None)
    if pinned := OCPP_VERSIONS.get(str(user_input.get(CONF_OCPP_VERSION) or OCPP_AUTOMATIC)):
        new[CONF_PROTOCOL] = pinned
    return new
