"""Metadata: what Home Assistant loads agrees with what the code uses.

Manifest, hacs.json, brand icon, services.yaml, translations and icons.json are checked
against the running integration and its source, so that no key is ever missing or unused.
Every check lists exactly what is missing or extra. The checks are plain functions of
the files' contents (see ``Metadata``), so they can be pointed at a copy of the integration.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
import importlib.metadata
import json
from pathlib import Path
import re
from typing import Any

import homeassistant
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigFlow,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from PIL import Image
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ocpp_hub as integration_package
from custom_components.ocpp_hub import (
    PLATFORMS,
    binary_sensor,
    button,
    calendar,
    card_energy,
    charger_flow,
    charger_settings,
    config_flow,
    energy_sensors,
    event,
    number,
    options_flow,
    select,
    sensor,
    switch,
)
from custom_components.ocpp_hub.const import DOMAIN, SUBENTRY_CHARGER
from custom_components.ocpp_hub.csms.errors import FailureReason
from custom_components.ocpp_hub.csms.tls import TlsProblem
from custom_components.ocpp_hub.model.control import ProtectionStatus
from custom_components.ocpp_hub.repairs import ENERGY_PROBLEM_ISSUES

from .conftest import CentralSystemUnderTest

INTEGRATION_DIR = Path(integration_package.__file__).parent
REPO_ROOT = INTEGRATION_DIR.parents[1]
TRANSLATIONS_DIR = INTEGRATION_DIR / "translations"
# Every language file found is checked; these must be there.
REQUIRED_LANGUAGES = {"en", "de", "es", "fr", "nl"}
LANGUAGES = sorted(p.stem for p in TRANSLATIONS_DIR.glob("*.json"))

# The entity descriptions of every platform the integration forwards to.
DESCRIPTIONS: dict[str, Sequence[Any]] = {
    Platform.BINARY_SENSOR: binary_sensor.BINARY_SENSORS,
    Platform.BUTTON: button.BUTTONS,
    Platform.CALENDAR: calendar.CALENDARS,
    Platform.EVENT: event.EVENTS,
    Platform.NUMBER: (*number.NUMBERS, *charger_settings.SETTINGS),
    Platform.SELECT: select.SELECTS,
    Platform.SENSOR: (
        *sensor.SENSORS,
        *energy_sensors.ENERGY_SENSORS,
        *sensor.LAST_SESSION_SENSORS,
        card_energy.CARD_ENERGY,
    ),
    Platform.SWITCH: switch.SWITCHES,
}

# translation_key expressions that are not literals, and the keys they can take.
# f-strings are matched by their literal prefix, other expressions by their source text.
DYNAMIC_KEY_PREFIXES: dict[str, list[str]] = {
    "command_": [f"command_{reason.value}" for reason in FailureReason],
    "offline_protection_": [
        f"offline_protection_{status.value}"
        for status in ProtectionStatus
        if status is not ProtectionStatus.ACTIVE  # active: the issue is deleted, not raised
    ],
}
DYNAMIC_KEY_EXPRESSIONS: dict[str, list[str]] = {
    "err.problem.value": [problem.value for problem in TlsProblem],
    "ENERGY_PROBLEM_ISSUES.get(why, 'energy_sensor')": [
        "energy_sensor",
        *ENERGY_PROBLEM_ISSUES.values(),
    ],
}
# Helpers that build translation_placeholders: the names they always add.
PLACEHOLDER_HELPERS: dict[str, frozenset[str]] = {
    "_placeholders": frozenset({"charger"}),  # ChargerController._placeholders
}
# Calls that abort a flow with an implied reason.
IMPLICIT_ABORTS = {
    "_abort_if_unique_id_configured": "already_configured",
    "_abort_if_unique_id_mismatch": "unique_id_mismatch",
    "async_update_and_abort": "reconfigure_successful",
    "async_update_reload_and_abort": "reconfigure_successful",  # reauth_successful in reauth
}
EXCEPTION_CLASSES = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ServiceNotSupported",
    "ConfigEntryError",
    "ConfigEntryNotReady",
    "ConfigEntryAuthFailed",
}
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}
BRAND_SIZES = {
    "icon.png": (256, 256),
    "dark_icon.png": (256, 256),
    "icon@2x.png": (512, 512),
    "dark_icon@2x.png": (512, 512),
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SINGLE_QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")  # hassfest refuses these


# ---------------------------------------------------------------------------- loading
def load_json(path: Path) -> Any:
    """A JSON file; duplicate keys (which json.load silently merges) are an error."""

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
            raise ValueError(f"{path.name}: duplicate keys {duplicates}")
        return dict(pairs)

    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=refuse_duplicates)


@dataclass
class Metadata:
    """The metadata files of one copy of the integration."""

    directory: Path
    manifest: dict[str, Any]
    strings: dict[str, Any]  # translations/en.json
    translations: dict[str, dict[str, Any]]  # every other language file, by language
    icons: dict[str, Any]
    services: dict[str, Any]  # services.yaml, read as Home Assistant reads it


def load_metadata(directory: Path) -> Metadata:
    """Read the metadata files of the integration in ``directory``."""
    return Metadata(
        directory=directory,
        manifest=load_json(directory / "manifest.json"),
        strings=load_json(directory / "translations" / "en.json"),
        translations={
            path.stem: load_json(path)
            for path in sorted((directory / "translations").glob("*.json"))
            if path.stem != "en"
        },
        icons=load_json(directory / "icons.json"),
        services=dict(load_yaml_dict(directory / "services.yaml")),
    )


@pytest.fixture(scope="module")
def metadata() -> Metadata:
    """The integration's metadata (read outside the event loop)."""
    return load_metadata(INTEGRATION_DIR)


