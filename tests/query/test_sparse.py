"""The sparse inverted index against qdrant-client's per-point merge-join (``sparse_distances.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http.models import SparseVector
from qdrant_client.local.local_collection import LocalCollection
from qdrant_client.local.sparse import sort_sparse_vector
from qdrant_client.local.sparse_distances import (
    calculate_distance_sparse,
    merge_positive_and_negative_avg,
    sparse_avg,
)

from qdrant_local.engine.sparse import SparseIndex
from qdrant_local.errors import InvalidInput
from qdrant_local.query import sparse

values_st = st.floats(-10, 10, allow_nan=False, width=32)


@st.composite
def sparse_vectors(draw: st.DrawFn, max_index: int = 30) -> SparseVector:
    indices = draw(st.lists(st.integers(0, max_index), unique=True, max_size=8))
    values = draw(st.lists(values_st, min_size=len(indices), max_size=len(indices)))
    return SparseVector(indices=indices, values=values)


# A write history: (slot, vector) sets and (slot, None) removals.
history_st = st.lists(st.tuples(st.integers(0, 25), st.none() | sparse_vectors()), max_size=60)


def as_arrays(vector: SparseVector) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(vector.indices, kind="stable")
    return np.asarray(vector.indices, dtype=np.int64)[order], np.asarray(vector.values, dtype=np.float64)[order]


def replay(history: list) -> tuple[SparseIndex, dict[int, SparseVector]]:
    index = SparseIndex()
    current: dict[int, SparseVector] = {}
    for slot, vector in history:
        if vector is None:
            index.remove(slot)
            current.pop(slot, None)
        else:
            index.set(slot, *as_arrays(vector))
            current[slot] = vector
    return index, current


@settings(max_examples=80, derandomize=True)
@given(history=history_st, query=sparse_vectors(), empty_is_zero=st.booleans())
def test_scores_match_merge_join(history: list, query: SparseVector, empty_is_zero: bool) -> None:
    index, current = replay(history)
    n_slots = 26
    stored = [sort_sparse_vector(current.get(slot, SparseVector(indices=[], values=[]))) for slot in range(n_slots)]
    expected = calculate_distance_sparse(sort_sparse_vector(query), stored, empty_is_zero=empty_is_zero)
    got = index.scores(sparse.sparse_query(query), n_slots, empty_is_zero=empty_is_zero)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=50, derandomize=True)
@given(history=history_st, query=sparse_vectors(), corpus_seed=st.integers(0, 1000))
def test_idf_matches_local_mode(history: list, query: SparseVector, corpus_seed: int) -> None:
    index, current = replay(history)
    corpus = np.random.default_rng(corpus_seed).random(26) < 0.6
    for use_corpus in (False, True):
        docs = [slot for slot in current if not use_corpus or corpus[slot]]
        n_docs = len(docs)
        expected = []
        for term, value in zip(*as_arrays(query)):
            df = sum(1 for slot in docs if term in current[slot].indices)
            expected.append(value * LocalCollection._compute_idf(df, n_docs))
        _, got = index.rescore_idf(sparse.sparse_query(query), n_docs, corpus if use_corpus else None)
        np.testing.assert_array_equal(got, np.array(expected, dtype=np.float64))


@settings(max_examples=50, derandomize=True)
@given(positive=st.lists(sparse_vectors(), min_size=1, max_size=4), negative=st.lists(sparse_vectors(), max_size=3))
def test_average_matches_local_mode(positive: list, negative: list) -> None:
    expected = sparse_avg([sort_sparse_vector(v) for v in positive])
    if negative:
        expected = merge_positive_and_negative_avg(expected, sparse_avg([sort_sparse_vector(v) for v in negative]))
    got = sparse.sparse_average([as_arrays(v) for v in positive])
    if negative:
        got = sparse.merge_positive_and_negative(got, sparse.sparse_average([as_arrays(v) for v in negative]))
    assert got[0].tolist() == list(expected.indices)
    np.testing.assert_allclose(got[1], expected.values, rtol=1e-12, atol=1e-12)


def test_query_validation_messages() -> None:
    with pytest.raises(InvalidInput, match="Indices and values must have the same length"):
        sparse.sparse_query(SparseVector(indices=[1, 2], values=[1.0]))
    with pytest.raises(InvalidInput, match="Values must not contain NaN"):
        sparse.sparse_query(SparseVector(indices=[1], values=[math.nan]))
    with pytest.raises(InvalidInput, match="Indices must be unique"):
        sparse.sparse_query({"indices": [3, 3], "values": [1.0, 2.0]})
    indices, values = sparse.sparse_query({"indices": [5, 1, 3], "values": [0.5, 0.1, 0.3]})
    assert indices.tolist() == [1, 3, 5] and values.tolist() == [0.1, 0.3, 0.5]


def test_stale_postings_are_purged() -> None:
    index = SparseIndex()
    for generation in range(50):
        index.set(0, np.array([7]), np.array([float(generation)]))
        slots, values = index.postings(7)
        assert slots.tolist() == [0] and values.tolist() == [float(generation)]
    index.remove(0)
    assert index.postings(7)[0].tolist() == []
