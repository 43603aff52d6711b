"""Turn upsert / update_vectors inputs into validated columns, without touching any state.

Inputs arrive as a list of points (our PointStruct, qdrant_client's, or ``{"id", "vector", "payload"}``
dicts) or as a Batch (``{"ids", "vectors", "payloads"}``). Both become :class:`PreparedVectors`: for each
vector name, the batch positions that carry it and their validated, normalised values. Dense vectors of
a whole request are converted with one ``np.asarray`` call per name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from ..errors import InvalidInput, InvalidVector
from .vectors import DenseVectors, MultiVectors, SparseVectors, VectorStore


@dataclass
class PreparedVectors:
    """Validated vectors of a request, column-wise per vector name."""

    # name -> (positions int64 array, float32 matrix [len(positions), dim])
    dense: dict[str, tuple[np.ndarray, np.ndarray]]
    # name -> list of (position, float32 matrix [k, dim])
    multi: dict[str, list[tuple[int, np.ndarray]]]
    # name -> list of (position, (indices uint32, values float32))
    sparse: dict[str, list[tuple[int, tuple[np.ndarray, np.ndarray]]]]

    def select(self, keep: np.ndarray) -> PreparedVectors:
        """The same vectors restricted to the positions where ``keep`` is True, renumbered."""
        new_position = np.cumsum(keep) - 1
        dense = {}
        for name, (positions, rows) in self.dense.items():
            chosen = keep[positions]
            dense[name] = (new_position[positions[chosen]], rows[chosen])
        multi = {n: [(int(new_position[p]), m) for p, m in items if keep[p]] for n, items in self.multi.items()}
        sparse = {n: [(int(new_position[p]), v) for p, v in items if keep[p]] for n, items in self.sparse.items()}
        return PreparedVectors(dense, multi, sparse)

    def names(self) -> set[str]:
        return set(self.dense) | set(self.multi) | set(self.sparse)


def _is_vector_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def split_point_vectors(
    vectors: Iterable[Any], stores: dict[str, VectorStore], unnamed_only: bool
) -> dict[str, tuple[list[int], list[Any]]]:
    """Group the per-point vector structs of a request by vector name: name -> (positions, values)."""
    vectors = vectors if isinstance(vectors, list) else list(vectors)
    if not _has_dense_names(stores):
        # Deviation: local mode rejects ``vector=[]``; the server takes it as "no vectors" in a
        # collection without dense vectors (``vectors_config={}``), and so do we.
        vectors = [None if _is_empty_vector(vector) else vector for vector in vectors]
    if vectors and set(map(type, vectors)) == {list}:  # the type checks of the bulk path loop in C
        # The common shape, every point with a plain list for the unnamed vector: one column as it is.
        return {_unnamed_vector_name(stores): (list(range(len(vectors))), vectors)}
    columns: dict[str, tuple[list[int], list[Any]]] = {}
    unnamed: str | None = None
    for position, vector in enumerate(vectors):
        if vector is None:
            continue
        if _is_vector_list(vector):
            name = unnamed if unnamed is not None else _unnamed_vector_name(stores)
            unnamed = name
            column = columns.setdefault(name, ([], []))
            column[0].append(position)
            column[1].append(vector)
            continue
        if not isinstance(vector, dict):
            if hasattr(vector, "indices") and hasattr(vector, "values"):
                raise InvalidVector("Wrong input: Conversion between sparse and regular vectors failed for vector ''")
            raise InvalidVector(f"Wrong input: unsupported vector type {type(vector).__name__}")
        for name, value in vector.items():
            if name not in stores:
                raise InvalidVector(f"Wrong input: Not existing vector name error: {name}")
            if value is None:
                continue
            column = columns.setdefault(name, ([], []))
            column[0].append(position)
            column[1].append(value)
    return columns


def _has_dense_names(stores: dict[str, VectorStore]) -> bool:
    return any(isinstance(store, (DenseVectors, MultiVectors)) for store in stores.values())


def _is_empty_vector(vector: Any) -> bool:
    return _is_vector_list(vector) and len(vector) == 0


def _unnamed_vector_name(stores: dict[str, VectorStore]) -> str:
    dense = [n for n, s in stores.items() if isinstance(s, DenseVectors)]
    multi = [n for n, s in stores.items() if isinstance(s, MultiVectors)]
    if (dense and dense != [""]) or (multi and multi != [""]):
        raise InvalidVector(
            "Wrong input: Unnamed vectors are not allowed when a collection has named vectors or multivectors: "
            f"{dense}, {multi}"
        )
    if "" not in stores:
        raise InvalidVector("Wrong input: Not existing vector name error")
    return ""


def prepare_columns(columns: dict[str, tuple[list[int], list[Any]]], stores: dict[str, VectorStore]) -> PreparedVectors:
    """Validate and normalise grouped vectors (see :func:`split_point_vectors`)."""
    dense: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    multi: dict[str, list[tuple[int, np.ndarray]]] = {}
    sparse: dict[str, list[tuple[int, tuple[np.ndarray, np.ndarray]]]] = {}
    for name, (positions, values) in columns.items():
        store = stores[name]
        if isinstance(store, DenseVectors):
            if not isinstance(values, np.ndarray) and not set(map(type, values)) <= {list}:
                for value in values:  # a sparse vector sent to a dense name is a kind error, not a shape error
                    if not _is_vector_list(value):
                        store.prepare_one(value, name)
            dense[name] = (np.asarray(positions, dtype=np.int64), store.prepare(values, name))
        elif isinstance(store, MultiVectors):
            multi[name] = [(p, store.prepare_one(v, name)) for p, v in zip(positions, values)]
        else:
            sparse[name] = [(p, store.prepare_one(v, name)) for p, v in zip(positions, values)]
    return PreparedVectors(dense, multi, sparse)


def batch_columns(vectors: Any, count: int, stores: dict[str, VectorStore]) -> dict[str, tuple[list[int], list[Any]]]:
    """Columns of a Batch's ``vectors`` (a list / 2-D array for the unnamed vector, or a dict of them)."""
    if vectors is None:
        return {}
    if not isinstance(vectors, dict) and not _has_dense_names(stores) and all(_is_empty_vector(v) for v in vectors):
        return {}  # Deviation: empty vectors in a collection without dense vectors, as split_point_vectors
    if not isinstance(vectors, dict):
        vectors = {_unnamed_vector_name(stores): vectors}
    columns: dict[str, tuple[list[int], list[Any]]] = {}
    for name, values in vectors.items():
        if name not in stores:
            raise InvalidVector(f"Wrong input: Not existing vector name error: {name}")
        if len(values) != count:
            raise InvalidInput(f"number of ids and vectors must be equal ({count} != {len(values)})")
        positions = (
            [p for p in range(count) if values[p] is not None] if isinstance(values, list) else list(range(count))
        )
        column_values = values if len(positions) == count else [values[p] for p in positions]
        columns[name] = (positions, column_values)
    return columns