# ---------------------------------------------------------------------------- helpers
def flatten(tree: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Leaves of a nested mapping by path."""
    leaves: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            leaves.update(flatten(value, (*path, key)))
        else:
            leaves[(*path, key)] = value
    return leaves


def dotted(path: Iterable[str]) -> str:
    """A path as a.b.c."""
    return ".".join(path)


def placeholders(text: str) -> set[str]:
    """The {placeholders} of a translated string."""
    return set(PLACEHOLDER.findall(text))


def compare(what: str, expected: Iterable[str], actual: Iterable[str]) -> list[str]:
    """What is missing from and extra in ``actual``."""
    wanted, have = set(expected), set(actual)
    problems = []
    if missing := sorted(wanted - have):
        problems.append(f"{what}: missing {missing}")
    if extra := sorted(have - wanted):
        problems.append(f"{what}: extra {extra}")
    return problems


def only(what: str, allowed: Iterable[str], actual: Iterable[str], hint: str = "") -> list[str]:
    """What is in ``actual`` but not allowed."""
    if extra := sorted(set(actual) - set(allowed)):
        return [f"{what}: extra {extra}{f' ({hint})' if hint else ''}"]
    return []


def report(problems: Sequence[str]) -> str:
    """One problem per line."""
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


def node_at(section: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any]:
    """A nested section of en.json (empty when absent)."""
    for part in path:
        section = section.get(part) or {}
    return section


# ---------------------------------------------------------------------------- manifest
async def test_manifest_as_home_assistant_loads_it(hass: HomeAssistant, metadata: Metadata) -> None:
    """Domain, name, semantic version, config flow, local push, links and owners."""
    integration = await async_get_integration(hass, DOMAIN)
    manifest = integration.manifest
    problems = []
    if integration.is_built_in:
        problems.append("loaded as a built-in integration, not from custom_components")
    if integration.domain != DOMAIN or manifest.get("domain") != DOMAIN:
        problems.append(f"domain is {integration.domain!r}, expected {DOMAIN!r}")
    if integration.name != "OCPP Hub":
        problems.append(f"name is {integration.name!r}, expected 'OCPP Hub'")
    version = str(manifest.get("version", ""))
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append(f"version {version!r} is not semantic (x.y.z)")
    elif str(integration.version) != version:
        problems.append(f"Home Assistant read version {integration.version}, not {version}")
    if integration.config_flow is not True:
        problems.append("config_flow is not true")
    if manifest.get("iot_class") != "local_push":
        problems.append(f"iot_class is {manifest.get('iot_class')!r}, expected 'local_push'")
    if integration.integration_type != "hub":
        problems.append(f"integration_type is {integration.integration_type!r}, expected 'hub'")
    documentation = str(integration.documentation or "")
    if not documentation.startswith("https://"):
        problems.append(f"documentation {documentation!r} is not an https URL")
    issue_tracker = str(integration.issue_tracker or "")
    if not issue_tracker.startswith("https://"):
        problems.append(f"issue_tracker {issue_tracker!r} is not an https URL")
    owners = manifest.get("codeowners") or []
    if not owners or not all(isinstance(o, str) and o.startswith("@") for o in owners):
        problems.append(f"codeowners {owners!r} must be a non-empty list of @handles")
    keys = list(metadata.manifest)  # the file's order (the loader adds keys of its own)
    expected_order = ["domain", "name", *sorted(k for k in keys if k not in ("domain", "name"))]
    if keys != expected_order:  # hassfest: domain, name, then alphabetical
        problems.append(f"manifest keys out of order: {keys}, expected {expected_order}")
    assert not problems, report(problems)


def _constraints() -> list[Requirement]:
    """Home Assistant's package_constraints.txt, as installed."""
    path = Path(homeassistant.__file__).parent / "package_constraints.txt"
    constraints = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            constraints.append(Requirement(line))
        except InvalidRequirement:
            continue
    return constraints


def requirement_problems(
    requirements: Sequence[str], constraints: Sequence[Requirement]
) -> list[str]:
    """Pinned with ==, allowed by Home Assistant's constraints, and what is installed."""
    problems = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            problems.append(f"requirement {text!r} does not parse")
            continue
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"requirement {text!r} is not pinned with == to one version")
            continue
        pinned = Version(specs[0].version)
        name = canonicalize_name(requirement.name)
        for constraint in constraints:
            if canonicalize_name(constraint.name) != name:
                continue
            if constraint.marker is not None and not constraint.marker.evaluate():
                continue
            if not constraint.specifier.contains(pinned, prereleases=True):
                problems.append(
                    f"requirement {text!r} breaks Home Assistant's constraint {constraint}"
                )
        try:
            installed = Version(importlib.metadata.version(requirement.name))
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"requirement {text!r} is not installed in the test environment")
            continue
        if installed != pinned:
            problems.append(f"requirement {text!r} but {installed} is installed")
    return problems


