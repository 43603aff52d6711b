"""Payload normalisation, keyed writes/deletes, selectors, facets and order values.

Differential against qdrant-client's own pure functions wherever it has one.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import pathlib
import struct
import uuid
from types import SimpleNamespace
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.local.json_path_parser import parse_json_path
from qdrant_client.local.local_collection import LocalCollection, to_jsonable_python
from qdrant_client.local.order_by import to_order_value as reference_order_value
from qdrant_client.local.payload_value_extractor import value_by_key
from qdrant_client.local.payload_value_setter import delete_value_by_key, merge_payload, set_value_by_key

from qdrant_local import models as our_models
from qdrant_local.engine.payload import (
    copy_payload,
    delete_payload,
    encode_payloads,
    normalize_payload,
    set_payload,
    validate_key,
)
from qdrant_local.engine.payload_values import facet_counts, facet_values, order_values, to_order_value
from qdrant_local.engine.projection import compile_payload_selector as compile_converted
from qdrant_local.engine.projection import select_payload
from qdrant_local.errors import InvalidInput, InvalidPath
from qdrant_local.models.convert import to_with_payload

from .strategies import json_values, key_paths, payloads


def compile_payload_selector(with_payload: Any) -> Any:
    """As the facade does: convert the argument (models.convert.to_with_payload), then compile it."""
    return compile_converted(to_with_payload(with_payload))


# ------------------------------------------------------------------------------------------------
# normalize_payload


class Color(enum.Enum):
    RED = "red"
    NESTED = (1, 2)


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str, enum.Enum):
    NEW = "new"


@dataclasses.dataclass
class Box:
    width: int
    tags: set[str]


TZ_PLUS = dt.timezone(dt.timedelta(hours=5, minutes=30))
TZ_MINUS = dt.timezone(-dt.timedelta(hours=3))

CONVERTIBLE = [
    dt.datetime(2024, 1, 2, 3, 4, 5),
    dt.datetime(2024, 1, 2, 3, 4, 5, 120),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 1, 2, 3, tzinfo=TZ_PLUS),
    dt.datetime(1, 1, 1, tzinfo=TZ_MINUS),
    dt.date(2024, 2, 29),
    dt.time(1, 2, 3, 4),
    dt.time(23, 59, tzinfo=dt.timezone.utc),
    dt.timedelta(0),
    dt.timedelta(days=-1),
    dt.timedelta(days=800, hours=5, microseconds=10),
    dt.timedelta(seconds=-1),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    {3, 1, 2},
    frozenset(["a"]),
    (1, (2, [3, (4,)])),
    b"bytes",
    bytearray(b"ba"),
    decimal.Decimal("1.50"),
    decimal.Decimal("1E+2"),
    Color.RED,
    Color.NESTED,
    Level.HIGH,
    Tag.NEW,
    pathlib.Path("/tmp/x"),
    Box(1, {"x"}),
    qm.GeoPoint(lat=1.0, lon=2.0),
    {"deep": [{"when": dt.date(2020, 1, 1)}]},
]


@pytest.mark.parametrize("value", CONVERTIBLE, ids=lambda v: type(v).__name__)
def test_normalize_matches_local_mode(value: Any) -> None:
    payload = {"v": value, "plain": [1, "x", None, True, 2.5]}
    assert normalize_payload(payload) == to_jsonable_python(payload)


@settings(max_examples=200)
@given(st.timedeltas())
def test_normalize_timedelta_matches_pydantic(value: dt.timedelta) -> None:
    assert normalize_payload({"d": value}) == to_jsonable_python({"d": value})


@settings(max_examples=200)
@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())))
def test_normalize_datetime_matches_pydantic(value: dt.datetime) -> None:
    offset = value.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        return  # second-precision offsets: pydantic's rounding is not specified; none are real today
    assert normalize_payload({"d": value}) == to_jsonable_python({"d": value})


@settings(max_examples=150)
@given(payloads)
def test_normalize_json_payload_is_identity_copy(payload: dict[str, Any]) -> None:
    normalized = normalize_payload(payload)
    assert normalized == to_jsonable_python(payload)
    assert json.dumps(normalized) == json.dumps(payload)


def test_normalize_our_models_like_qdrant_client_models() -> None:
    ours = normalize_payload({"p": our_models.GeoPoint(lat=1.0, lon=2.0)})
    assert ours == to_jsonable_python({"p": qm.GeoPoint(lat=1.0, lon=2.0)})


def test_normalize_returns_fresh_copy() -> None:
    payload = {"a": {"b": [1, {"c": 2}]}}
    normalized = normalize_payload(payload)
    normalized["a"]["b"][1]["c"] = 3
    assert payload["a"]["b"][1]["c"] == 2


def test_normalize_none_is_empty() -> None:
    assert normalize_payload(None) == {}


def test_normalize_numpy_values() -> None:
    # Deviation: local mode fails to serialise numpy values; they become their Python values.
    payload = {"f": np.float32(1.5), "i": np.int64(3), "b": np.bool_(True), "arr": np.arange(3)}
    assert normalize_payload(payload) == {"f": 1.5, "i": 3, "b": True, "arr": [0, 1, 2]}
    assert type(normalize_payload(payload)["i"]) is int


@pytest.mark.parametrize(
    "payload",
    [
        {"a": math.nan},
        {"a": math.inf},
        {"a": {"b": [1.0, -math.inf]}},
        {"a": np.float64("nan")},
        {"a": np.array([1.0, np.nan])},
        {"a": (math.nan,)},
    ],
)
def test_normalize_rejects_non_finite(payload: dict[str, Any]) -> None:
    # Deviation: local mode stores NaN (to_jsonable_python keeps it); the server rejects it.
    with pytest.raises(InvalidInput, match="NaN and infinite"):
        normalize_payload(payload)


def test_non_finite_error_names_the_key() -> None:
    with pytest.raises(InvalidInput, match=r"'a.b\[1\]'"):
        normalize_payload({"a": {"b": [1.0, math.nan]}})


@pytest.mark.parametrize(
    "payload",
    [{1: "a"}, {"a": {None: 1}}, {"a": [{(1, 2): 3}]}, {True: 1}],
)
def test_normalize_rejects_non_str_keys(payload: dict[Any, Any]) -> None:
    with pytest.raises(InvalidInput, match="keys must be strings"):
        normalize_payload(payload)


@pytest.mark.parametrize("payload", [[1, 2], "text", 5, qm.GeoPoint(lat=1, lon=2)])
def test_normalize_rejects_non_dict(payload: Any) -> None:
    with pytest.raises(InvalidInput, match="Payload must be a dict"):
        normalize_payload(payload)


def test_normalize_rejects_bad_values() -> None:
    with pytest.raises(InvalidInput, match="UTF-8"):
        normalize_payload({"b": b"\xff"})
    with pytest.raises(InvalidInput, match="Unable to serialize"):
        normalize_payload({"x": object()})
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(InvalidInput, match="circular"):
        normalize_payload(looped)


def test_normalize_str_enum_key() -> None:
    assert normalize_payload({Tag.NEW: 1}) == {"new": 1}
    assert type(next(iter(normalize_payload({Tag.NEW: 1})))) is str


# ------------------------------------------------------------------------------------------------
# copy_payload


@settings(max_examples=100)
@given(payloads)
def test_copy_payload_is_deep(payload: dict[str, Any]) -> None:
    copied = copy_payload(payload)
    assert copied == payload

    def ids(value: Any) -> set[int]:
        found = {id(value)} if isinstance(value, (dict, list)) else set()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        for child in children:
            found |= ids(child)
        return found

    assert not ids(copied) & ids(payload)


# ------------------------------------------------------------------------------------------------
# set_payload / delete_payload


@settings(max_examples=250)
@given(
    payloads,
    st.one_of(st.none(), key_paths()),
    st.dictionaries(st.sampled_from(["a", "b", "z"]), json_values, max_size=3),
)
def test_set_payload_matches_setter(payload: dict[str, Any], key: str | None, new: dict[str, Any]) -> None:
    expected = copy.deepcopy(payload)
    if key is None:
        merge_payload(expected, copy.deepcopy(new))
    else:
        set_value_by_key(expected, parse_json_path(key), copy.deepcopy(new))
    ours = copy.deepcopy(payload)
    set_payload(ours, new, key)
    assert ours == expected


def test_set_payload_does_not_share_new_values() -> None:
    target = {"arr": [{}, {}]}
    new = {"x": {"y": 1}}
    set_payload(target, new, "arr[]")
    target["arr"][0]["x"]["y"] = 2
    assert target["arr"][1]["x"]["y"] == 1
    assert new == {"x": {"y": 1}}


@pytest.mark.parametrize(
    "payload, key, new, expected",
    [
        ({"a": {"x": 1}}, "a", {"y": 2}, {"a": {"x": 1, "y": 2}}),
        ({}, "new.deep", {"y": 2}, {"new": {"deep": {"y": 2}}}),
        ({"arr": [{"x": 1}, 5]}, "arr[]", {"y": 2}, {"arr": [{"x": 1, "y": 2}, {"y": 2}]}),
        ({"arr": [{"x": 1}, {}]}, "arr[1]", {"y": 2}, {"arr": [{"x": 1}, {"y": 2}]}),
        ({"arr": [{}]}, "arr[5]", {"y": 2}, {"arr": [{}]}),
        ({"s": 1}, "s", {"y": 2}, {"s": {"y": 2}}),
        ({"a": {"b": 1}}, "a.b.c", {"y": 2}, {"a": {"b": {"c": {"y": 2}}}}),
        ({"a": {"x": 1}}, "a[0]", {"y": 2}, {"a": []}),
        ({"a": {"x": 1, "y": 3}}, "a", {"y": None}, {"a": {"x": 1}}),
    ],
)
def test_set_payload_examples(payload: dict[str, Any], key: str, new: dict[str, Any], expected: dict[str, Any]) -> None:
    set_payload(payload, new, key)
    assert payload == expected


@settings(max_examples=200)
@given(payloads, st.lists(key_paths(), min_size=1, max_size=3))
def test_delete_payload_matches_reference(payload: dict[str, Any], keys: list[str]) -> None:
    expected = copy.deepcopy(payload)
    for key in keys:
        delete_value_by_key(expected, parse_json_path(key))
    ours = copy.deepcopy(payload)
    delete_payload(ours, keys)
    assert ours == expected


def test_delete_payload_examples() -> None:
    payload = {"a": {"b": 1, "c": 2}, "arr": [1, 2], "l": [{"x": 1, "y": 2}, {"x": 3}]}
    delete_payload(payload, ["a.b", "arr[0]", "l[].x", "missing.path"])
    assert payload == {"a": {"c": 2}, "arr": [1, 2], "l": [{"y": 2}, {}]}
    delete_payload(payload, ["arr[]"])
    assert payload["arr"] == []


def test_validate_key() -> None:
    assert validate_key("a[].b") == ("a", validate_key("a[]")[1], "b")
    with pytest.raises(InvalidPath, match="^Invalid path$"):
        validate_key("a..b")
    with pytest.raises(InvalidInput):
        validate_key(None)


# ------------------------------------------------------------------------------------------------
# with_payload selectors

selector_keys = st.lists(key_paths(max_depth=2), max_size=3)


def _reference_select(payload: dict[str, Any], with_payload: Any) -> Any:
    return copy.deepcopy(LocalCollection._process_payload(payload, with_payload))


@settings(max_examples=200)
@given(payloads, selector_keys, st.sampled_from(["list", "include", "exclude", "dict_include", "dict_exclude", "ours"]))
def test_selectors_match_local_mode(payload: dict[str, Any], keys: list[str], form: str) -> None:
    if form == "list":
        ours_arg: Any = keys
        reference_arg: Any = keys
    elif form in ("include", "dict_include"):
        reference_arg = qm.PayloadSelectorInclude(include=keys)
        ours_arg = reference_arg if form == "include" else {"include": keys}
    elif form == "ours":
        reference_arg = qm.PayloadSelectorExclude(exclude=keys)
        ours_arg = our_models.PayloadSelectorExclude(exclude=keys)
    else:
        reference_arg = qm.PayloadSelectorExclude(exclude=keys)
        ours_arg = reference_arg if form == "exclude" else {"exclude": keys}
    selected = select_payload(payload, compile_payload_selector(ours_arg))
    assert selected == _reference_select(payload, reference_arg)


@settings(max_examples=100)
@given(payloads)
def test_selected_payload_is_a_copy(payload: dict[str, Any]) -> None:
    for selector in (True, {"exclude": ["zz"]}, [f'"{key}"' for key in payload]):
        selected = select_payload(payload, compile_payload_selector(selector))
        assert selected == payload
        if selected:
            selected.clear()
            assert payload


def test_selector_bool_and_empty() -> None:
    payload = {"a": 1}
    assert select_payload(payload, compile_payload_selector(False)) is None
    assert select_payload(payload, compile_payload_selector(None)) is None
    assert select_payload(payload, compile_payload_selector([])) == {}
    assert select_payload(payload, compile_payload_selector(True)) == {"a": 1}


def test_selector_str_is_rejected_like_local_mode() -> None:
    with pytest.raises(ValueError) as reference:
        LocalCollection._process_payload({}, "x")
    with pytest.raises(InvalidInput) as ours:
        compile_payload_selector("x")
    assert str(ours.value) == str(reference.value)


@pytest.mark.parametrize("bad", [["a..b"], {"include": ["a["]}, qm.PayloadSelectorExclude(exclude=["[0]"])])
def test_selector_bad_path(bad: Any) -> None:
    with pytest.raises(InvalidPath):
        compile_payload_selector(bad)


@pytest.mark.parametrize("bad", [{"neither": 1}, 5, [1], {"include": "a"}])
def test_selector_bad_shape(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        compile_payload_selector(bad)


# ------------------------------------------------------------------------------------------------
# facets and order values


def _reference_facet(payload_list: list[dict[str, Any]], key: str, limit: int) -> list[tuple[Any, int]]:
    stub = SimpleNamespace(
        payload=payload_list,
        _payload_and_non_deleted_mask=lambda _filter: np.ones(len(payload_list), dtype=bool),
    )
    response = LocalCollection.facet(stub, key, None, limit)  # type: ignore[arg-type]
    return [(hit.value, hit.count) for hit in response.hits]


facet_payloads = st.dictionaries(
    st.sampled_from(["a", "b"]),
    st.one_of(
        json_values,
        st.lists(
            st.one_of(st.booleans(), st.integers(-2, 2), st.sampled_from(["x", "y", "1"]), st.floats(0, 2)), max_size=5
        ),
    ),
    max_size=2,
)


@settings(max_examples=150)
@given(st.lists(facet_payloads, max_size=8), st.sampled_from(["a", "b", "a[]", "a.b", "b[].a"]), st.integers(1, 10))
def test_facet_counts_match_local_mode(payload_list: list[dict[str, Any]], key: str, limit: int) -> None:
    ours = facet_counts(payload_list, key, limit)
    reference = _reference_facet(payload_list, key, limit)
    assert [(type(v), v, c) for v, c in ours] == [(type(v), v, c) for v, c in reference]


def test_facet_values_keep_types_apart() -> None:
    values = facet_values({"a": [1, True, 1, "1", 1.0, None, {"x": 1}, [1]]}, "a")
    assert [(type(v), v) for v in values] == [(int, 1), (bool, True), (str, "1")]


order_inputs = st.one_of(
    json_values,
    st.lists(
        st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.sampled_from([1, 1.0, True, "2024-01-02"])), max_size=5
    ),
)


@settings(max_examples=300)
@given(order_inputs)
def test_order_values_match_reference(value: Any) -> None:
    payload = {"k": value}
    expected: list[Any] = []
    for item in value_by_key(payload, "k") or []:
        converted = reference_order_value(item)
        if converted is not None and converted not in expected:
            expected.append(converted)
    ours = order_values(payload, "k")
    assert [(type(v), v) for v in ours] == [(type(v), v) for v in expected]


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        2.5,
        "2024-01-02T00:00:00Z",
        "2024-01-02",
        "garbage",
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 5),
        dt.datetime(2024, 1, 2, tzinfo=TZ_PLUS),
    ],
)
def test_to_order_value_matches_reference(value: Any) -> None:
    assert to_order_value(value) == reference_order_value(value)


# ------------------------------------------------------------------------------------------------
# encode_payloads: the bulk msgpack fast path agrees with normalize_payload on every input


_AWKWARD = st.one_of(
    st.floats(),  # NaN and infinities included
    st.integers(min_value=-(2**70), max_value=2**70),
    st.binary(max_size=4),
    st.text(alphabet=st.characters(codec=None), max_size=4),  # lone surrogates included
    st.dates(),
    st.tuples(st.integers(), st.text(max_size=2)),
)


@example([{"a": 1.0}, {"b": float("nan")}])
@example([{"a": 10892.0}, {"b": 1}])  # a float whose bytes hold a bin marker (0xc5): vouched value by value
@example([{"a": 10892.0}, {"b": [1.5]}])  # the same beside a nested payload: the exact path
@example([{"a": {"b": [float("-inf")]}}])
@example([{"a": b"bytes"}])
@example([{"a": "\ud800"}])
@example([{"a": 2**64}])
@example([{b"k": 1}])  # a bytes key: msgpack keeps it, the exact path rejects it
@example([{"a": True, "b": None, "c": "é", "d": -0.0, "e": 2**64 - 1}, {}])  # flat: shallow copies
@example([{"a": Level.HIGH}, {Color.RED.value: 1}])  # an int subclass value: not a shallow copy
@example([{"a": 1}, {"b": (1, 2)}])  # a tuple beside flat payloads: the round trip makes it a list
@example([{"a": 1.0, "b": 2.5}, {"c": float("inf")}])  # flat, non-finite: found by its marker bytes
@example([{"a": struct.unpack(">d", b"\x00\xcb\x7f\xf5\x00\x00\x00\x01")[0]}])  # a finite float imitating the marker
@given(st.lists(st.one_of(st.none(), payloads, st.dictionaries(st.text(max_size=3), _AWKWARD, max_size=3)), max_size=6))
@settings(max_examples=300)
def test_encode_payloads_matches_normalize_payload(batch: list) -> None:
    """The upsert's bulk form: the same payloads, errors and types, and bytes that are the normalised payloads'."""
    try:
        expected = [normalize_payload(payload) for payload in batch]
    except InvalidInput as error:
        with pytest.raises(InvalidInput) as raised:
            encode_payloads(batch)
        assert str(raised.value) == str(error)
        return
    encoded, blobs = encode_payloads(batch)
    assert encoded == expected
    assert [_types(p) for p in encoded] == [_types(p) for p in expected]  # 1 and 1.0 and True differ
    if blobs is not None:
        assert blobs == [msgpack.packb(p, use_bin_type=True) for p in expected]


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__
