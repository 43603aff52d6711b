"""Dense scoring against qdrant-client's own ``local/distances.py``.

Random float data has no exact ties, so slots, order and scores must all match the oracle's
``argsort`` over the whole score array; duplicated rows then check our documented tie rule.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
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
    # With the mask's rows known (the planner passes them; a selective mask then skips the batch
    # grouping): the same slots and bit-identical scores.
    known = scoring.rank_dense(
        padded, n, mask, scoring.dense_query(query, dim, ""), distance, k, rows=np.flatnonzero(mask)
    )
    assert known.slots.tolist() == ranked.slots.tolist()
    assert np.array_equal(known.scores, ranked.scores)


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


def _reference_top_candidates(keys: np.ndarray, k: int) -> np.ndarray:
    """top_candidates as first written (for arrays of fewer than 4 k blocks)."""
    n = len(keys)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.flatnonzero(keys > -np.inf)
    bound = np.partition(keys, n - k)[n - k]
    top = float(np.max(keys))
    if not (bound > -np.inf and np.isfinite(top)):
        candidates = np.flatnonzero(keys > -np.inf)
        return candidates[~np.isnan(keys[candidates])]
    candidates = np.flatnonzero(keys >= bound - scoring.refine_margin(float(bound), top))
    if len(candidates) > k:
        candidate_keys = keys[candidates]
        kth = np.partition(candidate_keys, len(candidates) - k)[len(candidates) - k]
        candidates = candidates[candidate_keys >= kth - scoring.refine_margin(float(kth), top)]
    return candidates


_KEY_VALUES = st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.5 + 1e-7, -1.0, float("-inf"), float("nan"), 2.0])


@settings(max_examples=200, derandomize=True)
@given(
    keys=st.lists(st.one_of(_KEY_VALUES, st.floats(-2, 2, width=32)), min_size=0, max_size=300),
    k=st.integers(0, 40),
)
def test_top_candidates_matches_reference(keys: list[float], k: int) -> None:
    """Small key arrays: the same candidates as the version first written, with ties, near-ties,
    -inf (rejected) and NaN keys."""
    array = np.array(keys, dtype=np.float32)
    assert scoring.top_candidates(array, k).tolist() == _reference_top_candidates(array, k).tolist()


@settings(max_examples=200, derandomize=True)
@given(
    scores=st.lists(st.one_of(_KEY_VALUES, st.floats(-2, 2)), min_size=0, max_size=scoring.SMALL_SORT),
    descending=st.booleans(),
)
def test_sort_pairs_equals_order_by_score(scores: list[float], descending: bool) -> None:
    """The Python ordering of a few refined candidates is the lexsort order, ties and NaN included."""
    rng = np.random.default_rng(len(scores))
    slots = np.sort(rng.choice(10_000, size=len(scores), replace=False)).astype(np.int64)
    values = np.array(scores, dtype=np.float64)
    order = scoring.order_by_score(slots, values, descending)
    expected = list(zip(slots[order].tolist(), values[order].tolist()))
    got = scoring.sort_pairs(slots.tolist(), values.tolist(), descending)
    assert [slot for slot, _ in got] == [slot for slot, _ in expected]
    assert np.array_equal(np.array([s for _, s in got]), np.array([s for _, s in expected]))


@pytest.mark.parametrize("distance", sorted(DISTANCES))
@pytest.mark.parametrize("k", [1, 10, scoring.SMALL_SORT + 20])
def test_small_and_large_refines_agree(distance: str, k: int) -> None:
    """A refine of at most SMALL_SORT candidates (Python ordering, pairs) and of more (lexsort,
    arrays) give the same slots and bit-identical scores, ties included."""
    rng = np.random.default_rng(3)
    base = stored_matrix(rng, 40, 8, distance)
    matrix = np.vstack([base, base[rng.integers(0, 40, 200)]])  # exact duplicates: ties
    query = scoring.dense_query(rng.standard_normal(8), 8, "")
    prepared = normalize_query(query) if distance == COSINE else query
    candidates = np.arange(len(matrix))
    for size in (k, scoring.SMALL_SORT + 1, len(matrix)):
        part = candidates[:size]
        small = scoring._refine(matrix, part, prepared, distance, k)
        scores = scoring.exact_display(matrix, part, prepared, distance)
        order = scoring.order_by_score(part, scores, scoring.bigger_is_better(distance))[:k]
        assert small.slots.tolist() == part[order].tolist()
        assert np.array_equal(small.scores, scores[order])
        assert small.pairs() == list(zip(part[order].tolist(), scores[order].tolist()))


@settings(max_examples=100, derandomize=True)
@given(
    values=st.lists(st.floats(-1e150, 1e150), min_size=1, max_size=64),
    zero=st.booleans(),
)
def test_normalize_query_fast_path_is_bit_identical(values: list[float], zero: bool) -> None:
    """A 1-D float64 query is normalised as np.linalg.norm(axis=-1) would (zero: divided by EPSILON)."""
    query = np.zeros(len(values)) if zero else np.array(values, dtype=np.float64)
    norm = np.linalg.norm(query, axis=-1)
    expected = query / np.where(norm != 0.0, norm, scoring.EPSILON)
    assert np.array_equal(normalize_query(query), expected, equal_nan=True)
    assert np.array_equal(normalize_query(query[np.newaxis])[0], expected, equal_nan=True)


@pytest.mark.parametrize("distance", [COSINE, DOT, EUCLID, MANHATTAN])
def test_rank_dense_slots_of_most_rows_scans_the_matrix_in_place(distance: str) -> None:
    """An HNSW index's candidates include every row no graph covers yet: most of the collection
    while its first graph is built. They are scored by a masked product over the matrix (as exact
    search does), not by a gathered copy of them, with the same result as exact search."""
    import tracemalloc

    rng = np.random.default_rng(7)
    matrix = stored_matrix(rng, 20_000, 48, distance)
    query = rng.standard_normal(48)
    slots = np.flatnonzero(rng.random(len(matrix)) < 0.9)
    mask = np.zeros(len(matrix), dtype=bool)
    mask[slots] = True
    expected = scoring.rank_dense(matrix, len(matrix), mask, query, distance, 10)
    tracemalloc.start()
    try:
        got = scoring.rank_dense_slots(matrix, slots, query, distance, 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.slots.tolist() == expected.slots.tolist()
    assert got.scores.tolist() == expected.scores.tolist()
    assert peak < matrix.nbytes / 4  # a gather of 90% of the rows would hold 0.9x the matrix
    few = slots[:500]  # a few candidates (graph results) are still gathered: the same answer
    mask[:] = False
    mask[few] = True
    assert (
        scoring.rank_dense_slots(matrix, few, query, distance, 10).slots.tolist()
        == scoring.rank_dense(matrix, len(matrix), mask, query, distance, 10).slots.tolist()
    )


@settings(max_examples=12, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    distance=st.sampled_from(sorted(DISTANCES)),
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(2, 9),
    keep=st.floats(0.3, 0.5),
    known=st.booleans(),
)
def test_batch_sharing_a_dense_mask_is_scored_on_gathered_chunks(
    monkeypatch: pytest.MonkeyPatch, distance: str, seed: int, m: int, keep: float, known: bool
) -> None:
    """Queries sharing a mask of 25-60% of the rows (with a BLAS of at most two threads) are scored
    on its rows gathered a chunk at a time: the same slots and scores as one query at a time and as
    qdrant-client's scores; capacity rows past ``n_slots`` are never read."""
    monkeypatch.setattr(scoring, "blas_threads", lambda: 1)
    calls: list[int] = []
    real = scoring.approx_core_chunked

    def spy(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring, "approx_core_chunked", spy)
    rng = np.random.default_rng(seed)
    n, dim = 2 * scoring.GATHER_CHUNK_ROWS + 77, 12
    matrix = stored_matrix(rng, n, dim, distance)
    padded = np.vstack([matrix, np.full((5, dim), 1e6, dtype=np.float32)])
    mask = rng.random(n) < keep
    rows = np.flatnonzero(mask) if known else None
    queries = [scoring.dense_query(rng.standard_normal(dim), dim, "") for _ in range(m)]
    ks = [int(k) for k in rng.integers(1, 30, m)]
    norms = scoring.squared_norms(matrix) if distance == EUCLID else None
    batch = scoring.rank_dense_batch(
        padded, n, [mask] * m, queries, distance, ks, norms, known_rows=[rows] * m if known else None
    )
    assert calls, "the chunked gather was not used"
    for index in range(m):
        single = scoring.rank_dense(padded, n, mask, queries[index], distance, ks[index])
        assert batch[index].slots.tolist() == single.slots.tolist()
        np.testing.assert_array_equal(batch[index].scores, single.scores)
        expected_scores = calculate_distance(np.array(queries[index].tolist()), matrix.copy(), DISTANCES[distance])
        assert single.slots.tolist() == oracle_order(expected_scores, mask, distance, ks[index])


