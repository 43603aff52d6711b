"""Sparse query math as qdrant-client does it: query validation, dot products, averages.

The stored vectors live in :class:`~qdrant_local.engine.sparse.SparseIndex` (an inverted index);
this module prepares queries and combines sparse vectors for recommend, discover and context. A
point sharing no index with the query has no score (nearest search skips it); recommend, discover
and context count it as 0.0 (``empty_is_zero``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..engine.sparse import SparseArrays, SparseIndex, idf
from ..engine.vectors import sparse_parts
from ..errors import InvalidInput

__all__ = ["SparseIndex", "sparse_query", "idf", "sparse_average", "merge_positive_and_negative", "sparse_dot"]


def sparse_query(vector: Any) -> SparseArrays:
    """Validate a sparse query vector and return it sorted by index (values float64).

    Messages are qdrant-client's ``validate_sparse_vector``.
    """
    indices, values = sparse_parts(vector)
    if len(indices) != len(values):
        raise InvalidInput("Indices and values must have the same length")
    try:
        values_np = np.asarray(values, dtype=np.float64)
        indices_np = np.asarray(indices, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput("Sparse vector indices must be integers and values numbers") from None
    if np.isnan(values_np).any():
        raise InvalidInput("Values must not contain NaN")
    if len(np.unique(indices_np)) != len(indices_np):
        raise InvalidInput("Indices must be unique")
    if len(indices_np) and (indices_np.min() < 0 or indices_np.max() > 2**32 - 1):
        raise InvalidInput("Indices must be between 0 and 4294967295")
    order = np.argsort(indices_np, kind="stable")
    return indices_np[order], values_np[order]


def sparse_dot(a: SparseArrays, b: SparseArrays) -> float | None:
    """Dot product of two sorted sparse vectors, None when they share no index (qdrant-client's
    ``sparse_dot_product`` before its float32 cast)."""
    common, a_pos, b_pos = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    if len(common) == 0:
        return None
    result = 0.0
    # Sequential float64 accumulation in index order, like the merge-join.
    for x, y in zip(a[1][a_pos].tolist(), b[1][b_pos].tolist()):
        result += x * y
    return result


def _combine(a: SparseArrays, b: SparseArrays, op: Any) -> SparseArrays:
    """qdrant-client's ``combine_aggregate``: the union of indices, ``op`` applied to (a or 0, b or 0)."""
    indices = np.union1d(a[0], b[0])
    left = np.zeros(len(indices), dtype=np.float64)
    right = np.zeros(len(indices), dtype=np.float64)
    left[np.searchsorted(indices, a[0])] = a[1]
    right[np.searchsorted(indices, b[0])] = b[1]
    return indices, op(left, right)


def sparse_average(vectors: Sequence[SparseArrays]) -> SparseArrays:
    """qdrant-client's ``sparse_avg``: running sums over the union of indices, then a division."""
    total: SparseArrays = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    for vector in vectors:
        total = _combine(total, vector, lambda x, y: x + y)
    if not vectors:
        return total
    return total[0], total[1] / len(vectors)


def merge_positive_and_negative(positive: SparseArrays, negative: SparseArrays) -> SparseArrays:
    """``pos + pos - neg`` over the union of indices (qdrant-client's average_vector for sparse)."""
    return _combine(positive, negative, lambda pos, neg: pos + pos - neg)
