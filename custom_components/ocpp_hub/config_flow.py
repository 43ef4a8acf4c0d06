"""Config flow: the central system (set up, reconfigure) and the approval of chargers that knock.

Chargers are subentries: their flow is in ``charger_flow.py``, the options in
``options_flow.py``, the fields the flows share in ``flow_fields.py``.
"""

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
)
from homeassistant.core import callback
from homeassistant.helpers.selector import BooleanSelector
import probatio

from .charger_flow import ChargerSubentryFlow
from .const import (
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PORT,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_SSL_LEGACY,
    DEFAULT_PORT,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from .csms.auth import hash_password
from .csms.server import check_port
from .csms.tls import TlsError, server_context
from .flow_fields import (
    CONF_NAME,
    CONF_OCPP_VERSION,
    OCPP_AUTOMATIC,
    OCPP_VERSION_SELECTOR,
    TEXT,
    box,
    chosen_password,
    password_fields,
    with_version,
)
from .options_flow import OcppHubOptionsFlow
from .pending_approvals import discovery_unique_id
from .repairs import escape_markdown


def _server_schema(defaults: Mapping[str, Any]) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Optional(CONF_HOST, default=defaults.get(CONF_HOST, "")): TEXT,
            probatio.Required(CONF_PORT, default=defaults.get(CONF_PORT, DEFAULT_PORT)): box(
                1, 65535
            ),
            probatio.Optional(CONF_PATH_PREFIX, default=defaults.get(CONF_PATH_PREFIX, "")): TEXT,
            probatio.Optional(CONF_SSL_CERTFILE, default=defaults.get(CONF_SSL_CERTFILE, "")): TEXT,
            probatio.Optional(CONF_SSL_KEYFILE, default=defaults.get(CONF_SSL_KEYFILE, "")): TEXT,
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
        self._version: dict[str, Any] = {}

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
        """Show what knocked and add it in one click (optionally a password, an OCPP version)."""
        info = self._discovery
        entry = self.hass.config_entries.async_get_entry(info["entry_id"])
        if entry is None:
            return self.async_abort(reason="central_system_gone")
        if any(sub.unique_id == info["identity"] for sub in entry.subentries.values()):
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            password, generated, error = chosen_password(user_input)
            if error:  # each key literal: the flow's errors are checked against en.json
                errors[CONF_PASSWORD] = (
                    "weak_password" if error == "weak_password" else "password_missing"
                )
            else:
                self._title = user_input.get(CONF_NAME) or info["identity"]
                self._password = password
                self._version = with_version({}, user_input)
                if generated:
                    return await self.async_step_approve_password()
                return await self._add_approved(entry)
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_NAME, default=info["identity"]): TEXT,
                **password_fields(),
                # No default: absent is automatic, and what the owner chose stays after an error.
                probatio.Optional(CONF_OCPP_VERSION): OCPP_VERSION_SELECTOR,
            }
        )
        suggested = (
            {k: v for k, v in user_input.items() if k != CONF_PASSWORD}
            if user_input is not None
            else {CONF_OCPP_VERSION: OCPP_AUTOMATIC}
        )
        return self.async_show_form(
            step_id="approve",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
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
        data: dict[str, Any] = {CONF_IDENTITY: identity, **self._version}
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
