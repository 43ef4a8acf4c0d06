"""What changed in a charger model, and who is told: topics and their listeners.

Every change of a :class:`~.charger.Charger` ends with one call to the listeners,
so an entity subscribed to its charger updates in the same event-loop turn as
the message. A listener subscribes to everything, or to the :class:`Topic` s it
shows (for a connector, or for any connector): a MeterValues wakes what shows
meter readings, not the ~25 entities of the charger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Protocol

Listener = Callable[[], None]


class Topic(StrEnum):
    """What an ``apply_*`` method changed: what a listener may subscribe to.

    The first group belongs to the charger as a whole; :data:`CONNECTOR_TOPICS`
    are news of one connector (or, notified without a connector, of any).
    """

    # The websocket: connected, its address, why we closed it; whether the charger
    # is still starting (after BootNotification, until its first StatusNotification).
    CONNECTION = "connection"
    BOOT = "boot"  # BootNotification: identity, vendor profile (LED, lock), last boot
    REBOOT = "reboot"  # the reboot record
    HEARTBEAT = "heartbeat"
    CONFIGURATION = "configuration"  # configuration keys (lock, current ceiling, settings)
    LOCK = "lock"  # the owner's lock and auto-lock settings
    LIMIT = "limit"  # the current limit: asked for, sent, its status; pause
    SCHEDULE = "schedule"  # the owner's charging window
    AVAILABILITY = "availability"  # an availability change scheduled after the session
    PROTECTION = "protection"  # offline protection applied at boot
    FIRMWARE = "firmware"  # firmware and diagnostics upload status
    LEARN = "learn"  # the Learn card window
    CARD = "card"  # authorization decisions (cards presented)
    REPORT = "report"  # what the charger reports of itself (events, security events)
    # Charge mode, priority and the energy manager's decision (and the session's
    # solar share).
    CONTROL = "control"
    # Per connector.
    STATUS = "status"  # StatusNotification: status, error code, its info
    SESSION = "session"  # the running and last transaction; authorization
    METER = "meter"  # energy register, power, currents, voltages, offered, SoC


CONNECTOR_TOPICS = frozenset({Topic.STATUS, Topic.SESSION, Topic.METER})


class Notify(Protocol):
    """How a part of a charger tells the charger's listeners (:meth:`Listeners.notify`)."""

    def __call__(self, *topics: Topic, connector_id: int | None = None) -> None:
        """Tell the listeners of ``topics`` that they changed."""


class Listeners:
    """The listeners of one charger, by topic and connector, and how they are told."""

    def __init__(self) -> None:
        """Nobody listens yet."""
        # Listeners of every change, and of topics: per topic, per connector (None: any).
        self._listeners: list[Listener] = []
        self._topic_listeners: dict[Topic, dict[int | None, list[Listener]]] = {}
        # A connector appeared: what "main" and "outlets" are may have changed.
        self._layout_changed = False

    def add_listener(
        self,
        listener: Listener,
        topics: Iterable[Topic] | None = None,
        connector_id: int | None = None,
    ) -> Callable[[], None]:
        """Call ``listener`` after changes; returns the function that removes it.

        Without ``topics``: after every change. With them: after changes of those
        topics, and after a notification without topics. ``connector_id`` narrows
        the connector topics (:data:`CONNECTOR_TOPICS`) to that connector; without
        it they mean any connector. The charger's topics ignore it.
        """
        if topics is None:
            self._listeners.append(listener)
            return lambda: self._listeners.remove(listener)
        lists: list[list[Listener]] = []
        for topic in set(topics):
            scope = connector_id if topic in CONNECTOR_TOPICS else None
            listeners = self._topic_listeners.setdefault(topic, {}).setdefault(scope, [])
            listeners.append(listener)
            lists.append(listeners)

        def remove() -> None:
            for listeners in lists:
                listeners.remove(listener)

        return remove

    @property
    def listener_count(self) -> int:
        """Subscriptions: every-change listeners, and one per topic of the others."""
        return len(self._listeners) + sum(
            len(listeners)
            for by_connector in self._topic_listeners.values()
            for listeners in by_connector.values()
        )

    def notify(self, *topics: Topic, connector_id: int | None = None) -> None:
        """Tell the listeners of ``topics`` (no topics: every listener) that they changed.

        ``connector_id``: the connector the connector topics are news of (None:
        possibly any). Each listener is called once, those of every change first.
        A connector that appeared since the last notification wakes everyone.
        """
        if self._layout_changed:
            self._layout_changed = False
            topics = ()
        woken = list(self._listeners)
        if not topics:
            for by_connector in self._topic_listeners.values():
                for listeners in by_connector.values():
                    woken += listeners
        else:
            for topic in topics:
                subscribed = self._topic_listeners.get(topic)
                if not subscribed:
                    continue
                if connector_id is None or topic not in CONNECTOR_TOPICS:
                    for listeners in subscribed.values():
                        woken += listeners
                else:
                    woken += subscribed.get(connector_id, ())
                    woken += subscribed.get(None, ())
        for listener in dict.fromkeys(woken):
            listener()
