"""Scores of the example-based queries: recommend, discover, context and relevance feedback.

Each function takes the *core similarities* of every example to a set of points (one array per
example, as :mod:`scoring`, :mod:`sparse` or :mod:`multi` compute them) and combines them exactly as
qdrant-client's ``local/distances.py`` does, dtype for dtype: best and sum scores are float32,
discovery is ``int32 ranks + float32 sigmoid`` (float64), context sums float32 pair losses.

The same functions run twice per query: on approximate float32 similarities of every point to rank,
then on exact similarities of the candidates to produce the reported scores.
"""

from __future__ import annotations

from itertools import permutations
from typing import Sequence

import numpy as np

from ..engine.distance import EPSILON
from ..errors import InvalidInput

__all__ = [
    "fast_sigmoid",
    "scaled_fast_sigmoid",
    "best_score",
    "sum_scores",
    "discovery_scores",
    "context_scores",
    "naive_feedback_scores",
    "feedback_pairs",
    "average_dense",
    "average_multi",
    "NAIVE_FEEDBACK_CONFIDENCE_MARGIN",
]

NAIVE_FEEDBACK_CONFIDENCE_MARGIN = 0.0


def fast_sigmoid(x: np.ndarray) -> np.ndarray:
    """``x / (1 + |x|)`` element-wise in x's dtype; infinities and NaN pass through unchanged."""
    x = np.asarray(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        y = x / np.add(1.0, np.abs(x))
    return np.where(np.isfinite(x), y, x)


def scaled_fast_sigmoid(x: np.ndarray) -> np.ndarray:
    """``(fast_sigmoid(x) + 1) / 2``, in [0, 1] for finite x."""
    return 0.5 * np.add(fast_sigmoid(x), 1.0)


def _stack32(similarities: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([np.asarray(s) for s in similarities], dtype=np.float32)


def best_score(positive: Sequence[np.ndarray], negative: Sequence[np.ndarray], count: int) -> np.ndarray:
    """BEST_SCORE: the best positive similarity squashed to (0.5, 1] when it beats the best
    negative one, else minus the squashed best negative (float32)."""
    pos = _stack32(positive).max(axis=0) if len(positive) else np.full(count, -np.inf, dtype=np.float32)
    neg = _stack32(negative).max(axis=0) if len(negative) else np.full(count, -np.inf, dtype=np.float32)
    return np.where(pos > neg, scaled_fast_sigmoid(pos), -scaled_fast_sigmoid(neg)).astype(np.float32)


def _sequential_sum(similarities: Sequence[np.ndarray], count: int) -> np.ndarray:
    if not len(similarities):
        return np.zeros(count, dtype=np.float32)
    stacked = _stack32(similarities)
    total = stacked[0].copy()
    for row in stacked[1:]:  # numpy reduces the outer axis row by row too
        total += row
    return total


def sum_scores(positive: Sequence[np.ndarray], negative: Sequence[np.ndarray], count: int) -> np.ndarray:
    """SUM_SCORES: the sum of positive similarities minus the sum of negative ones (float32)."""
    return _sequential_sum(positive, count) - _sequential_sum(negative, count)


def discovery_scores(target: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Discovery: the context rank (+1 per pair whose positive is closer, -1 per pair whose
    negative is) plus the squashed similarity to the target, which lies in [0, 1)."""
    ranks = np.zeros(len(target), dtype=np.int32)
    for positive, negative in pairs:
        # 1 if closer to the positive, 0 if exactly as close, -1 otherwise (NaN included), as qdrant-client
        ranks += np.where(positive > negative, 1, np.where(positive == negative, 0, -1)).astype(np.int32)
    return ranks + scaled_fast_sigmoid(target).astype(np.float32)


def context_scores(pairs: Sequence[tuple[np.ndarray, np.ndarray]], count: int) -> np.ndarray:
    """Context: the sum over pairs of ``fast_sigmoid(min(pos - neg - EPSILON, 0))`` (float32, <= 0)."""
    total = np.zeros(count, dtype=np.float32)
    for positive, negative in pairs:
        difference = positive - negative - EPSILON
        total += fast_sigmoid(np.minimum(difference, 0.0)).astype(np.float32)
    return total


def feedback_pairs(scores: Sequence[float], b: float, c: float) -> list[tuple[int, int, float]]:
    """Pairs (positive item, negative item, weight) of naive relevance feedback.

    Every ordered pair of feedback items whose score difference (the confidence) is above the margin
    contributes ``confidence ** b * c`` times its similarity difference.
    """
    pairs: list[tuple[int, int, float]] = []
    if len(scores) >= 2:
        for first, second in permutations(range(len(scores)), 2):
            confidence = scores[first] - scores[second]
            if confidence <= NAIVE_FEEDBACK_CONFIDENCE_MARGIN:
                continue
            pairs.append((first, second, (confidence**b) * c))
    return pairs


def naive_feedback_scores(
    target: np.ndarray, a: float, pairs: Sequence[tuple[np.ndarray, np.ndarray, float]]
) -> np.ndarray:
    """Naive relevance feedback: ``a * sim(target) + sum of weight * (sim(pos) - sim(neg))``."""
    score = a * target
    for positive, negative, weight in pairs:
        score = score + weight * (positive - negative)
    return score


def average_dense(positive: Sequence[np.ndarray], negative: Sequence[np.ndarray]) -> np.ndarray:
    """AVERAGE_VECTOR for dense vectors: ``2 * mean(positive) - mean(negative)`` (float64)."""
    if not len(positive):
        raise InvalidInput("Positive list is empty")
    mean_positive = np.mean(np.stack(positive), axis=0)
    if len(negative):
        return mean_positive + mean_positive - np.mean(np.stack(negative), axis=0)
    return mean_positive


def average_multi(positive: Sequence[np.ndarray], negative: Sequence[np.ndarray]) -> np.ndarray:
    """AVERAGE_VECTOR for multivectors: every positive row, then every negative row negated."""
    rows = [row for matrix in positive for row in np.asarray(matrix)]
    rows.extend(-row for matrix in negative for row in np.asarray(matrix))
    return np.array(rows, dtype=np.float64)
