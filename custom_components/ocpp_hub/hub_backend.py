"""What the protocol layer asks of the registered chargers: the hub's :class:`Backend`.

Who is registered and in which OCPP version, whether a password is right, what
becomes of a charger nobody registered (accepted at once, or held for the
owner's approval), whether a card may charge, the next transaction id, and
that a charger is ready to be set up. The server asks; :class:`HubBackend`
answers from the chargers :mod:`.hub` registered, and tells the repair issues
about passwords presented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import logging
from types import MappingProxyType

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant

from .charger_store import ChargerStore
from .const import CONF_AUTO_ACCEPT, CONF_IDENTITY, CONF_PROTOCOL, SUBENTRY_CHARGER
from .csms.auth import PasswordVerifier, password_acceptable
from .csms.backend import AuthorizationStatus, Registration
from .csms.port import ChargerPort
from .model.charger import Charger, ChargerInfo
from .pending_approvals import PendingApprovals, PendingCharger
from .registered_charger import RegisteredCharger
from .repairs import RepairIssues

_LOGGER = logging.getLogger(__name__)


class HubBackend:
    """The central system's questions, answered from the registered chargers."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        chargers: Mapping[str, RegisteredCharger],
        *,
        storage: ChargerStore,
        approvals: PendingApprovals,
        issues: RepairIssues,
        register: Callable[[ConfigSubentry], RegisteredCharger],
    ) -> None:
        """``chargers``: the hub's (read live); ``register`` adds one of its subentries."""
        self.hass = hass
        self.entry = entry
        self._chargers = chargers
        self._storage = storage
        self._approvals = approvals
        self._issues = issues
        self._register = register
        self._verifier = PasswordVerifier()

    def registration(self, identity: str) -> Registration | None:
        """The registration of ``identity``, or None if it is unknown."""
        registered = self._chargers.get(identity)
        if registered is None:
            return None
        subentry = self.entry.subentries.get(registered.subentry_id)
        return Registration(
            registered.charger,
            registered.password_hash is not None,
            registered.password_hash,
            protocol=subentry.data.get(CONF_PROTOCOL) if subentry is not None else None,
        )

    async def verify_password(self, identity: str, password: str) -> bool:
        """Check a charger's password against its stored hash."""
        registered = self._chargers.get(identity)
        if registered is None or registered.password_hash is None:
            return False
        stored = registered.password_hash
        if not await self._verifier.verify(password, stored):
            return False
        if self._chargers.get(identity) is not registered or registered.password_hash != stored:
            return False  # removed, or its password changed, while the password was checked
        # Shorter than OCPP's 16 characters (set before the rule): works, but says so.
        self._issues.password_presented(registered.name, identity, password_acceptable(password))
        return True

    def unknown_boot(
        self, identity: str, info: ChargerInfo, remote_address: str | None
    ) -> Charger | None:
        """An unregistered charger booted: register it (auto-accept) or ask the owner."""
        if self.entry.options.get(CONF_AUTO_ACCEPT, False):
            _LOGGER.info("Accepting new charger %s automatically", identity)
            self.hass.config_entries.async_add_subentry(
                self.entry,
                ConfigSubentry(
                    data=MappingProxyType({CONF_IDENTITY: identity}),
                    subentry_type=SUBENTRY_CHARGER,
                    title=identity,
                    unique_id=identity,
                ),
            )
            # The update listener may already have registered it (it can run eagerly).
            registered = self._chargers.get(identity) or self._register(
                self.entry.subentries[self._subentry_id_of(identity)]
            )
            return registered.charger
        self._approvals.hold(PendingCharger(identity, info, remote_address))
        return None

    def _subentry_id_of(self, identity: str) -> str:
        return next(sid for sid, sub in self.entry.subentries.items() if sub.unique_id == identity)

    def authorize(self, charger: Charger, id_tag: str, action: str) -> AuthorizationStatus:
        """The charger's controller decides (lock, cards, learn mode)."""
        return self._chargers[charger.identity].controller.authorize(id_tag, action)

    def auth_failures(self, identity: str, address: str, count: int) -> None:
        """Someone keeps presenting wrong passwords: tell the owner who and from where.

        One issue per registered charger (the latest address named), so their
        number stays bounded; it goes when the right password is presented.
        """
        if identity in self._chargers:
            self._issues.wrong_passwords(identity, address, count)

    def auth_succeeded(self, identity: str, address: str) -> None:
        """The right password was presented: the wrong-password issue is over."""
        del address
        self._issues.right_password(identity)

    async def charger_ready(self, handler: ChargerPort) -> None:
        """A registered charger booted or reconnected: apply lock and offline protection."""
        registered = self._chargers.get(handler.session.identity)
        if registered is not None:
            await registered.controller.async_configure(handler)

    def next_transaction_id(self) -> int:
        """A new transaction id, saved promptly so it is never handed out twice."""
        return self._storage.next_transaction_id()
