"""A collection's points as one column block of a snapshot, and back (storage/snapshot.py).

The store hands its points over as columns (``PointStore.export_columns``: id key columns and payloads
as msgpack bytes) and takes them back the same way (``import_columns``); vectors are read and written
per vector name. Writing takes the live points in slot order; reading appends them in that order, so a
reopened store has the same points in the same scroll and search order. Columns of a block:

* ``ids``: the ids' 64-bit keys, little-endian uint64 (the integer id, or a UUID's high half);
  ``ids:uuid`` (one byte per point, 0 or 1) and ``ids:lo`` (a UUID's low half) when there are UUIDs;
* ``payloads``: every point's payload as a msgpack map, one after the other, kept as bytes by the
  store (from ``growth.RESERVE_FROM`` bytes on an aligned column, mapped read-only while the points'
  bytes are cut from it); ``payload_ends``: the end offset of each (uint64);
* ``dense:<name>``: the float32 rows of that vector name, one per point, read straight into the
  store's matrix (rows of points without the vector are zeros or stale, never read). From
  ``growth.RESERVE_FROM`` bytes on it is an aligned column (storage format 4), which a store that is
  empty when the block loads *maps*: the matrix's first rows are then the snapshot's pages
  (copy-on-write, ``DenseVectors.map_rows``), so an open neither copies them nor touches fresh memory.
  After a compaction, matrices that were mapped are mapped again onto the new snapshot's identical
  bytes (``map_snapshot_columns``), so the old file (and its disk space) is let go;
  ``dense:<name>:present`` (one byte per point, 0 or 1) when not every point has the vector;
* ``ragged``: the multivectors and sparse vectors, as a msgpack map in the log's vector record form
  (positions within the block), present only when the collection has such vector names.

``meta`` is ``{"op": "points", "collection": name, "count": n, "dense": {name: dim}}``. What is read is
checked before it is applied, as replay checks a log record (engine/replay.py): a bad block raises
BadRecord, which the database reports as StorageCorrupted. Payload bytes are checked to be msgpack
maps by their first byte and their extents; they are decoded when read.
"""

from __future__ import annotations

import mmap
import sys
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import msgpack
import numpy as np

from ..ids import PointId
from ..storage.snapshot import Column, ColumnBlock, ColumnReader, Placement
from . import growth
from . import operations as ops
from .replay import BadRecord, check_vectors_record
from .vectors import DenseVectors

__all__ = ["collection_block", "load_block", "map_snapshot_columns"]

_LITTLE_ENDIAN = sys.byteorder == "little"
# First byte of a msgpack map: fixmap 0x80-0x8f, map16 0xde, map32 0xdf.
_MAP_FIRST_BYTES = np.array([*range(0x80, 0x90), 0xDE, 0xDF], dtype=np.uint8)
#: Rows gathered at a time when a dense column has holes (tombstoned slots) to skip.
_GATHER_ROWS = 16384


def collection_block(collection: Any) -> ColumnBlock | None:
    """The live points of ``collection`` as a column block (None when it has none)."""
    store = collection.store
    n_slots = store.n_slots
    live = np.flatnonzero(store.live_mask)
    count = len(live)
    if count == 0:
        return None
    whole = count == n_slots  # no tombstone: the dense rows are a plain prefix of each matrix
    is_uuid, key, lo, blobs = store.export_columns(live)
    columns = [_column("ids", key.astype("<u8", copy=False))]
    if lo is not None and is_uuid.any():
        columns += [_column("ids:uuid", is_uuid.astype(np.uint8)), _column("ids:lo", lo.astype("<u8", copy=False))]
    ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=count), dtype=np.int64)
    payloads = _column("payloads", b"".join(blobs))
    payloads.aligned = payloads.nbytes >= growth.RESERVE_FROM  # mapped (read-only) when it loads
    columns += [payloads, _column("payload_ends", ends.astype("<u8"))]
    del blobs
    dense: dict[str, int] = {}
    ragged: dict[str, dict[str, Any]] = {"dense": {}, "multi": {}, "sparse": {}}
    for name, vectors in store.vectors.items():
        present = vectors.present[:n_slots] if whole else vectors.present[live]
        if isinstance(vectors, DenseVectors):
            dense[name] = vectors.dim
            rows = count * vectors.dim * 4
            aligned = rows >= growth.RESERVE_FROM  # large enough to be mapped when it loads
            columns.append(Column(f"dense:{name}", rows, _dense_rows(vectors.matrix, live, whole), aligned))
            if not present.all():
                columns.append(_column(f"dense:{name}:present", present.astype(np.uint8)))
            continue
        positions = np.flatnonzero(present)
        if vectors.kind == "multi":
            ragged["multi"][name] = [
                [int(p), vectors.dim, vectors.rows[int(live[p])].astype("<f4").tobytes()] for p in positions
            ]
        else:
            ragged["sparse"][name] = [
                [
                    int(p),
                    vectors.indices[int(live[p])].astype("<u4").tobytes(),
                    vectors.values[int(live[p])].astype("<f4").tobytes(),
                ]
                for p in positions
            ]
    if ragged["multi"] or ragged["sparse"]:
        columns.append(_column("ragged", msgpack.packb(ragged, use_bin_type=True)))
    meta = {"op": "points", "collection": collection.name, "count": count, "dense": dense}
    return ColumnBlock(meta, columns)


