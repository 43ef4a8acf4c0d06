"""The replay's control modes and how each is put in place in Home Assistant.

:class:`Rig` is one running replay (Home Assistant, the chargers, the site).
:func:`configure_mode` puts a mode in place before the day starts: ``baseline``
needs nothing, ``blueprint`` loads the repository's solar surplus blueprint as a
real automation (:func:`configure_blueprint`), and the energy manager's modes go
through the one seam to the integration's options and entities,
:func:`configure_energy_manager`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import shutil
from typing import Any

import harness
from replay_metrics import Site

from chargersim import SimulatedCharger

BLUEPRINT = harness.REPO_ROOT / "blueprints" / "automation" / "ocpp_hub" / "solar_surplus.yaml"

GRID_POWER = "sensor.grid_power"
GRID_CURRENTS = ("sensor.grid_current_l1", "sensor.grid_current_l2", "sensor.grid_current_l3")

CONTROL_MODES = ("baseline", "blueprint")
#: The integration's energy-manager modes (the "Charge mode" select's options).
ENERGY_MANAGER_MODES = ("fast", "solar", "min_solar")
ALL_MODES = CONTROL_MODES + ENERGY_MANAGER_MODES
DEFAULT_MODES = ("baseline", "blueprint", *ENERGY_MANAGER_MODES)


class ModeUnavailableError(RuntimeError):
    """The integration on this branch does not offer the mode (yet)."""


@dataclass
class Rig:
    """One running replay: Home Assistant, the chargers, what was measured."""

    under_test: harness.HassUnderTest
    chargers: list[SimulatedCharger]
    site: Site
    config_dir: Path

    @property
    def hass(self) -> Any:
        """Home Assistant."""
        return self.under_test.hass

    def entity_id(self, domain: str, key: str, index: int = 0) -> str | None:
        """The entity of charger ``index`` with description key ``key``, if it exists."""
        from homeassistant.helpers import entity_registry as er

        unique_id = f"{self.under_test.entry.entry_id}_{harness.charger_identity(index)}_{key}"
        return er.async_get(self.hass).async_get_entity_id(domain, harness.DOMAIN, unique_id)

    def site_options(self) -> dict[str, Any]:
        """The central system's site settings for the energy manager (entry options)."""
        return {
            "grid_power_entity": GRID_POWER,
            "grid_export_positive": False,
            "supply_phases": self.site.phases,
            "supply_voltage": self.site.voltage,
            "reaction": self.site.reaction,
            "site_limit": self.site.site_limit_a,
            "site_reserve": self.site.site_reserve_a,
            "house_current_entities": list(GRID_CURRENTS),
        }


# -- the seams -----------------------------------------------------------------------


async def configure_energy_manager(rig: Rig, mode: str) -> None:
    """Seam for the integration's energy manager: site options, then the charge mode.

    Writes :meth:`Rig.site_options` into the central system's entry options and
    selects ``mode`` on every charger's "Charge mode" select (description key
    ``charge_mode``; a "Charging priority" number ``charging_priority`` is set to
    the charger's index + 1 where it exists). If the option keys, the keys of
    the entities or the need to reload differ in the integration that lands,
    this is the one function to adjust. Raises :class:`ModeUnavailableError`
    while the integration has no charge mode select.
    """
    hass = rig.hass
    selects = [rig.entity_id("select", "charge_mode", i) for i in range(len(rig.chargers))]
    if None in selects:
        raise ModeUnavailableError("OCPP Hub has no 'Charge mode' select on this branch")
    entry = rig.under_test.entry
    hass.config_entries.async_update_entry(entry, options={**entry.options, **rig.site_options()})
    await hass.async_block_till_done()
    for index, select in enumerate(selects):
        priority = rig.entity_id("number", "charging_priority", index)
        if priority is not None:
            await hass.services.async_call(
                "number", "set_value", {"entity_id": priority, "value": index + 1}, blocking=True
            )
        await hass.services.async_call(
            "select", "select_option", {"entity_id": select, "option": mode}, blocking=True
        )
    await hass.async_block_till_done()


# -- the modes that need no seam -------------------------------------------------------


async def configure_blueprint(rig: Rig) -> None:
    """The solar surplus blueprint as a real automation on OCPP Hub's "Current limit"."""
    from homeassistant.setup import async_setup_component

    hass = rig.hass
    target = rig.config_dir / "blueprints" / "automation" / "ocpp_hub"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    automations = []
    for index in range(len(rig.chargers)):
        limit = rig.entity_id("number", "current_limit", index)
        charging = rig.entity_id("binary_sensor", "charging", index)
        assert limit is not None, "no current limit number"
        inputs: dict[str, Any] = {
            "grid_power": GRID_POWER,
            "current_limit": limit,
            "phases": str(rig.site.charger_phases),
            "max_current": int(rig.site.charger_limit_a),
        }
        if charging is not None:
            inputs["charging"] = charging
        automations.append(
            {
                "alias": f"Solar surplus {index}",
                "use_blueprint": {"path": f"ocpp_hub/{BLUEPRINT.name}", "input": inputs},
            }
        )
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()
    for index in range(len(rig.chargers)):
        state = hass.states.get(f"automation.solar_surplus_{index}")
        assert state is not None, "the blueprint automation did not load"
        assert state.state == "on", state


async def configure_mode(rig: Rig, mode: str) -> None:
    """Put the control ``mode`` in place before the day starts."""
    if mode == "baseline":
        return
    if mode == "blueprint":
        await configure_blueprint(rig)
        return
    if mode in ENERGY_MANAGER_MODES:
        await configure_energy_manager(rig, mode)
        return
    raise ValueError(f"unknown mode {mode!r}")
