"""Checks of stored records before replay applies them.

A record read back from a folder passed its CRC, so it is what some writer wrote; but a crafted or
damaged file (or a bug in an older writer) can still hold a record whose checksum is valid and whose
content no live request could have produced. Replay never trusts it: every record is checked here
against the state replay has built so far, and anything wrong is a :class:`BadRecord` that the
database reports as ``StorageCorrupted(file, offset, reason)``, never a ``KeyError`` from deep inside
apply, nor an ``InvalidInput`` that would look like the user's fault.

Checked: known record and operation kinds and their fields' types; collection names that exist (or,
for a creation, do not yet); point ids that are valid canonical ids, unique within a record, and in a
snapshot unique across records; payloads that are maps; vector names the collection has, of the
right kind, with byte lengths that match the declared dimension and positions that name points of
the record; ids an ``update_vectors`` names exist. The checks cost O(record), never O(collection).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ids import MAX_INT_ID, PointId, try_normalize_id
from . import operations as ops
from .paths import parse_path
from .vectors import DenseVectors, MultiVectors, SparseVectors

__all__ = ["BadRecord", "check_database_record", "check_point_ids", "check_point_operation", "check_vectors_record"]

DATABASE_KINDS = ("points", "create_collection", "delete_collection", "aliases", "update_collection", "payload_index")


class BadRecord(Exception):
    """A stored record that replay cannot apply; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise BadRecord(reason)


def _str_field(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    _require(type(value) is str, f"field {name!r} is {type(value).__name__}, not text")
    return value  # type: ignore[return-value]


def check_database_record(record: dict[str, Any], collections: dict[str, Any]) -> None:
    """Check a top-level record against the collections replayed so far."""
    kind = record.get("op")
    _require(kind in DATABASE_KINDS, f"unknown record kind {kind!r}")
    if kind == "points":
        _require(_str_field(record, "collection") in collections, f"collection {record['collection']!r} does not exist")
        _require(isinstance(record.get("body"), dict), "point operation is not a map")
    elif kind == "create_collection":
        name = _str_field(record, "name")
        _require(name not in collections, f"collection {name!r} is created twice")
        _require(isinstance(record.get("config"), dict), "collection config is not a map")
    elif kind in ("delete_collection", "update_collection", "payload_index"):
        name = _str_field(record, "name")
        _require(name in collections, f"collection {name!r} does not exist")
        if kind == "update_collection":
            _require(isinstance(record.get("config"), dict), "collection config is not a map")
        if kind == "payload_index":
            _str_field(record, "field")
    else:
        aliases = record.get("aliases")
        if not isinstance(aliases, dict):
            raise BadRecord("aliases are not a map")
        for alias, target in aliases.items():
            _require(type(alias) is str and type(target) is str, "an alias or its collection is not text")
            _require(target in collections, f"alias {alias!r} names collection {target!r}, which does not exist")


def _point_ids(record: dict[str, Any], *, unique: bool) -> list[PointId]:
    ids = record.get("ids")
    if not isinstance(ids, list):
        raise BadRecord("point ids are not a list")
    check_point_ids(ids)
    if unique:
        _require(len(set(ids)) == len(ids), "a point id appears twice in one operation")
    return ids


def check_point_ids(ids: list[Any]) -> None:
    """Every element is a valid canonical point id (an integer in range, or a canonical UUID string)."""
    if ids and all(type(point_id) is int for point_id in ids) and 0 <= min(ids) and max(ids) <= MAX_INT_ID:
        return  # the common case, checked in bulk
    for point_id in ids:
        valid = (type(point_id) is int and 0 <= point_id <= MAX_INT_ID) or (
            type(point_id) is str and try_normalize_id(point_id) == point_id
        )
        _require(valid, f"{point_id!r} is not a valid point id")


_OPERATION_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "upsert": {"payloads": list, "vectors": dict},
    "update_vectors": {"vectors": dict},
    "delete": {},
    "set_payload": {"payload": dict, "key": (str, type(None))},
    "overwrite_payload": {"payload": dict},
    "delete_payload": {"keys": list},
    "clear_payload": {},
    "delete_vectors": {"names": list},
}


