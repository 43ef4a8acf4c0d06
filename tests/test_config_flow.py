"""Config flow: every error and its recovery, reconfigure, options, charger subentries."""

from __future__ import annotations

from collections.abc import Iterator
import datetime as dt
from pathlib import Path
import socket
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chargersim import SimulatedCharger
from chargersim.v201 import SimulatedCharger as Charger201
from custom_components.ocpp_hub.const import (
    CONF_AUTO_ACCEPT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOST,
    CONF_IDENTITY,
    CONF_PASSWORD_HASH,
    CONF_PATH_PREFIX,
    CONF_PING_INTERVAL,
    CONF_PORT,
    CONF_PROTOCOL,
    CONF_SESSIONS_MAX_AGE_DAYS,
    CONF_SESSIONS_MAX_COUNT,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_hub.csms.auth import check_password

from .conftest import CentralSystemUnderTest, free_port
from .helpers import charger_device


def make_certificate(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}.pem"
    key_path = directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _server_input(port: int, **extra: str) -> dict[str, object]:
    return {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_PATH_PREFIX: "",
        CONF_SSL_CERTFILE: "",
        CONF_SSL_KEYFILE: "",
        **extra,
    }


async def test_user_flow_errors_then_success(
    hass: HomeAssistant, busy_port: int, tmp_path: Path
) -> None:
    """Port in use, unreadable and mismatched certificates, key without cert; then it works."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(flow_id, _server_input(busy_port))
    assert result["errors"] == {CONF_PORT: "port_in_use"}

    port = free_port()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(port, ssl_certfile=str(tmp_path / "missing.pem"))
    )
    assert result["errors"] == {CONF_SSL_CERTFILE: "cert_unreadable"}

    cert, _ = make_certificate(tmp_path, "one")
    _, other_key = make_certificate(tmp_path, "two")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(port, ssl_certfile=str(cert), ssl_keyfile=str(other_key))
    )
    assert result["errors"] == {CONF_SSL_CERTFILE: "cert_key_mismatch"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(port, ssl_keyfile=str(other_key))
    )
    assert result["errors"] == {CONF_SSL_CERTFILE: "cert_missing"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _server_input(port, path_prefix="/ocpp/")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"OCPP central system (port {port})"
    assert result["data"][CONF_PATH_PREFIX] == "ocpp"
    assert result["result"].unique_id == str(port)
    await hass.async_block_till_done()

    # The path prefix is honoured.
    async with SimulatedCharger(f"ws://127.0.0.1:{port}/ocpp/", "wb1") as charger:
        assert (await charger.boot())["status"] == "Pending"


async def test_same_port_twice_is_aborted(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """A second central system on the same port is refused before anything binds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(central_system.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_tls_central_system(hass: HomeAssistant, tmp_path: Path) -> None:
    """With a certificate, chargers connect over wss:// (security profile 2)."""
    import ssl

    cert, key = make_certificate(tmp_path)
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(port, ssl_certfile=str(cert), ssl_keyfile=str(key))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    context = ssl.create_default_context(cafile=str(cert))
    async with SimulatedCharger(f"wss://127.0.0.1:{port}/", "wb1", ssl=context) as charger:
        assert (await charger.boot())["status"] == "Pending"


async def test_reconfigure(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, busy_port: int
) -> None:
    """Change the path on its own port, then move to another port (a busy one first)."""
    entry = central_system.entry
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # Its own port is in use by itself: that is not an error.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(central_system.port, path_prefix="cs")
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PATH_PREFIX] == "cs"
    async with SimulatedCharger(f"{central_system.url}cs/", "wb1") as charger:
        assert (await charger.boot())["status"] == "Accepted"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(busy_port)
    )
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    new_port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _server_input(new_port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == new_port
    assert entry.unique_id == str(new_port)
    async with SimulatedCharger(f"ws://127.0.0.1:{new_port}/", "wb1") as charger:
        assert (await charger.boot())["status"] == "Accepted"


async def test_options_restart_the_server(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Options apply after an automatic restart of the central system."""
    entry = central_system.entry
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "server"}
    )
    assert result["step_id"] == "server"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PING_INTERVAL: 10, CONF_HEARTBEAT_INTERVAL: 600, CONF_AUTO_ACCEPT: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_PING_INTERVAL: 10,
        CONF_HEARTBEAT_INTERVAL: 600,
        CONF_AUTO_ACCEPT: True,
        # The session bounds, at their defaults; no price entity, so no costs.
        CONF_SESSIONS_MAX_COUNT: 1000,
        CONF_SESSIONS_MAX_AGE_DAYS: 730,
    }
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        assert (await charger.boot())["interval"] == 600
    async with SimulatedCharger(central_system.url, "someone-new") as charger:
        assert (await charger.boot())["status"] == "Accepted"


async def test_add_charger_subentry(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Register a charger by hand: invalid identity, duplicate, then success with a password."""
    entry = central_system.entry
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "bad/identity"}
    )
    assert result["errors"] == {CONF_IDENTITY: "invalid_identity"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_IDENTITY: "carport", "name": "Carport", "password": "pw-123456-long-enough"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = next(s for s in entry.subentries.values() if s.unique_id == "carport")
    assert subentry.title == "Carport"
    stored = subentry.data[CONF_PASSWORD_HASH]
    assert "pw-123456-long-enough" not in stored
    assert check_password("pw-123456-long-enough", stored)
    assert hass.states.get("sensor.carport_status") is not None
    async with SimulatedCharger(
        central_system.url, "carport", password="pw-123456-long-enough"
    ) as charger:
        assert (await charger.boot())["status"] == "Accepted"

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDENTITY: "carport", "name": "Second carport"}
    )
    # A form error naming the charger that has the identity; what was typed stays.
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_IDENTITY: "identity_taken"}
    assert result["description_placeholders"] == {"charger": "Carport"}
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    # What was typed stays (the password itself is never put back into a form).
    assert suggested == {
        CONF_IDENTITY: "carport",
        "name": "Second carport",
        "password_choice": "generate",
    }
    translations = await async_get_translations(hass, "en", "config_subentries", {DOMAIN})
    message = translations[
        f"component.{DOMAIN}.config_subentries.{SUBENTRY_CHARGER}.error.identity_taken"
    ]
    assert message.format(**result["description_placeholders"]) == (
        "Charger Carport already has this identity. Check the identity on the charger, or "
        "change that charger instead (its gear icon)."
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_IDENTITY: "carport2", "name": "Second carport", "password": "another-long-password"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _charger_menu(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, subentry_id: str, step: str
) -> dict[str, Any]:
    result = await central_system.entry.start_subentry_reconfigure_flow(hass, subentry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["settings", "schedule", "add_card", "cards"]
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def test_reconfigure_charger_settings(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Rename, set a password (the charger is disconnected until it sends it), remove it."""
    entry = central_system.entry
    subentry_id = next(sid for sid, s in entry.subentries.items() if s.unique_id == "wb1")
    charger = SimulatedCharger(central_system.url, "wb1")
    await charger.connect()
    await charger.boot()

    result = await _charger_menu(hass, central_system, subentry_id, "settings")
    assert result["step_id"] == "settings"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Garage", "remote_id_tag": "x" * 21}
    )
    assert result["errors"] == {"remote_id_tag": "invalid_id_tag"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Garage charger",
            "password": "new-password-long-enough",
            "remote_id_tag": "MYTAG",
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[subentry_id].title == "Garage charger"
    assert entry.subentries[subentry_id].data["remote_id_tag"] == "MYTAG"
    await charger.wait_closed(timeout=5)
    async with SimulatedCharger(
        central_system.url, "wb1", password="new-password-long-enough"
    ) as again:
        assert (await again.boot())["status"] == "Accepted"

    result = await _charger_menu(hass, central_system, subentry_id, "settings")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"remove_password": True, "remote_id_tag": "MYTAG"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert CONF_PASSWORD_HASH not in entry.subentries[subentry_id].data
    async with SimulatedCharger(central_system.url, "wb1") as again:
        assert (await again.boot())["status"] == "Accepted"
    await charger.close()


async def test_manage_cards_in_the_ui(
    hass: HomeAssistant, central_system: CentralSystemUnderTest
) -> None:
    """Add a card as printed, refuse nonsense and duplicates, disable and remove cards."""
    entry = central_system.entry
    subentry_id = next(sid for sid, s in entry.subentries.items() if s.unique_id == "wb1")
    result = await _charger_menu(hass, central_system, subentry_id, "add_card")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"uid": "not a card!"}
    )
    assert result["errors"] == {"uid": "invalid_card"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"uid": "04-a1-b2-c3"}
    )
    assert result["errors"] == {"uid": "duplicate_card"}  # Alice's, written differently
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"uid": "11:22:33:44", "name": "Bob"}
    )
    assert result["reason"] == "reconfigure_successful"
    cards = entry.subentries[subentry_id].data["cards"]
    assert [(c["uid"], c["name"], c["enabled"]) for c in cards] == [
        ("04A1B2C3", "Alice", True),
        ("11223344", "Bob", True),
    ]

    result = await _charger_menu(hass, central_system, subentry_id, "cards")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"enabled_cards": ["11223344"], "remove_cards": []}
    )
    assert result["reason"] == "reconfigure_successful"
    async with SimulatedCharger(central_system.url, "wb1") as charger:
        await charger.boot()
        assert (await charger.authorize("C3B2A104"))["idTagInfo"]["status"] == "Blocked"
        assert (await charger.authorize("44332211"))["idTagInfo"]["status"] == "Accepted"

    result = await _charger_menu(hass, central_system, subentry_id, "cards")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"enabled_cards": [], "remove_cards": ["04A1B2C3", "11223344"]}
    )
    assert entry.subentries[subentry_id].data["cards"] == []
    result = await _charger_menu(hass, central_system, subentry_id, "cards")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_cards"


async def test_the_integration_page_says_central_system(hass: HomeAssistant) -> None:
    """The add button of the integration's page names the entry type: a central system."""
    translations = await async_get_translations(hass, "en", "config", {DOMAIN})
    assert translations[f"component.{DOMAIN}.config.initiate_flow.user"] == "Add central system"
    subentries = await async_get_translations(hass, "en", "config_subentries", {DOMAIN})
    assert subentries[f"component.{DOMAIN}.config_subentries.charger.entry_type"] == "Charger"


# ------------------------------------------------------------------ OCPP version of a charger


async def _diagnostics_protocol(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    identity: str,
) -> str | None:
    """The OCPP version the charger's diagnostics download names."""
    await async_setup_component(hass, "diagnostics", {})
    device = charger_device(hass, central_system.entry.entry_id, identity)
    assert device is not None
    result = await get_diagnostics_for_device(hass, hass_client, central_system.entry, device)
    protocol: str | None = result["protocol"]
    return protocol


async def _add_charger(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, identity: str, version: str
) -> None:
    """Add a charger without a password through the subentry flow, with a version choice."""
    result = await hass.config_entries.subentries.async_init(
        (central_system.entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    defaults = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert defaults == {"ocpp_version": "automatic"}  # what the form shows first
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {CONF_IDENTITY: identity, "password_choice": "none", "ocpp_version": version},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("version", "pinned", "simulator", "spoken"),
    [
        ("ocpp16", "ocpp1.6", SimulatedCharger, "ocpp1.6"),
        ("automatic", None, Charger201, "ocpp2.0.1"),
    ],
    ids=["pinned-1.6", "automatic"],
)
async def test_version_chosen_when_adding(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    *,
    version: str,
    pinned: str | None,
    simulator: type[SimulatedCharger | Charger201],
    spoken: str,
) -> None:
    """A charger offering 2.0.1 and 1.6: pinned to 1.6 it gets 1.6; automatic, 2.0.1."""
    await _add_charger(hass, central_system, "carport", version)
    subentry = next(s for s in central_system.entry.subentries.values() if s.unique_id == "carport")
    assert subentry.data.get(CONF_PROTOCOL) == pinned
    charger = simulator(
        central_system.url, "carport", vendor="Alfen BV", subprotocols=["ocpp2.0.1", "ocpp1.6"]
    )
    async with charger:
        assert (await charger.boot())["status"] == "Accepted"
        assert await _diagnostics_protocol(hass, hass_client, central_system, "carport") == spoken


async def test_pin_201_in_reconfigure(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    central_system: CentralSystemUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pinned to 2.0.1: a connected 1.6 charger is dropped and refused; 2.0.1 is welcome.

    The pin stays through other changes and goes back to automatic when chosen.
    """
    entry = central_system.entry
    subentry_id = next(sid for sid, s in entry.subentries.items() if s.unique_id == "wb1")
    charger = SimulatedCharger(central_system.url, "wb1")  # offers ocpp1.6 only
    await charger.connect()
    assert (await charger.boot())["status"] == "Accepted"

    result = await _charger_menu(hass, central_system, subentry_id, "settings")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"remote_id_tag": "MYTAG", "ocpp_version": "ocpp201"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[subentry_id].data[CONF_PROTOCOL] == "ocpp2.0.1"
    await charger.wait_closed(timeout=5)  # it spoke 1.6: disconnected to reconnect
    await charger.close()

    # Refused at the handshake, as a charger offering a version nobody speaks is.
    with pytest.raises(InvalidStatus) as err:
        await connect(central_system.url + "wb1", subprotocols=["ocpp1.6"])
    assert err.value.response.status_code == 400
    assert "it offers ocpp1.6, but it is set to speak ocpp2.0.1 only" in caplog.text
    with pytest.raises(InvalidStatus):
        await connect(central_system.url + "wb1")  # no subprotocol: 1.6 too

    station = Charger201(central_system.url, "wb1", vendor="Alfen BV")
    async with station:
        assert (await station.boot())["status"] == "Accepted"
        assert await _diagnostics_protocol(hass, hass_client, central_system, "wb1") == (
            "ocpp2.0.1"
        )

    # The form shows the pin; changing something else keeps it.
    result = await _charger_menu(hass, central_system, subentry_id, "settings")
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert defaults["ocpp_version"] == "ocpp201"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Garage charger", "remote_id_tag": "MYTAG"}
    )
    assert entry.subentries[subentry_id].data[CONF_PROTOCOL] == "ocpp2.0.1"

    result = await _charger_menu(hass, central_system, subentry_id, "settings")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"remote_id_tag": "MYTAG", "ocpp_version": "automatic"}
    )
    await hass.async_block_till_done()
    assert CONF_PROTOCOL not in entry.subentries[subentry_id].data
    async with SimulatedCharger(central_system.url, "wb1") as again:
        assert (await again.boot())["status"] == "Accepted"
