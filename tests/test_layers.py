"""The layers of the source, read from its imports (ast): what may import what.

The central system (``csms/``) stands on its own: no Home Assistant import. Its
versions (``csms/v16``, ``csms/v201``) are reached through one registry,
``csms/versions.py``; nothing else in the integration imports a version folder
(a version folder's own modules do, among themselves).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "custom_components.ocpp_hub"
ROOT = Path(__file__).parent.parent
SOURCE = ROOT / "custom_components" / "ocpp_hub"
VERSION_FOLDERS = (f"{PACKAGE}.csms.v16", f"{PACKAGE}.csms.v201")
REGISTRY = f"{PACKAGE}.csms.versions"


def module_name(path: Path) -> str:
    """The dotted name of a source file (a package by its ``__init__``)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, source: str) -> Iterator[str]:
    """Every module ``source`` imports, absolute (``from . import x``: the package and ``.x``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports_by_module(root: Path = SOURCE) -> dict[str, set[str]]:
    """Module name -> the modules it imports, for every source file under ``root``."""
    return {
        module_name(path): set(imported(path, path.read_text(encoding="utf-8")))
        for path in sorted(root.rglob("*.py"))
    }


def version_folder_importers(imports: dict[str, set[str]]) -> dict[str, list[str]]:
    """Modules outside the registry and the version folders that import a version folder."""
    found: dict[str, list[str]] = {}
    for module, targets in imports.items():
        if module == REGISTRY or any(within(module, f) for f in VERSION_FOLDERS):
            continue
        bad = sorted(t for t in targets if any(within(t, f) for f in VERSION_FOLDERS))
        if bad:
            found[module] = bad
    return found


def test_scan_sees_the_registry_import_the_versions() -> None:
    """The scan resolves relative imports: it finds the registry's own ``from . import v16``."""
    imports = imports_by_module()
    assert f"{PACKAGE}.csms.v16" in imports[REGISTRY]
    assert f"{PACKAGE}.csms.v201" in imports[REGISTRY]
    assert f"{PACKAGE}.csms.v16.mapping" in imports[REGISTRY]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("custom_components/ocpp_hub/storage.py", "from .csms.v16.mapping import x\n"),
        ("custom_components/ocpp_hub/csms/server.py", "from . import v201\n"),
        ("custom_components/ocpp_hub/csms/server.py", "from .v16 import VERSION\n"),
        ("custom_components/ocpp_hub/hub.py", "import custom_components.ocpp_hub.csms.v16\n"),
    ],
)
def test_scan_catches_a_version_import_outside_the_registry(path: str, source: str) -> None:
    """Each way of spelling the import is caught."""
    module = module_name(ROOT / path)
    found = version_folder_importers({module: set(imported(ROOT / path, source))})
    assert list(found) == [module]


def test_nothing_outside_the_registry_imports_a_version_folder() -> None:
    """Only ``csms/versions.py`` (and the version folders themselves) import ``csms.v16``/``v201``."""
    assert version_folder_importers(imports_by_module()) == {}


def test_central_system_has_no_home_assistant_import() -> None:
    """``csms/`` runs without Home Assistant (the protocol tests run it on its own)."""
    found = {
        module: sorted(t for t in targets if within(t, "homeassistant"))
        for module, targets in imports_by_module(SOURCE / "csms").items()
    }
    assert {module: bad for module, bad in found.items() if bad} == {}
