"""Fuzzing the collection of a 2.0.1 report: any NotifyReport parts a charger may send.

The session fuzzer (`test_fuzz.py`) sends NotifyReports with random request ids, which
the hub answers and drops; this one feeds the same schema-valid parts straight to the
collector of a report the hub asked for.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from custom_components.ocpp_hub.csms.v201.variables import (
    MAX_REPORT_ENTRIES,
    ReportCollector,
    VariableName,
    actual_value,
)

from .test_fuzz import PAYLOADS_201

PARTS = st.lists(PAYLOADS_201["NotifyReport"], min_size=1, max_size=8)


def _expected(parts: list[dict[str, Any]]) -> tuple[bool, dict[str, str]]:
    """Whether the report ends, and its values: each new part up to the last one."""
    seen: set[int] = set()
    values: dict[str, str] = {}
    for part in parts:
        if part["seqNo"] in seen:
            continue
        seen.add(part["seqNo"])
        for entry in part.get("reportData") or []:
            value = actual_value(entry)
            if value is not None:
                values[VariableName.from_wire(entry["component"], entry["variable"]).text] = value
        if not part.get("tbc", False):
            return True, values
    return False, values


@settings(max_examples=300, deadline=None)
@given(parts=PARTS)
def test_a_report_takes_any_parts(parts: list[dict[str, Any]]) -> None:
    """Any parts: no error, a repeated part applied once, the report ends with its last
    part (later ones ignored), at most the entries kept."""
    collector = ReportCollector(request_id=1)
    for part in parts:
        collector.add(part)
    ends, values = _expected(parts)
    assert collector.complete is ends
    assert collector.done.is_set() is ends
    assert collector.values == values
    assert len(collector.values) <= MAX_REPORT_ENTRIES
    assert collector.dropped == 0  # a few parts never reach the bound


@settings(max_examples=50, deadline=None)
@given(parts=PARTS)
def test_a_closed_connection_ends_a_report_without_completing_it(
    parts: list[dict[str, Any]],
) -> None:
    """The connection closes: the report is over, not complete, and takes no more parts."""
    collector = ReportCollector(request_id=1)
    collector.abandon()
    for part in parts:
        collector.add(part)
    assert collector.done.is_set()
    assert collector.closed
    assert not collector.complete
    assert collector.values == {}
