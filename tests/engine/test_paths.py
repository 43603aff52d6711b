"""Key paths: parsing and extraction, differential against qdrant-client's parser and extractor."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.local.json_path_parser import JsonPathItemType, parse_json_path
from qdrant_client.local.payload_value_extractor import value_by_key

from qdrant_local.engine.paths import WILDCARD, extract_values, format_path, make_extractor, parse_path
from qdrant_local.errors import InvalidInput, InvalidPath

from .strategies import key_paths, payloads


def reference_parse(key: str) -> Any:
    """qdrant-client's parse, as our item tuple, or "error"."""
    try:
        items = parse_json_path(key)
    except ValueError:
        return "error"
    converted: list[Any] = []
    for item in items:
        if item.item_type == JsonPathItemType.KEY:
            converted.append(item.key)
        elif item.item_type == JsonPathItemType.WILDCARD_INDEX:
            converted.append(WILDCARD)
        else:
            converted.append(item.index)
    return tuple(converted)


def our_parse(key: str) -> Any:
    try:
        return parse_path(key)
    except InvalidPath as exc:
        assert str(exc) == "Invalid path"
        return "error"


@pytest.mark.parametrize(
    "key, expected",
    [
        ("a", ("a",)),
        ("a.b", ("a", "b")),
        ("a[]", ("a", WILDCARD)),
        ("a[0][1].b", ("a", 0, 1, "b")),
        ('"a.b".c', ("a.b", "c")),
        ('""', ("",)),
        ("a-b_c9", ("a-b_c9",)),
        ("ключ", ("ключ",)),
        (f"a[{2**64 - 1}]", ("a", 2**64 - 1)),
    ],
)
def test_parse_valid(key: str, expected: tuple[Any, ...]) -> None:
    assert parse_path(key) == expected
    assert reference_parse(key) == expected


@pytest.mark.parametrize(
    "key",
    ["", "a..b", "a[x]", "a[", "a[0", "a.", ".a", "[0]", "a[]b", "a b", '"a', "a[-1]", f"a[{2**64}]", "a.[0]", "a]"],
)
def test_parse_invalid(key: str) -> None:
    assert reference_parse(key) == "error"
    with pytest.raises(InvalidPath, match="^Invalid path$"):
        parse_path(key)


def test_parse_non_string_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_path(5)  # type: ignore[arg-type]


def test_parse_exhaustive_short_strings() -> None:
    # Every string of up to 4 characters over the grammar's interesting characters.
    alphabet = ["a", ".", "[", "]", "0", '"', "-", " ", "é"]
    for length in range(5):
        for chars in itertools.product(alphabet, repeat=length):
            key = "".join(chars)
            assert our_parse(key) == reference_parse(key), key


@settings(max_examples=300)
@given(st.text(alphabet='ab1._-[]" 9', max_size=12))
def test_parse_matches_reference(key: str) -> None:
    assert our_parse(key) == reference_parse(key)


@settings(max_examples=300)
@given(key_paths())
def test_format_path_round_trips(key: str) -> None:
    assert parse_path(format_path(parse_path(key))) == parse_path(key)


@settings(max_examples=200)
@given(payloads, key_paths(), st.booleans())
def test_extract_values_matches_value_by_key(payload: dict[str, Any], key: str, flat: bool) -> None:
    expected = value_by_key(payload, key, flat=flat) or []
    assert extract_values(payload, key, flat) == expected
    assert extract_values(payload, parse_path(key), flat) == expected
    assert make_extractor(key, flat)(payload) == expected


def test_extract_examples() -> None:
    payload = {"a": {"b": [1, [2, 3]]}, "l": [{"x": 1}, {"x": [2]}, {"y": 3}], "o": {"b": [{"c": 1}]}}
    assert extract_values(payload, "a.b") == [1, [2, 3]]
    assert extract_values(payload, "a.b", flat=False) == [[1, [2, 3]]]
    assert extract_values(payload, "l[].x") == [1, 2]
    assert extract_values(payload, "l[1].x", flat=False) == [[2]]
    assert extract_values(payload, "o.b.c") == []  # intermediate arrays need []
    assert extract_values(payload, "missing") == []
    assert make_extractor("missing")(payload) == []