async def test_requirements_pinned_allowed_and_installed(hass: HomeAssistant) -> None:
    """Each requirement is ==, satisfies package_constraints.txt and is what .venv runs."""
    integration = await async_get_integration(hass, DOMAIN)
    constraints = await hass.async_add_executor_job(_constraints)
    assert constraints, "package_constraints.txt of Home Assistant could not be read"
    problems = requirement_problems(integration.requirements, constraints)
    assert not problems, report(problems)


def test_hacs_json(metadata: Metadata) -> None:
    """Name, known keys, and a minimum Home Assistant version that this one satisfies."""
    hacs = load_json(REPO_ROOT / "hacs.json")
    problems = only("hacs.json keys", HACS_KEYS, hacs)
    if hacs.get("name") != metadata.manifest["name"]:
        problems.append(
            f"name {hacs.get('name')!r} differs from manifest {metadata.manifest['name']!r}"
        )
    minimum = hacs.get("homeassistant")
    try:
        if Version(str(minimum)) > Version(HA_VERSION):
            problems.append(f"homeassistant {minimum} is newer than the tested {HA_VERSION}")
    except InvalidVersion:
        problems.append(f"homeassistant {minimum!r} is not a version")
    assert not problems, report(problems)


def test_brand_images() -> None:
    """brand/icon.png is a 256x256 PNG; other brand images are PNGs of their size."""
    brand = INTEGRATION_DIR / "brand"
    assert (brand / "icon.png").is_file(), "brand/icon.png is missing"
    problems = []
    for path in sorted(brand.iterdir()):
        try:
            with Image.open(path) as image:
                image_format, size = image.format, image.size
        except OSError as err:
            problems.append(f"brand/{path.name} is not an image: {err}")
            continue
        if image_format != "PNG" or path.suffix != ".png":
            problems.append(f"brand/{path.name} is {image_format}, not a .png PNG")
        expected = BRAND_SIZES.get(path.name)
        if expected and size != expected:
            problems.append(f"brand/{path.name} is {size[0]}x{size[1]}, expected {expected}")
    assert not problems, report(problems)


# ---------------------------------------------------------------------------- services
def service_fields(definition: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields of a services.yaml action, sections flattened."""
    fields: dict[str, Any] = {}
    for name, field in ((definition or {}).get("fields") or {}).items():
        if isinstance(field, Mapping) and "fields" in field:  # a section
            fields.update(field["fields"])
        else:
            fields[name] = field
    return fields


def service_problems(
    registered: Mapping[str, probatio.Schema | None],
    services: Mapping[str, Any],
    strings: Mapping[str, Any],
) -> list[str]:
    """Registered actions, services.yaml and en.json services describe the same things."""
    translated = strings.get("services", {})
    problems = compare("services.yaml (vs registered actions)", registered, services)
    problems += compare("en.json services (vs services.yaml)", services, translated)
    for name in sorted(set(services) & set(translated)):
        entry = translated[name]
        for item in ("name", "description"):
            if not isinstance(entry.get(item), str) or not entry[item]:
                problems.append(f"en.json services.{name}.{item} is missing")
        fields = service_fields(services[name])
        problems += compare(
            f"en.json services.{name}.fields (vs services.yaml)", fields, entry.get("fields", {})
        )
        for field in sorted(set(fields) & set(entry.get("fields", {}))):
            for item in ("name", "description"):
                if not entry["fields"][field].get(item):
                    problems.append(f"en.json services.{name}.fields.{field}.{item} is missing")
        sections = {
            key for key, value in (services[name].get("fields") or {}).items() if "fields" in value
        }
        problems += compare(
            f"en.json services.{name}.sections", sections, entry.get("sections", {})
        )
    for name in sorted(set(services) & set(registered)):
        schema = registered[name]
        if isinstance(schema, probatio.Schema) and isinstance(schema.schema, dict):
            keys = {str(key) for key in schema.schema}
            problems += compare(
                f"services.yaml {name} fields (vs the action's schema)",
                keys,
                service_fields(services[name]),
            )
        else:
            problems.append(f"action {name}: schema is not a plain probatio.Schema({{...}})")
    return problems


async def test_services_registered_described_and_translated(
    hass: HomeAssistant, metadata: Metadata
) -> None:
    """Every action registered at setup is in services.yaml and en.json, fields included."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    registered = {
        name: service.schema
        for name, service in hass.services.async_services_for_domain(DOMAIN).items()
    }
    assert registered, "the integration registered no actions"
    problems = service_problems(registered, metadata.services, metadata.strings)
    # What Home Assistant itself reads from services.yaml for the UI.
    descriptions = (await async_get_all_descriptions(hass)).get(DOMAIN, {})
    problems += compare("descriptions Home Assistant loaded", registered, descriptions)
    for name, description in descriptions.items():
        problems += compare(
            f"fields of {name} Home Assistant loaded (vs services.yaml)",
            service_fields(metadata.services.get(name)),
            service_fields(description),
        )
    assert not problems, report(problems)