def check_point_operation(body: dict[str, Any], collection: Any, *, in_snapshot: bool) -> ops.PointOperation:
    """Check one point operation record (not a batch) against ``collection`` and build it."""
    kind = body.get("op")
    if not isinstance(kind, str) or kind not in _OPERATION_FIELDS:
        raise BadRecord(f"unknown point operation {kind!r}")
    for name, expected in _OPERATION_FIELDS[kind].items():
        _require(isinstance(body.get(name), expected), f"{kind}: field {name!r} has the wrong type")
    store = collection.store
    point_ids = _point_ids(body, unique=kind in ("upsert", "update_vectors"))
    if kind == "upsert":
        payloads = body["payloads"]
        _require(len(payloads) == len(point_ids), "upsert: not one payload per point")
        _require(all(type(p) is dict for p in payloads), "upsert: a payload is not a map")
        present = store.lookup(point_ids) >= 0 if in_snapshot else None
        if present is not None and present.any():
            twice = point_ids[int(np.argmax(present))]
            raise BadRecord(f"point {twice!r} appears twice in the snapshot")
    if kind in ("upsert", "update_vectors"):
        check_vectors_record(body["vectors"], len(point_ids), store.vectors)
    if kind == "update_vectors":
        absent = store.lookup(point_ids) < 0
        missing = [point_ids[i] for i in np.flatnonzero(absent)[:3].tolist()]
        _require(not missing, f"update_vectors names points that do not exist: {missing[:3]!r}")
    if kind == "set_payload" and body["key"] is not None:
        _check_key(body["key"])
    if kind == "delete_payload":
        for key in body["keys"]:
            _require(type(key) is str, "delete_payload: a key is not text")
            _check_key(key)
    if kind == "delete_vectors":
        for name in body["names"]:
            _require(type(name) is str and name in store.vectors, f"delete_vectors: no vector named {name!r}")
    return ops.from_record(body)


def _check_key(key: str) -> None:
    try:
        parse_path(key)
    except ValueError:
        raise BadRecord(f"payload key {key!r} is not a valid path") from None


def check_vectors_record(record: dict[str, Any], count: int, stores: dict[str, Any]) -> None:
    """Check a vector record (the log's form, see operations.py) of ``count`` points against ``stores``."""
    for kind in ("dense", "multi", "sparse"):
        _require(isinstance(record.get(kind), dict), f"vectors: {kind!r} is not a map")
    for name, entry in record["dense"].items():
        store = stores.get(name)
        if not isinstance(store, DenseVectors):
            raise BadRecord(f"no dense vector named {name!r}")
        _require(isinstance(entry, list) and len(entry) == 3, f"dense vector {name!r}: malformed entry")
        positions, dim, rows = entry
        _require(
            isinstance(positions, bytes) and isinstance(rows, bytes) and type(dim) is int,
            f"dense vector {name!r}: malformed entry",
        )
        _require(dim == store.dim, f"dense vector {name!r} has dimension {dim}, the collection {store.dim}")
        _require(len(positions) % 8 == 0, f"dense vector {name!r}: positions are not 64-bit integers")
        _check_position_array(np.frombuffer(positions, dtype="<i8"), count, name)
        _require(
            len(rows) == len(positions) // 8 * dim * 4,
            f"dense vector {name!r}: {len(rows)} bytes do not match its rows",
        )
    for name, items in record["multi"].items():
        store = stores.get(name)
        if not isinstance(store, MultiVectors):
            raise BadRecord(f"no multivector named {name!r}")
        _require(isinstance(items, list), f"multivector {name!r}: malformed entry")
        for item in items:
            _require(isinstance(item, list) and len(item) == 3, f"multivector {name!r}: malformed entry")
            _, dim, matrix = item
            _require(dim == store.dim and isinstance(matrix, bytes), f"multivector {name!r}: wrong dimension")
            _require(
                len(matrix) > 0 and len(matrix) % (dim * 4) == 0, f"multivector {name!r}: byte length {len(matrix)}"
            )
        _check_positions([item[0] for item in items], count, name)
    for name, items in record["sparse"].items():
        _require(isinstance(stores.get(name), SparseVectors), f"no sparse vector named {name!r}")
        _require(isinstance(items, list), f"sparse vector {name!r}: malformed entry")
        for item in items:
            _require(isinstance(item, list) and len(item) == 3, f"sparse vector {name!r}: malformed entry")
            _, indices, values = item
            _require(
                isinstance(indices, bytes) and isinstance(values, bytes), f"sparse vector {name!r}: malformed entry"
            )
            _require(
                len(indices) == len(values) and len(indices) % 4 == 0, f"sparse vector {name!r}: byte lengths differ"
            )
            _require(_distinct(np.frombuffer(indices, dtype="<u4")), f"sparse vector {name!r}: an index appears twice")
        _check_positions([item[0] for item in items], count, name)


def _check_position_array(positions: np.ndarray, count: int, name: str) -> None:
    if positions.size:
        _require(
            bool(positions.min() >= 0) and bool(positions.max() < count), f"vector {name!r}: a position names no point"
        )
        _require(_distinct(positions), f"vector {name!r}: a point has two vectors")


def _check_positions(positions: list[Any], count: int, name: str) -> None:
    _require(all(type(p) is int and 0 <= p < count for p in positions), f"vector {name!r}: a position names no point")
    _require(len(set(positions)) == len(positions), f"vector {name!r}: a point has two vectors")


def _distinct(values: np.ndarray) -> bool:
    """Whether no value appears twice (written arrays are sorted already: then no sort is needed)."""
    if values.size < 2 or bool((values[1:] > values[:-1]).all()):
        return True
    ordered = np.sort(values)
    return bool((ordered[1:] != ordered[:-1]).all())
