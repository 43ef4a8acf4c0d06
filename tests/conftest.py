"""Fixtures: a real central system in Home Assistant, reachable on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
import logging
import socket
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from chargersim import SimulatedCharger as SimulatedCharger16
from chargersim.v201 import SimulatedCharger as SimulatedCharger201
from custom_components.ocpp_hub.const import (
    CONF_CARDS,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PING_INTERVAL,
    CONF_PORT,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_SSL_LEGACY,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_hub.csms.auth import hash_password

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture(autouse=True)
def real_sockets(socket_enabled: None) -> None:
    """Tests run a real server and real chargers over 127.0.0.1."""


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which anything logged an error it did not expect.

    Home Assistant logs (rather than raises) many mistakes of an integration,
    such as duplicate unique ids. A test that expects an error checks it and
    then calls ``caplog.clear()``.
    """
    yield
    errors = [
        r
        for r in caplog.get_records("call") + caplog.get_records("setup")
        if r.levelno >= logging.ERROR
    ]
    assert not errors, "errors were logged: " + "; ".join(r.getMessage() for r in errors)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


CARD_ALICE = "04A1B2C3"  # Alice's card as printed (hex); the Wallbox sends C3B2A104


def charger_subentry(
    identity: str,
    title: str | None = None,
    *,
    password_hash: str | None = None,
    cards: list[dict[str, Any]] | None = None,
) -> ConfigSubentryData:
    """Subentry data of a registered charger."""
    data: dict[str, Any] = {CONF_IDENTITY: identity, CONF_CARDS: cards or []}
    if password_hash:
        data[CONF_PASSWORD_HASH] = password_hash
    return ConfigSubentryData(
        data=data, subentry_type=SUBENTRY_CHARGER, title=title or identity, unique_id=identity
    )


@dataclass
class CentralSystemUnderTest:
    """A configured and running central system."""

    hass: HomeAssistant
    entry: MockConfigEntry
    port: int

    @property
    def url(self) -> str:
        """The URL a charger is configured with (identity appended by the charger)."""
        return f"ws://127.0.0.1:{self.port}/"


