"""IdMap: point id <-> slot in numpy arrays, without a Python object per point.

Per slot, the id is kept as a sort key: ``is_uuid`` (bool), ``key`` (uint64: the integer id, or a
UUID's high 64 bits) and ``lo`` (uint64: a UUID's low 64 bits; allocated only once a UUID arrives).
Lookups go through an open-addressing hash table (linear probing) whose cells hold slots (int32),
the keys being read back from the columns. Every batch operation (lookup, insert, unlink) is
vectorised over the request's ids, so its cost is O(k) numpy work whatever the collection's size.

A deleted point's cell becomes a tombstone; its key columns stay (scroll order may still list the
slot) until :meth:`IdMap.compact`. The table is rebuilt, at most half full, when cells in use and
tombstones pass half of it.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..ids import PointId
from .growth import grown

__all__ = ["IdMap", "IdColumn", "SlotIndex", "id_keys"]

_U64 = np.uint64
_MASK64 = 2**64 - 1
_LOW = 0xFFFFFFFFFFFFFFFF
_C1, _C2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53  # murmur3's 64-bit finaliser
_UUID_SEED = 0x9E3779B97F4A7C15
_EMPTY, _TOMB = -1, -2


def _mix(x: np.ndarray) -> np.ndarray:
    """murmur3 fmix64 of a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> _U64(33))
    x *= _U64(_C1)
    x ^= x >> _U64(33)
    x *= _U64(_C2)
    x ^= x >> _U64(33)
    return x


def _mix_one(x: int) -> int:
    """:func:`_mix` of one Python int (the same bits)."""
    x ^= x >> 33
    x = (x * _C1) & _MASK64
    x ^= x >> 33
    x = (x * _C2) & _MASK64
    return x ^ (x >> 33)


