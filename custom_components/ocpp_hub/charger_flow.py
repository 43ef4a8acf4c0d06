"""The charger subentry flow: register a charger by hand; change its settings, schedule, cards."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TimeSelector,
)
import probatio

from .const import (
    CONF_CARDS,
    CONF_IDENTITY,
    CONF_PASSWORD,
    CONF_PASSWORD_HASH,
    CONF_REMOTE_ID_TAG,
    CONF_SCHEDULE,
    DEFAULT_REMOTE_ID_TAG,
)
from .csms.auth import hash_password, password_acceptable
from .csms.handshake import valid_identity
from .flow_fields import (
    CONF_NAME,
    CONF_OCPP_VERSION,
    OCPP_AUTOMATIC,
    OCPP_VERSION_SELECTOR,
    PASSWORD,
    TEXT,
    box,
    chosen_password,
    password_fields,
    version_choice,
    with_version,
)
from .model.rfid import Card, normalise
from .model.schedule import ChargingWindow

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


class ChargerSubentryFlow(ConfigSubentryFlow):
    """Register a charger by hand, or change its name and password."""

    def __init__(self) -> None:
        """Nothing entered yet."""
        self._new: tuple[str, str, str | None] = ("", "", None)
        self._version: dict[str, Any] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Identity as configured on the charger, a name, a password, the OCPP version."""
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
                password, generated, error = chosen_password(user_input)
                if error:  # each key literal: the flow's errors are checked against en.json
                    errors[CONF_PASSWORD] = (
                        "weak_password" if error == "weak_password" else "password_missing"
                    )
                else:
                    self._new = (identity, user_input.get(CONF_NAME) or identity, password)
                    self._version = with_version({}, user_input)
                    if generated:
                        return await self.async_step_password()
                    return await self._create_charger()
        schema = probatio.Schema(
            {
                probatio.Required(CONF_IDENTITY): TEXT,
                probatio.Optional(CONF_NAME): TEXT,
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
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
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
        data: dict[str, Any] = {CONF_IDENTITY: identity, **self._version}
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
        """Rename, set or remove the password, the idTag for remote starts, the OCPP version."""
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
                data = with_version(data, user_input)
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
                probatio.Optional(CONF_NAME, default=subentry.title): TEXT,
                probatio.Optional(CONF_PASSWORD): PASSWORD,
                probatio.Optional(CONF_REMOVE_PASSWORD, default=False): BooleanSelector(),
                probatio.Required(
                    CONF_REMOTE_ID_TAG,
                    default=subentry.data.get(CONF_REMOTE_ID_TAG, DEFAULT_REMOTE_ID_TAG),
                ): TEXT,
                probatio.Required(
                    CONF_OCPP_VERSION, default=version_choice(subentry.data)
                ): OCPP_VERSION_SELECTOR,
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
                    {probatio.Required(CONF_UID): TEXT, probatio.Optional(CONF_NAME): TEXT}
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
