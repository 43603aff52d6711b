"""Filters: count, scroll and delete under generated filter trees agree with the oracle.

Two datasets: a hand-written one that puts every edge the filter semantics care about (missing,
null, ``[]``, ``[null]``, ints vs floats vs bools, arrays of objects, geo points, dates in every
format) into a few points, and a generated one per example.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .compare import Pair, Side, examples
from .specs import Call, Enum
from .strategies import (
    COLLECTION_KINDS,
    INDEX_KEYS,
    NATURAL_SCHEMAS,
    UUID_POOL,
    collection_kinds,
    filters,
    payload_schemas,
    point_lists,
    vector_structs,
)

KIND = COLLECTION_KINDS["named"]

EDGE_PAYLOADS: list[dict] = [
    {},
    {"city": "Oslo", "n": 1, "f": 1.0, "flag": True, "text": "Hello, world!"},
    {"city": ["Oslo", "Paris"], "n": [1, 2, 3], "f": 2.5, "flag": False, "text": "foo bar baz"},
    {"city": None, "n": None, "flag": None, "tags": [None]},
    {"city": [], "n": [], "tags": []},
    {"city": "oslo", "n": True, "f": 1, "text": "world hello"},
    {"city": "Paris", "n": 1.0, "text": ["hello", "b2b world"], "tags": ["Oslo", 1, None]},
    {"city": 1, "n": "1", "obj": {"x": 1, "y": "Oslo", "deep": {"k": 2}}},
    {"obj": {"x": [1, 2], "deep": {"k": None}}, "arr": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]},
    {"arr": [{"x": 1, "y": 2}, {"x": 2, "y": 1}], "obj": [{"x": 1}, {"x": 3}]},
    {"arr": [{"x": 0, "sub": [{"z": 1}, {"z": 2}]}, {"y": "Oslo"}], "obj": None},
    {"arr": {"x": 1, "y": 1}, "obj": 5},
    {"arr": [], "obj": {}},
    {"arr": [None, 1, {"x": 3}]},
    {"geo": {"lat": 59.91, "lon": 10.75}, "dt": "2021-06-01T12:00:00Z"},
    {"geo": [{"lat": 48.85, "lon": 2.35}, {"lat": 52.52, "lon": 13.4}], "dt": "2021-06-01"},
    {"geo": {"lat": "x", "lon": 1}, "dt": "2021-06-01 12:00:00"},
    {"geo": {"lat": 0.0, "lon": 179.9}, "dt": ["2020-01-01T00:00:00+01:00", "not a date"]},
    {"dt": "2021-06-01T12:00:00.123456+01:00", "u": str(UUID_POOL[0])},
    {"dt": 20210601, "misc": {"a": [1, {"b": None}]}, "a.b": 3},
    {"misc": [[1, 2], [3]], "tags": [[1], "Oslo"], "a": {"b": 4}},
    {"city": "São Paulo", "text": "São Paulo, b2b_hello", "f": -0.0},
    {"city": "", "text": "", "n": 0, "f": 0.0, "flag": [True, False]},
    {"n": -3, "f": 1e300, "tags": ["hello", "world", "foo"]},
]


def _edge_points() -> list[Call]:
    ids = list(range(len(EDGE_PAYLOADS)))
    ids[3] = str(UUID_POOL[1])
    ids[7] = str(UUID_POOL[2])
    vectors = [
        {"a": [1.0, 0.0, 0.0], "b": [0.5, 0.5]} if i % 3 == 0 else ({"c": [1.0, 2.0, 3.0, 4.0]} if i % 3 == 1 else {})
        for i in range(len(ids))
    ]
    return [
        Call("PointStruct", id=pid, vector=vec, payload=payload)
        for pid, vec, payload in zip(ids, vectors, EDGE_PAYLOADS)
    ]


EDGE_POINTS = _edge_points()


@pytest.fixture(scope="module")
def edge_pair(subject: Side):
    with Pair(subject) as pair:
        pair.check("create_collection", "edge", **KIND.create_kwargs())
        pair.check("upsert", "edge", EDGE_POINTS)
        pair.assert_same_state("edge")
        yield pair


@pytest.fixture(scope="module")
def indexed_edge_pair(subject: Side):
    """The edge dataset with a payload index on every key (local mode ignores them)."""
    with Pair(subject) as pair, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pair.check("create_collection", "edge", **KIND.create_kwargs())
        for key, schema in NATURAL_SCHEMAS.items():
            pair.check("create_payload_index", "edge", key, field_schema=Enum("PayloadSchemaType", schema))
        pair.check("upsert", "edge", EDGE_POINTS)
        pair.assert_same_state("edge")
        yield pair


@settings(max_examples=examples(300))
@given(flt=filters(depth=2, vector_names=KIND.vector_names))
def test_edge_dataset_count_and_scroll(edge_pair: Pair, flt: Call) -> None:
    """count and scroll under any filter select the same points of the edge dataset."""
    edge_pair.check("count", "edge", count_filter=flt)
    edge_pair.check("scroll", "edge", scroll_filter=flt, limit=100, with_payload=False)


@settings(max_examples=examples(200))
@given(flt=filters(depth=2, vector_names=KIND.vector_names))
def test_indexed_edge_dataset_count_and_scroll(indexed_edge_pair: Pair, flt: Call) -> None:
    """The same with every key indexed: an index never changes which points a filter selects."""
    indexed_edge_pair.check("count", "edge", count_filter=flt)
    indexed_edge_pair.check("scroll", "edge", scroll_filter=flt, limit=100, with_payload=False)


@settings(max_examples=examples(60))
@given(data=st.data())
def test_generated_dataset_filters(subject: Side, data: st.DataObject) -> None:
    """Random points, payload indexes and filters: count, scroll and delete-by-filter agree."""
    kind = data.draw(collection_kinds, label="kind")
    points = data.draw(point_lists(kind, max_size=20), label="points")
    flt = data.draw(filters(depth=2, vector_names=kind.vector_names), label="filter")
    indexes = data.draw(st.lists(st.tuples(st.sampled_from(INDEX_KEYS), payload_schemas), max_size=4), label="indexes")
    index_first = data.draw(st.booleans(), label="index before upsert")
    with Pair(subject) as pair, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pair.check("create_collection", "c", **kind.create_kwargs())
        for key, schema in indexes if index_first else []:
            pair.check("create_payload_index", "c", key, field_schema=schema)
        pair.check("upsert", "c", points)
        for key, schema in [] if index_first else indexes:
            pair.check("create_payload_index", "c", key, field_schema=schema)
        pair.check("count", "c", count_filter=flt)
        pair.check("scroll", "c", scroll_filter=flt, limit=3)
        pair.check("delete", "c", Call("FilterSelector", filter=flt))
        pair.assert_same_state("c")


@settings(max_examples=examples(40))
@given(data=st.data())
def test_has_vector_after_vector_changes(subject: Side, data: st.DataObject) -> None:
    """has_vector sees vectors added by upsert/update_vectors and removed by delete_vectors."""
    kind = data.draw(collection_kinds, label="kind")
    points = data.draw(point_lists(kind, max_size=8), label="points")
    with Pair(subject) as pair:
        pair.check("create_collection", "c", **kind.create_kwargs())
        pair.check("upsert", "c", points)
        ids = [p.kwargs["id"] for p in points]
        names = data.draw(st.lists(st.sampled_from(kind.vector_names), min_size=1, unique=True))
        pair.check("delete_vectors", "c", names, ids[: len(ids) // 2 + 1])
        updates = [
            Call("PointVectors", id=pid, vector=data.draw(vector_structs(kind, allow_empty=False)))
            for pid in ids[len(ids) // 2 :]
        ]
        if updates:
            pair.check("update_vectors", "c", updates)
        for name in kind.vector_names:
            flt = Call("Filter", must=[Call("HasVectorCondition", has_vector=name)])
            pair.check("count", "c", count_filter=flt)
        pair.assert_same_state("c")