def _column(name: str, data: Any) -> Column:
    view = memoryview(data).cast("B")
    return Column(name, view.nbytes, [view])


def _dense_rows(matrix: np.ndarray, live: np.ndarray, whole: bool) -> Iterator[np.ndarray]:
    """The rows of the live slots (little-endian float32), as one view of the matrix when they are
    contiguous, else gathered a chunk at a time."""
    if whole and _LITTLE_ENDIAN:
        yield matrix[: len(live)]
        return
    for start in range(0, len(live), _GATHER_ROWS):
        yield np.ascontiguousarray(matrix[live[start : start + _GATHER_ROWS]], dtype="<f4")


def load_block(collection: Any, block: ColumnReader) -> None:
    """Append the points of ``block`` to ``collection`` (replay of a snapshot); BadRecord if it is bad."""
    meta = block.meta
    count = meta.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise BadRecord("column block: the point count is not a number")
    dense = meta.get("dense")
    if not isinstance(dense, dict):
        raise BadRecord("column block: malformed dense vector list")
    store = collection.store
    _check_sizes(block, count, dense, store.vectors)
    is_uuid, key, lo = _read_ids(block, count)
    if len(store):
        ids = _id_list(is_uuid, key, lo)
        present = store.lookup(ids) >= 0
        if present.any():
            raise BadRecord(f"point {ids[int(np.argmax(present))]!r} appears twice in the snapshot")
    blobs = _read_payloads(block, count)
    slots = store.import_columns(is_uuid, key, lo, blobs)
    del blobs
    start = int(slots[0]) if count else store.n_slots
    for name in dense:
        _load_dense(block, store.vectors[name], name, start, count)
    if "ragged" in block.sizes:
        record = _unpack(block.read("ragged"), "ragged vectors")
        _require(isinstance(record, dict), "column block: ragged vectors are not a map")
        check_vectors_record(record, count, store.vectors)
        prepared = ops.vectors_from_record(record)
        for name, items in list(prepared.multi.items()) + list(prepared.sparse.items()):
            vectors = store.vectors[name]
            for position, value in items:
                vectors.write_one(int(slots[position]), value)
    store.touch()


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise BadRecord(reason)


def _check_sizes(block: ColumnReader, count: int, dense: dict[Any, Any], stores: dict[str, Any]) -> None:
    """Every column named, of the size its count and dimension call for, before anything is read."""
    sizes = block.sizes
    expected = {"ids", "payloads", "payload_ends"}
    _require(sizes.get("ids") == 8 * count, "column block: the ids column does not hold one id per point")
    _require(sizes.get("payload_ends") == 8 * count, "column block: not one payload per point")
    if "ids:uuid" in sizes or "ids:lo" in sizes:
        _require(
            sizes.get("ids:uuid") == count and sizes.get("ids:lo") == 8 * count, "column block: malformed UUID columns"
        )
        expected |= {"ids:uuid", "ids:lo"}
    for name, dim in dense.items():
        store = stores.get(name)
        if not isinstance(store, DenseVectors):
            raise BadRecord(f"column block: no dense vector named {name!r}")
        _require(dim == store.dim, f"column block: dense vector {name!r} has dimension {dim}, not {store.dim}")
        rows = sizes.get(f"dense:{name}")
        _require(rows == count * dim * 4, f"column block: dense vector {name!r}: not {count} rows")
        expected.add(f"dense:{name}")
        if f"dense:{name}:present" in sizes:
            _require(sizes[f"dense:{name}:present"] == count, f"column block: dense vector {name!r}: malformed mask")
            expected.add(f"dense:{name}:present")
    if "ragged" in sizes:
        expected.add("ragged")
    _require(set(sizes) == expected, f"column block: unexpected or missing columns {sorted(set(sizes) ^ expected)}")


