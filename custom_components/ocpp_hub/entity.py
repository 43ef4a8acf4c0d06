"""The base entity: device info, naming, and a push subscription to its charger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .controller import ChargerController
from .model.charger import Charger, Connector, Topic
from .registered_charger import RegisteredCharger, device_details


def charger_device_info(registered: RegisteredCharger) -> DeviceInfo:
    """The charger's device as every entity of it describes it."""
    info = device_details(registered.charger)
    info["identifiers"] = {registered.device_identifier}
    info["name"] = registered.name
    return info


@dataclass(frozen=True, kw_only=True)
class OcppHubEntityDescription(EntityDescription):
    """What every entity description of this integration has.

    ``value_fn`` reads the entity's value from the model. For a charger-level
    entity the connector is the charger's main connector; for a connector
    entity (``per_connector``) it is that connector.

    ``topics``: what ``value_fn`` and ``attrs_fn`` read, so the entity is woken by
    those changes only (a connector entity by its connector's). None: by every
    change of the charger (the safe default). An entity that needs the connection
    follows :attr:`Topic.CONNECTION` too.
    """

    value_fn: Callable[[Charger, Connector], Any]
    attrs_fn: Callable[[Charger, Connector], dict[str, Any]] | None = None
    per_connector: bool = False
    # A control: unavailable while the charger is not connected (nothing could reach
    # it, and a changed setting would look applied when it is not). Readings keep
    # showing the last values the charger reported.
    needs_connection: bool = False
    topics: frozenset[Topic] | None = None


class OcppHubEntity(Entity):
    """An entity of one charger (or one of its connectors), updated by push."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: OcppHubEntityDescription

    def __init__(
        self,
        registered: RegisteredCharger,
        description: OcppHubEntityDescription,
        connector_id: int | None = None,
    ) -> None:
        """Describe the entity; its value is read at once from the model."""
        self.entity_description = description
        self._registered = registered
        self._charger = registered.charger
        self._connector_id = connector_id
        unique = f"{registered.entry_id}_{registered.identity}_{description.key}"
        if connector_id is not None:
            unique += f"_connector_{connector_id}"
            self._attr_translation_placeholders = {"connector": str(connector_id)}
        self._attr_unique_id = unique
        self._attr_device_info = charger_device_info(registered)
        self._value: Any = None
        self._attrs: dict[str, Any] | None = None
        self._value, self._attrs = self._read()
        self._reachable = self._connected()

    @property
    def controller(self) -> ChargerController:
        """Commands for this entity's charger."""
        return self._registered.controller

    @property
    def connector_id(self) -> int:
        """The connector commands address (1 for charger-level entities)."""
        return self._connector_id or 1

    def _connected(self) -> bool:
        return self._charger.connected or not self.entity_description.needs_connection

    @property
    def available(self) -> bool:
        """A control is available while its charger is connected; readings always."""
        return self._reachable

    def _read(self) -> tuple[Any, dict[str, Any] | None]:
        charger = self._charger
        connector = (
            charger.main if self._connector_id is None else charger.connector(self._connector_id)
        )
        description = self.entity_description
        attrs = description.attrs_fn(charger, connector) if description.attrs_fn else None
        return description.value_fn(charger, connector), attrs

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes read at the last change, where the description has any."""
        return self._attrs

    async def async_added_to_hass(self) -> None:
        """Follow the charger: write state when, and only when, the value changed."""
        self._value, self._attrs = self._read()  # the charger may have spoken since __init__
        self._reachable = self._connected()
        self.async_on_remove(
            self._charger.add_listener(
                self._charger_changed, self.charger_topics, self._connector_id
            )
        )

    @property
    def charger_topics(self) -> frozenset[Topic] | None:
        """What the entity follows (None: every change of its charger)."""
        description = self.entity_description
        topics = description.topics
        if topics is not None and description.needs_connection:
            topics |= {Topic.CONNECTION}
        return topics

    @callback
    def _charger_changed(self) -> None:
        value, attrs = self._read()
        reachable = self._connected()
        if value != self._value or attrs != self._attrs or reachable != self._reachable:
            self._value, self._attrs, self._reachable = value, attrs, reachable
            self.async_write_ha_state()


def build_entities[E: OcppHubEntity](
    registered: RegisteredCharger,
    connector_ids: list[int] | tuple[int, ...],
    descriptions: tuple[OcppHubEntityDescription, ...],
    entity_class: Callable[[RegisteredCharger, Any, int | None], E],
) -> list[E]:
    """The entities of ``descriptions`` for a charger (no connector ids) or its connectors."""
    if not connector_ids:
        return [entity_class(registered, d, None) for d in descriptions if not d.per_connector]
    return [
        entity_class(registered, d, cid)
        for cid in connector_ids
        for d in descriptions
        if d.per_connector
    ]


class OcppHubSessionEntity(Entity):
    """An entity that shows a charger's finished sessions, updated when one finishes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, registered: RegisteredCharger, key: str) -> None:
        """Attach to the charger's device."""
        self._registered = registered
        self._attr_unique_id = f"{registered.entry_id}_{registered.identity}_{key}"
        # The whole device: this platform may be set up before the others create it.
        self._attr_device_info = charger_device_info(registered)

    async def async_added_to_hass(self) -> None:
        """Write state again when a session finishes."""
        self.async_on_remove(self._registered.sessions.add_listener(self._sessions_changed))

    @callback
    def _sessions_changed(self) -> None:
        self.async_write_ha_state()
