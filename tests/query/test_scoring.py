"""Dense scoring against qdrant-client's own ``local/distances.py``.

Random float data has no exact ties, so slots, order and scores must all match the oracle's
``argsort`` over the whole score array; duplicated rows then check our documented tie rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.local.distances import calculate_distance, calculate_distance_core

from qdrant_local.engine.distance import COSINE, DOT, EUCLID, MANHATTAN, normalize_query
from qdrant_local.errors import InvalidInput, InvalidVector
from qdrant_local.query import scoring

DISTANCES = {
    COSINE: qm.Distance.COSINE,
    DOT: qm.Distance.DOT,
    EUCLID: qm.Distance.EUCLID,
    MANHATTAN: qm.Distance.MANHATTAN,
}


def stored_matrix(rng: np.random.Generator, n: int, dim: int, distance: str) -> np.ndarray:
    """Rows as the engine stores them: float32, normalised for Cosine like qdrant-client does."""
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    if distance == COSINE:
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = rows / norms
    return rows


def oracle_order(scores: np.ndarray, mask: np.ndarray, distance: str, k: int) -> list[int]:
    # Stable: identical to local mode's argsort when scores are distinct, our tie rule otherwise
    # (dim 1 Cosine makes every score +-1).
    order = np.argsort(scores, kind="stable")
    if scoring.bigger_is_better(distance):
        order = order[::-1]
    return [int(i) for i in order if mask[i]][:k]


@settings(max_examples=40, derandomize=True)
@given(
    distance=st.sampled_from(sorted(DISTANCES)),
    n=st.integers(1, 3000),
    dim=st.integers(1, 48),
    k=st.integers(1, 40),
    keep=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_rank_dense_matches_oracle(distance: str, n: int, dim: int, k: int, keep: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = stored_matrix(rng, n, dim, distance)
    # Extra capacity rows beyond n_slots must never be read.
    padded = np.vstack([matrix, np.full((7, dim), 1e6, dtype=np.float32)])
    mask = rng.random(n) < keep
    query = rng.standard_normal(dim)
    expected_scores = calculate_distance(np.array(query.tolist()), matrix.copy(), DISTANCES[distance])
    expected = oracle_order(expected_scores, mask, distance, k)

    ranked = scoring.rank_dense(padded, n, mask, scoring.dense_query(query, dim, ""), distance, k)

    assert ranked.slots.tolist() == expected
    np.testing.assert_allclose(ranked.scores, expected_scores[expected], rtol=1e-6, atol=1e-6)


@settings(max_examples=15, derandomize=True)
@given(distance=st.sampled_from(sorted(DISTANCES)), seed=st.integers(0, 2**32 - 1), m=st.integers(2, 9))
def test_batch_equals_single(distance: str, seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n, dim = 5000, 16
    matrix = stored_matrix(rng, n, dim, distance)
    masks = [rng.random(n) < rng.choice([0.01, 0.5, 1.0]) for _ in range(m)]
    queries = [scoring.dense_query(rng.standard_normal(dim), dim, "") for _ in range(m)]
    ks = [int(k) for k in rng.integers(1, 30, m)]
    batch = scoring.rank_dense_batch(matrix, n, masks, queries, distance, ks)
    for index in range(m):
        single = scoring.rank_dense(matrix, n, masks[index], queries[index], distance, ks[index])
        assert batch[index].slots.tolist() == single.slots.tolist()
        np.testing.assert_array_equal(batch[index].scores, single.scores)


@pytest.mark.parametrize("distance", sorted(DISTANCES))
def test_ties_follow_stable_argsort(distance: str) -> None:
    """Exact ties: the order qdrant-client's argsort would give if it were stable."""
    rng = np.random.default_rng(7)
    base = stored_matrix(rng, 6, 8, distance)
    matrix = base[rng.integers(0, 6, 400)]  # many exact duplicates
    query = rng.standard_normal(8)
    scores = calculate_distance(np.array(query.tolist()), matrix.copy(), DISTANCES[distance])
    order = np.argsort(scores, kind="stable")
    if scoring.bigger_is_better(distance):
        order = order[::-1]
    ranked = scoring.rank_dense(matrix, len(matrix), np.ones(len(matrix), bool), query, distance, 50)
    assert ranked.slots.tolist() == order[:50].tolist()


@settings(max_examples=30, derandomize=True)
@given(distance=st.sampled_from(sorted(DISTANCES)), seed=st.integers(0, 2**32 - 1))
def test_exact_core_matches_oracle(distance: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = stored_matrix(rng, 50, 12, distance)
    query = rng.standard_normal(12)
    expected = calculate_distance_core(np.array(query.tolist()), matrix.copy(), DISTANCES[distance])
    prepared = normalize_query(query) if distance == COSINE else query
    got = scoring.exact_core(matrix, np.arange(50), prepared, distance)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_query_validation() -> None:
    with pytest.raises(InvalidInput, match="Query vector must not contain NaN"):
        scoring.dense_query([1.0, float("nan")], 2, "")
    with pytest.raises(InvalidVector, match="expected dim: 3, got 2 for vector 'v'"):
        scoring.dense_query([1.0, 2.0], 3, "v")
    with pytest.raises(InvalidVector, match="one-dimensional"):
        scoring.dense_query([[1.0, 2.0]], 2, "")
    with pytest.raises(InvalidVector, match="must not be empty"):
        scoring.dense_query([], 2, "")
    with pytest.raises(InvalidInput, match="infinite"):
        scoring.dense_query([1.0, float("inf")], 2, "")
    # Deviation from local mode's raw numpy message, but still a ValueError like it.
    assert issubclass(InvalidVector, ValueError)


@pytest.mark.parametrize("bigger", [True, False])
def test_threshold_cut(bigger: bool) -> None:
    scores = np.array([0.9, 0.5, 0.5, 0.1]) if bigger else np.array([0.1, 0.5, 0.5, 0.9])
    assert scoring.threshold_cut(scores, None, bigger) == 4
    assert scoring.threshold_cut(scores, 0.5, bigger) == 1  # the bound itself fails, as in qdrant-client
    assert scoring.threshold_cut(scores, 0.4 if bigger else 0.6, bigger) == 3
