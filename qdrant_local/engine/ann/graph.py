"""The HNSW graph itself: faiss-cpu's ``IndexHNSWFlat``, the only module that imports faiss.

Labels are the positions of the rows in the order they were added (0..n-1); the caller maps them
to slots. Filtered search passes an ``IDSelectorBitmap`` over labels, so the filter is applied while
the graph is traversed (never by post-filtering a fixed top k). faiss releases the GIL in its calls,
so a build in a background thread does not stall the threads serving requests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_METRICS = {"Cosine": "METRIC_INNER_PRODUCT", "Dot": "METRIC_INNER_PRODUCT", "Euclid": "METRIC_L2"}

# Rows are added this many at a time: the build can be cancelled between two chunks.
ADD_CHUNK = 8192


def _faiss() -> Any:
    import faiss  # the optional extra qdrant-local[ann]

    return faiss


class Graph:
    """One HNSW graph over float32 rows (Cosine rows arrive normalised, so inner product ranks them)."""

    def __init__(self, dim: int, distance: str, m: int, ef_construct: int, index: Any = None) -> None:
        faiss = _faiss()
        self.dim = dim
        self.distance = distance
        if index is None:
            index = faiss.IndexHNSWFlat(dim, m, getattr(faiss, _METRICS[distance]))
            index.hnsw.efConstruction = ef_construct
        self.index = index

    @staticmethod
    def use_threads(count: int) -> None:
        """OpenMP threads for the calling thread's builds (a per-thread setting)."""
        _faiss().omp_set_num_threads(count)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, rows: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(rows, dtype=np.float32))

    def search(self, query: np.ndarray, k: int, ef: int, allowed: np.ndarray | None) -> np.ndarray:
        """Labels of (up to) the ``k`` nearest rows among ``allowed`` (a bool array over labels)."""
        faiss = _faiss()
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, k)
        if allowed is not None:
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params.sel = selector
        queries = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        _, labels = self.index.search(queries, k, params=params)
        found = labels[0]
        return found[found >= 0]

    def rows(self) -> np.ndarray:
        """The rows the graph holds, by label (a read-only view of faiss's storage, not a copy)."""
        faiss = _faiss()
        n = len(self)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        storage = faiss.downcast_index(self.index.storage)
        view = faiss.rev_swig_ptr(storage.get_xb(), n * self.dim).reshape(n, self.dim)
        view.flags.writeable = False
        return view

    def serialized(self) -> memoryview:
        """The graph as faiss writes it (a view of one buffer, not a copy)."""
        return memoryview(_faiss().serialize_index(self.index))

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, dim: int, distance: str) -> Graph:
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if not isinstance(index, faiss.IndexHNSWFlat) or index.d != dim:
            raise ValueError("not an HNSW index of this vector")
        if index.metric_type != getattr(faiss, _METRICS[distance]):
            raise ValueError("the index was built for another distance")
        return cls(dim, distance, 0, 0, index=index)
