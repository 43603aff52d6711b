"""The HNSW settings of one dense vector name, read from the collection's configuration.

Qdrant's semantics: ``optimizers_config.indexing_threshold`` (KB of vectors, default 20,000; 0
disables indexing) decides when a vector gets an index; ``hnsw_config`` (collection-wide, overridden
field by field by the vector's own ``hnsw_config``) gives ``m`` (0 disables), ``ef_construct`` (also
the default search ``ef``, as in Qdrant) and ``full_scan_threshold`` (KB: a filtered query whose
matching vectors fit in it is answered by a full scan of those points instead of the graph).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEFAULT_M = 16
DEFAULT_EF_CONSTRUCT = 100
DEFAULT_FULL_SCAN_THRESHOLD_KB = 10_000
DEFAULT_INDEXING_THRESHOLD_KB = 20_000
DEFAULT_DELETED_THRESHOLD = 0.2
DEFAULT_VACUUM_MIN_VECTORS = 1000

INDEXED_DISTANCES = ("Cosine", "Dot", "Euclid")


@dataclass(frozen=True)
class HnswParams:
    """Effective settings of one vector name (sizes already turned from KB into vectors)."""

    m: int
    ef_construct: int
    full_scan_vectors: int
    indexing_vectors: int | None  # a vector name holding more vectors than this is indexed; None: never
    deleted_threshold: float
    vacuum_min_vectors: int
    indexing_threads: int = 1
    graph_threads: int = 1  # OpenMP threads each of those graphs is built with

    @property
    def enabled(self) -> bool:
        return self.m > 0 and self.indexing_vectors is not None

    @property
    def graph_key(self) -> tuple[int, int]:
        """The settings a built graph depends on (a change means rebuilding it)."""
        return (self.m, self.ef_construct)


def _get(config: Any, key: str, default: Any) -> Any:
    value = config.get(key) if isinstance(config, dict) else None
    return default if value is None else value


def _kb_to_vectors(kb: int, dim: int) -> int:
    return int(kb) * 1024 // (dim * 4)


def hnsw_params(raw: dict[str, Any], vector_name: str, dim: int, distance: str) -> HnswParams:
    """The settings of dense vector ``vector_name`` from a collection's raw configuration JSON."""
    collection_hnsw = raw.get("hnsw_config") or {}
    vector_hnsw = ((raw.get("vectors") or {}).get(vector_name) or {}).get("hnsw_config") or {}
    hnsw = {**collection_hnsw, **{k: v for k, v in vector_hnsw.items() if v is not None}}
    optimizers = raw.get("optimizers_config") or {}
    m = int(_get(hnsw, "m", DEFAULT_M))
    if distance not in INDEXED_DISTANCES:
        m = 0  # Manhattan stays exact
    threshold_kb = int(_get(optimizers, "indexing_threshold", DEFAULT_INDEXING_THRESHOLD_KB))
    configured_threads = int(_get(hnsw, "max_indexing_threads", 0))
    return HnswParams(
        m=m,
        ef_construct=max(int(_get(hnsw, "ef_construct", DEFAULT_EF_CONSTRUCT)), 4),
        full_scan_vectors=_kb_to_vectors(_get(hnsw, "full_scan_threshold", DEFAULT_FULL_SCAN_THRESHOLD_KB), dim),
        indexing_vectors=_kb_to_vectors(threshold_kb, dim) if threshold_kb > 0 else None,
        deleted_threshold=float(_get(optimizers, "deleted_threshold", DEFAULT_DELETED_THRESHOLD)),
        vacuum_min_vectors=int(_get(optimizers, "vacuum_min_vector_number", DEFAULT_VACUUM_MIN_VECTORS)),
        indexing_threads=_indexing_threads(configured_threads),
        graph_threads=_graph_threads(configured_threads),
    )


def _indexing_threads(configured: int) -> int:
    """``max_indexing_threads``: graphs a merge build makes side by side (0 = automatic: one per
    core but one, which serves the application, at most 16; one graph on two cores, where two
    graphs double the search cost: README)."""
    if configured > 0:
        return configured
    return max(1, min((os.cpu_count() or 1) - 1, 16))


def _graph_threads(configured: int) -> int:
    """OpenMP threads per graph: one when ``max_indexing_threads`` is set (a thread per graph); when
    automatic, the cores the graphs leave over are shared among them (on two cores the one graph
    is built with both, which measured faster than one thread with the codes' graph: README)."""
    if configured > 0:
        return 1
    cores = os.cpu_count() or 1
    return max(1, min(cores, 16) // _indexing_threads(0))