# ---------------------------------------------------------------------------- translations
def translation_file_problems(
    strings: Mapping[str, Any], translated: Mapping[str, Any], language: str
) -> list[str]:
    """Same keys as en.json, same placeholders and the same markdown shape per string."""
    english, other = flatten(strings), flatten(translated)
    problems = compare(
        f"{language}.json keys (vs en.json)", map(dotted, english), map(dotted, other)
    )
    for path, source in english.items():
        if path not in other:
            continue
        text, where = other[path], f"{language}.json {dotted(path)}"
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: empty or not a string")
            continue
        if placeholders(text) != placeholders(source):
            problems.append(
                f"{where}: placeholders {sorted(placeholders(text))}, "
                f"en.json has {sorted(placeholders(source))}"
            )
        if markdown_shape(text) != markdown_shape(source):
            problems.append(
                f"{where}: {markdown_shape(text)} (newlines, list items), "
                f"en.json has {markdown_shape(source)}"
            )
    return problems


def markdown_shape(text: str) -> tuple[int, int]:
    """Newlines and '- ' list items of a string."""
    return text.count("\n"), sum(line.startswith("- ") for line in text.split("\n"))


def hassfest_string_problems(name: str, tree: Mapping[str, Any]) -> list[str]:
    """Strings hassfest would refuse: HTML-like <...>, padding, '{quoted}' placeholders."""
    problems = []
    for path, text in flatten(tree).items():
        where = f"{name} {dotted(path)}"
        if not isinstance(text, str):
            problems.append(f"{where}: not a string")
            continue
        try:
            cv.string_with_no_html(text)
        except probatio.Invalid:
            tags = re.findall(r"<[a-z].*?>", text, re.IGNORECASE)
            problems.append(f"{where}: contains {tags}, which hassfest refuses as HTML")
        if text != text.strip():
            problems.append(f"{where}: leading or trailing whitespace")
        if SINGLE_QUOTED_PLACEHOLDER.search(text):
            problems.append(f"{where}: a placeholder inside single quotes")
    return problems


def test_required_languages_present() -> None:
    """English and the translated languages are all there."""
    assert not (missing := sorted(REQUIRED_LANGUAGES - set(LANGUAGES))), (
        f"translations missing: {missing}"
    )


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translation_matches_english(metadata: Metadata, language: str) -> None:
    """Exactly en.json's keys, with the same placeholders and markdown."""
    problems = translation_file_problems(
        metadata.strings, metadata.translations[language], language
    )
    assert not problems, report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_strings_pass_hassfest(metadata: Metadata, language: str) -> None:
    """No string hassfest's translation validator would refuse."""
    tree = metadata.strings if language == "en" else metadata.translations[language]
    problems = hassfest_string_problems(f"{language}.json", tree)
    assert not problems, report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_home_assistant_loads_translation(
    hass: HomeAssistant, metadata: Metadata, language: str
) -> None:
    """Home Assistant serves every string of the file as written (no fallback, no drop)."""
    tree = metadata.strings if language == "en" else metadata.translations[language]
    wrong = []
    for category, content in tree.items():
        loaded = await async_get_translations(hass, language, category, {DOMAIN})
        prefix = f"component.{DOMAIN}.{category}"
        for path, text in flatten({category: content}).items():
            key = f"component.{DOMAIN}.{dotted(path)}"
            if loaded.get(key) != text:
                wrong.append(f"{key}: Home Assistant serves {loaded.get(key)!r}")
        assert any(k.startswith(prefix) for k in loaded), f"{language}: no {category} loaded"
    assert not wrong, report(wrong)


# ---------------------------------------------------------------------------- entities
def descriptions_by_key(
    descriptions: Mapping[str, Sequence[Any]],
) -> tuple[dict[str, dict[str, list[Any]]], list[str]]:
    """Descriptions grouped by platform and translation_key."""
    grouped: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    problems = []
    for platform, platform_descriptions in descriptions.items():
        for description in platform_descriptions:
            if description.translation_key is None:
                problems.append(
                    f"{platform} description {description.key!r} has no translation_key"
                )
                continue
            grouped[str(platform)][description.translation_key].append(description)
    return grouped, problems


def entity_states(platform: str, descriptions: Sequence[Any]) -> tuple[set[str], str]:
    """The states an entity can have that can be translated or iconed, and a hint."""
    if platform == Platform.SENSOR:
        enum = [d for d in descriptions if d.device_class == SensorDeviceClass.ENUM]
        if enum:
            return {str(o) for d in enum for o in (d.options or [])}, "the sensor's options"
        return set(), "a sensor that is not an enum has no named states"
    if platform == Platform.SELECT:
        return {str(o) for d in descriptions for o in (d.options or [])}, "the select's options"
    if platform in (Platform.BINARY_SENSOR, Platform.SWITCH):
        return {"on", "off"}, "on/off"
    if platform == Platform.EVENT:
        return set(), (
            "an event's state is a timestamp: event types belong under "
            "state_attributes.event_type.state"
        )
    return set(), f"a {platform} has no named states"


