"""What must never be stored, logged or exported: card numbers, serials, secret settings.

Redaction works on parsed JSON, never on text: a frame cut short for the frame
log cannot leak half a card number, and a key written with JSON escapes is
still recognised. Configuration keys whose values are secrets (OCPP's
``AuthorizationKey``, a vendor's ``WebSocketPassword``, a PIN or PUK...) are
recognised by their names, in any case (:func:`is_secret_key`).
"""

from __future__ import annotations

from functools import lru_cache
import re
from typing import Any

REDACTED = "**REDACTED**"

# OCPP fields whose values identify a card or a device.
SECRET_FIELDS = frozenset(
    {
        "idTag",
        "parentIdTag",
        "idToken",  # 2.0.1: the card (an object holding idToken and its type)
        "groupIdToken",
        "chargePointSerialNumber",
        "chargeBoxSerialNumber",
        "meterSerialNumber",
        "serialNumber",  # 2.0.1: the station's (BootNotification) and its modem's
        "iccid",
        "imsi",
    }
)

# Judged case-insensitively: chargers and owners spell names in any case
# (``securityctrlr.basicauthpassword`` is as secret as ``SecurityCtrlr.BasicAuthPassword``).
# Long secret words and compound names are secret anywhere in the lower-cased name;
# short ones only as whole words, so ``WebSocketPingInterval`` is no PIN.
_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credentials",
    "authorizationkey",
    "authkey",
    "privatekey",
    "apikey",
    "accesskey",
)
# The words of a name: WebSocketPwd -> web, socket, pwd; basic_pin -> basic, pin.
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SHORT_SECRET_WORDS = frozenset({"pwd", "pin", "puk"})

# Deeper than any OCPP payload: what lies below is not kept in a redacted copy.
_MAX_DEPTH = 12


@lru_cache(maxsize=512)
def is_secret_key(key: str) -> bool:
    """Whether a configuration key's value is a secret (never stored or logged).

    Case-insensitive: a long secret word (password, token...) anywhere in the
    name makes it secret; a short one (pin, puk, pwd) only as a word of its own,
    split at capitals or separators (``DevicePin``, ``device_pin``, ``PIN``).
    """
    folded = key.casefold()
    if any(part in folded for part in _SECRET_PARTS):
        return True
    return any(word.casefold() in _SHORT_SECRET_WORDS for word in _WORDS.findall(key))


def public_configuration(values: dict[str, str]) -> dict[str, str]:
    """Configuration values without the secret ones."""
    return {key: value for key, value in values.items() if not is_secret_key(key)}


_NAMES_IN_TEXT = (*sorted(SECRET_FIELDS), '"key"', '"variable"')
# Where a 2.0.1 variable's value is, next to the variable: GetVariables / SetVariables
# (attributeValue), NotifyReport (each of variableAttribute's value), NotifyEvent
# (actualValue).
_VARIABLE_VALUES = frozenset({"attributeValue", "variableAttribute", "actualValue"})


def _variable_text(component: Any, variable: Any) -> str | None:
    """A 2.0.1 variable's whole name (component, variable, their instances), if any.

    Judged as a whole, as the model judges the names it stores: a secret word in the
    component's name makes its variables secret too.
    """
    if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
        return None
    parts = [component, variable] if isinstance(component, dict) else [variable]
    return ".".join(
        str(part[field])
        for part in parts
        for field in ("name", "instance")
        if isinstance(part.get(field), str)
    )


def may_hold_secrets(text: str) -> bool:
    """Whether the frame ``text`` parses to anything :func:`redact_secrets` would replace.

    A quick test, not a redaction: an object key parsed from JSON text appears in
    it literally unless the text escapes something (a backslash), in which case
    the answer is True. Frames without secrets (most MeterValues) skip the walk.
    """
    return "\\" in text or any(name in text for name in _NAMES_IN_TEXT)


def redact_secrets(value: Any, depth: int = 0) -> tuple[Any, bool]:
    """(``value`` with secrets replaced, whether anything was replaced).

    Secrets are the values of :data:`SECRET_FIELDS`, the ``value`` next to a
    secret configuration ``key`` (1.6: GetConfiguration, ChangeConfiguration) and
    the value of a secret 2.0.1 ``variable`` (GetVariables, SetVariables,
    NotifyReport, NotifyEvent), judged by its component's name too. Containers are
    copied only where something changed.
    """
    if depth > _MAX_DEPTH:
        return "…", True
    if isinstance(value, dict):
        key = value.get("key")
        variable = value.get("variable")
        secret_setting = isinstance(key, str) and is_secret_key(key)
        variable_text = _variable_text(value.get("component"), variable)
        secret_variable = variable_text is not None and is_secret_key(variable_text)
        changed = False
        result: dict[str, Any] = {}
        for name, item in value.items():
            if (
                name in SECRET_FIELDS
                or (secret_setting and name == "value")
                or (secret_variable and name in _VARIABLE_VALUES)
            ):
                result[name] = REDACTED
                changed = True
            else:
                result[name], child_changed = redact_secrets(item, depth + 1)
                changed = changed or child_changed
        return (result, True) if changed else (value, False)
    if isinstance(value, list):
        items = [redact_secrets(item, depth + 1) for item in value]
        if any(changed for _, changed in items):
            return [item for item, _ in items], True
        return value, False
    return value, False
