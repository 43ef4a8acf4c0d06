"""Form fields shared by the config, subentry and options flows."""

from __future__ import annotations

from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode


def box(minimum: float, maximum: float, unit: str | None = None) -> NumberSelector:
    """A whole number typed in a box."""
    config = NumberSelectorConfig(min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)