def attribute_states(platform: str, descriptions: Sequence[Any]) -> dict[str, set[str]]:
    """Attributes with named states: the event type of an event entity."""
    if platform == Platform.EVENT:
        return {"event_type": {str(t) for d in descriptions for t in (d.event_types or [])}}
    return {}


def entity_translation_problems(
    strings: Mapping[str, Any], descriptions: Mapping[str, Sequence[Any]]
) -> list[str]:
    """Every translation_key has a name and its states; no entity translation is unused."""
    used, problems = descriptions_by_key(descriptions)
    translated = strings.get("entity", {})
    for platform in sorted(set(used) | set(translated)):
        problems += compare(
            f"en.json entity.{platform} (vs translation_keys of the descriptions)",
            used.get(platform, {}),
            translated.get(platform, {}),
        )
    for platform, by_key in sorted(used.items()):
        for key, platform_descriptions in sorted(by_key.items()):
            entry = translated.get(platform, {}).get(key)
            if entry is None:
                continue
            where = f"en.json entity.{platform}.{key}"
            problems += only(
                where, ("name", "state", "state_attributes", "unit_of_measurement"), entry
            )
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                problems.append(f"{where}.name is missing")
                continue
            per_connector = {
                bool(getattr(d, "per_connector", False)) for d in platform_descriptions
            }
            if len(per_connector) > 1:
                problems.append(f"{where}: used by per-connector and per-charger descriptions")
            expected = {"connector"} if True in per_connector else set()
            expected |= {
                p for d in platform_descriptions for p in getattr(d, "name_placeholders", ())
            }
            if placeholders(name) != expected:
                problems.append(
                    f"{where}.name has placeholders {sorted(placeholders(name))}, "
                    f"the entity provides {sorted(expected)}"
                )
            states, hint = entity_states(platform, platform_descriptions)
            if platform == Platform.SENSOR and states:
                problems += compare(f"{where}.state (vs options)", states, entry.get("state", {}))
            else:
                problems += only(f"{where}.state", states, entry.get("state", {}), hint)
            attributes = attribute_states(platform, platform_descriptions)
            for attribute, values in attributes.items():
                problems += compare(
                    f"{where}.state_attributes.{attribute}.state",
                    values,
                    entry.get("state_attributes", {}).get(attribute, {}).get("state", {}),
                )
    return problems


def test_every_platform_has_descriptions() -> None:
    """This module checks the descriptions of every platform the integration sets up."""
    assert not (diff := compare("platforms", map(str, PLATFORMS), map(str, DESCRIPTIONS))), diff


def test_entity_translations(metadata: Metadata) -> None:
    """Names for every translation_key, every enum option and event type translated."""
    problems = entity_translation_problems(metadata.strings, DESCRIPTIONS)
    assert not problems, report(problems)


# ---------------------------------------------------------------------------- icons
def icon_problems(
    icons: Mapping[str, Any],
    strings: Mapping[str, Any],
    descriptions: Mapping[str, Sequence[Any]],
    services: Mapping[str, Any],
) -> list[str]:
    """An icon for every entity translation and action; states the entity can have."""
    used, _ = descriptions_by_key(descriptions)
    translated, iconed = strings.get("entity", {}), icons.get("entity", {})
    problems = only("icons.json", ("entity", "services"), icons)
    for platform in sorted(set(translated) | set(iconed)):
        problems += compare(
            f"icons.json entity.{platform} (vs en.json entity.{platform})",
            translated.get(platform, {}),
            iconed.get(platform, {}),
        )
    for platform, entries in sorted(iconed.items()):
        for key, entry in sorted(entries.items()):
            where = f"icons.json entity.{platform}.{key}"
            problems += only(where, ("default", "state", "state_attributes", "range"), entry)
            if "default" not in entry:
                problems.append(f"{where}: no default icon")
            problems += [
                f"{where}.{dotted(path)}: {icon!r} is not an mdi: icon"
                for path, icon in flatten(entry).items()
                if not (isinstance(icon, str) and icon.startswith("mdi:"))
            ]
            platform_descriptions = used.get(platform, {}).get(key)
            if not platform_descriptions:
                continue
            states, hint = entity_states(platform, platform_descriptions)
            problems += only(f"{where}.state", states, entry.get("state", {}), hint)
            attributes = attribute_states(platform, platform_descriptions)
            for attribute, attribute_icons in entry.get("state_attributes", {}).items():
                if attribute not in attributes:
                    problems.append(f"{where}.state_attributes.{attribute}: no such attribute")
                    continue
                problems += only(
                    f"{where}.state_attributes.{attribute}.state",
                    attributes[attribute],
                    attribute_icons.get("state", {}),
                )
    service_icons = icons.get("services")
    if service_icons is None:
        problems.append(
            f"icons.json has no services section; actions without an icon: {sorted(services)}"
        )
        return problems
    problems += compare("icons.json services (vs services.yaml)", services, service_icons)
    for name, icon in sorted(service_icons.items()):
        value = icon.get("service") if isinstance(icon, Mapping) else icon
        if not (isinstance(value, str) and value.startswith("mdi:")):
            problems.append(f"icons.json services.{name}: {icon!r} is not {{'service': 'mdi:...'}}")
    return problems


