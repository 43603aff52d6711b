"""Bad input for collections and point operations, row by row.

Each row runs one request against a populated store and states the expected builtin error class and
message (or that there is no error), and that a rejected request leaves every collection exactly as
it was (same scroll output with payloads and vectors, same count).

* ``SAME`` rows: qdrant_local behaves like qdrant-client's local mode. The request also runs on
  the oracle; the oracle must match the row too (so the table itself is checked), and both must
  end in the same state.
* ``DEVIATION`` rows: qdrant_local deliberately does what the Qdrant server does (README, "We follow
  the Qdrant server"): reject negative, >= 2**64, bool and float ids, malformed UUIDs as a scroll
  offset or in has_id, NaN/inf, payload ints beyond 64 bits and lone surrogates; fail a write naming
  a missing point before changing anything, with ``No point with id X found``; all-or-nothing
  batches; accept REST dicts; TypeError for unknown kwargs. Only the subject runs them, except accepted dict inputs, which must leave
  the state the oracle reaches from the equivalent models.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import pytest

from ..differential.compare import (
    ORACLE,
    Side,
    assert_same,
    assert_same_outcome,
    builtin_base,
    default_comparison,
    plain,
    record_plain,
    run,
    subject_side,
)

SAME = "same"
DEVIATION = "deviation"

Call = Callable[[Any, ModuleType], Any]


@dataclass(frozen=True)
class Row:
    """One bad (or borderline) input and what must happen."""

    id: str
    kind: str  # SAME or DEVIATION
    call: Call
    error: type[BaseException] | None = None  # expected builtin base class; None: no error
    message: str | None = None  # exact str() of the error; None: not checked
    changes: bool = False  # the request legitimately changes the store
    subject_call: Call | None = None  # DEVIATION rows: the subject's request, if not ``call``


UUID_A = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"


def populate(client: Any, m: ModuleType) -> None:
    """Collection "c" (unnamed 3-d Cosine) and "n" (named dense, multivector, sparse), with points."""
    client.create_collection("c", vectors_config=m.VectorParams(size=3, distance=m.Distance.COSINE))
    client.create_collection(
        "n",
        vectors_config={
            "a": m.VectorParams(size=2, distance=m.Distance.DOT),
            "b": m.VectorParams(size=3, distance=m.Distance.EUCLID),
            "m": m.VectorParams(
                size=2,
                distance=m.Distance.DOT,
                multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"s": m.SparseVectorParams()},
    )
    client.upsert(
        "c",
        [
            m.PointStruct(id=1, vector=[1.0, 2.0, 3.0], payload={"city": "Oslo", "n": 1, "obj": {"k": [1, 2]}}),
            m.PointStruct(id=2, vector=[0.0, 1.0, 0.0], payload={"city": "Paris", "n": 2.5}),
            m.PointStruct(id=3, vector=[3.0, 0.0, 4.0], payload={"tags": ["a", None], "a": {"b": 1}}),
            m.PointStruct(id=UUID_A, vector=[1.0, 1.0, 1.0], payload={}),
        ],
    )
    client.upsert(
        "n",
        [
            m.PointStruct(
                id=1,
                vector={
                    "a": [1.0, 0.0],
                    "b": [1.0, 2.0, 3.0],
                    "m": [[1.0, 0.0], [0.5, 0.5]],
                    "s": m.SparseVector(indices=[3, 1], values=[0.5, 0.25]),
                },
                payload={"city": "Oslo"},
            ),
            m.PointStruct(id=2, vector={"a": [0.0, 1.0]}, payload={"n": 5}),
        ],
    )


def snapshot(client: Any) -> Any:
    """Everything a rejected request must leave untouched."""
    state = {}
    for name in ("c", "n"):
        records = client.scroll(name, limit=1000, with_payload=True, with_vectors=True)[0]
        state[name] = ([record_plain(r) for r in records], client.count(name).count)
    state["collections"] = sorted(c.name for c in client.get_collections().collections)
    return state


def vp(m: ModuleType, size: int = 2) -> Any:
    return m.VectorParams(size=size, distance=m.Distance.DOT)


def P(m: ModuleType, pid: Any, vector: Any = None, payload: Any = None) -> Any:  # noqa: N802
    return m.PointStruct(id=pid, vector=[1.0, 2.0, 3.0] if vector is None else vector, payload=payload)


def _mutate_results(client: Any, m: ModuleType) -> None:
    """Mutating what a read returned must not reach the store."""
    for record in client.retrieve("c", [1, 3], with_vectors=True) + client.scroll("n", with_vectors=True)[0]:
        record.payload["city"] = "mutated"
        record.payload.setdefault("obj", {})["k"] = "mutated"
        vector = record.vector
        if isinstance(vector, list):
            vector[0] = 999.0
        elif isinstance(vector, dict):
            for v in vector.values():
                if isinstance(v, list) and v and isinstance(v[0], list):
                    v[0][0] = 999.0
                elif isinstance(v, list):
                    v[0] = 999.0


def _mutate_inputs(client: Any, m: ModuleType) -> None:
    """Mutating a payload or vector after writing it must not reach the store."""
    payload = {"city": "Rome", "obj": {"k": [1]}}
    vector = [1.0, 0.0, 0.0]
    client.upsert("c", [m.PointStruct(id=7, vector=vector, payload=payload)])
    sp = {"x": {"y": [1]}}
    client.set_payload("c", sp, [1, 2])
    payload["city"] = "mutated"
    payload["obj"]["k"].append(2)
    vector[0] = 999.0
    sp["x"]["y"].append(2)


def _missing(method: str) -> Call:
    """A write naming points 1 (present) and 999 (missing)."""

    def call(client: Any, m: ModuleType) -> Any:
        ids = [1, 999]
        if method == "set_payload":
            return client.set_payload("c", {"new": 1}, ids)
        if method == "overwrite_payload":
            return client.overwrite_payload("c", {"new": 1}, m.PointIdsList(points=ids))
        if method == "delete_payload":
            return client.delete_payload("c", ["city"], ids)
        if method == "clear_payload":
            return client.clear_payload("c", ids)
        if method == "update_vectors":
            return client.update_vectors("c", [m.PointVectors(id=i, vector=[0.0, 0.0, 1.0]) for i in ids])
        if method == "delete_vectors":
            return client.delete_vectors("c", [""], ids)
        raise AssertionError(method)

    return call


def _batch_then_missing(client: Any, m: ModuleType) -> Any:
    return client.batch_update_points(
        "c",
        [
            m.UpsertOperation(upsert=m.PointsList(points=[P(m, 50)])),
            m.SetPayloadOperation(set_payload=m.SetPayload(payload={"x": 1}, points=[1])),
            m.DeleteOperation(delete=m.PointIdsList(points=[2])),
            m.ClearPayloadOperation(clear_payload=m.PointIdsList(points=[999])),
        ],
    )


def _batch_then_bad_filter(client: Any, m: ModuleType) -> Any:
    return client.batch_update_points(
        "c",
        [
            m.UpsertOperation(upsert=m.PointsList(points=[P(m, 50)])),
            m.DeleteOperation(
                delete=m.FilterSelector(
                    filter=m.Filter(min_should=m.MinShould(conditions=[m.HasIdCondition(has_id=[1])], min_count=0))
                )
            ),
        ],
    )


def _dict_rows() -> list[Row]:
    """REST dicts where local mode fails with AttributeError: accepted, same effect as models."""
    return [
        Row(
            "dict point accepted",
            DEVIATION,
            lambda c, m: c.upsert("c", [P(m, 9, payload={"city": "Rome"})]),
            None,
            changes=True,
            subject_call=lambda c, m: c.upsert(
                "c", [{"id": 9, "vector": [1.0, 2.0, 3.0], "payload": {"city": "Rome"}}]
            ),
        ),
        Row(
            "dict filter accepted",
            DEVIATION,
            lambda c, m: c.delete(
                "c",
                m.FilterSelector(
                    filter=m.Filter(must=[m.FieldCondition(key="city", match=m.MatchValue(value="Oslo"))])
                ),
            ),
            None,
            changes=True,
            subject_call=lambda c, m: c.delete(
                "c", {"filter": {"must": [{"key": "city", "match": {"value": "Oslo"}}]}}
            ),
        ),
        Row(
            "dict selector accepted",
            DEVIATION,
            lambda c, m: c.clear_payload("c", m.PointIdsList(points=[1, 2])),
            None,
            changes=True,
            subject_call=lambda c, m: c.clear_payload("c", {"points": [1, 2]}),
        ),
    ]


def _deep(levels: int) -> dict[str, Any]:
    """A payload of ``levels`` nested objects (the payload itself is the first)."""
    value: Any = 1
    for _ in range(levels - 1):  # with the payload itself: ``levels`` objects
        value = {"a": value}
    return {"deep": value}


def _deep_filter(m: ModuleType, levels: int, nested: bool = False) -> Any:
    """A filter ``levels`` filters deep (each nested condition adds a nested filter level too)."""
    current = m.Filter(must=[m.FieldCondition(key="city", match=m.MatchValue(value="Oslo"))])
    for _ in range(levels - 1):
        inner = m.NestedCondition(nested=m.Nested(key="obj", filter=current)) if nested else current
        current = m.Filter(must=[inner])
    return current


def _empty_field_condition_rows() -> list[Row]:
    message = "Validation error in JSON body: [match: At least one field condition must be specified]"

    def condition(m: ModuleType) -> Any:
        return m.Filter(must=[m.FieldCondition(key="city")])

    calls: dict[str, Call] = {
        "scroll": lambda c, m: c.scroll("c", scroll_filter=condition(m)),
        "count": lambda c, m: c.count("c", count_filter=condition(m)),
        "delete": lambda c, m: c.delete("c", m.FilterSelector(filter=condition(m))),
        "set_payload": lambda c, m: c.set_payload("c", {"x": 1}, condition(m)),
        "query": lambda c, m: c.query_points("c", query=[1.0, 0.0, 0.0], query_filter=condition(m)),
        "REST dict": lambda c, m: c.count("c", count_filter={"must": [{"key": "city"}]}),
    }
    return [
        Row(f"field condition without a condition ({name})", DEVIATION, call, ValueError, message)
        for name, call in calls.items()
    ]


ROWS: list[Row] = [
    # -------------------------------------------------------------- collections
    Row(
        "upsert to a missing collection",
        SAME,
        lambda c, m: c.upsert("zz", [P(m, 9)]),
        ValueError,
        "Collection zz not found",
    ),
    Row("count a missing collection", SAME, lambda c, m: c.count("zz"), ValueError, "Collection zz not found"),
    Row("get a missing collection", SAME, lambda c, m: c.get_collection("zz"), ValueError, "Collection zz not found"),
    Row("delete a missing collection", SAME, lambda c, m: c.delete_collection("zz"), None),
    Row(
        "create an existing collection",
        SAME,
        lambda c, m: c.create_collection("c", vectors_config=vp(m)),
        ValueError,
        "Collection c already exists",
    ),
    Row(
        "collection name with /",
        SAME,
        lambda c, m: c.create_collection("a/b", vectors_config=vp(m)),
        ValueError,
        "Collection name cannot contain '/' char",
    ),
    Row(
        "collection name empty",
        SAME,
        lambda c, m: c.create_collection("", vectors_config=vp(m)),
        ValueError,
        "Collection name cannot be ''",
    ),
    Row(
        "collection name ..",
        SAME,
        lambda c, m: c.create_collection("..", vectors_config=vp(m)),
        ValueError,
        "Collection name cannot be '..'",
    ),
    Row(
        "collection name too long",
        SAME,
        lambda c, m: c.create_collection("x" * 256, vectors_config=vp(m)),
        ValueError,
        "Collection name must be at most 255 characters long",
    ),
    Row(
        "recreate with a bad name",
        SAME,
        lambda c, m: c.recreate_collection("a/b", vectors_config=vp(m)),
        ValueError,
        "Collection name cannot contain '/' char",
    ),
    Row(
        "vector size 0",
        SAME,
        lambda c, m: c.create_collection("x", vectors_config=m.VectorParams(size=0, distance=m.Distance.DOT)),
        ValueError,
        "Vector size 0 is invalid. Must be from 1 to 65536.",
    ),
    Row(
        "vector size 65537",
        SAME,
        lambda c, m: c.create_collection("x", vectors_config=vp(m, 65537)),
        ValueError,
        "Vector size 65537 is invalid. Must be from 1 to 65536.",
    ),
    Row(
        "vector name over 200 bytes",
        SAME,
        lambda c, m: c.create_collection("x", vectors_config={"é" * 101: vp(m)}),
        ValueError,
        f"Invalid dense vector name `{'é' * 101}`: must be at most 200 bytes long",
    ),
    Row(
        "empty sparse vector name",
        SAME,
        lambda c, m: c.create_collection("x", sparse_vectors_config={"": m.SparseVectorParams()}),
        ValueError,
        "Sparse vector name cannot be empty",
    ),
    Row(
        "update an unknown sparse vector",
        SAME,
        lambda c, m: c.update_collection("n", sparse_vectors_config={"zz": m.SparseVectorParams()}),
        ValueError,
        "Vector zz does not exist in the collection",
    ),
    Row(
        "rename a missing alias",
        SAME,
        lambda c, m: c.update_collection_aliases(
            [m.RenameAliasOperation(rename_alias=m.RenameAlias(old_alias_name="q", new_alias_name="w"))]
        ),
        ValueError,
        "Alias q does not exist",
    ),
    Row(
        "alias to a missing collection",
        SAME,
        lambda c, m: c.update_collection_aliases(
            [m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="zz", alias_name="w"))]
        ),
        ValueError,
        "Collection zz not found",
    ),
    Row(
        "alias ops are atomic",
        SAME,
        lambda c, m: c.update_collection_aliases(
            [
                m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="c", alias_name="w")),
                m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="c", alias_name="n")),
            ]
        ),
        ValueError,
        "Collection n already exists",
    ),
    # -------------------------------------------------------------- vectors
    Row(
        "wrong dimension, unnamed",
        SAME,
        lambda c, m: c.upsert("c", [P(m, 9, [1.0, 2.0])]),
        ValueError,
        "Wrong input: Vector dimension error: expected dim: 3, got 2 for vector ''",
    ),
    Row(
        "wrong dimension, named",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"a": [1.0, 2.0, 3.0]})]),
        ValueError,
        "Wrong input: Vector dimension error: expected dim: 2, got 3 for vector 'a'",
    ),
    Row(
        "wrong dimension in a later point",
        SAME,
        lambda c, m: c.upsert("c", [P(m, 9), P(m, 10, [1.0])]),
        ValueError,
        "Wrong input: Vector dimension error: expected dim: 3, got 1 for vector ''",
    ),
    Row(
        "unnamed vector to named collection",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, [1.0, 2.0])]),
        ValueError,
        "Wrong input: Unnamed vectors are not allowed when a collection has named vectors or multivectors: ['a', 'b'], ['m']",
    ),
    Row("no named vector at all is fine", SAME, lambda c, m: c.upsert("n", [P(m, 9, {})]), None, changes=True),
    Row(
        "unknown vector name",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"zz": [1.0]})]),
        ValueError,
        "Wrong input: Not existing vector name error: zz",
    ),
    Row(
        "empty dense vector",
        SAME,
        lambda c, m: c.upsert("c", [P(m, 9, [])]),
        ValueError,
        "Wrong input: Dense vector must not be empty for vector ''",
    ),
    Row(
        "nested dense vector",
        SAME,
        lambda c, m: c.upsert("c", [P(m, 9, [[1.0], [1.0], [1.0]])]),
        ValueError,
        "Wrong input: Dense vector must be one-dimensional for vector ''",
    ),
    Row(
        "NaN in a vector",
        SAME,
        lambda c, m: c.upsert("c", [P(m, 9, [1.0, math.nan, 1.0])]),
        ValueError,
        "Vector contains NaN values",
    ),
    Row(
        "NaN in update_vectors",
        SAME,
        lambda c, m: c.update_vectors("c", [m.PointVectors(id=1, vector=[math.nan, 1.0, 1.0])]),
        ValueError,
        "Vector contains NaN values",
    ),
    Row(
        "empty multivector",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"m": []})]),
        ValueError,
        "Wrong input: Multivector must not be empty for vector 'm'",
    ),
    Row(
        "empty multivector row",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"m": [[]]})]),
        ValueError,
        "Wrong input: All vectors of a multivector must be non-empty for vector 'm'",
    ),
    Row(
        "multivector wrong dimension",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"m": [[1.0, 2.0, 3.0]]})]),
        ValueError,
        "Wrong input: Vector dimension error: expected dim: 2, got 3 for vector 'm'",
    ),
    Row(
        "sparse duplicate indices",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"s": m.SparseVector(indices=[1, 1], values=[1.0, 2.0])})]),
        ValueError,
        "Indices must be unique",
    ),
    Row(
        "sparse length mismatch",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"s": m.SparseVector(indices=[1, 2], values=[1.0])})]),
        ValueError,
        "Indices and values must have the same length",
    ),
    Row(
        "sparse NaN",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"s": m.SparseVector(indices=[1], values=[math.nan])})]),
        ValueError,
        "Values must not contain NaN",
    ),
    Row(
        "sparse vector under a dense name",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"a": m.SparseVector(indices=[1], values=[1.0])})]),
        ValueError,
        "Wrong input: Conversion between sparse and regular vectors failed for vector 'a'",
    ),
    Row(
        "dense vector under a sparse name",
        SAME,
        lambda c, m: c.upsert("n", [P(m, 9, {"s": [1.0, 2.0]})]),
        ValueError,
        "Wrong input: Conversion between sparse and regular vectors failed for vector 's'",
    ),
    Row(
        "batch with fewer vectors than ids",
        SAME,
        lambda c, m: c.upsert("c", m.Batch(ids=[5, 6], vectors=[[1.0, 2.0, 3.0]])),
        ValueError,
        "number of ids and vectors must be equal (2 != 1)",
    ),
    Row(
        "batch with more payloads than ids",
        SAME,
        lambda c, m: c.upsert("c", m.Batch(ids=[5], vectors=[[1.0, 2.0, 3.0]], payloads=[{}, {}])),
        ValueError,
        "number of ids and payloads must be equal (1 != 2)",
    ),
    Row("inf in a vector", DEVIATION, lambda c, m: c.upsert("c", [P(m, 9, [math.inf, 1.0, 1.0])]), ValueError),
    Row(
        "-inf in update_vectors",
        DEVIATION,
        lambda c, m: c.update_vectors("n", [m.PointVectors(id=1, vector={"a": [-math.inf, 1.0]})]),
        ValueError,
    ),
    Row(
        "inf in a sparse vector",
        DEVIATION,
        lambda c, m: c.upsert("n", [P(m, 9, {"s": m.SparseVector(indices=[1], values=[math.inf])})]),
        ValueError,
    ),
    # -------------------------------------------------------------- point ids
    Row(
        "non-UUID string id",
        SAME,
        lambda c, m: c.upsert("c", [P(m, "abc")]),
        ValueError,
        "Point id abc is not a valid UUID",
    ),
    Row(
        "UUID spellings reach one point",
        SAME,
        lambda c, m: [
            c.upsert("c", [P(m, spelling, payload={"i": i})])
            for i, spelling in enumerate(
                [uuid.UUID(UUID_A), UUID_A.upper(), UUID_A.replace("-", ""), "{" + UUID_A + "}", "urn:uuid:" + UUID_A]
            )
        ],
        None,
        changes=True,
    ),
    Row(
        "negative id",
        DEVIATION,
        lambda c, m: c.upsert("c", [P(m, -1)]),
        ValueError,
        "value -1 is not a valid point ID, valid values are either an unsigned integer or a UUID",
    ),
    Row(
        "id 2**64",
        DEVIATION,
        lambda c, m: c.upsert("c", [P(m, 2**64)]),
        ValueError,
        "value 18446744073709551616 is not a valid point ID, valid values are either an unsigned integer or a UUID",
    ),
    Row("id 2**64 - 1 is fine", SAME, lambda c, m: c.upsert("c", [P(m, 2**64 - 1)]), None, changes=True),
    Row("float id", DEVIATION, lambda c, m: c.upsert("c", [P(m, 1.5)]), ValueError),
    Row("integral float id", DEVIATION, lambda c, m: c.upsert("c", [P(m, 2.0)]), ValueError),
    Row("bool id", DEVIATION, lambda c, m: c.upsert("c", [P(m, True)]), ValueError),
    Row(
        "bool id in a dict point",
        DEVIATION,
        lambda c, m: c.upsert("c", [{"id": True, "vector": [1.0, 2.0, 3.0]}]),
        ValueError,
    ),
    Row(
        "negative id in update_vectors",
        DEVIATION,
        lambda c, m: c.update_vectors("c", [m.PointVectors(id=-1, vector=[1.0, 2.0, 3.0])]),
        ValueError,
    ),
    Row(
        "negative id in a batch",
        DEVIATION,
        lambda c, m: c.upsert("c", m.Batch(ids=[9, -1], vectors=[[1.0, 2.0, 3.0]] * 2)),
        ValueError,
    ),
    # -------------------------------------------------------------- payloads
    Row(
        "payload with a set and datetimes",
        SAME,
        lambda c, m: c.set_payload(
            "c", {"s": {1, 2}, "d": dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc), "dd": dt.date(2020, 1, 2)}, [1]
        ),
        None,
        changes=True,
    ),
    Row("NaN in a payload", DEVIATION, lambda c, m: c.upsert("c", [P(m, 9, payload={"x": math.nan})]), ValueError),
    Row("inf in set_payload", DEVIATION, lambda c, m: c.set_payload("c", {"x": [1.0, math.inf]}, [1]), ValueError),
    Row(
        "NaN in overwrite_payload",
        DEVIATION,
        lambda c, m: c.overwrite_payload("c", {"x": {"y": math.nan}}, [1]),
        ValueError,
    ),
    Row(
        "payload int beyond 64 bits", DEVIATION, lambda c, m: c.upsert("c", [P(m, 9, payload={"x": 2**64})]), ValueError
    ),
    Row("payload int below -2**63", DEVIATION, lambda c, m: c.set_payload("c", {"x": [-(2**63) - 1]}, [1]), ValueError),
    Row(
        "payload ints at the i64 edges are fine",
        SAME,
        lambda c, m: c.set_payload("c", {"x": [-(2**63), 2**63 - 1]}, [1]),
        None,
        changes=True,
    ),
    Row(
        "lone surrogate in a payload",
        DEVIATION,
        lambda c, m: c.upsert("c", [P(m, 9, payload={"x": "a\ud800"})]),
        ValueError,
    ),
    Row("lone surrogate in a payload key", DEVIATION, lambda c, m: c.set_payload("c", {"\udc00": 1}, [1]), ValueError),
    Row(
        "lone surrogate in a collection name",
        DEVIATION,
        lambda c, m: c.create_collection("x\ud800", vectors_config=vp(m)),
        ValueError,
    ),
    Row(
        "bad set_payload key a..b",
        SAME,
        lambda c, m: c.set_payload("c", {"x": 1}, [1], key="a..b"),
        ValueError,
        "Invalid path",
    ),
    Row(
        "bad set_payload key a[x]",
        SAME,
        lambda c, m: c.set_payload("c", {"x": 1}, [1], key="a[x]"),
        ValueError,
        "Invalid path",
    ),
    Row(
        "bad delete_payload key",
        SAME,
        lambda c, m: c.delete_payload("c", ["city", "a..b"], [1]),
        ValueError,
        "Invalid path",
    ),
    Row("bad with_payload path", SAME, lambda c, m: c.scroll("c", with_payload=["a..b"]), ValueError, "Invalid path"),
    Row(
        "with_payload as a str",
        SAME,
        lambda c, m: c.scroll("c", with_payload="x"),
        ValueError,
        "with_payload must be a bool, a list of payload keys or a PayloadSelector, got a str: 'x'",
    ),
    Row(
        "with_vectors as a str",
        SAME,
        lambda c, m: c.retrieve("c", [1], with_vectors="x"),
        ValueError,
        "with_vectors must be a bool or a list of vector names, got a str: 'x'",
    ),
    # -------------------------------------------------------------- selectors and empty requests
    Row("empty upsert list", SAME, lambda c, m: c.upsert("c", []), ValueError, "Empty update request"),
    Row("delete an empty id list", SAME, lambda c, m: c.delete("c", []), ValueError, "Empty update request"),
    Row(
        "set_payload on an empty id list",
        SAME,
        lambda c, m: c.set_payload("c", {"x": 1}, []),
        ValueError,
        "Empty update request",
    ),
    Row(
        "delete_vectors on an empty id list",
        SAME,
        lambda c, m: c.delete_vectors("c", [""], []),
        ValueError,
        "Empty update request",
    ),
    Row("delete ids that do not exist", SAME, lambda c, m: c.delete("c", [998, 999]), None),
    Row(
        "update_vectors with no points",
        SAME,
        lambda c, m: c.update_vectors("c", []),
        ValueError,
        "must specify points to update",
    ),
    Row(
        "update_vectors unknown name",
        SAME,
        lambda c, m: c.update_vectors("n", [m.PointVectors(id=1, vector={"zz": [1.0]})]),
        ValueError,
        "Wrong input: Not existing vector name error: zz",
    ),
    Row(
        "update_vectors wrong dimension",
        SAME,
        lambda c, m: c.update_vectors("c", [m.PointVectors(id=1, vector=[1.0])]),
        ValueError,
        "Wrong input: Vector dimension error: expected dim: 3, got 1 for vector ''",
    ),
    Row(
        "delete_vectors unknown name",
        SAME,
        lambda c, m: c.delete_vectors("n", ["a", "zz"], [1]),
        ValueError,
        "Wrong input: Not existing vector name error: zz",
    ),
    Row(
        "delete_vectors with no names",
        SAME,
        lambda c, m: c.delete_vectors("n", [], [1]),
        ValueError,
        "must specify vector names to delete",
    ),
    *[
        Row(f"{method} naming a missing point", DEVIATION, _missing(method), KeyError, "No point with id 999 found")
        for method in (
            "set_payload",
            "overwrite_payload",
            "delete_payload",
            "clear_payload",
            "update_vectors",
            "delete_vectors",
        )
    ],
    Row(
        "batch fails on a missing point: nothing applied",
        DEVIATION,
        _batch_then_missing,
        KeyError,
        "No point with id 999 found",
    ),
    Row(
        "batch fails on a bad filter: nothing applied",
        DEVIATION,
        _batch_then_bad_filter,
        ValueError,
        "min_count value 0 is invalid. Must be 1 or larger.",
    ),
    # -------------------------------------------------------------- reads
    Row("scroll from an absent offset id", SAME, lambda c, m: c.scroll("c", offset=1000), None),
    # Deviation: local mode compares the raw string and returns []; the server rejects a malformed point id.
    Row(
        "scroll from an invalid UUID offset",
        DEVIATION,
        lambda c, m: c.scroll("c", offset="abc"),
        ValueError,
        "Point id abc is not a valid UUID",
    ),
    Row(
        "scroll limit 0",
        SAME,
        lambda c, m: c.scroll("c", limit=0),
        ValueError,
        "limit value 0 is invalid. Must be 1 or larger.",
    ),
    Row(
        "scroll order_by with offset",
        SAME,
        lambda c, m: c.scroll("c", order_by="n", offset=1),
        ValueError,
        "Offset is not supported in conjunction with `order_by` scroll parameter",
    ),
    Row(
        "facet limit 0",
        SAME,
        lambda c, m: c.facet("c", "city", limit=0),
        ValueError,
        "limit value 0 is invalid. Must be 1 or larger.",
    ),
    Row(
        "min_should min_count 0",
        SAME,
        lambda c, m: c.count(
            "c", count_filter=m.Filter(min_should=m.MinShould(conditions=[m.HasIdCondition(has_id=[1])], min_count=0))
        ),
        ValueError,
        "min_count value 0 is invalid. Must be 1 or larger.",
    ),
    Row(
        "retrieve skips missing ids, keeps duplicates",
        SAME,
        lambda c, m: c.retrieve("c", [1, 999, 1, UUID_A.upper()]),
        None,
    ),
    # Deviation (issue 8 item 11): local mode skips a malformed id; the server rejects the request, as has_id does.
    Row(
        "retrieve with a negative id",
        DEVIATION,
        lambda c, m: c.retrieve("c", [1, -1]),
        ValueError,
        "value -1 is not a valid point ID, valid values are either an unsigned integer or a UUID",
    ),
    Row(
        "retrieve with a malformed UUID",
        DEVIATION,
        lambda c, m: c.retrieve("c", ["not-a-uuid", 1]),
        ValueError,
        "Point id not-a-uuid is not a valid UUID",
    ),
    # Deviation (issue 8 item 12): local mode lets a FieldCondition without a condition match nothing.
    *_empty_field_condition_rows(),
    # Deviation (issue 8 item 10): one explicit depth limit, 128 levels, as the server's JSON parser.
    Row(
        "payload nested 1000 deep (upsert)",
        DEVIATION,
        lambda c, m: c.upsert("c", [P(m, 9, payload=_deep(1000))]),
        ValueError,
        "Payload is nested deeper than 128 levels",
    ),
    Row(
        "payload nested 129 deep (set_payload)",
        DEVIATION,
        lambda c, m: c.set_payload("c", _deep(129), [1]),
        ValueError,
        "Payload is nested deeper than 128 levels",
    ),
    Row(
        "payload nested 128 deep is accepted",
        DEVIATION,
        lambda c, m: c.set_payload("c", _deep(128), [1]),
        None,
        changes=True,
    ),
    Row(
        "filter nested 10000 deep",
        DEVIATION,
        lambda c, m: c.count("c", count_filter=_deep_filter(m, 10_000)),
        ValueError,
        "Filter is nested deeper than 128 levels",
    ),
    Row(
        "nested conditions 5000 deep",
        DEVIATION,
        lambda c, m: c.scroll("c", scroll_filter=_deep_filter(m, 5000, nested=True)),
        ValueError,
        "Filter is nested deeper than 128 levels",
    ),
    Row(
        "filter nested 128 deep is accepted",
        DEVIATION,
        lambda c, m: c.count("c", count_filter=_deep_filter(m, 128)),
        None,
    ),
    # Deviation (issue 8 items 4, 5): local mode deletes first / stores anything; the server rejects the request.
    Row(
        "recreate_collection with an invalid size keeps the old collection",
        DEVIATION,
        lambda c, m: c.recreate_collection("c", vectors_config=m.VectorParams(size=0, distance=m.Distance.DOT)),
        ValueError,
        "Vector size 0 is invalid. Must be from 1 to 65536.",
    ),
    Row(
        "recreate_collection with a bad optimizers_config keeps the old collection",
        DEVIATION,
        lambda c, m: c.recreate_collection("c", vectors_config=vp(m), optimizers_config=5),
        ValueError,
        "Format error in collection config: optimizers_config: expected an object (OptimizersConfigDiff), got 5",
    ),
    Row(
        "update_collection optimizers_config=5",
        DEVIATION,
        lambda c, m: c.update_collection("c", optimizers_config=5),
        ValueError,
        "Format error in collection config: optimizers_config: expected an object (OptimizersConfigDiff), got 5",
    ),
    Row(
        "update_collection hnsw m as text",
        DEVIATION,
        lambda c, m: c.update_collection("c", hnsw_config={"m": "x"}),
        ValueError,
        "Format error in collection config: hnsw_config: m: expected an integer, got 'x'",
    ),
    *[
        Row(
            f"create_payload_index schema {schema!r}",
            DEVIATION,
            lambda c, m, schema=schema: c.create_payload_index("c", "city", field_schema=schema),
            ValueError,
        )
        for schema in (
            "nonsense",
            {"type": "bogus"},
            5,
            {"type": "keyword", "bogus": 1},
            {"type": "integer", "lookup": "x"},
        )
    ],
    Row(
        "filter on a missing field (must)",
        SAME,
        lambda c, m: c.count(
            "c", count_filter=m.Filter(must=[m.FieldCondition(key="zz", match=m.MatchValue(value=1))])
        ),
    ),
    Row(
        "filter on a missing field (must_not)",
        SAME,
        lambda c, m: c.count(
            "c", count_filter=m.Filter(must_not=[m.FieldCondition(key="zz", match=m.MatchValue(value=1))])
        ),
    ),
    Row(
        "filter on a missing field (except)",
        SAME,
        lambda c, m: c.count(
            "c", count_filter=m.Filter(must=[m.FieldCondition(key="zz", match=m.MatchExcept(**{"except": [1]}))])
        ),
    ),
    # Deviation: local mode ignores the malformed id; the server cannot parse the request.
    Row(
        "has_id with an invalid UUID",
        DEVIATION,
        lambda c, m: c.count("c", count_filter=m.Filter(must=[m.HasIdCondition(has_id=["abc", 1])])),
        ValueError,
        "Point id abc is not a valid UUID",
    ),
    Row(
        "has_id with an invalid UUID in a delete",
        DEVIATION,
        lambda c, m: c.delete("c", m.FilterSelector(filter=m.Filter(must=[m.HasIdCondition(has_id=[1, "abc"])]))),
        ValueError,
    ),
    # -------------------------------------------------------------- copies, closed clients, kwargs, dicts
    Row("mutating read results", SAME, _mutate_results, None),
    Row("mutating written inputs", SAME, _mutate_inputs, None, changes=True),
    Row("unknown kwarg", DEVIATION, lambda c, m: c.upsert("c", [P(m, 9)], foo=1), TypeError),
    Row("unknown kwarg on a read", DEVIATION, lambda c, m: c.scroll("c", foo=1), TypeError),
    *_dict_rows(),
]
ROWS.append(
    Row(
        "call after close",
        SAME,
        lambda c, m: (c.close(), c.count("c")),
        RuntimeError,
        "QdrantLocal instance is closed. Please create a new instance.",
    )
)


@pytest.fixture(scope="module")
def subject() -> Side:
    """The implementation under test (see differential/compare.py)."""
    return subject_side()


def _check_expectation(row: Row, outcome: Any, who: str) -> None:
    if row.error is None:
        if outcome.error is not None:
            raise AssertionError(f"{who}: expected no error, got {outcome.error!r}") from outcome.error
        return
    assert outcome.error is not None, f"{who}: expected {row.error.__name__}, got {outcome.value!r}"
    assert builtin_base(outcome.error) is row.error or isinstance(outcome.error, row.error), (
        f"{who}: expected a {row.error.__name__}, got {type(outcome.error).__mro__}: {outcome.error}"
    )
    if row.message is not None:
        assert str(outcome.error) == row.message, f"{who}: message {str(outcome.error)!r} != {row.message!r}"


def _closed_safe_snapshot(client: Any) -> Any:
    try:
        return snapshot(client)
    except RuntimeError:
        return None  # the client was closed by the row


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(subject: Side, row: Row) -> None:
    if row.kind == DEVIATION and subject.name != "qdrant_local":
        pytest.skip("a deliberate qdrant_local deviation; the oracle behaves otherwise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = subject.client()
        oracle = ORACLE.client()
        try:
            populate(client, subject.models)
            before = snapshot(client)
            call = row.subject_call if row.subject_call is not None else row.call
            outcome = run(lambda: call(client, subject.models))
            _check_expectation(row, outcome, "subject")
            after = _closed_safe_snapshot(client)
            if not row.changes and after is not None:
                assert_same(plain(before), plain(after), tol=1e-6, what="state after the rejected request")
            if row.kind == SAME or row.changes:
                populate(oracle, ORACLE.models)
                expected = run(lambda: row.call(oracle, ORACLE.models))
                if row.kind == SAME:
                    _check_expectation(row, expected, "oracle (is the table right?)")
                    compare = _comparison(row)
                    assert_same_outcome(expected, outcome, compare, compare_message=row.message is not None)
                if after is not None:
                    assert_same(plain(snapshot(oracle)), plain(after), tol=1e-5, what="state vs the oracle's")
        finally:
            client.close()
            oracle.close()


def _comparison(row: Row) -> Any:
    name = row.id
    if name.startswith("scroll"):
        return default_comparison("scroll")
    if name.startswith("retrieve"):
        return default_comparison("retrieve")
    return lambda e, a: None if e is None or isinstance(e, list) else assert_same(plain(e), plain(a))
