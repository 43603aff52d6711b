"""Multivector scoring: qdrant-client's exact MAX_SIM for the candidates the index ranked.

qdrant-client scores a multivector query point by point in Python. Here the stored rows live in a
:class:`~qdrant_local.engine.multi.MultiIndex`, whose matrix products rank the slots; the candidates
are then scored again exactly as qdrant-client does (``exact_max_sim``).
"""

from __future__ import annotations

import numpy as np

from ..engine.distance import COSINE, DOT, EUCLID, MANHATTAN, normalize_query
from ..errors import InvalidInput

__all__ = ["exact_max_sim", "display_from_core", "prepare_queries"]


def exact_max_sim(query: np.ndarray, matrix: np.ndarray, distance: str) -> float:
    """qdrant-client's ``calculate_multi_distance_core`` for one stored multivector.

    ``query`` is the float64 (qr, dim) query, *unnormalised* (qdrant-client normalises it inside);
    ``matrix`` the stored float32 (k, dim) rows.
    """
    if distance in (COSINE, DOT):
        if distance == COSINE:
            query = normalize_query(query)
        sims = np.dot(query, matrix.T)
        return float(np.sum(np.max(sims, axis=-1)))
    if distance == EUCLID:
        sims = -np.square(matrix - query[:, np.newaxis], dtype=np.float32).sum(axis=-1, dtype=np.float32)
    elif distance == MANHATTAN:
        sims = -np.abs(matrix - query[:, np.newaxis], dtype=np.float32).sum(axis=-1, dtype=np.float32)
    else:
        raise InvalidInput(f"Unknown distance type {distance}")
    return float(np.sum(np.max(sims, axis=-1)))


def display_from_core(core: np.ndarray | float, distance: str) -> np.ndarray | float:
    """qdrant-client's ``calculate_multi_distance``: the nearest-search score from the core value."""
    if distance == EUCLID:
        return np.sqrt(np.abs(core))
    if distance == MANHATTAN:
        return np.abs(core)
    return core


def prepare_queries(queries: list[np.ndarray], distance: str) -> list[np.ndarray]:
    """Normalise query matrices row-wise for Cosine (approximate pass only)."""
    return [normalize_query(q) if distance == COSINE else q for q in queries]