def test_chunked_gather_needs_a_shared_mask_and_few_blas_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """One query, different masks, a mask of most rows or a many-threaded BLAS keep the product over
    every row; the thread count comes from the BLAS environment variables, else the CPU count."""
    rng = np.random.default_rng(3)
    n = 4000
    half = rng.random(n) < 0.5
    other = rng.random(n) < 0.5
    most = rng.random(n) < 0.9
    monkeypatch.setattr(scoring, "blas_threads", lambda: 2)
    assert [len(g) for _, g in scoring._dense_groups([half, half], [0, 1], None, n)] == [2]
    assert scoring._dense_groups([half], [0], None, n) == []
    assert scoring._dense_groups([half, other], [0, 1], None, n) == []
    assert scoring._dense_groups([most, most], [0, 1], None, n) == []
    everything = np.ones(n, dtype=bool)
    assert scoring._dense_groups([everything, everything], [0, 1], None, n) == []
    monkeypatch.setattr(scoring, "blas_threads", lambda: 8)
    assert scoring._dense_groups([half, half], [0, 1], None, n) == []
    monkeypatch.undo()
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3,1")
    scoring.blas_threads.cache_clear()
    try:
        assert scoring.blas_threads() == 3
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
        scoring.blas_threads.cache_clear()
        assert scoring.blas_threads() == 1
        monkeypatch.delenv("OPENBLAS_NUM_THREADS")
        monkeypatch.delenv("OMP_NUM_THREADS")
        scoring.blas_threads.cache_clear()
        import os

        assert scoring.blas_threads() == (os.cpu_count() or 1)
    finally:
        scoring.blas_threads.cache_clear()


