"""The HNSW graph itself: faiss-cpu's ``IndexHNSWSQ``, the only module that imports faiss.

The graph is built and traversed over a compressed copy of the rows (faiss scalar-quantizer codes,
``CODES``), not a float32 one: the caller rescores the shortlist a search returns exactly, from the
collection's own float32 matrix, so the scores are exact and only the ranking inside the graph is
approximate (what Qdrant does with quantization and rescoring; README: why this storage).

Labels are the positions of the rows in the order they were added (0..n-1); the caller maps them
to slots. Filtered search passes an ``IDSelectorBitmap`` over labels, so the filter is applied while
the graph is traversed (never by post-filtering a fixed top k). faiss releases the GIL in its calls,
so a build in a background thread does not stall the threads serving requests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_METRICS = {"Cosine": "METRIC_INNER_PRODUCT", "Dot": "METRIC_INNER_PRODUCT", "Euclid": "METRIC_L2"}

# What the graph keeps of each row: faiss ScalarQuantizer codes of this type (part of the file format).
CODES = "QT_8bit"  # 8 bits per dimension, each dimension with its own trained range

# Rows are added this many at a time: the build can be cancelled between two chunks.
ADD_CHUNK = 8192

# The codes' value range is trained on at most this many rows, spread evenly over the graph's rows.
TRAIN_ROWS = 32_768


def _faiss() -> Any:
    import faiss  # the optional extra qdrant-local[ann]

    return faiss


class Graph:
    """One HNSW graph over the codes of float32 rows (Cosine rows arrive normalised, so inner
    product ranks them)."""

    def __init__(self, dim: int, distance: str, m: int, ef_construct: int, index: Any = None) -> None:
        faiss = _faiss()
        self.dim = dim
        self.distance = distance
        if index is None:
            kind = getattr(faiss.ScalarQuantizer, CODES)
            index = faiss.IndexHNSWSQ(dim, kind, m, getattr(faiss, _METRICS[distance]))
            index.hnsw.efConstruction = ef_construct
        self.index = index
        self._storage = faiss.downcast_index(index.storage)

    @staticmethod
    def use_threads(count: int) -> None:
        """OpenMP threads for the calling thread's builds (a per-thread setting)."""
        _faiss().omp_set_num_threads(count)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def trained(self) -> bool:
        """Whether the codes' value range is set (rows can be added)."""
        return bool(self.index.is_trained)

    def train(self, sample: np.ndarray) -> None:
        """Set the codes' value range from a sample of the rows the graph will hold."""
        self.index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def add(self, rows: np.ndarray) -> None:
        self.index.add(np.ascontiguousarray(rows, dtype=np.float32))

    def search(self, query: np.ndarray, shortlist: int, ef: int, allowed: np.ndarray | None) -> np.ndarray:
        """Labels of (up to) the ``shortlist`` nearest rows among ``allowed`` (a bool array over labels)
        by the codes' approximate distance: the caller rescores them exactly."""
        faiss = _faiss()
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, shortlist)
        if allowed is not None:
            bits = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params.sel = selector
        queries = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        _, labels = self.index.search(queries, shortlist, params=params)
        found = labels[0]
        return found[found >= 0]

    def codes(self) -> np.ndarray:
        """The codes the graph holds, one row per label (a read-only view of faiss's storage)."""
        faiss = _faiss()
        n, size = len(self), int(self._storage.code_size)
        if n == 0:
            return np.zeros((0, size), dtype=np.uint8)
        view = faiss.rev_swig_ptr(self._storage.codes.data(), n * size).reshape(n, size)
        view.flags.writeable = False
        return view

    def holds(self, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Whether each label's codes are those of the float32 row given for it (bool per label)."""
        if len(labels) == 0:
            return np.zeros(0, dtype=bool)
        encoded = self._storage.sa_encode(np.ascontiguousarray(rows, dtype=np.float32))
        return np.asarray((encoded == self.codes()[labels]).all(axis=1))

    def serialized(self) -> memoryview:
        """The graph as faiss writes it (a view of one buffer, not a copy)."""
        return memoryview(_faiss().serialize_index(self.index))

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, dim: int, distance: str) -> Graph:
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if not isinstance(index, faiss.IndexHNSWSQ) or index.d != dim:
            raise ValueError("not an HNSW index of this vector")
        if faiss.downcast_index(index.storage).sq.qtype != getattr(faiss.ScalarQuantizer, CODES):
            raise ValueError("its rows are stored in another code")
        if index.metric_type != getattr(faiss, _METRICS[distance]):
            raise ValueError("the index was built for another distance")
        return cls(dim, distance, 0, 0, index=index)