def test_icons(metadata: Metadata) -> None:
    """icons.json covers exactly the entity translations and the actions."""
    problems = icon_problems(metadata.icons, metadata.strings, DESCRIPTIONS, metadata.services)
    assert not problems, report(problems)


# ---------------------------------------------------------------------------- source scan
def callee(call: ast.Call) -> str:
    """The name of what is called: f() -> f, a.b.f() -> f."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def keywords(call: ast.Call) -> dict[str, ast.expr]:
    """The keyword arguments of a call by name."""
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def resolve_keys(node: ast.expr) -> list[str] | None:
    """The translation keys an expression can take (None when not known)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Constant) and node.value is None:
        return []  # set_issue(..., None): the issue is cleared, no key used
    if isinstance(node, ast.IfExp):
        body, orelse = resolve_keys(node.body), resolve_keys(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.JoinedStr):
        parts = node.values
        if (
            len(parts) == 2
            and isinstance(parts[0], ast.Constant)
            and isinstance(parts[1], ast.FormattedValue)
        ):
            return DYNAMIC_KEY_PREFIXES.get(str(parts[0].value))
        return None
    return DYNAMIC_KEY_EXPRESSIONS.get(ast.unparse(node))


def placeholder_names(node: ast.expr | None) -> frozenset[str] | None:
    """The names of translation_placeholders passed (None when not known statically)."""
    if node is None:
        return frozenset()
    if isinstance(node, ast.Dict):
        if all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
            return frozenset(k.value for k in node.keys if isinstance(k, ast.Constant))
        return None
    if isinstance(node, ast.Call) and not node.args:
        extra = frozenset(keywords(node))
        if callee(node) == "dict" and all(kw.arg for kw in node.keywords):
            return extra
        if callee(node) in PLACEHOLDER_HELPERS and all(kw.arg for kw in node.keywords):
            return PLACEHOLDER_HELPERS[callee(node)] | extra
    return None


@dataclass(frozen=True)
class KeyUse:
    """A translation_key passed to an exception or a repair issue."""

    category: str  # exceptions or issues
    keys: tuple[str, ...]
    placeholders: frozenset[str] | None
    where: str


def source_files(directory: Path) -> Iterator[tuple[str, ast.Module]]:
    """The parsed Python modules of the integration, by path relative to it."""
    for path in sorted(directory.rglob("*.py")):
        yield str(path.relative_to(directory)), ast.parse(path.read_text(encoding="utf-8"))


def translation_key_uses(directory: Path) -> tuple[list[KeyUse], list[str]]:
    """translation_keys of exceptions and issues raised anywhere in the integration."""
    uses, problems = [], []
    for name, module in source_files(directory):
        for call in ast.walk(module):
            if not isinstance(call, ast.Call):
                continue
            kws = keywords(call)
            if callee(call) == "set_issue":  # repairs.set_issue(hass, id, key, placeholders)
                args = call.args
                kws = {
                    "translation_key": args[2] if len(args) > 2 else kws["translation_key"],
                    **(
                        {"translation_placeholders": args[3]}
                        if len(args) > 3
                        else {"translation_placeholders": kws["placeholders"]}
                        if "placeholders" in kws
                        else {}
                    ),
                }
            if "translation_key" not in kws:
                continue
            if name == "repairs.py" and callee(call) == "async_create_issue":
                continue  # the one generic call; its callers are checked above
            if callee(call) in ("async_create_issue", "set_issue"):
                category = "issues"
            elif callee(call) in EXCEPTION_CLASSES or "translation_domain" in kws:
                category = "exceptions"
                domain = kws.get("translation_domain")
                if domain is None or ast.unparse(domain) != "DOMAIN":
                    problems.append(
                        f"{name}:{call.lineno}: {callee(call)} needs translation_domain=DOMAIN"
                    )
            else:
                continue  # an entity description: checked with the entity translations
            where = f"{name}:{call.lineno}"
            keys = resolve_keys(kws["translation_key"])
            if keys is None:
                problems.append(
                    f"{where}: cannot tell which keys translation_key="
                    f"{ast.unparse(kws['translation_key'])} takes; add it to DYNAMIC_KEY_*"
                )
                continue
            uses.append(
                KeyUse(
                    category,
                    tuple(keys),
                    placeholder_names(kws.get("translation_placeholders")),
                    where,
                )
            )
    return uses, problems


def source_key_problems(strings: Mapping[str, Any], directory: Path) -> list[str]:
    """Every exception/issue key exists with its placeholders; none in en.json is unused."""
    uses, problems = translation_key_uses(directory)
    required = {"exceptions": ("message",), "issues": ("title", "description")}
    for category, items in required.items():
        section = strings.get(category, {})
        used = {key for use in uses if use.category == category for key in use.keys}
        problems += only(f"en.json {category}: unused", used, section)
        for key, entry in sorted(section.items()):
            problems += [
                f"en.json {category}.{key}.{item} is missing"
                for item in items
                if not (isinstance(entry, Mapping) and entry.get(item))
            ]
    for use in uses:
        section = strings.get(use.category, {})
        for key in use.keys:
            if key not in section:
                problems.append(f"{use.where}: en.json {use.category}.{key} is missing")
                continue
            if use.placeholders is None:
                continue
            needed = set().union(
                *(placeholders(t) for t in flatten(section[key]).values() if isinstance(t, str))
            )
            if missing := sorted(needed - use.placeholders):
                problems.append(
                    f"{use.where}: en.json {use.category}.{key} uses {missing}, "
                    f"which the call does not pass"
                )
    return problems


