"""The planner's seam to the HNSW indexes (engine/ann): when a nearest query uses one.

A dense nearest query goes to the vector's index when the collection has one (the ``ann`` extra
is installed and the vector passed its indexing threshold), ``search_params.exact`` is not set and
more points match than ``full_scan_threshold``; the index returns candidate slots (graph results
of each segment, with the filter applied during traversal, plus every matching row written since
the build) and they are scored here exactly, with the same scores an exact search gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.collection import Collection
from ..engine.distance import COSINE, normalize_query
from . import scoring
from .scoring import RankedSlots


def uses_index(collection: Collection, vector_name: str, search_params: Any) -> bool:
    """Whether a nearest query on ``vector_name`` may be answered through an HNSW index."""
    index = collection.vector_indexes.get(vector_name)
    if index is None or not index.segments:
        return False
    return not (search_params is not None and search_params.exact)


def nearest(
    collection: Collection,
    vector_name: str,
    query: np.ndarray,
    eligible: np.ndarray,
    filtered: bool,
    k: int,
    search_params: Any,
    count: int | None = None,
) -> RankedSlots | None:
    """Top ``k`` of ``eligible`` through the index, or None when an exact scan is the plan.

    ``count``, when known, is the number of eligible slots: few enough of them make the exact scan
    the plan without preparing the query for the index (the index would decide the same)."""
    if not uses_index(collection, vector_name, search_params):
        return None
    index = collection.vector_indexes[vector_name]
    if count is not None and count <= max(index.params.full_scan_vectors, k):
        return None
    distance = index.vectors.distance
    prepared = normalize_query(query) if distance == COSINE else query
    ef = search_params.hnsw_ef if search_params is not None else None
    candidates = index.candidates(prepared.astype(np.float32), eligible, filtered, k, ef)
    if candidates is None:
        return None
    return scoring.rank_dense_slots(index.vectors.matrix, candidates, query, distance, k)