@pytest.fixture
def port() -> int:
    """The port of the central system under test."""
    return free_port()


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Options of the central system (override in a test module to change them)."""
    return {CONF_PING_INTERVAL: 20}


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """The registered chargers: wb1 without password (Alice's card), wb2 with one."""
    return [
        charger_subentry(
            "wb1", "Garage", cards=[{"uid": CARD_ALICE, "name": "Alice", "enabled": True}]
        ),
        charger_subentry("wb2", "Driveway", password_hash=_PASSWORD_HASH),
    ]


@pytest.fixture
def config_entry(
    port: int, entry_options: dict[str, Any], subentries: list[ConfigSubentryData]
) -> MockConfigEntry:
    """The central system's config entry (not yet added to hass)."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=2,
        title=f"OCPP central system (port {port})",
        unique_id=str(port),
        data={
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
            CONF_PATH_PREFIX: "",
            CONF_SSL_CERTFILE: "",
            CONF_SSL_KEYFILE: "",
            CONF_SSL_LEGACY: False,
        },
        options=entry_options,
        subentries_data=subentries,
    )


@pytest.fixture
async def central_system(
    hass: HomeAssistant, config_entry: MockConfigEntry, port: int
) -> AsyncIterator[CentralSystemUnderTest]:
    """A running central system inside Home Assistant."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield CentralSystemUnderTest(hass, config_entry, port)
    if config_entry.state.recoverable:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()


# ------------------------------------------------------------ both OCPP versions

#: A simulated charger of either version (both send the same calls under the same names).
AnyCharger = SimulatedCharger16 | SimulatedCharger201


def _tags_16(payload: dict[str, Any]) -> list[str]:
    return [e["idTag"] for e in payload.get("localAuthorizationList") or []]


def _tags_201(payload: dict[str, Any]) -> list[str]:
    return [e["idToken"]["idToken"] for e in payload.get("localAuthorizationList") or []]


def _setting_16(payload: dict[str, Any]) -> dict[str, str]:
    return {payload["key"]: payload["value"]}


def _setting_201(payload: dict[str, Any]) -> dict[str, str]:
    return {
        f"{item['component']['name']}.{item['variable']['name']}": item["attributeValue"]
        for item in payload["setVariableData"]
    }


def _profile_16(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return payload["connectorId"], payload["csChargingProfiles"]


def _profile_201(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    profile = dict(payload["chargingProfile"])
    profile["chargingSchedule"] = profile["chargingSchedule"][0]
    return payload["evseId"], profile


@dataclass(frozen=True)
class SimVersion:
    """What a test needs to know of the OCPP version a simulated charger speaks.

    The same behaviour, said in each version's words: actions, payloads, the
    charger's names of its settings.
    """

    name: str  # the websocket subprotocol
    simulator: type[AnyCharger]
    remote_start: str
    remote_stop: str
    read_settings: str
    write_setting: str
    soft_reset: dict[str, Any]
    all_inoperative: dict[str, Any]  # ChangeAvailability of the whole charger
    # The charger's names of its settings.
    lock: str
    offline_unknown_cards: str
    offline_local_authorize: str
    connection_timeout: str
    answer_info: str  # the key of an authorization's answer: idTagInfo / idTokenInfo
    local_list_tags: Callable[[dict[str, Any]], list[str]]
    settings_written: Callable[[dict[str, Any]], dict[str, str]]
    # (connector or EVSE, the profile with one schedule) of a SetChargingProfile.
    profile_sent: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]

    def card_status(self, answer: dict[str, Any]) -> str:
        """The status of an authorization in the central system's answer."""
        status: str = answer[self.answer_info]["status"]
        return status

    def remote_start_payload(self, id_tag: str, connector_id: int) -> dict[str, Any]:
        """What the central system's remote start for ``id_tag`` says (remoteStartId aside)."""
        if self.name == "ocpp1.6":
            return {"idTag": id_tag, "connectorId": connector_id}
        return {"idToken": {"idToken": id_tag, "type": "Central"}, "evseId": connector_id}


# The two versions side by side: (1.6, 2.0.1) per field of SimVersion.
_SIDE_BY_SIDE: dict[str, tuple[Any, Any]] = {
    "name": ("ocpp1.6", "ocpp2.0.1"),
    "simulator": (SimulatedCharger16, SimulatedCharger201),
    "remote_start": ("RemoteStartTransaction", "RequestStartTransaction"),
    "remote_stop": ("RemoteStopTransaction", "RequestStopTransaction"),
    "read_settings": ("GetConfiguration", "GetVariables"),
    "write_setting": ("ChangeConfiguration", "SetVariables"),
    "soft_reset": ({"type": "Soft"}, {"type": "OnIdle"}),
    "all_inoperative": (
        {"connectorId": 0, "type": "Inoperative"},
        {"operationalStatus": "Inoperative"},
    ),
    "lock": ("AuthEnabled", "AuthCtrlr.Enabled"),
    "offline_unknown_cards": (
        "AllowOfflineTxForUnknownId",
        "AuthCtrlr.OfflineTxForUnknownIdEnabled",
    ),
    "offline_local_authorize": ("LocalAuthorizeOffline", "AuthCtrlr.LocalAuthorizeOffline"),
    "connection_timeout": ("ConnectionTimeOut", "TxCtrlr.EVConnectionTimeOut"),
    "answer_info": ("idTagInfo", "idTokenInfo"),
    "local_list_tags": (_tags_16, _tags_201),
    "settings_written": (_setting_16, _setting_201),
    "profile_sent": (_profile_16, _profile_201),
}
V16, V201 = (
    SimVersion(**{field: values[n] for field, values in _SIDE_BY_SIDE.items()}) for n in (0, 1)
)
SIM_VERSIONS = {v.name: v for v in (V16, V201)}


async def meter_during_transaction(
    charger: AnyCharger,
    connector_id: int,
    *,
    energy_wh: float,
    power_w: float | None = None,
    timestamp: datetime | None = None,
) -> None:
    """Meter values of the connector's running transaction, in the charger's version."""
    if isinstance(charger, SimulatedCharger16):
        await charger.meter_values(
            connector_id,
            transaction_id=charger.connectors[connector_id].numeric_transaction_id,
            energy_wh=energy_wh,
            power_w=power_w,
            timestamp=timestamp,
        )
    else:
        await charger.meter_values(
            connector_id, energy_wh=energy_wh, power_w=power_w, timestamp=timestamp
        )


async def stop_transaction(
    charger: AnyCharger,
    connector_id: int,
    meter_stop: int,
    *,
    reason: str = "Local",
    timestamp: datetime | None = None,
) -> None:
    """The charger ends the connector's transaction at ``meter_stop`` Wh."""
    if isinstance(charger, SimulatedCharger16):
        transaction_id = charger.connectors[connector_id].numeric_transaction_id
        assert transaction_id is not None
        await charger.stop_transaction(
            transaction_id, meter_stop, reason=reason, timestamp=timestamp
        )
    else:
        await charger.stop_transaction(
            connector_id, reason, meter_stop=meter_stop, timestamp=timestamp
        )


#: A test (or a module's ``pytestmark``) that runs with the 1.6 and the 2.0.1 simulated charger.
BOTH_VERSIONS = pytest.mark.parametrize("sim_version", list(SIM_VERSIONS), indirect=True)


@pytest.fixture
def sim_version(request: pytest.FixtureRequest) -> SimVersion:
    """The OCPP version of the simulated charger: 1.6 unless the test runs on BOTH_VERSIONS."""
    return SIM_VERSIONS[getattr(request, "param", V16.name)]
