"""PointStore: slot allocation, tombstones, scroll order and compaction of deleted slots."""

from __future__ import annotations

import uuid

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local import QdrantClient, models
from qdrant_local.engine.store import COMPACT_MIN_TOMBSTONES, PointStore
from qdrant_local.engine.vectors import DenseVectors
from qdrant_local.ids import order_key


def _collection(client: QdrantClient, models=models) -> None:  # noqa: ANN001 - ours or qdrant_client's
    client.create_collection(
        "c",
        vectors_config={
            "d": models.VectorParams(size=3, distance=models.Distance.COSINE),
            "m": models.VectorParams(
                size=2, distance=models.Distance.DOT, multivector_config=models.MultiVectorConfig(comparator="max_sim")
            ),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )


def _point(i: int) -> models.PointStruct:
    return models.PointStruct(
        id=i,
        vector={
            "d": [1.0, float(i), 0.5],
            "m": [[1.0, 2.0], [float(i), 1.0]],
            "s": models.SparseVector(indices=[i % 7, 9], values=[1.0, float(i)]),
        },
        payload={"i": i, "tags": [i % 3]},
    )


def _state(client: QdrantClient) -> tuple:
    records, _ = client.scroll("c", limit=100_000, with_vectors=True)
    return tuple((r.id, repr(r.payload), repr(r.vector)) for r in records)


@given(ids=st.lists(st.one_of(st.integers(0, 2**64 - 1), st.uuids().map(str)), unique=True, max_size=60))
@settings(max_examples=60)
def test_ordered_slots_follow_qdrant_client_id_order(ids: list) -> None:
    store = PointStore({"": DenseVectors(2, "Dot")})
    store.allocate(ids[: len(ids) // 2])
    store.allocate(ids[len(ids) // 2 :])
    assert [store.point_ids[s] for s in store.ordered_slots()] == sorted(ids, key=order_key)
    for probe in ids:
        position = store.order_position(probe)
        assert store.point_ids[store.ordered_slots()[position]] == probe


def test_compaction_reclaims_slots_and_changes_nothing_visible() -> None:
    import qdrant_client

    reference, client = qdrant_client.QdrantClient(":memory:"), QdrantClient(":memory:")
    _collection(reference, qdrant_client.models)
    _collection(client)
    n = 4 * COMPACT_MIN_TOMBSTONES
    doomed = list(range(0, n, 2))
    reference.upsert("c", [qdrant_client.models.PointStruct(**_point(i).model_dump()) for i in range(n)])
    client.upsert("c", [_point(i) for i in range(n)])
    store = client._database.collection("c").store
    client.delete("c", doomed)
    assert store.tombstones() == 0, "deleting half the points should have compacted the store"
    assert store.n_slots == n - len(doomed)
    assert store.capacity < n
    reference.delete("c", doomed)
    assert _state(client) == _state(reference)
    ours = models.SparseVector(indices=[1, 9], values=[0.001, 0.5])
    theirs = qdrant_client.models.SparseVector(indices=[1, 9], values=[0.001, 0.5])
    assert [p.id for p in client.query_points("c", query=ours, using="s", limit=5).points] == [
        p.id for p in reference.query_points("c", query=theirs, using="s", limit=5).points
    ]
    # New points after compaction get fresh slots and keep the id order.
    client.upsert("c", [_point(1_000_001), _point(1)])
    reference.upsert("c", [qdrant_client.models.PointStruct(**_point(i).model_dump()) for i in (1_000_001, 1)])
    assert _state(client) == _state(reference)


def test_small_deletions_do_not_compact() -> None:
    client = QdrantClient(":memory:")
    _collection(client)
    client.upsert("c", [_point(i) for i in range(50)])
    client.delete("c", list(range(40)))
    assert client._database.collection("c").store.tombstones() == 40


def test_reopen_compacts_tombstones(tmp_path) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    _collection(client)
    client.upsert("c", [_point(i) for i in range(30)])
    client.delete("c", [1, 2, 3])
    before = _state(client)
    client.close()
    reopened = QdrantClient(path=str(tmp_path / "db"))
    assert reopened._database.collection("c").store.tombstones() == 0
    assert _state(reopened) == before
    reopened.close()


def test_dense_compaction_moves_rows_in_place() -> None:
    """Rows move down inside the same matrix (no second copy), which then shrinks; a live view
    keeps the old size but the rows past the kept ones read as zero."""
    for keep_view in (False, True):
        store = DenseVectors(3, "Dot")
        store.reserve(8192)
        store.matrix[:5000] = np.arange(5000, dtype=np.float32)[:, None]
        store.present[:5000] = True
        keep = np.flatnonzero(np.arange(5000) % 3 != 0)
        view = store.matrix[:10] if keep_view else None
        before = id(store.matrix)
        store.compact(keep, 4096)
        assert id(store.matrix) == before
        assert len(store.matrix) == (8192 if keep_view else 4096)
        assert (store.matrix[: len(keep), 0] == keep).all() and not store.matrix[len(keep) :].any()
        assert store.present.sum() == len(keep) and len(store.present) == 4096
        del view


def test_columns_export_and_import_round_trip() -> None:
    source = PointStore({"": DenseVectors(2, "Dot")})
    ids = [3, str(uuid.UUID(int=7)), 2**64 - 1, 0]
    slots = source.allocate(ids)
    for slot, payload in zip(slots.tolist(), [{"a": 1}, {}, {"b": [1, "x"]}, {"c": None}]):
        source.payloads[slot] = payload
    source.remove([slots[3]])
    live = np.flatnonzero(source.live_mask)
    target = PointStore({"": DenseVectors(2, "Dot")})
    new_slots = target.import_columns(*source.export_columns(live))
    assert target.ids_of(new_slots) == source.ids_of(live) == ids[:3]
    assert target.payloads.payloads_of(new_slots.tolist()) == [{"a": 1}, {}, {"b": [1, "x"]}]
    assert [target.slot_of[p] for p in ids[:3]] == new_slots.tolist() and 0 not in target.slot_of
    assert [target.point_ids[s] for s in target.ordered_slots()] == sorted(ids[:3], key=order_key)


def test_an_upsert_prepared_before_another_write_looks_its_slots_up_again() -> None:
    """An upsert carries the slots its validation found; applied after another write changed the
    store, it looks them up again (here id 1 appeared meanwhile: it is replaced, not added twice)."""
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    collection = client._database.collections["c"]
    late = collection.prepare_upsert([models.PointStruct(id=1, vector=[1.0, 2.0], payload={"late": True})])
    collection.apply(collection.prepare_upsert([models.PointStruct(id=1, vector=[3.0, 4.0], payload={"early": 1})]))
    collection.apply(late)
    assert len(collection.store) == 1
    (record,) = client.retrieve("c", [1], with_vectors=True)
    assert record.payload == {"late": True} and record.vector == [1.0, 2.0]
