"""Resolved point operations: what a validated write request does, and its log record.

A request is parsed and validated into one of these (ids canonical, filters already resolved to
ids, vectors normalised float32), then applied to the collection. The same object is what the log
stores (:meth:`to_record`, dense vectors as raw float32 bytes) and what a reopen replays
(:func:`from_record`), so replay runs exactly the code that served the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ids import PointId
from .points_input import PreparedVectors


def _vectors_record(vectors: PreparedVectors) -> dict[str, Any]:
    return {
        "dense": {
            name: [positions.astype("<i8").tobytes(), rows.shape[1], rows.astype("<f4").tobytes()]
            for name, (positions, rows) in vectors.dense.items()
        },
        "multi": {
            name: [[p, m.shape[1], m.astype("<f4").tobytes()] for p, m in items]
            for name, items in vectors.multi.items()
        },
        "sparse": {
            name: [[p, i.astype("<u4").tobytes(), v.astype("<f4").tobytes()] for p, (i, v) in items]
            for name, items in vectors.sparse.items()
        },
    }


def vectors_from_record(record: dict[str, Any]) -> PreparedVectors:
    """The prepared vectors a vector record (``_vectors_record``) describes (dense ones as read-only views)."""
    dense = {
        name: (
            np.frombuffer(positions, dtype="<i8").astype(np.int64, copy=False),
            np.frombuffer(rows, dtype="<f4").reshape(-1, dim).astype(np.float32, copy=False),
        )
        for name, (positions, dim, rows) in record["dense"].items()
    }
    multi = {
        name: [(p, np.frombuffer(m, dtype="<f4").reshape(-1, dim).astype(np.float32)) for p, dim, m in items]
        for name, items in record["multi"].items()
    }
    sparse = {
        name: [
            (p, (np.frombuffer(i, dtype="<u4").astype(np.uint32), np.frombuffer(v, dtype="<f4").astype(np.float32)))
            for p, i, v in items
        ]
        for name, items in record["sparse"].items()
    }
    return PreparedVectors(dense, multi, sparse)


@dataclass
class Upsert:
    """Write whole points: new ids get slots, existing ones are replaced (payload and every vector)."""

    point_ids: list[PointId]
    payloads: list[dict[str, Any]]
    vectors: PreparedVectors
    # The payloads' msgpack bytes when validation packed them (flat payloads), else None; not logged.
    blobs: list[bytes] | None = None
    # (id of the store, its version, slot of each point or -1) as validation found them; not logged.
    known_slots: tuple[int, int, np.ndarray] | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "op": "upsert",
            "ids": self.point_ids,
            "payloads": self.payloads,
            "vectors": _vectors_record(self.vectors),
        }


@dataclass
class UpdateVectors:
    """Replace the named vectors given for existing points; other vectors stay."""

    point_ids: list[PointId]
    vectors: PreparedVectors

    def to_record(self) -> dict[str, Any]:
        return {"op": "update_vectors", "ids": self.point_ids, "vectors": _vectors_record(self.vectors)}


@dataclass
class Delete:
    point_ids: list[PointId]

    def to_record(self) -> dict[str, Any]:
        return {"op": "delete", "ids": self.point_ids}


@dataclass
class SetPayload:
    point_ids: list[PointId]
    payload: dict[str, Any]
    key: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {"op": "set_payload", "ids": self.point_ids, "payload": self.payload, "key": self.key}


@dataclass
class OverwritePayload:
    point_ids: list[PointId]
    payload: dict[str, Any]

    def to_record(self) -> dict[str, Any]:
        return {"op": "overwrite_payload", "ids": self.point_ids, "payload": self.payload}


@dataclass
class DeletePayload:
    point_ids: list[PointId]
    keys: list[str]

    def to_record(self) -> dict[str, Any]:
        return {"op": "delete_payload", "ids": self.point_ids, "keys": self.keys}


@dataclass
class ClearPayload:
    point_ids: list[PointId]

    def to_record(self) -> dict[str, Any]:
        return {"op": "clear_payload", "ids": self.point_ids}


@dataclass
class DeleteVectors:
    point_ids: list[PointId]
    vector_names: list[str]

    def to_record(self) -> dict[str, Any]:
        return {"op": "delete_vectors", "ids": self.point_ids, "names": self.vector_names}


@dataclass
class Batch:
    """batch_update_points: several operations applied as one, all or nothing."""

    operations: list[Any] = field(default_factory=list)

    def to_record(self) -> dict[str, Any]:
        return batch_record([op.to_record() for op in self.operations])


def batch_record(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The record of a batch made of its operations' records."""
    return {"op": "batch", "ops": records}


PointOperation = (
    Upsert
    | UpdateVectors
    | Delete
    | SetPayload
    | OverwritePayload
    | DeletePayload
    | ClearPayload
    | DeleteVectors
    | Batch
)


def from_record(record: dict[str, Any]) -> PointOperation:
    """Rebuild the operation a log record describes."""
    kind = record["op"]
    ids = record.get("ids", [])
    if kind == "upsert":
        return Upsert(ids, record["payloads"], vectors_from_record(record["vectors"]))
    if kind == "update_vectors":
        return UpdateVectors(ids, vectors_from_record(record["vectors"]))
    if kind == "delete":
        return Delete(ids)
    if kind == "set_payload":
        return SetPayload(ids, record["payload"], record.get("key"))
    if kind == "overwrite_payload":
        return OverwritePayload(ids, record["payload"])
    if kind == "delete_payload":
        return DeletePayload(ids, record["keys"])
    if kind == "clear_payload":
        return ClearPayload(ids)
    if kind == "delete_vectors":
        return DeleteVectors(ids, record["names"])
    if kind == "batch":
        return Batch([from_record(op) for op in record["ops"]])
    raise ValueError(f"unknown point operation record {kind!r}")