def test_exception_and_issue_translations(metadata: Metadata) -> None:
    """Exceptions and repair issues raised in the code are translated, and only those."""
    problems = source_key_problems(metadata.strings, INTEGRATION_DIR)
    assert not problems, report(problems)


# ---------------------------------------------------------------------------- config flow
# The modules that hold flow classes (the options flow has its own).
FLOW_MODULES = (config_flow, charger_flow, options_flow)


def flow_sections() -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The en.json section of each flow class of the flow modules."""
    sections: dict[str, tuple[str, ...]] = {}
    problems = []
    subentry_types: dict[type, str] = {}
    classes = [
        cls
        for module in FLOW_MODULES
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__module__ == module.__name__
    ]
    for cls in classes:
        if issubclass(cls, ConfigFlow):
            supported = cls.async_get_supported_subentry_types(MockConfigEntry(domain=DOMAIN))
            subentry_types.update({flow: kind for kind, flow in supported.items()})
    for cls in classes:
        if issubclass(cls, ConfigFlow):
            sections[cls.__name__] = ("config",)
        elif issubclass(cls, OptionsFlow):
            sections[cls.__name__] = ("options",)
        elif issubclass(cls, ConfigSubentryFlow):
            if cls not in subentry_types:
                problems.append(f"{cls.__name__} is no supported subentry type's flow")
                continue
            sections[cls.__name__] = ("config_subentries", subentry_types[cls])
    return sections, problems


@dataclass
class FlowUses:
    """Step ids, menu options, errors and abort reasons a flow class uses."""

    steps: dict[str, str]
    menus: dict[str, list[str]]
    errors: dict[str, str]
    aborts: dict[str, str]


def flow_uses(cls: ast.ClassDef, name: str) -> tuple[FlowUses, list[str]]:
    """What a flow class shows, from its source."""
    uses = FlowUses({}, {}, {}, {})
    problems: list[str] = []

    def add_errors(node: ast.expr, where: str) -> None:
        keys = resolve_keys(node)
        if keys is None:
            problems.append(f"{where}: cannot tell which error {ast.unparse(node)} is")
        else:
            uses.errors.update(dict.fromkeys(keys, where))

    for method in cls.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(method):
            where = f"{name}:{getattr(node, 'lineno', method.lineno)}"
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "errors"
                        and node.value is not None
                    ):
                        add_errors(node.value, where)
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "errors"
                        and isinstance(node.value, ast.Dict)
                    ):
                        for value in node.value.values:
                            add_errors(value, where)
            if not isinstance(node, ast.Call):
                continue
            kws = keywords(node)
            if isinstance(errors := kws.get("errors"), ast.Dict):
                for value in errors.values:
                    add_errors(value, where)
            if "step_id" in kws:
                step = resolve_keys(kws["step_id"])
                if step is None or len(step) != 1:
                    problems.append(f"{where}: step_id {ast.unparse(kws['step_id'])} unknown")
                    continue
                uses.steps[step[0]] = where
                options = kws.get("menu_options")
                if options is not None:
                    if isinstance(options, ast.List | ast.Tuple):
                        uses.menus[step[0]] = [
                            o.value
                            for o in options.elts
                            if isinstance(o, ast.Constant) and isinstance(o.value, str)
                        ]
                    else:
                        problems.append(f"{where}: menu_options is not a literal list")
            if "reason" in kws:
                reasons = resolve_keys(kws["reason"])
                if reasons is None:
                    problems.append(f"{where}: abort reason {ast.unparse(kws['reason'])} unknown")
                else:
                    uses.aborts.update(dict.fromkeys(reasons, where))
            elif callee(node) in IMPLICIT_ABORTS:
                reason = IMPLICIT_ABORTS[callee(node)]
                if callee(node) == "async_update_reload_and_abort" and "reauth" in method.name:
                    reason = "reauth_successful"
                uses.aborts[reason] = where
    return uses, problems


def config_flow_problems(strings: Mapping[str, Any], directory: Path) -> list[str]:
    """Steps, menus, errors and aborts of each flow exist in its section, none unused."""
    sections, problems = flow_sections()
    classes = [
        (cls, f"{module.__name__.rsplit('.', 1)[-1]}.py")
        for module in FLOW_MODULES
        for cls in ast.parse(
            (directory / f"{module.__name__.rsplit('.', 1)[-1]}.py").read_text(encoding="utf-8")
        ).body
    ]
    seen = set()
    for cls, filename in classes:
        if not isinstance(cls, ast.ClassDef) or cls.name not in sections:
            continue
        seen.add(cls.name)
        path = sections[cls.name]
        section = node_at(strings, path)
        where = f"en.json {dotted(path)}"
        uses, found = flow_uses(cls, filename)
        problems += found
        problems += compare(
            f"{where}.step (vs step_ids of {cls.name})", uses.steps, section.get("step", {})
        )
        problems += compare(
            f"{where}.error (vs errors of {cls.name})", uses.errors, section.get("error", {})
        )
        problems += compare(
            f"{where}.abort (vs aborts of {cls.name})", uses.aborts, section.get("abort", {})
        )
        for step, options in uses.menus.items():
            problems += compare(
                f"{where}.step.{step}.menu_options",
                options,
                section.get("step", {}).get(step, {}).get("menu_options", {}),
            )
        if path[0] == "config_subentries":
            if not section.get("entry_type"):
                problems.append(f"{where}.entry_type is missing")
            if "user" in uses.steps and not section.get("initiate_flow", {}).get("user"):
                problems.append(f"{where}.initiate_flow.user is missing")
    problems += compare("flow classes found in the flow modules", sections, seen)
    used_sections = {path[0] for path in sections.values()}
    flow_like = {"config", "options", "config_subentries"}
    problems += only(
        "en.json flow sections without a flow", used_sections, flow_like & set(strings)
    )
    translated_types = set(strings.get("config_subentries", {}))
    subentry_types = {path[1] for path in sections.values() if path[0] == "config_subentries"}
    problems += compare(
        "en.json config_subentries (vs subentry types)", subentry_types, translated_types
    )
    return problems


def test_config_flow_translations(metadata: Metadata) -> None:
    """Step ids, errors and abort reasons of config_flow.py are translated, and only those."""
    problems = config_flow_problems(metadata.strings, INTEGRATION_DIR)
    assert not problems, report(problems)


def form_problems(
    strings: Mapping[str, Any],
    path: tuple[str, ...],
    result: Mapping[str, Any],
    title_placeholders: Mapping[str, str] | None = None,
) -> list[str]:
    """The fields and menu options of a shown step have labels; its placeholders are given."""
    section = node_at(strings, path)
    step_id = result["step_id"]
    where = f"en.json {dotted(path)}.step.{step_id}"
    step = section.get("step", {}).get(step_id)
    if step is None:
        return [f"{where} is missing"]
    problems = []
    if result["type"] is FlowResultType.FORM:
        schema = result.get("data_schema")
        fields = {str(key) for key in schema.schema} if schema is not None else set()
        problems += compare(f"{where}.data (vs the form's fields)", fields, step.get("data", {}))
        problems += only(f"{where}.data_description", fields, step.get("data_description", {}))
    elif result["type"] is FlowResultType.MENU:
        problems += compare(
            f"{where}.menu_options", result["menu_options"], step.get("menu_options", {})
        )
    given = set(result.get("description_placeholders") or {})
    for item in ("title", "description"):
        if missing := sorted(placeholders(step.get(item, "")) - given):
            problems.append(f"{where}.{item} uses {missing}, which the step does not pass")
    if title_placeholders is not None and (
        missing := sorted(placeholders(section.get("flow_title", "")) - set(title_placeholders))
    ):
        problems.append(f"en.json {dotted(path)}.flow_title uses {missing}, not passed")
    return problems


async def test_flow_forms_have_labels(
    hass: HomeAssistant, central_system: CentralSystemUnderTest, metadata: Metadata
) -> None:
    """Each form of each flow, as shown, has a label for every field it shows and no more."""
    entry = central_system.entry
    flows = hass.config_entries.flow
    subentries = hass.config_entries.subentries
    problems: list[str] = []

    result = await flows.async_init(DOMAIN, context={"source": SOURCE_USER})
    problems += form_problems(metadata.strings, ("config",), result)
    flows.async_abort(result["flow_id"])

    result = await entry.start_reconfigure_flow(hass)
    problems += form_problems(metadata.strings, ("config",), result)
    flows.async_abort(result["flow_id"])

    result = await flows.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={
            "entry_id": entry.entry_id,
            "identity": "wb9",
            "vendor": "Wallbox",
            "model": "PLP1",
            "serial": "123",
            "firmware": "6.7.0",
            "address": "127.0.0.1",
        },
    )
    context = flows.async_get(result["flow_id"])["context"]
    problems += form_problems(
        metadata.strings, ("config",), result, context.get("title_placeholders", {})
    )
    flows.async_abort(result["flow_id"])

    result = await hass.config_entries.options.async_init(entry.entry_id)
    problems += form_problems(metadata.strings, ("options",), result)
    hass.config_entries.options.async_abort(result["flow_id"])

    charger = ("config_subentries", SUBENTRY_CHARGER)
    result = await subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    problems += form_problems(metadata.strings, charger, result)
    subentries.async_abort(result["flow_id"])

    wb1 = next(s.subentry_id for s in entry.subentries.values() if s.unique_id == "wb1")
    menu = await entry.start_subentry_reconfigure_flow(hass, wb1)
    problems += form_problems(metadata.strings, charger, menu)
    subentries.async_abort(menu["flow_id"])
    assert menu["type"] is FlowResultType.MENU
    for option in menu["menu_options"]:
        menu = await entry.start_subentry_reconfigure_flow(hass, wb1)
        result = await subentries.async_configure(menu["flow_id"], {"next_step_id": option})
        assert result["type"] in (FlowResultType.FORM, FlowResultType.MENU), result
        problems += form_problems(metadata.strings, charger, result)
        subentries.async_abort(result["flow_id"])
    assert not problems, report(problems)
