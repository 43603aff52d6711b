"""Payload indexes: answer match / range conditions on indexed fields without scanning payloads.

A :class:`PayloadIndex` covers one indexed field (one parsed key path). It holds, for the live
points of a :class:`~.store.PointStore` at one ``store.version``:

* postings: for each exact, type-tagged scalar value (``(int, 5)``, ``(float, 5.0)``, ``(bool, True)``
  and ``(str, "x")`` are four different keys, as matching is strictly typed) the slots holding it;
* a numeric column: every int / float value (ints only while exact in float64) with its slot,
  sorted by value, so a numeric range is two binary searches.

Values come from the same extractor the scanning path uses (``make_extractor(path, flat=True)``),
so what a point "holds" cannot drift between the two paths. Whatever the index cannot answer
exactly (other kinds, bools and huge ints under a range) is either decided by the node's own
``value_test`` on the few distinct values involved, or left to the scanning path.

The index is whole-field and ignores the declared schema type: qdrant-client's local mode gives
identical results with or without an index, whatever its type, so ours must too.

Freshness: the collection reports each write it applies with the slots it touched
(:meth:`PayloadIndexes.note_write`); an index that was current just before the write stays
current, with those slots marked *dirty*. A dirty slot is dropped from the postings and re-checked
with the node's own ``matches`` at query time; when too many slots are dirty the index is rebuilt.
Any other change of ``store.version`` (a batch rollback, a write not reported) makes the index
stale, and a stale index is rebuilt only when a second query arrives at the same version (the
first one scans), so unreported writes alternating with queries never pay a rebuild per query.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conditions import FieldNode
from .paths import Path, make_extractor, parse_path

__all__ = ["PayloadIndex", "PayloadIndexes", "IndexedTarget"]

# Node kinds an index answers; everything else scans.
_INDEXED_KINDS = frozenset(("match_value", "match_any", "range"))
# Ints beyond this are not exact in float64, so range comparisons on them go through value_test.
_EXACT_INT = 2**53
_SCALAR_TYPES = (str, int, float, bool)


class PayloadIndex:
    """Value -> slots postings and a sorted numeric column of one field, at one store version."""

    def __init__(self, path: Path, payloads: list[Any], live: np.ndarray, n_slots: int, version: int) -> None:
        self.path = path
        self.n_slots = n_slots
        self.version = version
        self._base_slots = n_slots  # slots the postings cover
        # Slots written since the build (sorted, unique): their postings may be wrong.
        self.dirty_slots = np.zeros(0, dtype=np.int64)
        self._extract = extract = make_extractor(path, flat=True)
        key_id: dict[tuple[type, Any], int] = {}
        occurrence_ids: list[int] = []
        occurrence_slots: list[int] = []
        numeric_values: list[float] = []
        numeric_slots: list[int] = []
        for slot in np.flatnonzero(live[:n_slots]).tolist():
            for value in extract(payloads[slot]):
                value_type = type(value)
                if value_type not in _SCALAR_TYPES:
                    continue  # null, objects, nested arrays: no match / range kind selects them
                key = (value_type, value)
                ident = key_id.get(key)
                if ident is None:
                    ident = key_id[key] = len(key_id)
                occurrence_ids.append(ident)
                occurrence_slots.append(slot)
                if (value_type is float) or (value_type is int and -_EXACT_INT <= value <= _EXACT_INT):
                    numeric_values.append(value)
                    numeric_slots.append(slot)
        self._key_id = key_id
        ids = np.asarray(occurrence_ids, dtype=np.int64)
        slots = np.asarray(occurrence_slots, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        self._posting_slots = slots[order]
        # postings of key id k are _posting_slots[_offsets[k]:_offsets[k + 1]]
        self._offsets = np.zeros(len(key_id) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ids, minlength=len(key_id)), out=self._offsets[1:])
        values = np.asarray(numeric_values, dtype=np.float64)
        value_order = np.argsort(values, kind="stable")  # NaN sorts last
        self._numeric_values = values[value_order]
        self._numeric_slots = np.asarray(numeric_slots, dtype=np.int64)[value_order]
        self._numeric_not_nan = int(np.count_nonzero(~np.isnan(values)))
        # Keys a numeric range cannot take from the column: bools and huge ints (few, in practice).
        self._inexact_keys = [
            key for key in key_id if key[0] is bool or (key[0] is int and not -_EXACT_INT <= key[1] <= _EXACT_INT)
        ]

    def slots_of(self, key: tuple[type, Any]) -> np.ndarray:
        """Slots holding the exact typed value ``key`` (a slot may repeat)."""
        ident = self._key_id.get(key)
        if ident is None:
            return self._posting_slots[:0]
        return self._posting_slots[self._offsets[ident] : self._offsets[ident + 1]]

    @property
    def n_dirty(self) -> int:
        """How many slots are re-checked per query instead of read from the postings."""
        return len(self.dirty_slots)

    def note_write(self, slots: list[int], version: int, n_slots: int) -> None:
        """Slots a write touched (removed, added or changed), now at ``version`` with ``n_slots``."""
        if slots:
            self.dirty_slots = np.union1d(self.dirty_slots, np.asarray(slots, dtype=np.int64))
        self.n_slots = n_slots
        self.version = version

    def answer(
        self, node: FieldNode, candidates: np.ndarray, payloads: list[Any] | None = None
    ) -> np.ndarray | None:
        """The candidate slots matching ``node``, or None when this index cannot answer it.

        ``payloads`` (the store's, by slot) is needed only when some slots are dirty.
        """
        if node.kind == "match_value":
            value = node.params["value"]
            slots = self.slots_of((type(value), value))
        elif node.kind == "match_any":
            parts = [self.slots_of((type(value), value)) for value in node.params["any"]]
            slots = np.concatenate(parts) if parts else self._posting_slots[:0]
        elif node.kind == "range":
            slots = self._range_slots(node)
        else:
            return None
        out = np.zeros(self.n_slots, dtype=bool)
        out[slots] = True
        out &= candidates
        if self.n_dirty:
            if payloads is None:
                return None
            dirty = self.dirty_slots
            out[dirty] = False
            extract, matches = self._extract, node.matches
            recheck = dirty[candidates[dirty]].tolist()
            hits = [slot for slot in recheck if matches(extract(payloads[slot]))]
            if hits:
                out[hits] = True
        return out

    def _range_slots(self, node: FieldNode) -> np.ndarray:
        bounds = node.params
        values = self._numeric_values
        lower, upper = 0, len(values)
        if any(bound is not None for bound in bounds.values()):
            upper = self._numeric_not_nan  # NaN fails every comparison, passes no bound
        if bounds.get("gt") is not None:
            lower = max(lower, int(np.searchsorted(values[:upper], bounds["gt"], side="right")))
        if bounds.get("gte") is not None:
            lower = max(lower, int(np.searchsorted(values[:upper], bounds["gte"], side="left")))
        if bounds.get("lt") is not None:
            upper = min(upper, int(np.searchsorted(values[:upper], bounds["lt"], side="left")))
        if bounds.get("lte") is not None:
            upper = min(upper, int(np.searchsorted(values[:upper], bounds["lte"], side="right")))
        parts = [self._numeric_slots[lower:upper] if lower < upper else self._numeric_slots[:0]]
        # The node's own test decides the values the column does not hold exactly, so whether a
        # bool counts as a number stays the scanning path's decision.
        value_test = node.value_test
        for key in self._inexact_keys:
            if value_test is not None and value_test(key[1]):
                parts.append(self.slots_of(key))
        return np.concatenate(parts)


class PayloadIndexes:
    """The indexes of one collection, built lazily per field and rebuilt when the store changed."""

    def __init__(self) -> None:
        self._paths: dict[Path, str] = {}
        self._built: dict[Path, PayloadIndex] = {}
        self._stale_seen: dict[Path, tuple[int, int]] = {}  # path -> (id(store), version) of a stale query

    def set_fields(self, field_names: list[str]) -> None:
        """Index exactly these fields (the collection's payload_schema keys); drop the others."""
        paths: dict[Path, str] = {}
        for name in field_names:
            try:
                paths[parse_path(name)] = name
            except ValueError:
                continue  # a key no filter can name cannot be asked for either
        self._paths = paths
        self._built = {path: index for path, index in self._built.items() if path in paths}
        self._stale_seen = {}

    def __bool__(self) -> bool:
        return bool(self._paths)

    def index_for(self, path: Path, store: Any) -> PayloadIndex | None:
        """A fresh index of ``path`` over ``store``, or None (not indexed, or stale and not worth it yet)."""
        if path not in self._paths:
            return None
        index = self._built.get(path)
        stamp = (id(store), store.version)
        if index is not None and getattr(index, "store_id", None) == stamp[0] and index.version == store.version:
            if index.n_dirty <= _max_dirty(store.n_slots):
                return index
            self._stale_seen[path] = stamp  # fresh but mostly re-checks: rebuild now
        if index is not None and self._stale_seen.get(path) != stamp:
            # First query since a write: scanning once is cheaper than a rebuild that the next
            # write may make stale again.
            self._stale_seen[path] = stamp
            return None
        index = PayloadIndex(path, store.payloads, store.live, store.n_slots, store.version)
        index.store_id = stamp[0]  # type: ignore[attr-defined]
        self._built[path] = index
        return index

    def answer(self, node: FieldNode, store: Any, candidates: np.ndarray) -> np.ndarray | None:
        """Answer a field condition from an index when one covers it; None to fall back to scanning."""
        if node.kind not in _INDEXED_KINDS or not node.flat:
            return None
        index = self.index_for(node.path, store)
        if index is None:
            return None
        return index.answer(node, candidates, store.payloads)

    def note_write(self, store: Any, version_before: int, slots: list[int]) -> None:
        """A write moved ``store`` from ``version_before`` to its current version, touching ``slots``.

        Indexes that were current at ``version_before`` stay current (those slots become dirty);
        the others are stale already and are left to be rebuilt.
        """
        for index in self._built.values():
            if getattr(index, "store_id", None) == id(store) and index.version == version_before:
                index.note_write(slots, store.version, store.n_slots)


def _max_dirty(n_slots: int) -> int:
    """Dirty slots an index tolerates before a rebuild is cheaper than re-checking them per query."""
    return 64 + n_slots // 32


class IndexedTarget:
    """A PointStore seen through its indexes: a FilterTarget whose field nodes may skip the scan."""

    def __init__(self, store: Any, indexes: PayloadIndexes) -> None:
        self.store = store
        self.payload_indexes = indexes
        self.n_slots = store.n_slots
        self.point_ids = store.point_ids
        self.payloads = store.payloads
        self.slot_of = store.slot_of

    def vector_mask(self, vector_name: str) -> np.ndarray | None:
        return self.store.vector_mask(vector_name)

    def index_answer(self, node: FieldNode, candidates: np.ndarray) -> np.ndarray | None:
        """Seam used by FieldNode.evaluate: an index answer or None."""
        return self.payload_indexes.answer(node, self.store, candidates)
