"""Per-vector-name storage: dense matrices, sparse vectors and multivectors, indexed by slot.

Each store keeps a ``present`` mask over slots (a point may lack a named vector) and grows its
arrays by doubling, so appending points never copies per point. Incoming vectors are validated and
normalised by ``prepare_*`` functions *before* anything is written, which is what lets a whole request
be rejected without a trace. Messages follow qdrant-client's local mode.
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np

from ..errors import InvalidVector
from .dense_rows import check_finite, float32_rows, normalized_rows
from .distance import COSINE, DOT, EUCLID, MANHATTAN, normalize_rows
from .growth import ReservedRows, grown
from .multi import MultiIndex
from .sparse import SparseIndex


def _float_matrix(vectors: Sequence[Any], dim: int) -> np.ndarray | None:
    """``vectors`` as a float32 matrix, or None when they are not a clean list of ``dim``-long rows."""
    if isinstance(vectors, np.ndarray):
        return vectors.astype(np.float32, copy=False) if vectors.dtype.kind in "fiu" else None
    count = len(vectors)
    if count and set(map(type, vectors)) == {list} and set(map(len, vectors)) == {dim}:
        rows = float32_rows(vectors, dim)  # a struct pack per row (engine/dense_rows.py)
        if rows is not None:
            return rows
        # What struct refuses (text, ints beyond float32) converts as before: same values and errors.
        try:
            flat = np.fromiter(itertools.chain.from_iterable(vectors), dtype=np.float32, count=count * dim)
            return flat.reshape(count, dim)
        except (ValueError, TypeError):
            return None
    try:
        return np.asarray(vectors, dtype=np.float32)
    except (ValueError, TypeError):
        return None


# Rows moved per step when compacting a dense matrix in place (1.5 MiB at dim 384).
_COMPACT_CHUNK = 1024


class DenseVectors:
    """One float32 matrix row per slot for a dense vector name."""

    kind = "dense"

    def __init__(self, dim: int, distance: str) -> None:
        self.dim = dim
        self.distance = distance
        self._memory = ReservedRows((dim,), np.float32)  # large matrices grow in place (engine/growth.py)
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.present = np.zeros(0, dtype=bool)
        # Told of every change (``changed(slots)``, ``compacted(keep)``), so that an approximate
        # index (engine/ann) can tell which of its rows are stale without scanning.
        self.observers: list[Any] = []

    def reserve(self, capacity: int) -> None:
        if capacity > len(self.present):
            self.matrix = self._memory.resize(self.matrix, capacity)
            self.present = grown(self.present, capacity)

    def prepare(self, vectors: Sequence[Any], vector_name: str) -> np.ndarray:
        """Validate a list of dense vectors and return them as one normalised float32 matrix."""
        rows = _float_matrix(vectors, self.dim)
        if rows is None or rows.ndim != 2 or rows.shape[1] != self.dim:
            for vector in vectors:  # find the culprit for the message
                self.prepare_one(vector, vector_name)
            raise InvalidVector(f"Wrong input: Dense vectors are malformed for vector '{vector_name}'")
        check_finite(rows)
        if self.distance != COSINE:
            return rows
        return normalized_rows(rows, owned=not isinstance(vectors, np.ndarray) or rows is not vectors)

    def prepare_one(self, vector: Any, vector_name: str) -> np.ndarray:
        if _is_sparse(vector):
            raise _kind_mismatch(vector_name)
        if not hasattr(vector, "__len__"):
            raise InvalidVector(f"Wrong input: Dense vector must be one-dimensional for vector '{vector_name}'")
        if len(vector) == 0:
            raise InvalidVector(f"Wrong input: Dense vector must not be empty for vector '{vector_name}'")
        try:
            row = np.asarray(vector, dtype=np.float32)
        except (ValueError, TypeError):
            row = None
        if row is None or row.ndim != 1:
            raise InvalidVector(f"Wrong input: Dense vector must be one-dimensional for vector '{vector_name}'")
        check_finite(row)
        if len(row) != self.dim:
            raise _dimension_error(self.dim, len(row), vector_name)
        return normalize_rows(row) if self.distance == COSINE else row

    def write(self, slots: np.ndarray, rows: np.ndarray) -> None:
        self.matrix[slots] = rows
        self.present[slots] = True
        for observer in self.observers:
            observer.changed(slots)

    def erase(self, slots: np.ndarray | list[int]) -> None:
        self.present[slots] = False
        for observer in self.observers:
            observer.changed(slots)

    def compact(self, keep: np.ndarray, capacity: int) -> None:
        """Keep only the rows of ``keep`` (old slots, ascending), renumbered 0..len(keep)-1.

        Rows move down in place, a chunk at a time: row ``keep[i]`` goes to row ``i <= keep[i]``, so
        a chunk never overwrites a row a later chunk still reads, and no second matrix exists, even
        for a moment. The matrix then shrinks to ``capacity`` rows in place: a reserved one hands the
        pages past its rows back to the system, a numpy one is reallocated (if a view of it is alive it
        keeps its size, with zeroed rows past the kept ones).
        """
        count = len(keep)
        matrix = self.matrix
        for start in range(0, count, _COMPACT_CHUNK):
            part = keep[start : start + _COMPACT_CHUNK]
            matrix[start : start + len(part)] = matrix[part]  # the gather copies before the write
        present = np.zeros(capacity, dtype=bool)
        present[:count] = self.present[keep]
        self.present = present
        if self._memory.owns(matrix):
            self.matrix = self._memory.shrink(matrix, capacity, count)
            for observer in self.observers:
                observer.compacted(keep)
            return
        rows = len(matrix)
        del matrix
        if capacity < rows:
            try:
                self.matrix.resize((capacity, self.dim), refcheck=True)  # only the attribute refers to it
            except ValueError:
                pass
        self.matrix[count:] = 0.0
        for observer in self.observers:
            observer.compacted(keep)

    def map_rows(self, fd: int, offset: int, length: int, used: int) -> memoryview | None:
        """Make the matrix's first rows the pages of file ``fd`` at ``offset`` (``length`` bytes, holding
        the matrix's first ``used`` bytes), copy-on-write; a view of them, or None when the matrix is not
        in a reservation or pages cannot be placed (see ReservedRows.map_file)."""
        return self._memory.map_file(self.matrix, fd, offset, length, used)

    @property
    def file_backed(self) -> bool:
        """Whether the matrix's first rows are a file's pages (a snapshot's, see map_rows)."""
        return self._memory.file_bytes > 0 and self._memory.owns(self.matrix)

    def read(self, slot: int) -> list[float]:
        return self.matrix[slot].tolist()

    def raw(self, slot: int) -> np.ndarray:
        return self.matrix[slot]


class MultiVectors:
    """A (k, dim) float32 array per slot for a multivector name (MAX_SIM comparator)."""

    kind = "multi"

    def __init__(self, dim: int, distance: str, comparator: str = "max_sim") -> None:
        self.dim = dim
        self.distance = distance
        self.comparator = comparator
        self.rows: list[np.ndarray | None] = []
        self.present = np.zeros(0, dtype=bool)
        # Every sub-vector again, contiguous per slot in one matrix, so MAX_SIM is a matrix product.
        self.index = MultiIndex(dim)

    def reserve(self, capacity: int) -> None:
        if capacity > len(self.present):
            self.present = grown(self.present, capacity)
            self.rows.extend([None] * (capacity - len(self.rows)))

    def prepare_one(self, vector: Any, vector_name: str) -> np.ndarray:
        if _is_sparse(vector):
            raise _kind_mismatch(vector_name)
        if not hasattr(vector, "__len__") or len(vector) == 0:
            raise InvalidVector(f"Wrong input: Multivector must not be empty for vector '{vector_name}'")
        for sub_vector in vector:
            if hasattr(sub_vector, "__len__") and len(sub_vector) == 0:
                raise InvalidVector(
                    f"Wrong input: All vectors of a multivector must be non-empty for vector '{vector_name}'"
                )
        try:
            matrix = np.asarray(vector, dtype=np.float32)
        except (ValueError, TypeError):
            matrix = None
        if matrix is None or matrix.ndim != 2:
            for sub_vector in vector:
                if not hasattr(sub_vector, "__len__"):
                    raise InvalidVector(f"Wrong input: Multivector must be two-dimensional for vector '{vector_name}'")
                if len(sub_vector) != self.dim:
                    raise _dimension_error(self.dim, len(sub_vector), vector_name)
            raise InvalidVector(f"Wrong input: Multivector must be two-dimensional for vector '{vector_name}'")
        check_finite(matrix)
        if matrix.shape[1] != self.dim:
            raise _dimension_error(self.dim, matrix.shape[1], vector_name)
        return normalize_rows(matrix) if self.distance == COSINE else matrix

    def write_one(self, slot: int, matrix: np.ndarray) -> None:
        self.rows[slot] = matrix
        self.present[slot] = True
        self.index.set(slot, matrix)

    def erase(self, slots: np.ndarray | list[int]) -> None:
        for slot in np.atleast_1d(np.asarray(slots, dtype=np.int64)).tolist():
            if self.rows[slot] is not None:
                self.index.remove(slot)
            self.rows[slot] = None
        self.present[slots] = False

    def compact(self, keep: np.ndarray, capacity: int) -> None:
        """Keep only the slots of ``keep``, renumbered; the MAX_SIM index is rebuilt from them."""
        rows = [self.rows[slot] for slot in keep.tolist()]
        self.rows = rows + [None] * (capacity - len(rows))
        present = np.zeros(capacity, dtype=bool)
        present[: len(keep)] = self.present[keep]
        self.present = present
        self.index = MultiIndex(self.dim)
        for slot, matrix in enumerate(rows):
            if matrix is not None:
                self.index.set(slot, matrix)

    def read(self, slot: int) -> list[list[float]]:
        matrix = self.rows[slot]
        return [] if matrix is None else matrix.tolist()

    def raw(self, slot: int) -> np.ndarray | None:
        return self.rows[slot]


class SparseVectors:
    """Sorted (indices uint32, values float32) per slot for a sparse vector name."""

    kind = "sparse"

    def __init__(self, modifier: str | None = None) -> None:
        self.modifier = modifier
        self.indices: list[np.ndarray | None] = []
        self.values: list[np.ndarray | None] = []
        self.present = np.zeros(0, dtype=bool)
        # Called with (slot, indices, values) after a write and (slot, None, None) after an erase,
        # so that a search index can follow every change without scanning.
        self.listeners: list[Any] = []
        # The inverted index that sparse queries read; kept current by write_one and erase.
        self.index = SparseIndex()

    def reserve(self, capacity: int) -> None:
        if capacity > len(self.present):
            self.present = grown(self.present, capacity)
            self.indices.extend([None] * (capacity - len(self.indices)))
            self.values.extend([None] * (capacity - len(self.values)))

    def prepare_one(self, vector: Any, vector_name: str) -> tuple[np.ndarray, np.ndarray]:
        if not _is_sparse(vector):
            raise _kind_mismatch(vector_name)
        indices, values = sparse_parts(vector)
        if len(indices) != len(values):
            raise InvalidVector("Indices and values must have the same length")
        values_np = np.asarray(values, dtype=np.float32)
        if len(values) and np.isnan(values_np).any():
            raise InvalidVector("Values must not contain NaN")
        if len(values) and not np.isfinite(values_np).all():
            # Deviation: local mode accepts infinite sparse values; the server rejects them.
            raise InvalidVector("Values must be finite")
        if len(indices) != len(set(indices)):
            raise InvalidVector("Indices must be unique")
        if any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in indices):
            raise InvalidVector("Indices must be integers")
        if indices and (min(indices) < 0 or max(indices) > 2**32 - 1):
            raise InvalidVector("Indices must be between 0 and 4294967295")
        indices_np = np.asarray(indices, dtype=np.uint32)
        order = np.argsort(indices_np, kind="stable")
        return indices_np[order], values_np[order]

    def write_one(self, slot: int, prepared: tuple[np.ndarray, np.ndarray]) -> None:
        self.indices[slot], self.values[slot] = prepared
        self.present[slot] = True
        self.index.set(slot, prepared[0], prepared[1])
        for listener in self.listeners:
            listener(slot, prepared[0], prepared[1])

    def erase(self, slots: np.ndarray | list[int]) -> None:
        for slot in np.atleast_1d(np.asarray(slots, dtype=np.int64)).tolist():
            if self.indices[slot] is not None:
                self.indices[slot] = self.values[slot] = None
                self.index.remove(slot)
                for listener in self.listeners:
                    listener(slot, None, None)
        self.present[slots] = False

    def compact(self, keep: np.ndarray, capacity: int) -> None:
        """Keep only the slots of ``keep``, renumbered; the inverted index is rebuilt from them."""
        kept = keep.tolist()
        indices = [self.indices[slot] for slot in kept]
        values = [self.values[slot] for slot in kept]
        padding = [None] * (capacity - len(kept))
        self.indices, self.values = indices + padding, values + list(padding)
        present = np.zeros(capacity, dtype=bool)
        present[: len(keep)] = self.present[keep]
        self.present = present
        self.index = SparseIndex()
        for slot, (slot_indices, slot_values) in enumerate(zip(indices, values)):
            if slot_indices is not None and slot_values is not None:
                self.index.set(slot, slot_indices, slot_values)

    def read(self, slot: int) -> Any:
        from ..models import SparseVector

        indices, values = self.indices[slot], self.values[slot]
        if indices is None or values is None:
            return SparseVector(indices=[], values=[])
        return SparseVector(indices=indices.tolist(), values=values.tolist())

    def raw(self, slot: int) -> tuple[np.ndarray, np.ndarray] | None:
        indices, values = self.indices[slot], self.values[slot]
        return None if indices is None or values is None else (indices, values)


