"""Maximal Marginal Relevance re-ranking of nearest-search candidates.

The greedy selection is qdrant-client's (after Qdrant core): the most relevant candidate first, then
repeatedly the candidate maximising ``lambda * relevance - (1 - lambda) * max similarity to the
selected ones``. Core keeps the pending candidates in an insertion-ordered set, removes the chosen
one with ``swap_remove`` and picks with ``max_by_key`` (the *last* maximum on ties); both are
reproduced, because they decide the order of exact ties.

qdrant-client compares candidate pairs in a Python loop; here the similarity matrix comes from one
matrix product (dense) and each greedy step is one vectorised pass over the pending candidates.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..engine.distance import COSINE, DOT, EUCLID, MANHATTAN, normalize_query
from ..errors import InvalidInput
from .scoring import exact_core

__all__ = ["mmr_select", "dense_relevance", "dense_similarity_matrix", "pairwise_matrix"]

# Up to this many candidates, Euclid similarities are computed exactly as qdrant-client does (float32
# sums of squared differences per pair); beyond it, from one float64 Gram matrix.
_EXACT_PAIRS_LIMIT = 512


def _last_argmax(values: np.ndarray) -> int:
    """Index of the maximum, the last one on ties (Rust's ``Iterator::max_by_key``)."""
    return len(values) - 1 - int(np.argmax(values[::-1]))


def mmr_select(relevance: np.ndarray, similarity: np.ndarray, lambda_: float, limit: int) -> list[int]:
    """Positions of the selected candidates, in selection order.

    ``relevance[i]`` is the core similarity of candidate i to the query, ``similarity[i, j]`` the
    core similarity of candidate i (as the query) to candidate j. MAX_SIM is not symmetric: a pending
    candidate is compared with the selected ones as the query, as in core. ``lambda_`` = 1 - diversity.
    """
    if lambda_ < 0.0 or lambda_ > 1.0:
        raise InvalidInput("MMR lambda must be between 0.0 and 1.0")
    count = len(relevance)
    if count == 0 or limit <= 0:
        return []
    relevance = np.asarray(relevance, dtype=np.float64)
    pending = list(range(count))
    selected = [_swap_remove(pending, _last_argmax(relevance))]
    similarity = np.asarray(similarity, dtype=np.float64)
    closest = similarity[:, selected[0]].copy()
    while len(selected) < limit and pending:
        positions = np.asarray(pending, dtype=np.int64)
        scores = lambda_ * relevance[positions] - (1.0 - lambda_) * closest[positions]
        if np.isneginf(scores).all():  # nothing left that passes the threshold
            break
        chosen = _swap_remove(pending, _last_argmax(scores))
        selected.append(chosen)
        np.maximum(closest, similarity[:, chosen], out=closest)
    return selected


def _swap_remove(items: list[int], position: int) -> int:
    """Remove ``items[position]`` by moving the last item into its place (``IndexSet::swap_remove``)."""
    value = items[position]
    items[position] = items[-1]
    items.pop()
    return value


def dense_relevance(query: np.ndarray, vectors: np.ndarray, distance: str) -> np.ndarray:
    """Core similarity of each candidate (float32 rows) to the float64 query, as qdrant-client's MMR
    computes it (the query is normalised here for Cosine)."""
    if distance == COSINE:
        return normalize_query(vectors.astype(np.float64)) @ normalize_query(query)
    return np.asarray(exact_core(vectors, np.arange(len(vectors)), query, distance), dtype=np.float64)


def dense_similarity_matrix(vectors: np.ndarray, distance: str) -> np.ndarray:
    """(c, c) core similarities between candidate vectors (float32 rows)."""
    rows = vectors.astype(np.float64)
    count = len(rows)
    if distance in (COSINE, DOT):
        if distance == COSINE:
            rows = normalize_query(rows)
        return rows @ rows.T
    if distance == EUCLID and count > _EXACT_PAIRS_LIMIT:
        squares = np.einsum("ij,ij->i", rows, rows)
        gram = rows @ rows.T
        return -(squares[:, np.newaxis] + squares[np.newaxis, :] - 2.0 * gram).astype(np.float32)
    if distance in (EUCLID, MANHATTAN):
        everyone = np.arange(count)
        result = np.empty((count, count), dtype=np.float32)
        for index in range(count):
            result[index] = exact_core(vectors, everyone, rows[index], distance)
        return result
    raise InvalidInput(f"Unknown distance type {distance}")


def pairwise_matrix(items: list[Any], similarity: Callable[[Any, Any], float]) -> np.ndarray:
    """(c, c) matrix of ``similarity(items[i], items[j])`` for sparse and multivector candidates."""
    count = len(items)
    result = np.empty((count, count), dtype=np.float64)
    for i in range(count):
        for j in range(count):
            result[i, j] = similarity(items[i], items[j])
    return result
