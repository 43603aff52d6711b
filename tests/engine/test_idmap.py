"""IdMap: the numpy id table answers exactly as a dict of ids would, through inserts, deletes,
revivals, table growth and compaction, for integer and UUID ids alike."""

from __future__ import annotations

import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local.engine.store import PointStore
from qdrant_local.engine.vectors import DenseVectors

_IDS = st.one_of(
    st.integers(0, 2**64 - 1), st.integers(0, 300), st.uuids().map(str), st.sampled_from([str(uuid.UUID(int=5))])
)
_STEPS = st.lists(st.tuples(st.sampled_from(["add", "remove", "compact"]), st.lists(_IDS, max_size=40)), max_size=25)


def _check(store: PointStore, expected: dict, probes: list) -> None:
    assert len(store) == len(expected)
    assert dict(store.slot_of.items()) == expected
    for point_id in probes:
        assert store.slot_of.get(point_id) == expected.get(point_id)
    assert store.lookup(probes).tolist() == [expected.get(p, -1) for p in probes]
    assert store.ids_of(list(expected.values())) == list(expected)
    for point_id, slot in expected.items():
        assert store.point_ids[slot] == point_id


@given(steps=_STEPS)
@settings(max_examples=80)
def test_id_table_matches_a_dict(steps: list) -> None:
    store = PointStore({"": DenseVectors(2, "Dot")})
    expected: dict = {}
    for action, ids in steps:
        ids = list(dict.fromkeys(ids))
        if action == "add":
            new = [p for p in ids if p not in expected]
            slots = store.allocate(new)
            expected.update(zip(new, slots.tolist()))
        elif action == "remove":
            store.remove(store.slots_for(ids))
            for point_id in ids:
                expected.pop(point_id, None)
        elif store.capacity:  # the database compacts only stores that hold points
            store.compact()
            order = sorted(expected.items(), key=lambda item: item[1])
            expected = {point_id: slot for slot, (point_id, _) in enumerate(order)}
        _check(store, expected, ids + [0, 2**64 - 1, str(uuid.UUID(int=0))])


def test_many_ids_grow_the_table_and_a_removed_id_can_come_back() -> None:
    store = PointStore({"": DenseVectors(2, "Dot")})
    ids = list(range(0, 300_000, 3))
    store.allocate(ids)
    probe = ids[::7] + [1, 2, 4]
    assert store.lookup(probe).tolist() == [i // 3 if i % 3 == 0 else -1 for i in probe]
    store.remove(np.arange(0, 100_000, 2))
    assert store.slot_of.get(0) is None and store.slot_of.get(3) == 1
    store.revive(0, 0)
    assert store.slot_of.get(0) == 0 and len(store) == 50_001
