"""What differs in OCPP-J from one version to the next, below the messages.

A :class:`Dialect` is a version's wire-level vocabulary: where its official
JSON schemas are and how their files are named, and how it spells the CALLERROR
codes. The session and the validation take it from the version they speak and
know nothing else of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .errors import OcppErrorCode


@dataclass(frozen=True, slots=True)
class Dialect:
    """One OCPP-J version's schema files and error spellings."""

    name: str  # for logs: "1.6"
    schema_dir: Path
    request_suffix: str = ""  # the request schema of X is X<suffix>.json
    response_suffix: str = "Response"
    # Codes this version spells otherwise than the neutral value (absent: as is).
    spellings: Mapping[OcppErrorCode, str] = field(default_factory=lambda: MappingProxyType({}))
    # Charger -> central system actions we handle, and central system -> charger ones we send.
    handled_actions: frozenset[str] = frozenset()
    command_actions: frozenset[str] = frozenset()

    def spell(self, code: OcppErrorCode) -> str:
        """The code as this version writes it in a CALLERROR."""
        return self.spellings.get(code, code.value)

    def request_schema(self, action: str) -> Path:
        """The file of the request schema of ``action``."""
        return self.schema_dir / f"{action}{self.request_suffix}.json"

    def response_schema(self, action: str) -> Path:
        """The file of the response schema of ``action``."""
        return self.schema_dir / f"{action}{self.response_suffix}.json"

    def known_actions(self) -> frozenset[str]:
        """Every action this version has a request schema for (blocking: reads a folder)."""
        known: set[str] = set()
        for path in self.schema_dir.glob("*.json"):
            stem = path.stem
            if stem.endswith(self.response_suffix):
                continue
            if self.request_suffix:
                if not stem.endswith(self.request_suffix):
                    continue
                stem = stem[: -len(self.request_suffix)]
            known.add(stem)
        return frozenset(known)