def _read_ids(block: ColumnReader, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The block's id columns (is_uuid, key, lo), checked: distinct (every uint64 key is a valid id)."""
    key = np.frombuffer(block.read("ids"), dtype="<u8").astype(np.uint64, copy=False)
    if "ids:uuid" not in block.sizes:
        ascending = key.size < 2 or bool((key[1:] > key[:-1]).all())  # the usual case: no sort needed
        _require(ascending or len(np.unique(key)) == count, "a point id appears twice in the snapshot")
        return np.zeros(count, dtype=bool), key, None
    flags = np.frombuffer(block.read("ids:uuid"), dtype=np.uint8)
    _require(bool((flags <= 1).all()), "column block: malformed UUID flags")
    is_uuid = flags.astype(bool)
    lo = np.frombuffer(block.read("ids:lo"), dtype="<u8").astype(np.uint64)
    lo[~is_uuid] = 0
    order = np.lexsort((lo, key, is_uuid))
    same = (is_uuid[order][1:] == is_uuid[order][:-1]) & (key[order][1:] == key[order][:-1])
    _require(not bool((same & (lo[order][1:] == lo[order][:-1])).any()), "a point id appears twice in the snapshot")
    return is_uuid, key, lo


def _id_list(is_uuid: np.ndarray, key: np.ndarray, lo: np.ndarray | None) -> list[PointId]:
    ids: list[PointId] = key.tolist()
    if lo is not None:
        for position in np.flatnonzero(is_uuid).tolist():
            ids[position] = str(uuid.UUID(int=(int(key[position]) << 64) | int(lo[position])))
    return ids


def _read_payloads(block: ColumnReader, count: int) -> list[bytes]:
    """Each point's payload bytes, checked to be consecutive extents that each start a msgpack map.

    A large payload column (aligned) is mapped read-only while it is cut into the points' bytes, so
    that neither a buffer of it nor a copy of that buffer is made in fresh memory."""
    mapped: list[mmap.mmap] = []

    def map_into(fd: int, offset: int, length: int) -> memoryview:
        mapped.append(mmap.mmap(fd, length, offset=offset, access=mmap.ACCESS_READ))
        return memoryview(mapped[0])

    data = block.read("payloads", map_into=map_into)
    size = len(data)
    raw: bytes | mmap.mmap = mapped[0] if mapped else bytes(data)
    del data  # (the mapping is let go with the last reference to it, once the points are cut)
    ends = np.frombuffer(block.read("payload_ends"), dtype="<u8").astype(np.int64)
    starts = np.concatenate(([0], ends[:-1])) if count else ends
    _require(
        count == 0 or (bool((ends >= starts).all()) and int(ends[-1]) == size and int(starts[0]) == 0),
        "column block: payload extents do not cover the payload bytes",
    )
    if count:
        _require(bool((ends > starts).all()), "column block: an empty payload")
        first = np.frombuffer(raw, dtype=np.uint8, count=size)[starts]
        _require(bool(np.isin(first, _MAP_FIRST_BYTES).all()), "column block: a payload is not a msgpack map")
    return [raw[a:b] for a, b in zip(starts.tolist(), ends.tolist())]


def _load_dense(block: ColumnReader, vectors: DenseVectors, name: str, start: int, count: int) -> None:
    rows = vectors.matrix[start : start + count]
    used = rows.nbytes

    def map_into(fd: int, offset: int, length: int) -> memoryview | None:
        return vectors.map_rows(fd, offset, length, used)

    # Mapped when it can be (an aligned column, loading at the matrix's first row), else read straight in.
    block.read(f"dense:{name}", out=rows, map_into=map_into if start == 0 and _LITTLE_ENDIAN else None)
    if not _LITTLE_ENDIAN:
        rows.byteswap(inplace=True)
    if f"dense:{name}:present" in block.sizes:
        mask = np.frombuffer(block.read(f"dense:{name}:present"), dtype=np.uint8)
        _require(bool((mask <= 1).all()), f"column block: dense vector {name!r}: malformed mask")
        vectors.present[start : start + count] = mask.astype(bool)
    else:
        vectors.present[start : start + count] = True
    if vectors.observers:
        slots = start + np.flatnonzero(vectors.present[start : start + count])
        for observer in vectors.observers:
            observer.changed(slots)


def map_snapshot_columns(collections: Mapping[str, Any], placed: list[Placement], fd: int) -> None:
    """After a compaction wrote the snapshot open as ``fd`` (its aligned columns ``placed``): map each
    dense matrix whose rows are an older snapshot's pages onto the new one's, which hold the same bytes,
    so the older file is no longer referenced (nor its disk space held) and the pages written since
    are shared again. A matrix whose column was gathered past deleted slots is left as it is."""
    for placement in placed:
        collection = collections.get(placement.meta.get("collection"))  # type: ignore[arg-type]
        if collection is None or not placement.name.startswith("dense:"):
            continue
        store = collection.store
        vectors = store.vectors.get(placement.name[len("dense:") :])
        whole = placement.meta.get("count") == store.n_slots  # the column is the matrix's first rows
        if isinstance(vectors, DenseVectors) and vectors.file_backed and whole:
            vectors.map_rows(fd, placement.offset, placement.length, placement.nbytes)


def _unpack(data: memoryview, what: str) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise BadRecord(f"column block: {what} do not decode as msgpack ({exc})") from None
