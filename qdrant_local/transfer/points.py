"""Points as REST JSON (``{"id", "vector", "payload"}``), read page by page and written to any client.

Writing into a qdrant_local client keeps stored vectors bit for bit: Cosine vectors were normalised
when first stored, and normalising a float32 vector again can move its last bit, so unit-length rows
are written as given instead (any other row is normalised as usual).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..engine.distance import COSINE, EPSILON
from .description import is_qdrant_local

# A stored Cosine row has norm 1 up to float32 rounding; anything further off was not normalised by us.
_UNIT_TOLERANCE = 1e-5


def vector_json(vector: Any) -> Any:
    """A record's vector (list, named dict, SparseVector, multivector) as plain JSON."""
    if vector is None:
        return None
    if isinstance(vector, dict):
        return {name: vector_json(value) for name, value in vector.items()}
    if isinstance(vector, np.ndarray):
        return vector.tolist()
    if isinstance(vector, (list, tuple)):
        if all(type(v) is float for v in vector):
            return vector  # a dense vector as scroll returns it: already plain JSON
        return [vector_json(v) if isinstance(v, (list, tuple, np.ndarray)) else float(v) for v in vector]
    indices = getattr(vector, "indices", None)
    if indices is not None:  # a SparseVector model, ours or qdrant-client's
        return {"indices": [int(i) for i in indices], "values": [float(v) for v in vector.values]}
    raise TypeError(f"cannot export a vector of type {type(vector).__name__}")


def point_json(record: Any) -> dict[str, Any]:
    """A scrolled record as ``{"id", "vector", "payload"}`` (the REST PointStruct shape)."""
    point_id = record.id if isinstance(record.id, (int, str)) else str(record.id)
    return {"id": point_id, "vector": vector_json(record.vector) or {}, "payload": record.payload or {}}


def scroll_pages(
    client: Any, collection_name: str, batch_size: int, offset: Any = None
) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """Pages of points in id order, each with the offset that resumes after it (None after the last)."""
    while True:
        records, offset = client.scroll(
            collection_name, limit=batch_size, offset=offset, with_payload=True, with_vectors=True
        )
        yield [point_json(r) for r in records], offset
        if offset is None:
            return


def write_points(client: Any, collection_name: str, points: list[dict[str, Any]]) -> None:
    """Upsert REST-shaped points (wait=True); into qdrant_local, stored vectors stay bit-exact."""
    if not points:
        return
    if is_qdrant_local(client):
        _write_exact(client, collection_name, points)
        return
    from qdrant_client import models

    client.upsert(collection_name, points=[models.PointStruct.model_validate(p) for p in points], wait=True)


def _write_exact(client: Any, collection_name: str, points: list[dict[str, Any]]) -> None:
    def prepare(collection: Any) -> Any:
        op = collection.prepare_upsert(points)  # validates everything, normalises Cosine rows
        specs = collection.config.vectors
        for name, (positions, rows) in op.vectors.dense.items():
            if specs[name].distance == COSINE:
                given = np.array([_raw(points[p], name) for p in positions.tolist()], dtype=np.float32).reshape(
                    rows.shape
                )
                op.vectors.dense[name] = (positions, _keep_unit_rows(given, rows))
        for name, items in op.vectors.multi.items():
            if specs[name].distance == COSINE:
                op.vectors.multi[name] = [
                    (p, _keep_unit_rows(np.array(_raw(points[p], name), dtype=np.float32).reshape(m.shape), m))
                    for p, m in items
                ]
        return op

    client._database.write(collection_name, prepare, True)


def _raw(point: dict[str, Any], name: str) -> Any:
    vector: Any = point.get("vector")
    return vector if name == "" and not isinstance(vector, dict) else vector[name]


def _keep_unit_rows(given: np.ndarray, normalised: np.ndarray) -> np.ndarray:
    """``given`` where a row is already unit length (or ~zero, stored as is), else ``normalised``."""
    norms = np.linalg.norm(given.astype(np.float64), axis=-1, keepdims=True)
    stored = (np.abs(norms - 1.0) <= _UNIT_TOLERANCE) | (norms <= EPSILON)
    return np.where(stored, given, normalised).astype(np.float32)
