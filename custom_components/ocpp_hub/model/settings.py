"""What the charger's own settings say, by meaning rather than by key.

Each OCPP version names its settings differently (1.6 configuration keys,
some of them a vendor's; 2.0.1 device-model variables): the version's mapping
reads the reported configuration into :class:`ReportedSettings`, and the rest
of the model uses only these facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
import math
from typing import Any


@dataclass(frozen=True, slots=True)
class ReportedSettings:
    """Facts the charger's configuration reports (None: not reported)."""

    # Authorization is required to charge (the charger is locked), not free vend.
    authorization_required: bool | None = None
    # The charger's own current ceiling in amperes, as reported (not checked here).
    current_ceiling_a: float | None = None
    # The charger switches between one and three phases on request (numberPhases).
    phase_switching: bool = False
    # How many connectors the charger says it has.
    connector_count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportedSettings:
        """Restore from storage; what cannot be read is not reported."""
        required = data.get("authorization_required")
        ceiling = data.get("current_ceiling_a")
        count = data.get("connector_count")
        return cls(
            authorization_required=required if isinstance(required, bool) else None,
            current_ceiling_a=float(ceiling)
            if isinstance(ceiling, int | float) and not isinstance(ceiling, bool)
            else None,
            phase_switching=data.get("phase_switching") is True,
            connector_count=count
            if isinstance(count, int) and not isinstance(count, bool)
            else None,
        )


# A version's reading of a charger's configuration (key or Component.Variable -> value).
SettingsReader = Callable[[Mapping[str, str]], ReportedSettings]


def flag(value: str | None) -> bool | None:
    """A boolean setting as chargers report it ("true" / "false", any case); None if absent."""
    return None if value is None else value.strip().lower() == "true"


def number(value: str | None) -> float | None:
    """A numeric setting; None if absent or not a finite number."""
    try:
        parsed = float(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is not None and math.isfinite(parsed) else None


def whole_number(value: str | None) -> int | None:
    """A whole-number setting; None if absent or not a whole number."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def reported_key(configuration: Mapping[str, str], key: str) -> str | None:
    """The key as the charger spells it (keys and variable names are case-insensitive)."""
    if key in configuration:
        return key
    folded = key.casefold()
    return next((k for k in configuration if k.casefold() == folded), None)


def reported_value(configuration: Mapping[str, str], key: str) -> str | None:
    """The value of ``key`` spelled in any case."""
    known = reported_key(configuration, key)
    return None if known is None else configuration[known]
