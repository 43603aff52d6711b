"""PayloadColumn: payloads kept as msgpack bytes read back exactly as a list of dicts would, and its
hot keys (decoded values kept for scans) follow every write, deletion, growth and compaction."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local.engine.paths import extract_values, make_extractor, parse_path
from qdrant_local.engine.payload_column import PayloadColumn, extracted_values, key_payloads, matching_slots

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False), st.text())
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abxy"), inner, max_size=3)),
    max_leaves=8,
)
_PAYLOADS = st.dictionaries(st.sampled_from(["a", "b", "c", "x"]), _VALUES, max_size=4)
_PATHS = ["a", "b", "a.x", "a[]", "a[].x", "b[0]", "c.a.b"]
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 30), _PAYLOADS),
        st.tuples(st.just("set_many"), st.lists(st.integers(0, 30), unique=True, max_size=5), _PAYLOADS),
        st.tuples(st.just("grow"), st.integers(0, 6), st.none()),
        st.tuples(st.just("clear"), st.lists(st.integers(0, 30), max_size=5), st.none()),
        st.tuples(st.just("compact"), st.none(), st.none()),
        st.tuples(st.just("scan"), st.sampled_from(_PATHS), st.booleans()),
    ),
    max_size=30,
)


@given(steps=_STEPS)
@settings(max_examples=120)
def test_column_reads_like_a_list_of_dicts(steps: list) -> None:
    column, expected = PayloadColumn(), []  # type: ignore[var-annotated]
    column.extend_empty(8)
    expected.extend([None] * 8)
    for action, first, second in steps:
        size = len(expected)
        if action == "set" and first < size:
            column[first] = second
            expected[first] = second
        elif action == "set_many":
            slots = [slot for slot in first if slot < size]
            column.set_many(slots, [second] * len(slots))
            for slot in slots:
                expected[slot] = second
        elif action == "grow":
            column.extend_empty(first)
            expected.extend([None] * first)
        elif action == "clear":
            column.clear_slots([slot for slot in first if slot < size])
            for slot in first:
                if slot < size:
                    expected[slot] = None
        elif action == "compact":
            keep = [slot for slot, payload in enumerate(expected) if payload is not None]
            column.compact(keep)
            expected = [expected[slot] for slot in keep]
        elif action == "scan":
            path = parse_path(first)
            slots = list(range(len(expected)))
            got = extracted_values(column, path, second, lambda p: [], slots)
            assert got == [extract_values(p, path, second) for p in expected]
            via_key = key_payloads(column, path, slots)
            assert [extract_values(p, path, second) for p in via_key] == got
            for matches in (lambda values: len(values) == 1, lambda values: not values):
                hits = matching_slots(column, path, second, make_extractor(path, second), matches, slots)
                assert hits == [slot for slot in slots if matches(got[slot])]
    assert len(column) == len(expected)
    assert [column[slot] for slot in range(len(expected))] == expected
    assert column.payloads_of(range(len(expected))) == expected
    assert list(column) == expected


def test_reads_are_copies() -> None:
    column = PayloadColumn()
    column.extend_empty(1)
    payload: dict[str, Any] = {"a": [1, {"b": 2}]}
    column[0] = payload
    payload["a"].append(3)  # the caller's object is not stored
    read = column[0]
    read["a"][1]["b"] = 5  # nor is what a reader gets back
    assert column[0] == {"a": [1, {"b": 2}]}