def read_batch(batch: Any) -> tuple[list[Any], Any, Any]:
    """(ids, vectors, payloads) of a Batch in any accepted form (model or ``{"ids", ...}`` dict), read
    here rather than converted at the facade: a batch's columns are passed on as they are, uncopied."""
    if isinstance(batch, dict):
        ids, vectors, payloads = batch.get("ids"), batch.get("vectors"), batch.get("payloads")
    else:
        ids, vectors, payloads = batch.ids, batch.vectors, getattr(batch, "payloads", None)
    return list(ids) if ids is not None else [], vectors, payloads


def read_points(points: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """(ids, vector structs, payloads) of a list of points in any accepted form."""
    points = points if isinstance(points, list) else list(points)
    if not any(issubclass(kind, dict) for kind in set(map(type, points))):
        # Model objects only (ours or qdrant_client's): three comprehensions instead of a loop.
        return (
            [getattr(point, "id", None) for point in points],
            [getattr(point, "vector", None) for point in points],
            [getattr(point, "payload", None) for point in points],
        )
    ids, vectors, payloads = [], [], []
    for point in points:
        if isinstance(point, dict):
            if "id" not in point:
                raise InvalidInput("Point must have an id")
            ids.append(point["id"])
            vectors.append(point.get("vector", point.get("vectors")))
            payloads.append(point.get("payload"))
        else:
            ids.append(getattr(point, "id", None))
            vectors.append(getattr(point, "vector", None))
            payloads.append(getattr(point, "payload", None))
    return ids, vectors, payloads


__all__ = [
    "PreparedVectors",
    "SparseVectors",
    "batch_columns",
    "prepare_columns",
    "read_batch",
    "read_points",
    "split_point_vectors",
]
