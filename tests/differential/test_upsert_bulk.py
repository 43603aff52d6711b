"""Upserts of whole requests at once (the bulk write path), against the oracle.

Vectors of a request are converted together (a struct pack per row, a block of rows at a time for
large Batches), payloads packed once, ids checked in bulk: each test here gives a request the bulk
path must treat exactly as local mode treats it point by point.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .compare import ORACLE, Pair, Side, assert_same, assert_same_error, examples, plain, run

DIM = 8


def _create(pair: Pair, distance: str = "COSINE", **extra: Any) -> None:
    for client, models in ((pair.oracle, ORACLE.models), (pair.subject, pair.subject_side.models)):
        client.create_collection(
            "c", vectors_config=models.VectorParams(size=DIM, distance=getattr(models.Distance, distance)), **extra
        )


def _rows(count: int, seed: int = 0) -> list[list[float]]:
    return np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32).tolist()


def _upsert_both(pair: Pair, make: Any) -> None:
    """Upsert ``make(models)`` on both sides; both must succeed."""
    pair.oracle.upsert("c", make(ORACLE.models))
    pair.subject.upsert("c", make(pair.subject_side.models))


def test_mixed_id_types(subject: Side) -> None:
    """Ints, UUID strings in several spellings and uuid.UUID objects in one request of 256."""
    rows = _rows(256)
    pool = [uuid.UUID(int=(k + 1) * 0x1234567890ABCDEF1234567) for k in range(256)]

    def point_id(k: int) -> Any:
        value = pool[k]
        return [k * 7, str(value), value.hex, value, str(value).upper(), f"urn:uuid:{value}"][k % 6]

    with Pair(subject) as pair:
        _create(pair)
        _upsert_both(
            pair, lambda m: [m.PointStruct(id=point_id(k), vector=rows[k], payload={"k": k}) for k in range(256)]
        )
        pair.assert_same_state("c")


@pytest.mark.parametrize("as_batch", [False, True])
def test_duplicate_ids_last_wins(subject: Side, as_batch: bool) -> None:
    """An id repeated within one request: the last occurrence is what is stored (ints and UUIDs)."""
    rows = _rows(300, seed=1)
    spelled = uuid.UUID(int=42)
    ids: list[Any] = [k % 97 for k in range(290)] + [str(spelled), spelled.hex, 5, 5, str(spelled).upper()]
    ids += [1000 + k for k in range(5)]
    payloads = [{"k": k} for k in range(300)]
    with Pair(subject) as pair:
        _create(pair)
        if as_batch:
            _upsert_both(pair, lambda m: m.Batch(ids=ids, vectors=rows, payloads=payloads))
        else:
            _upsert_both(
                pair,
                lambda m: [m.PointStruct(id=i, vector=v, payload=p) for i, v, p in zip(ids, rows, payloads)],
            )
        pair.assert_same_state("c")


def test_named_sparse_and_multi_vectors_mixed(subject: Side) -> None:
    """Points carrying different subsets of dense, sparse and multivectors in one request."""
    rows = _rows(256, seed=2)
    with Pair(subject) as pair:
        for client, m in ((pair.oracle, ORACLE.models), (pair.subject, subject.models)):
            client.create_collection(
                "c",
                vectors_config={
                    "d": m.VectorParams(size=DIM, distance=m.Distance.COSINE),
                    "e": m.VectorParams(size=4, distance=m.Distance.DOT),
                    "m": m.VectorParams(
                        size=DIM,
                        distance=m.Distance.EUCLID,
                        multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
                    ),
                },
                sparse_vectors_config={"s": m.SparseVectorParams()},
            )

        def vector(m: Any, k: int) -> dict[str, Any]:
            chosen: dict[str, Any] = {}
            if k % 2 == 0:
                chosen["d"] = rows[k]
            if k % 3 == 0:
                chosen["e"] = rows[k][:4]
            if k % 5 == 0:
                chosen["m"] = [rows[k], rows[(k + 1) % 256]]
            if k % 7 == 0:
                chosen["s"] = m.SparseVector(indices=[k % 11, 20 + k % 3], values=[0.5, -1.5])
            return chosen

        _upsert_both(pair, lambda m: [m.PointStruct(id=k, vector=vector(m, k), payload=None) for k in range(256)])
        pair.assert_same_state("c")


@pytest.mark.parametrize("form", ["points", "batch", "batch_numpy"])
@pytest.mark.parametrize("flaw", ["short", "long", "nan"])
def test_one_bad_vector_at_200_of_256_writes_nothing(subject: Side, form: str, flaw: str) -> None:
    """A wrong dimension (or a NaN) at point 200 of 256: local mode's error, and nothing written."""
    rows = _rows(256, seed=3)
    if flaw == "nan":
        rows[200][3] = float("nan")
    else:
        rows[200] = rows[200][:-1] if flaw == "short" else rows[200] + [0.5]
    if form == "batch_numpy" and flaw != "nan":
        pytest.skip("a ragged matrix is not a numpy array")
    payloads = [{"k": k} for k in range(256)]

    def make(m: Any) -> Any:
        if form == "points":
            return [m.PointStruct(id=k, vector=rows[k], payload=payloads[k]) for k in range(256)]
        vectors: Any = np.array(rows, dtype=np.float32) if form == "batch_numpy" else rows
        return m.Batch(ids=list(range(256)), vectors=vectors, payloads=payloads)

    with Pair(subject) as pair:
        _create(pair)
        _upsert_both(pair, lambda m: [m.PointStruct(id=999, vector=[1.0] * DIM, payload={"before": True})])
        expected = run(lambda: pair.oracle.upsert("c", make(ORACLE.models)))
        actual = run(lambda: pair.subject.upsert("c", make(subject.models)))
        assert expected.error is not None and actual.error is not None
        assert_same_error(expected.error, actual.error)
        pair.assert_same_state("c")  # only point 999, on both sides


