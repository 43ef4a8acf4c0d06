"""Config flow: central systems (entries), chargers (subentries), discovery, options."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
import probatio

from .const import (
    CONF_CARDS,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PORT,
    CONF_REMOTE_ID_TAG,
    CONF_SCHEDULE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_SSL_LEGACY,
    DEFAULT_PORT,
    DEFAULT_REMOTE_ID_TAG,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from .csms.auth import generate_password, hash_password, password_acceptable
from .csms.server import check_port, valid_identity
from .csms.tls import TlsError, server_context
from .flow_fields import box
from .model.rfid import Card, normalise
from .model.schedule import ChargingWindow
from .options_flow import OcppHubOptionsFlow
from .pending_approvals import discovery_unique_id
from .repairs import escape_markdown

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


_TEXT = TextSelector()
CONF_NAME = "name"
CONF_REMOVE_PASSWORD = "remove_password"
CONF_UID = "uid"
CONF_SCHEDULE_ENABLED = "enabled"
CONF_SCHEDULE_DAYS = "days"
CONF_SCHEDULE_START = "start"
CONF_SCHEDULE_END = "end"
CONF_SCHEDULE_INSIDE = "current_in_window"
CONF_SCHEDULE_OUTSIDE = "current_outside_window"
CONF_ENABLED_CARDS = "enabled_cards"
CONF_REMOVE_CARDS = "remove_cards"
CONF_PASSWORD_CHOICE = "password_choice"
PASSWORD_GENERATE = "generate"
PASSWORD_OWN = "own"
PASSWORD_NONE = "none"
_PASSWORD_CHOICE = SelectSelector(
    SelectSelectorConfig(
        options=[PASSWORD_GENERATE, PASSWORD_OWN, PASSWORD_NONE],
        translation_key=CONF_PASSWORD_CHOICE,
        mode=SelectSelectorMode.LIST,
    )
)


def _password_fields() -> dict[Any, Any]:
    """How a new charger gets its password: generated unless the owner says otherwise."""
    return {
        probatio.Optional(CONF_PASSWORD_CHOICE, default=PASSWORD_GENERATE): _PASSWORD_CHOICE,
        probatio.Optional(CONF_PASSWORD): _PASSWORD,
    }


def _chosen_password(user_input: Mapping[str, Any]) -> tuple[str | None, bool, str | None]:
    """(password or None for none, whether it was generated, error key or None).

    A password typed in wins over the choice; it must follow the OCPP rule
    (16 to 40 printable characters). No password is only ever an explicit choice.
    """
    typed = str(user_input.get(CONF_PASSWORD) or "")
    choice = user_input.get(CONF_PASSWORD_CHOICE, PASSWORD_GENERATE)
    if typed:
        return (
            (typed, False, None) if password_acceptable(typed) else (None, False, "weak_password")
        )
    if choice == PASSWORD_OWN:
        return None, False, "password_missing"
    if choice == PASSWORD_NONE:
        return None, False, None
    return generate_password(), True, None


def _server_schema(defaults: Mapping[str, Any]) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Optional(CONF_HOST, default=defaults.get(CONF_HOST, "")): _TEXT,
            probatio.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): box(
                1, 65535
            ),
            probatio.Optional(CONF_PATH_PREFIX, default=defaults.get(CONF_PATH_PREFIX, "")): _TEXT,
            probatio.Optional(
                CONF_SSL_CERTFILE, default=defaults.get(CONF_SSL_CERTFILE, "")
            ): _TEXT,
            probatio.Optional(CONF_SSL_KEYFILE, default=defaults.get(CONF_SSL_KEYFILE, "")): _TEXT,
            probatio.Optional(
                CONF_SSL_LEGACY, default=defaults.get(CONF_SSL_LEGACY, False)
            ): BooleanSelector(),
        }
    )


def _clean_server_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    return {
        CONF_HOST: str(user_input.get(CONF_HOST, "")).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_PATH_PREFIX: str(user_input.get(CONF_PATH_PREFIX, "")).strip().strip("/"),
        CONF_SSL_CERTFILE: str(user_input.get(CONF_SSL_CERTFILE, "")).strip(),
        CONF_SSL_KEYFILE: str(user_input.get(CONF_SSL_KEYFILE, "")).strip(),
        CONF_SSL_LEGACY: bool(user_input.get(CONF_SSL_LEGACY, False)),
    }


class OcppHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a central system; approve chargers that knock."""

    VERSION = 1
    MINOR_VERSION = 2  # see async_migrate_entry in __init__.py

    def __init__(self) -> None:
        """Nothing discovered yet."""
        self._discovery: dict[str, str] = {}
        self._title: str | None = None
        self._password: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OcppHubOptionsFlow:
        """Tunables of a central system."""
        return OcppHubOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Chargers are subentries of a central system."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow}

    async def _validate_server(
        self, data: dict[str, Any], current_port: int | None = None
    ) -> dict[str, str]:
        errors: dict[str, str] = {}
        if data[CONF_PORT] != current_port and await check_port(data[CONF_HOST], data[CONF_PORT]):
            errors[CONF_PORT] = "port_in_use"
        if data[CONF_SSL_CERTFILE]:
            try:
                await self.hass.async_add_executor_job(
                    server_context,
                    data[CONF_SSL_CERTFILE],
                    data[CONF_SSL_KEYFILE] or None,
                    data[CONF_SSL_LEGACY],
                )
            except TlsError as err:
                errors[CONF_SSL_CERTFILE] = err.problem.value
        elif data[CONF_SSL_KEYFILE]:
            errors[CONF_SSL_CERTFILE] = "cert_missing"
        return errors

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where the central system listens."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean_server_input(user_input)
            await self.async_set_unique_id(str(data[CONF_PORT]))
            self._abort_if_unique_id_configured()
            errors = await self._validate_server(data)
            if not errors:
                return self.async_create_entry(
                    title=f"OCPP central system (port {data[CONF_PORT]})", data=data
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(_server_schema({}), user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change where the central system listens."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _clean_server_input(user_input)
            if data[CONF_PORT] != entry.data[CONF_PORT]:
                await self.async_set_unique_id(str(data[CONF_PORT]))
                self._abort_if_unique_id_configured()
            errors = await self._validate_server(data, current_port=entry.data[CONF_PORT])
            if not errors:
                # The entry's update listener reloads it when its settings change.
                return self.async_update_and_abort(
                    entry,
                    unique_id=str(data[CONF_PORT]),
                    title=f"OCPP central system (port {data[CONF_PORT]})",
                    data=data,
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _server_schema({}), user_input or entry.data
            ),
            errors=errors,
        )

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """An unknown charger booted and waits (Pending) for the owner's approval."""
        entry_id = discovery_info["entry_id"]
        identity = discovery_info["identity"]
        await self.async_set_unique_id(discovery_unique_id(entry_id, identity))
        self._abort_if_unique_id_configured()
        self._discovery = {k: str(v) for k, v in discovery_info.items()}
        self.context["title_placeholders"] = {
            "identity": escape_markdown(identity),
            "model": escape_markdown(
                " ".join(filter(None, (discovery_info.get("vendor"), discovery_info.get("model"))))
                or "OCPP"
            ),
        }
        return await self.async_step_approve()

    async def async_step_approve(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what knocked and add it in one click (optionally with a password)."""
        info = self._discovery
        entry = self.hass.config_entries.async_get_entry(info["entry_id"])
        if entry is None:
            return self.async_abort(reason="central_system_gone")
        if any(sub.unique_id == info["identity"] for sub in entry.subentries.values()):
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            password, generated, error = _chosen_password(user_input)
            if error == "weak_password":
                errors[CONF_PASSWORD] = "weak_password"
            elif error:
                errors[CONF_PASSWORD] = "password_missing"
            else:
                self._title = user_input.get(CONF_NAME) or info["identity"]
                self._password = password
                if generated:
                    return await self.async_step_approve_password()
                return await self._add_approved(entry)
        return self.async_show_form(
            step_id="approve",
            data_schema=probatio.Schema(
                {
                    probatio.Optional(CONF_NAME, default=info["identity"]): _TEXT,
                    **_password_fields(),
                }
            ),
            errors=errors,
            description_placeholders={
                key: escape_markdown(info.get(key) or "?")
                for key in ("identity", "vendor", "model", "serial", "firmware", "address")
            },
        )

    async def async_step_approve_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the generated password once; the charger is added when the owner goes on."""
        entry = self.hass.config_entries.async_get_entry(self._discovery["entry_id"])
        if entry is None:
            return self.async_abort(reason="central_system_gone")
        if user_input is not None:
            return await self._add_approved(entry)
        assert self._password is not None
        return self.async_show_form(
            step_id="approve_password",
            data_schema=probatio.Schema({}),
            description_placeholders={
                "identity": escape_markdown(self._discovery["identity"]),
                "password": self._password,
            },
        )

    async def _add_approved(self, entry: ConfigEntry) -> ConfigFlowResult:
        identity = self._discovery["identity"]
        if any(sub.unique_id == identity for sub in entry.subentries.values()):
            return self.async_abort(reason="already_configured")
        data: dict[str, Any] = {CONF_IDENTITY: identity}
        if self._password:
            data[CONF_PASSWORD_HASH] = await self.hass.async_add_executor_job(
                hash_password, self._password
            )
        self._password = None
        self.hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(data),
                subentry_type=SUBENTRY_CHARGER,
                title=self._title or identity,
                unique_id=identity,
            ),
        )
        return self.async_abort(
            reason="charger_added", description_placeholders={"identity": escape_markdown(identity)}
        )


