"""PointStore: the slots of one collection.

A *slot* is a row shared by every per-slot structure: the id columns, the payload list, the ``live``
mask and each vector store's rows. Points get slots in arrival order; a deleted point leaves a
tombstone (``live[slot] = False``) that compaction reclaims later. Capacity doubles, so adding points
never copies per point.

The store also keeps scroll order: slots sorted by qdrant-client's id order (integers ascending,
then UUIDs ascending), built with one vectorised ``lexsort``. Small writes do not rebuild it:
deleted slots stay listed (scrolls skip them) until they pass a quarter of it, and new integer ids
are merged in by binary search; only new UUIDs (or compaction) make the next scroll sort again. A
scroll page then costs a binary search plus the page itself.

Ids live in numpy columns with an open-addressing hash table (engine/idmap.py): no Python object
per point, and a request's ids are looked up in one vectorised probe (:meth:`PointStore.lookup`).
``point_ids`` and ``slot_of`` are read-only views over them for code that asks one id at a time.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Iterable, Sequence

import numpy as np

from ..ids import PointId
from .conditions import PlainTarget
from .growth import grown, next_capacity
from .idmap import IdColumn, IdMap, SlotIndex
from .payload_column import PayloadColumn
from .vectors import DenseVectors, MultiVectors, SparseVectors, VectorStore

# Fewer tombstones than this are never worth a compaction.
COMPACT_MIN_TOMBSTONES = 1024


class PointStore(PlainTarget):
    """Ids, payloads, tombstones and vectors of one collection, addressed by slot."""

    def __init__(self, vectors: dict[str, VectorStore]) -> None:
        self.vectors = vectors
        self.n_slots = 0
        self.capacity = 0
        self.live = np.zeros(0, dtype=bool)
        self.ids = IdMap()  # id columns (also the scroll sort keys) and the id -> slot hash table
        self.point_ids = IdColumn(self)  # slot -> id (None when deleted), read from the columns
        self.slot_of = SlotIndex(self)  # id -> live slot, a read-only mapping over the hash table
        self.payloads = PayloadColumn()  # msgpack bytes by slot, decoded on read (engine/payload_column.py)
        self._count = 0  # live points
        self._order: np.ndarray | None = None
        self._order_dead = 0  # tombstoned slots still listed in _order
        self._order_new: list[np.ndarray] = []  # integer-id slots added since _order was built
        self._order_lock = threading.Lock()  # scrolls (parallel reads) bring the order up to date
        # Bumped on every change, so caches (payload columns, indexes) can tell they are stale.
        self.version = 0

    # -- sizes and masks -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def live_mask(self) -> np.ndarray:
        return self.live[: self.n_slots]

    def vector_mask(self, vector_name: str) -> np.ndarray | None:
        """Slots that hold ``vector_name``; None when the collection has no such vector."""
        store = self.vectors.get(vector_name)
        if store is None:
            return None
        return store.present[: self.n_slots] & self.live[: self.n_slots]

    def lookup(self, point_ids: Sequence[PointId]) -> np.ndarray:
        """Live slot of each (canonical) id, -1 where absent: one vectorised probe of the id table."""
        return self.ids.lookup(point_ids)

    def slots_for(self, point_ids: Iterable[PointId]) -> list[int]:
        """Slots of the given (canonical) ids that exist, in the given order."""
        found = self.lookup(point_ids if isinstance(point_ids, (list, tuple)) else list(point_ids))
        return found[found >= 0].tolist()

    def ids_of(self, slots: np.ndarray | list[int]) -> list[PointId]:
        """Ids of live slots, in the given order."""
        return self.ids.ids_at(slots)

    # -- growth ----------------------------------------------------------------------------------

    def _reserve(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        capacity = next_capacity(self.capacity, needed)
        self.live = grown(self.live, capacity)
        self.ids.reserve(capacity)
        for vectors in self.vectors.values():
            vectors.reserve(capacity)
        self.capacity = capacity

    def add_vector_store(self, vector_name: str, store: VectorStore) -> None:
        store.reserve(self.capacity)
        self.vectors[vector_name] = store

    # -- points ----------------------------------------------------------------------------------

    def allocate(self, point_ids: list[PointId]) -> np.ndarray:
        """Give each new (canonical, distinct, absent) id a slot; the caller sets its payload next."""
        count = len(point_ids)
        start = self.n_slots
        self._reserve(start + count)
        slots = np.arange(start, start + count, dtype=np.int64)
        self.ids.assign(start, point_ids)
        self.payloads.extend_empty(count)
        self.live[start : start + count] = True
        self.n_slots = start + count
        self._count += count
        if self.ids.any_uuid:
            self._order = None
        elif self._order is not None:
            self._order_new.append(slots)  # merged into the order when a scroll asks for it
        self.version += 1
        return slots

    # -- columns (snapshots) ----------------------------------------------------------------------

    def export_columns(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[bytes]]:
        """The ids of live ``slots`` as columns (is_uuid bool, key uint64: the integer id or a UUID's
        high 64 bits, lo uint64: a UUID's low bits, None without UUIDs) and their payloads as
        msgpack bytes (maps with text keys), for a columnar snapshot."""
        is_uuid, key, lo = self.ids.keys_at(slots)
        return is_uuid, key, lo, self.payloads.blobs_of(slots.tolist())  # type: ignore[return-value]

    def import_columns(
        self, is_uuid: np.ndarray, key: np.ndarray, lo: np.ndarray | None, payloads: list[bytes]
    ) -> np.ndarray:
        """Add points from :meth:`export_columns`' columns (ids absent and distinct, payloads valid
        msgpack maps); returns their new slots, for the caller to write their vectors."""
        count = len(key)
        start = self.n_slots
        self._reserve(start + count)
        self.ids.assign_keys(start, is_uuid, key, lo)
        slots = np.arange(start, start + count, dtype=np.int64)
        self.payloads.extend_empty(count)
        self.payloads.set_blobs(slots.tolist(), payloads)
        self.live[start : start + count] = True
        self.n_slots = start + count
        self._count += count
        self._order = None
        self.version += 1
        return slots

    def remove(self, slots: list[int] | np.ndarray) -> None:
        """Tombstone the given slots: the point, its payload and its vectors are gone."""
        slots = np.asarray(slots, dtype=np.int64)
        slots = np.unique(slots[self.live[slots]]) if len(slots) else slots
        if len(slots) == 0:
            return
        self.ids.unlink(slots)
        self.payloads.clear_slots(slots.tolist())
        self.live[slots] = False
        self._count -= len(slots)
        for vectors in self.vectors.values():
            vectors.erase(slots)
        self._order_dead += len(slots)  # they stay in the scroll order until it is worth a rebuild
        self.version += 1

    def revive(self, slot: int, point_id: PointId) -> None:
        """Give a tombstoned slot back to the point that held it (batch rollback)."""
        if self.ids.id_at(slot) != point_id:  # the columns still hold it unless compacted since
            raise ValueError(f"slot {slot} did not hold point {point_id!r}")
        self.ids.link(np.array([slot], dtype=np.int64))
        self.payloads[slot] = {}
        self.live[slot] = True
        self._count += 1
        self._order = None  # it may have dropped the slot
        self.version += 1

    def touch(self) -> None:
        """Record that payloads or vectors changed in place."""
        self.version += 1

    # -- scroll order ----------------------------------------------------------------------------

    def ordered_slots(self) -> np.ndarray:
        """Slots in scroll order (integer ids ascending, then UUIDs ascending).

        Deleted slots may still be listed (a delete costs nothing here): filter by ``live``. They
        are dropped once they pass a quarter of the list. Concurrent reads build it in turn.
        """
        with self._order_lock:
            return self._ordered_slots()

    def _ordered_slots(self) -> np.ndarray:
        if self._order is not None and self._order_new:
            if self.ids.any_uuid:
                self._order = None
            else:
                self._order = self._merge_new_integer_ids(self._order, np.concatenate(self._order_new))
            self._order_new = []
        if self._order is None:
            live = np.flatnonzero(self.live[: self.n_slots])
            ids = self.ids
            if ids.lo is None:
                self._order = live[np.argsort(ids.key[live], kind="stable")]
            else:
                self._order = live[np.lexsort((ids.lo[live], ids.key[live], ids.is_uuid[live]))]
            self._order_dead = 0
            self._order_new = []
        elif self._order_dead * 4 > len(self._order):
            self._order = self._order[self.live[self._order]]
            self._order_dead = 0
        return self._order

    def _merge_new_integer_ids(self, order: np.ndarray, new: np.ndarray) -> np.ndarray:
        """``order`` (integer ids only) with the slots ``new`` inserted in place: vectorised, no sort
        of the whole collection."""
        keys = self.ids.key
        new = new[np.argsort(keys[new], kind="stable")]
        return np.insert(order, np.searchsorted(keys[order], keys[new], side="right"), new)

    def order_position(self, point_id: PointId) -> int:
        """Index in :meth:`ordered_slots` of the first id not before ``point_id`` (deleted slots keep
        their sort keys, so the list stays sorted)."""
        order = self.ordered_slots()
        ids = self.ids
        if isinstance(point_id, int):
            target = (False, point_id, 0)
        else:
            value = uuid.UUID(point_id).int
            target = (True, value >> 64, value & 0xFFFFFFFFFFFFFFFF)
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            slot = order[mid]
            key = (bool(ids.is_uuid[slot]), int(ids.key[slot]), int(ids.lo[slot]) if ids.lo is not None else 0)
            if key < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # -- compaction ------------------------------------------------------------------------------

    def tombstones(self) -> int:
        return self.n_slots - self._count

    def needs_compaction(self) -> bool:
        """Deleted slots pass a quarter of all slots (and a floor, so small stores are left alone)."""
        dead = self.tombstones()
        return dead >= COMPACT_MIN_TOMBSTONES and dead * 4 >= self.n_slots

    def compact(self) -> None:
        """Drop tombstoned slots: live points move down, keeping their order, and memory shrinks.

        Slot numbers change, so callers must hold no slots across this (the database runs it between
        requests, never inside a batch).
        """
        keep = np.flatnonzero(self.live[: self.n_slots])
        count = len(keep)
        capacity = next_capacity(0, max(count, 1))
        self.ids.compact(keep, capacity)
        self.live = np.zeros(capacity, dtype=bool)
        self.live[:count] = True
        self.payloads.compact(keep.tolist())
        for vectors in self.vectors.values():
            vectors.compact(keep, capacity)
        self.n_slots = count
        self.capacity = capacity
        self._order = None
        self.version += 1


def make_vector_store(kind: str, **params: Any) -> VectorStore:
    if kind == "dense":
        return DenseVectors(params["dim"], params["distance"])
    if kind == "multi":
        return MultiVectors(params["dim"], params["distance"], params.get("comparator", "max_sim"))
    return SparseVectors(params.get("modifier"))