def test_payload_none_and_empty(subject: Side) -> None:
    """payload=None and payload={} both store an empty payload, beside flat and nested ones."""
    rows = _rows(6, seed=4)
    payloads: list[Any] = [None, {}, {"a": 1}, None, {"b": {"c": [1, 2]}}, {}]
    with Pair(subject) as pair:
        _create(pair)
        _upsert_both(pair, lambda m: [m.PointStruct(id=k, vector=rows[k], payload=payloads[k]) for k in range(6)])
        _upsert_both(pair, lambda m: m.Batch(ids=[10, 11, 12], vectors=rows[:3], payloads=[{}, {"a": 2}, {}]))
        _upsert_both(pair, lambda m: m.Batch(ids=[20, 21], vectors=rows[:2]))
        pair.assert_same_state("c")


def test_qdrant_client_models_and_dicts_as_input(subject: Side) -> None:
    """qdrant_client's PointStruct and REST-shaped dicts reach the same state as our models."""
    rows = _rows(256, seed=5)
    payloads = [{"city": ["Oslo", "Rome"][k % 2], "price": k * 0.25, "tags": [k % 3]} for k in range(256)]
    qm = ORACLE.models
    with Pair(subject) as pair:
        _create(pair)
        pair.oracle.upsert("c", [qm.PointStruct(id=k, vector=rows[k], payload=payloads[k]) for k in range(256)])
        half = 128
        pair.subject.upsert("c", [qm.PointStruct(id=k, vector=rows[k], payload=payloads[k]) for k in range(half)])
        pair.subject.upsert("c", [{"id": k, "vector": rows[k], "payload": payloads[k]} for k in range(half, 256)])
        pair.assert_same_state("c")


@pytest.mark.parametrize("distance", ["COSINE", "DOT"])
def test_large_batch_from_lists_equals_point_lists(subject: Side, distance: str) -> None:
    """A Batch of 2,500 list rows (converted and normalised a block of rows at a time) stores what
    the oracle stores from PointStructs."""
    rows = _rows(2500, seed=6)
    rows[7] = [0.0] * DIM  # a zero vector stays as it came
    rows[2000][0] = 3  # an int among the floats
    with Pair(subject) as pair:
        _create(pair, distance)
        pair.oracle.upsert("c", [ORACLE.models.PointStruct(id=k, vector=rows[k]) for k in range(2500)])
        pair.subject.upsert("c", subject.models.Batch(ids=list(range(2500)), vectors=rows))
        pair.assert_same_state("c")


def test_numpy_batch_leaves_the_callers_array_alone(subject: Side) -> None:
    """Cosine normalisation works on the request's own copy, never in the caller's matrix."""
    matrix = np.random.default_rng(7).standard_normal((1500, DIM)).astype(np.float32) * 3
    before = matrix.copy()
    with Pair(subject) as pair:
        _create(pair)
        pair.subject.upsert("c", subject.models.Batch(ids=list(range(1500)), vectors=matrix))
        assert np.array_equal(matrix, before)
        pair.oracle.upsert("c", ORACLE.models.Batch(ids=list(range(1500)), vectors=matrix.tolist()))
        pair.assert_same_state("c")


_floats = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32),
    st.integers(-1000, 1000),
    st.sampled_from([0.0, -0.0, 1e-30, 3.4e38, -1e-45]),
)


@settings(max_examples=examples(30))
@given(
    rows=st.lists(st.lists(_floats, min_size=DIM, max_size=DIM), min_size=1, max_size=20),
    as_batch=st.booleans(),
    distance=st.sampled_from(["COSINE", "DOT", "EUCLID"]),
)
def test_bulk_conversion_matches_local_mode(
    subject: Side, rows: list[list[Any]], as_batch: bool, distance: str
) -> None:
    """Any list vectors (floats, ints, extremes) are stored as local mode stores them."""
    with Pair(subject) as pair:
        _create(pair, distance)
        pair.oracle.upsert("c", [ORACLE.models.PointStruct(id=k, vector=r) for k, r in enumerate(rows)])
        m = subject.models
        points = (
            m.Batch(ids=list(range(len(rows))), vectors=rows)
            if as_batch
            else [m.PointStruct(id=k, vector=r) for k, r in enumerate(rows)]
        )
        pair.subject.upsert("c", points)
        expected = pair.oracle.scroll("c", limit=100, with_vectors=True)[0]
        actual = pair.subject.scroll("c", limit=100, with_vectors=True)[0]
        assert_same(plain(expected), plain(actual), tol=1e-6)
