"""The platforms' entity factories: every charger and connector gets their entities once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .registered_charger import RegisteredCharger

# Creates the entities of one platform for a charger: connector_ids empty means
# the charger-level entities, otherwise the entities of those connectors.
type EntityFactory = Callable[[RegisteredCharger, Sequence[int]], Sequence[Entity]]


class EntityFactories:
    """The entity factory of every platform of one central system, and where each went."""

    def __init__(self) -> None:
        """No platform set up yet."""
        self._factories: list[tuple[EntityFactory, AddConfigEntryEntitiesCallback]] = []

    def register(
        self, factory: EntityFactory, add_entities: AddConfigEntryEntitiesCallback
    ) -> None:
        """A platform's factory, and how its entities are added."""
        self._factories.append((factory, add_entities))

    def add_missing(self, registered: RegisteredCharger) -> None:
        """Give every platform's entities to the charger, and to each of its connectors.

        Connector entities exist once a charger has reported more than one
        connector; ``registered.covered`` remembers (platform, connector) pairs
        done, connector None standing for the charger-level entities.
        """
        count = registered.charger.connector_count
        registered.connectors_seen = count
        wanted: list[int | None] = [None, *(range(1, count + 1) if count > 1 else ())]
        for index, (factory, add_entities) in enumerate(self._factories):
            missing = [key for key in wanted if (index, key) not in registered.covered]
            if not missing:
                continue
            registered.covered.update((index, key) for key in missing)
            entities: list[Entity] = []
            if None in missing:
                entities += factory(registered, [])
            if connectors := [key for key in missing if key is not None]:
                entities += factory(registered, connectors)
            if entities:
                add_entities(entities, config_subentry_id=registered.subentry_id)
