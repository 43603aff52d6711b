"""Undo journal for all-or-nothing batches.

Before an operation of a batch touches a point, the journal saves that point's state once (whether
it existed, its slot, a copy of its payload, its vectors). Rolling back restores every saved point
and removes the ones the batch created, so a rejected batch leaves no visible trace. Slots are not
reused while a batch runs, so a point deleted inside the batch can be revived in its own slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ..ids import PointId
from .payload import copy_payload
from .vectors import DenseVectors

if TYPE_CHECKING:
    from .collection import Collection


@dataclass
class SavedPoint:
    slot: int
    payload: dict[str, Any]
    vectors: dict[str, Any]  # name -> stored value (None when the point lacked it)


class Journal:
    """Saved states of the points a batch touched, restorable in one call."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.saved: dict[PointId, SavedPoint | None] = {}

    def capture(self, point_ids: Iterable[PointId]) -> None:
        store = self.collection.store
        for point_id in point_ids:
            if point_id in self.saved:
                continue
            slot = store.slot_of.get(point_id)
            if slot is None:
                self.saved[point_id] = None
                continue
            vectors: dict[str, Any] = {}
            for name, vector_store in store.vectors.items():
                if not vector_store.present[slot]:
                    vectors[name] = None
                elif isinstance(vector_store, DenseVectors):
                    vectors[name] = vector_store.matrix[slot].copy()
                else:
                    vectors[name] = vector_store.raw(slot)  # never mutated in place, a reference is enough
            self.saved[point_id] = SavedPoint(slot, copy_payload(store.payloads[slot]), vectors)

    def rollback(self) -> None:
        store = self.collection.store
        stale = []
        for point_id, saved in self.saved.items():
            current = store.slot_of.get(point_id)
            if current is not None and (saved is None or current != saved.slot):
                stale.append(current)
        store.remove(stale)
        for point_id, saved in self.saved.items():
            if saved is None:
                continue
            if point_id not in store.slot_of:
                store.revive(saved.slot, point_id)
            store.payloads[saved.slot] = saved.payload
            slots = np.array([saved.slot], dtype=np.int64)
            for name, value in saved.vectors.items():
                vector_store = store.vectors[name]
                if value is None:
                    vector_store.erase(slots)
                elif isinstance(vector_store, DenseVectors):
                    vector_store.write(slots, value[np.newaxis, :])
                else:
                    vector_store.write_one(saved.slot, value)
        store.touch()
