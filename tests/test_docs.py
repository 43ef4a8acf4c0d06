"""The automation examples in docs/automations.md are valid Home Assistant automations."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
import yaml

EXAMPLES = Path(__file__).parent.parent / "docs" / "automations.md"


def examples() -> list[dict[str, Any]]:
    """Every YAML block of the page."""
    blocks = re.findall(r"```yaml\n(.*?)```", EXAMPLES.read_text(encoding="utf-8"), re.S)
    return [yaml.safe_load(block) for block in blocks]


def test_there_are_examples() -> None:
    """The page has the examples the README promises."""
    aliases = [example["alias"] for example in examples()]
    assert len(aliases) >= 4


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["alias"])
async def test_example_is_a_valid_automation(hass: HomeAssistant, example: dict[str, Any]) -> None:
    """Home Assistant accepts the example as it is written."""
    assert await async_setup_component(hass, "homeassistant", {})
    validated = await async_validate_config_item(hass, example["alias"], example)
    assert validated is not None
    assert validated.validation_error is None, validated.validation_error
