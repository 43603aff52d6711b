"""Recommend / discover / context / feedback scores against qdrant-client's ``local/distances.py``.

The oracle scores whole matrices; we feed our combination functions the exact core similarities
that :mod:`qdrant_local.query.scoring` computes, which is how the refine pass uses them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.local import distances as qd

from qdrant_local.engine.distance import COSINE, DOT, EUCLID, MANHATTAN, normalize_query
from qdrant_local.query import recommend, scoring

DISTANCES = {
    COSINE: qm.Distance.COSINE,
    DOT: qm.Distance.DOT,
    EUCLID: qm.Distance.EUCLID,
    MANHATTAN: qm.Distance.MANHATTAN,
}


def setup(seed: int, distance: str, n: int = 60, dim: int = 6):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, dim)).astype(np.float32)
    if distance == COSINE:
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return rng, matrix


def core(matrix: np.ndarray, example: np.ndarray, distance: str) -> np.ndarray:
    prepared = normalize_query(example) if distance == COSINE else example
    return scoring.exact_core(matrix, np.arange(len(matrix)), prepared, distance)


def vectors(rng: np.random.Generator, count: int, dim: int = 6) -> list[list[float]]:
    return [rng.standard_normal(dim).tolist() for _ in range(count)]


common = dict(distance=st.sampled_from(sorted(DISTANCES)), seed=st.integers(0, 2**32 - 1))


@settings(max_examples=60, derandomize=True)
@given(**common, n_pos=st.integers(0, 3), n_neg=st.integers(0, 3))
def test_best_and_sum_scores(distance: str, seed: int, n_pos: int, n_neg: int) -> None:
    rng, matrix = setup(seed, distance)
    pos, neg = vectors(rng, n_pos), vectors(rng, n_neg)
    if not pos and not neg:
        pos = vectors(rng, 1)
    pos_sims = [core(matrix, np.array(v), distance) for v in pos]
    neg_sims = [core(matrix, np.array(v), distance) for v in neg]
    for strategy, ours in (
        (qm.RecommendStrategy.BEST_SCORE, recommend.best_score),
        (qm.RecommendStrategy.SUM_SCORES, recommend.sum_scores),
    ):
        query = qd.RecoQuery(positive=pos, negative=neg, strategy=strategy)
        if strategy == qm.RecommendStrategy.BEST_SCORE:
            expected = qd.calculate_recommend_best_scores(query, matrix.copy(), DISTANCES[distance])
        else:
            expected = qd.calculate_recommend_sum_scores(query, matrix.copy(), DISTANCES[distance])
        got = ours(pos_sims, neg_sims, len(matrix))
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@settings(max_examples=60, derandomize=True)
@given(**common, n_pairs=st.integers(0, 3))
def test_discovery_and_context(distance: str, seed: int, n_pairs: int) -> None:
    rng, matrix = setup(seed, distance)
    target = vectors(rng, 1)[0]
    pairs = [qd.ContextPair(*vectors(rng, 2)) for _ in range(n_pairs)]
    our_pairs = [(core(matrix, p.positive, distance), core(matrix, p.negative, distance)) for p in pairs]

    expected = qd.calculate_discovery_scores(qd.DiscoveryQuery(target, pairs), matrix.copy(), DISTANCES[distance])
    got = recommend.discovery_scores(core(matrix, np.array(target), distance), our_pairs)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)

    expected = qd.calculate_context_scores(qd.ContextQuery(pairs), matrix.copy(), DISTANCES[distance])
    got = recommend.context_scores(our_pairs, len(matrix))
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@settings(max_examples=40, derandomize=True)
@given(**common, n_items=st.integers(0, 4), a=st.floats(0, 2), b=st.floats(0, 2), c=st.floats(0, 2))
def test_naive_feedback(distance: str, seed: int, n_items: int, a: float, b: float, c: float) -> None:
    rng, matrix = setup(seed, distance)
    target = vectors(rng, 1)[0]
    items = [qd.FeedbackItem(v, float(s)) for v, s in zip(vectors(rng, n_items), rng.random(n_items))]
    query = qd.NaiveFeedbackQuery(target, items, qd.NaiveFeedbackCoefficients(a, b, c))
    expected = qd.calculate_naive_feedback_query(query, matrix.copy(), DISTANCES[distance])
    pairs = [
        (core(matrix, items[i].vector, distance), core(matrix, items[j].vector, distance), weight)
        for i, j, weight in recommend.feedback_pairs([it.score for it in items], b, c)
    ]
    got = recommend.naive_feedback_scores(core(matrix, np.array(target), distance), a, pairs)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_sigmoid_passes_infinities_through() -> None:
    x = np.array([-np.inf, -1.0, 0.0, 3.0, np.inf], dtype=np.float32)
    expected = np.array([qd.scaled_fast_sigmoid(v) for v in x], dtype=np.float32)
    np.testing.assert_array_equal(recommend.scaled_fast_sigmoid(x), expected)