class ChargerSubentryFlow(ConfigSubentryFlow):
    """Register a charger by hand, or change its name and password."""

    def __init__(self) -> None:
        """Nothing entered yet."""
        self._new: tuple[str, str, str | None] = ("", "", None)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Identity as configured on the charger, a name, an optional password."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        entry = self._get_entry()
        if user_input is not None:
            identity = str(user_input[CONF_IDENTITY]).strip()
            taken_by = next(
                (sub.title for sub in entry.subentries.values() if sub.unique_id == identity),
                None,
            )
            if not valid_identity(identity):
                errors[CONF_IDENTITY] = "invalid_identity"
            elif taken_by is not None:
                # A form error naming the charger: what was typed stays, to correct it.
                errors[CONF_IDENTITY] = "identity_taken"
                placeholders["charger"] = taken_by
            else:
                password, generated, error = _chosen_password(user_input)
                if error == "weak_password":
                    errors[CONF_PASSWORD] = "weak_password"
                elif error:
                    errors[CONF_PASSWORD] = "password_missing"
                else:
                    self._new = (identity, user_input.get(CONF_NAME) or identity, password)
                    if generated:
                        return await self.async_step_password()
                    return await self._create_charger()
        schema = probatio.Schema(
            {
                probatio.Required(CONF_IDENTITY): _TEXT,
                probatio.Optional(CONF_NAME): _TEXT,
                **_password_fields(),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                schema, {k: v for k, v in (user_input or {}).items() if k != CONF_PASSWORD}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_password(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show the generated password once; the charger is registered when the owner goes on."""
        if user_input is not None:
            return await self._create_charger()
        identity, _, password = self._new
        assert password is not None
        return self.async_show_form(
            step_id="password",
            data_schema=probatio.Schema({}),
            description_placeholders={"identity": identity, "password": password},
        )

    async def _create_charger(self) -> SubentryFlowResult:
        identity, title, password = self._new
        data: dict[str, Any] = {CONF_IDENTITY: identity}
        if password:
            data[CONF_PASSWORD_HASH] = await self.hass.async_add_executor_job(
                hash_password, password
            )
        self._new = (identity, title, None)
        return self.async_create_entry(title=title, data=data, unique_id=identity)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What to change: the charger's settings or its cards."""
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=["settings", "schedule", "add_card", "cards"],
            description_placeholders={"identity": self._get_reconfigure_subentry().title},
        )

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename, set or remove the password, choose the idTag for remote starts."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = dict(subentry.data)
            remote_id_tag = str(user_input.get(CONF_REMOTE_ID_TAG) or "").strip()
            new_password = str(user_input.get(CONF_PASSWORD) or "")
            if not 0 < len(remote_id_tag) <= 20 or not remote_id_tag.isascii():
                errors[CONF_REMOTE_ID_TAG] = "invalid_id_tag"
            elif new_password and not password_acceptable(new_password):
                errors[CONF_PASSWORD] = "weak_password"
            else:
                data[CONF_REMOTE_ID_TAG] = remote_id_tag
                if user_input.get(CONF_REMOVE_PASSWORD):
                    data.pop(CONF_PASSWORD_HASH, None)
                elif password := user_input.get(CONF_PASSWORD):
                    data[CONF_PASSWORD_HASH] = await self.hass.async_add_executor_job(
                        hash_password, password
                    )
                return self.async_update_and_abort(
                    entry,
                    subentry,
                    title=user_input.get(CONF_NAME) or subentry.title,
                    data=data,
                )
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_NAME, default=subentry.title): _TEXT,
                probatio.Optional(CONF_PASSWORD): _PASSWORD,
                probatio.Optional(CONF_REMOVE_PASSWORD, default=False): BooleanSelector(),
                probatio.Required(
                    CONF_REMOTE_ID_TAG,
                    default=subentry.data.get(CONF_REMOTE_ID_TAG, DEFAULT_REMOTE_ID_TAG),
                ): _TEXT,
            }
        )
        return self.async_show_form(
            step_id="settings",
            data_schema=schema,
            errors=errors,
            description_placeholders={"identity": subentry.data[CONF_IDENTITY]},
        )

    async def async_step_schedule(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A weekly charging window, kept by the charger itself (a recurring profile)."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        current = dict(subentry.data.get(CONF_SCHEDULE) or {})
        errors: dict[str, str] = {}
        if user_input is not None:
            data = dict(subentry.data)
            if not user_input[CONF_SCHEDULE_ENABLED]:
                data.pop(CONF_SCHEDULE, None)
                return self.async_update_and_abort(entry, subentry, data=data)
            window = {
                "days": sorted(int(day) for day in user_input.get(CONF_SCHEDULE_DAYS, [])),
                "start": user_input[CONF_SCHEDULE_START],
                "end": user_input[CONF_SCHEDULE_END],
                "inside_a": float(user_input[CONF_SCHEDULE_INSIDE]),
                "outside_a": float(user_input[CONF_SCHEDULE_OUTSIDE]),
            }
            if not window["days"]:
                errors[CONF_SCHEDULE_DAYS] = "no_days"
            elif any(0 < float(window[k]) < 6 for k in ("inside_a", "outside_a")):
                errors["base"] = "schedule_current"
            else:
                data[CONF_SCHEDULE] = ChargingWindow.from_dict(window).as_dict()
                return self.async_update_and_abort(entry, subentry, data=data)
            current = window
        amps = box(0, 80, "A")
        schema = probatio.Schema(
            {
                probatio.Required(
                    CONF_SCHEDULE_ENABLED, default=bool(subentry.data.get(CONF_SCHEDULE))
                ): BooleanSelector(),
                probatio.Optional(
                    CONF_SCHEDULE_DAYS,
                    default=[str(day) for day in current.get("days", range(7))],
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(day) for day in range(7)],
                        multiple=True,
                        translation_key="weekday",
                    )
                ),
                probatio.Required(
                    CONF_SCHEDULE_START, default=current.get("start", "00:30:00")
                ): TimeSelector(),
                probatio.Required(
                    CONF_SCHEDULE_END, default=current.get("end", "06:30:00")
                ): TimeSelector(),
                probatio.Required(CONF_SCHEDULE_INSIDE, default=current.get("inside_a", 16)): amps,
                probatio.Required(CONF_SCHEDULE_OUTSIDE, default=current.get("outside_a", 0)): amps,
            }
        )
        return self.async_show_form(
            step_id="schedule",
            data_schema=schema,
            errors=errors,
            description_placeholders={"identity": subentry.data[CONF_IDENTITY]},
        )

    async def async_step_add_card(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a card as printed on it (hex with or without separators, or decimal)."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        cards = [Card.from_dict(c) for c in subentry.data.get(CONF_CARDS, [])]
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                card = Card(
                    uid=normalise(user_input[CONF_UID]),
                    name=str(user_input.get(CONF_NAME) or f"Card {len(cards) + 1}"),
                )
            except ValueError:
                errors[CONF_UID] = "invalid_card"
            else:
                if any(c.uid == card.uid for c in cards):
                    errors[CONF_UID] = "duplicate_card"
                else:
                    return self.async_update_and_abort(
                        entry,
                        subentry,
                        data={
                            **subentry.data,
                            CONF_CARDS: [*(c.as_dict() for c in cards), card.as_dict()],
                        },
                    )
        return self.async_show_form(
            step_id="add_card",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {probatio.Required(CONF_UID): _TEXT, probatio.Optional(CONF_NAME): _TEXT}
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_cards(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Enable, disable or remove cards."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        cards = [Card.from_dict(c) for c in subentry.data.get(CONF_CARDS, [])]
        if not cards:
            return self.async_abort(reason="no_cards")
        if user_input is not None:
            enabled = set(user_input.get(CONF_ENABLED_CARDS, []))
            removed = set(user_input.get(CONF_REMOVE_CARDS, []))
            kept = [
                Card(uid=c.uid, name=c.name, enabled=c.uid in enabled).as_dict()
                for c in cards
                if c.uid not in removed
            ]
            return self.async_update_and_abort(
                entry, subentry, data={**subentry.data, CONF_CARDS: kept}
            )
        options = [SelectOptionDict(value=c.uid, label=f"{c.name} ({c.uid})") for c in cards]
        schema = probatio.Schema(
            {
                probatio.Optional(
                    CONF_ENABLED_CARDS, default=[c.uid for c in cards if c.enabled]
                ): SelectSelector(SelectSelectorConfig(options=options, multiple=True)),
                probatio.Optional(CONF_REMOVE_CARDS, default=[]): SelectSelector(
                    SelectSelectorConfig(options=options, multiple=True)
                ),
            }
        )
        return self.async_show_form(step_id="cards", data_schema=schema)
