"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.ocpp_hub.const import DOMAIN


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the event loop run until ``condition()`` holds (fail after ``timeout``)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polls state that several parties change
            await asyncio.sleep(0.01)


async def wait_for_state(
    hass: HomeAssistant, entity_id: str, expected: str, timeout: float = 5.0
) -> None:
    """Wait until ``entity_id`` shows ``expected``; the assertion names what it saw."""
    try:
        await wait_for(
            lambda: (s := hass.states.get(entity_id)) is not None and s.state == expected,
            timeout,
        )
    except TimeoutError:
        state = hass.states.get(entity_id)
        raise AssertionError(
            f"{entity_id} is {state.state if state else 'missing'}, expected {expected}"
        ) from None


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


def charger_device(hass: HomeAssistant, entry_id: str, identity: str) -> dr.DeviceEntry | None:
    """The device of charger ``identity`` of the central system ``entry_id``, if any."""
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry_id}_{identity}"), entry_id
    )