def id_keys(point_ids: Sequence[PointId]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(is_uuid, key, lo) columns of canonical ids; ``lo`` is None when every id is an integer."""
    count = len(point_ids)
    if set(map(type, point_ids)) <= {int}:
        return np.zeros(count, dtype=bool), np.fromiter(point_ids, dtype=_U64, count=count), None
    is_uuid = np.zeros(count, dtype=bool)
    key = np.zeros(count, dtype=_U64)
    lo = np.zeros(count, dtype=_U64)
    for position, point_id in enumerate(point_ids):
        if isinstance(point_id, int):
            key[position] = point_id
        else:
            value = uuid.UUID(point_id).int
            is_uuid[position] = True
            key[position] = value >> 64
            lo[position] = value & _LOW
    return is_uuid, key, lo


def _hashes(is_uuid: np.ndarray, key: np.ndarray, lo: np.ndarray | None) -> np.ndarray:
    hashes = _mix(key.copy())
    if lo is not None and is_uuid.any():
        uuid_hashes = _mix(key[is_uuid] ^ _mix(lo[is_uuid] ^ _U64(_UUID_SEED)))
        hashes[is_uuid] = uuid_hashes
    return hashes


def _hash_one(point_id: PointId) -> tuple[int, bool, int, int]:
    """(hash, is_uuid, key, lo) of one canonical id, bit-identical to :func:`_hashes`."""
    if type(point_id) is int:
        return _mix_one(point_id), False, point_id, 0
    value = uuid.UUID(point_id).int  # type: ignore[arg-type]
    key, lo = value >> 64, value & _LOW
    return _mix_one(key ^ _mix_one(lo ^ _UUID_SEED)), True, key, lo


class IdMap:
    """The id columns of a store's slots and the hash table from ids to live slots."""

    def __init__(self) -> None:
        self.is_uuid = np.zeros(0, dtype=bool)
        self.key = np.zeros(0, dtype=_U64)
        self.lo: np.ndarray | None = None  # allocated with the first UUID
        self._table = np.full(16, _EMPTY, dtype=np.int32)
        self._used = 0  # cells holding a slot
        self._tombs = 0  # cells holding _TOMB

    # -- columns ---------------------------------------------------------------------------------

    def reserve(self, capacity: int) -> None:
        self.is_uuid = grown(self.is_uuid, capacity)
        self.key = grown(self.key, capacity)
        if self.lo is not None:
            self.lo = grown(self.lo, capacity)

    def _ensure_lo(self) -> np.ndarray:
        if self.lo is None:
            self.lo = np.zeros(len(self.key), dtype=_U64)
        return self.lo

    @property
    def any_uuid(self) -> bool:
        return self.lo is not None

    def id_at(self, slot: int) -> PointId:
        """The id held in ``slot``'s columns (also for a deleted slot not yet compacted)."""
        if self.is_uuid[slot]:
            assert self.lo is not None
            return str(uuid.UUID(int=(int(self.key[slot]) << 64) | int(self.lo[slot])))
        return int(self.key[slot])

    def keys_at(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The id columns (is_uuid, key, lo) of ``slots``; ``lo`` None when no UUID was ever stored."""
        return self.is_uuid[slots], self.key[slots], None if self.lo is None else self.lo[slots]

    def ids_at(self, slots: np.ndarray | list[int]) -> list[PointId]:
        """:meth:`id_at` of many slots."""
        slots = np.asarray(slots, dtype=np.int64)
        ids: list[PointId] = self.key[slots].tolist()
        if self.lo is not None:
            flags = self.is_uuid[slots]
            if flags.any():
                for position in np.flatnonzero(flags).tolist():
                    ids[position] = self.id_at(int(slots[position]))
        return ids

    # -- hash table ------------------------------------------------------------------------------

    def lookup(self, point_ids: Sequence[PointId]) -> np.ndarray:
        """Live slot of each canonical id (int64), -1 where absent."""
        if len(point_ids) == 0:
            return np.zeros(0, dtype=np.int64)
        return self._lookup_keys(*id_keys(point_ids))

    def _lookup_keys(self, is_uuid: np.ndarray, key: np.ndarray, lo: np.ndarray | None) -> np.ndarray:
        count = len(key)
        result = np.full(count, -1, dtype=np.int64)
        if self._used == 0:
            return result
        if lo is not None and self.lo is None:
            # No stored UUID: UUID queries are absent, integer ones are looked up alone.
            ints = np.flatnonzero(~is_uuid)
            result[ints] = self._lookup_keys(is_uuid[ints], key[ints], None)
            return result
        table, mask = self._table, len(self._table) - 1
        pending = np.arange(count)
        position = (_hashes(is_uuid, key, lo) & _U64(mask)).astype(np.int64)
        while pending.size:
            cell = table[position].astype(np.int64)
            held = cell >= 0
            slot = np.where(held, cell, 0)
            match = held & (self.key[slot] == key[pending]) & (self.is_uuid[slot] == is_uuid[pending])
            if self.lo is not None:
                query_lo = lo[pending] if lo is not None else _U64(0)
                match &= self.lo[slot] == query_lo
            result[pending[match]] = cell[match]
            going = ~(match | (cell == _EMPTY))
            pending = pending[going]
            position = (position[going] + 1) & mask
        return result

    def get(self, point_id: PointId) -> int | None:
        """Live slot of one canonical id, or None."""
        hashed, is_uuid, key, lo = _hash_one(point_id)
        if is_uuid and self.lo is None:
            return None
        table, mask = self._table, len(self._table) - 1
        position = hashed & mask
        keys, flags, los = self.key, self.is_uuid, self.lo
        while True:
            cell = int(table[position])
            if cell == _EMPTY:
                return None
            if cell >= 0 and int(keys[cell]) == key and bool(flags[cell]) == is_uuid:
                if los is None or int(los[cell]) == lo:
                    return cell
            position = (position + 1) & mask

    def assign(self, start: int, point_ids: Sequence[PointId]) -> None:
        """Give slots ``start``.. to the (canonical, distinct, absent) ids and link them."""
        self.assign_keys(start, *id_keys(point_ids))

    def assign_keys(self, start: int, is_uuid: np.ndarray, key: np.ndarray, lo: np.ndarray | None) -> None:
        """:meth:`assign` from id columns (as :func:`id_keys` makes them)."""
        end = start + len(key)
        self.key[start:end] = key
        self.is_uuid[start:end] = is_uuid
        if lo is not None:
            self._ensure_lo()[start:end] = lo
        self.link(np.arange(start, end, dtype=np.int64))

    def link(self, slots: np.ndarray) -> None:
        """Enter slots (whose ids are absent from the table) into the hash table."""
        if len(slots) == 0:
            return
        if 2 * (self._used + self._tombs + len(slots)) > len(self._table):
            self._rehash(self._used + len(slots))
        table, mask = self._table, len(self._table) - 1
        lo = self.lo[slots] if self.lo is not None else None
        position = (_hashes(self.is_uuid[slots], self.key[slots], lo) & _U64(mask)).astype(np.int64)
        pending = slots
        while pending.size:
            free = np.flatnonzero(table[position] < 0)
            if free.size:
                cells, first = np.unique(position[free], return_index=True)
                winners = free[first]
                self._tombs -= int(np.count_nonzero(table[cells] == _TOMB))
                table[cells] = pending[winners]
                lost = np.ones(len(pending), dtype=bool)
                lost[winners] = False
                pending, position = pending[lost], position[lost]
            position = (position + 1) & mask
        self._used += len(slots)

    def unlink(self, slots: np.ndarray) -> None:
        """Remove live slots from the hash table (their columns stay)."""
        if len(slots) == 0:
            return
        table, mask = self._table, len(self._table) - 1
        lo = self.lo[slots] if self.lo is not None else None
        position = (_hashes(self.is_uuid[slots], self.key[slots], lo) & _U64(mask)).astype(np.int64)
        pending = slots
        while pending.size:
            found = table[position] == pending
            table[position[found]] = _TOMB
            pending, position = pending[~found], (position[~found] + 1) & mask
        self._used -= len(slots)
        self._tombs += len(slots)

    def _rehash(self, live: int) -> None:
        """A fresh table at most a quarter full for ``live`` cells, holding the current ones."""
        slots = self._table[self._table >= 0].astype(np.int64)
        size = 16
        while size < 4 * live:
            size *= 2
        self._table = np.full(size, _EMPTY, dtype=np.int32 if size < 2**31 else np.int64)
        self._used = self._tombs = 0
        self.link(np.sort(slots))

    def compact(self, keep: np.ndarray, capacity: int) -> None:
        """Keep only the slots ``keep`` (renumbered 0..), in columns of ``capacity``."""
        count = len(keep)
        for name in ("is_uuid", "key", "lo"):
            old = getattr(self, name)
            if old is None:
                continue
            new = np.zeros(capacity, dtype=old.dtype)
            new[:count] = old[keep]
            setattr(self, name, new)
        self._table = np.full(16, _EMPTY, dtype=np.int32)
        self._used = self._tombs = 0
        self._rehash(count)
        self.link(np.arange(count, dtype=np.int64))

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.is_uuid, self.key, self.lo, self._table) if a is not None)


class IdColumn(Sequence[Any]):
    """``store.point_ids``: the id of each slot (None for a deleted or free slot), read on demand."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __len__(self) -> int:
        return int(self._store.n_slots)

    def __getitem__(self, slot: Any) -> Any:
        if isinstance(slot, slice):
            return [self[s] for s in range(*slot.indices(len(self)))]
        store = self._store
        if not 0 <= slot < store.n_slots or not store.live[slot]:
            return None
        return store.ids.id_at(slot)


class SlotIndex(Mapping[Any, int]):
    """``store.slot_of``: canonical id -> live slot, read-only, through the hash table."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getitem__(self, point_id: Any) -> int:
        slot = self.get(point_id)
        if slot is None:
            raise KeyError(point_id)
        return slot

    def get(self, point_id: Any, default: Any = None) -> Any:
        if type(point_id) is not int and not isinstance(point_id, str):
            return default
        try:
            slot = self._store.ids.get(point_id)
        except (ValueError, OverflowError, TypeError):  # not a canonical id: never stored
            return default
        return default if slot is None else slot

    def __contains__(self, point_id: object) -> bool:
        return self.get(point_id) is not None

    def __iter__(self) -> Iterator[Any]:
        store = self._store
        return iter(store.ids.ids_at(np.flatnonzero(store.live[: store.n_slots])))

    def __len__(self) -> int:
        return len(self._store)

    def isdisjoint(self, point_ids: Iterable[Any]) -> bool:
        return not any(self.get(p) is not None for p in point_ids)