@pytest.mark.parametrize("distance", sorted(DISTANCES))
def test_selective_rows_from_the_cache_or_in_chunks_agree(distance: str) -> None:
    """A selective mask's rows are scored over the gather cache's copy when it keeps one and
    gathered a chunk at a time when it does not (None): the same slots and bit-identical scores."""
    rng = np.random.default_rng(11)
    n, dim = 3 * scoring.GATHER_CHUNK_ROWS + 5, 24
    matrix = stored_matrix(rng, n, dim, distance)
    rows = np.flatnonzero(rng.random(n) < 0.2)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    norms = scoring.squared_norms(matrix) if distance == EUCLID else None
    queries = [scoring.dense_query(rng.standard_normal(dim), dim, "") for _ in range(3)]
    copies: list[int] = []

    def cached(wanted: np.ndarray) -> np.ndarray:
        copies.append(len(wanted))
        return matrix[wanted]

    for query in queries:
        kept = scoring.rank_dense(matrix, n, mask, query, distance, 7, norms, cached, rows)
        chunked = scoring.rank_dense(matrix, n, mask, query, distance, 7, norms, lambda _: None, rows)
        assert kept.slots.tolist() == chunked.slots.tolist()
        np.testing.assert_array_equal(kept.scores, chunked.scores)
    batch_kept = scoring.rank_dense_batch(matrix, n, [mask] * 3, queries, distance, [7] * 3, norms, cached)
    batch_chunked = scoring.rank_dense_batch(matrix, n, [mask] * 3, queries, distance, [7] * 3, norms, None)
    for kept, chunked in zip(batch_kept, batch_chunked):
        assert kept.slots.tolist() == chunked.slots.tolist()
        np.testing.assert_array_equal(kept.scores, chunked.scores)
    assert copies and set(copies) == {len(rows)}