VectorStore = DenseVectors | MultiVectors | SparseVectors


def _is_sparse(vector: Any) -> bool:
    if isinstance(vector, dict):
        return "indices" in vector and "values" in vector
    return hasattr(vector, "indices") and hasattr(vector, "values") and not isinstance(vector, np.ndarray)


def sparse_parts(vector: Any) -> tuple[list[Any], list[Any]]:
    """(indices, values) of a sparse vector (a SparseVector model or ``{"indices", "values"}`` dict) as
    lists. Vectors are data: read here in any form, not converted at the facade (bulk path)."""
    if isinstance(vector, dict):
        indices, values = vector.get("indices"), vector.get("values")
    else:
        indices, values = getattr(vector, "indices", None), getattr(vector, "values", None)
    return (list(indices) if indices is not None else []), (list(values) if values is not None else [])


def _kind_mismatch(vector_name: str) -> InvalidVector:
    return InvalidVector(
        f"Wrong input: Conversion between sparse and regular vectors failed for vector '{vector_name}'"
    )


def _dimension_error(expected: int, got: int, vector_name: str) -> InvalidVector:
    return InvalidVector(
        f"Wrong input: Vector dimension error: expected dim: {expected}, got {got} for vector '{vector_name}'"
    )


def distance_name(value: Any) -> str:
    """Canonical distance name ("Cosine", "Dot", "Euclid", "Manhattan") from a configuration's plain value."""
    name = str(value)
    for canonical in (COSINE, DOT, EUCLID, MANHATTAN):
        if name.lower() == canonical.lower():
            return canonical
    raise InvalidVector(f"Unknown distance: {name}")
