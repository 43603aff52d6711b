"""Large dense matrices grow inside one reservation: no copy at a doubling, same contents, memory handed
back by compaction, and plain doubling where a reservation cannot be made (engine/growth.py)."""

from __future__ import annotations

import numpy as np
import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.engine import growth
from qdrant_local.engine.vectors import DenseVectors


@pytest.fixture
def small_reserve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reserve from 64 KiB on, so that a few hundred rows exercise the reservation."""
    monkeypatch.setattr(growth, "RESERVE_FROM", 64 << 10)


def _filled(store: DenseVectors, start: int, stop: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((stop - start, store.dim), dtype=np.float32)
    store.reserve(growth.next_capacity(len(store.present), stop))
    store.write(np.arange(start, stop), rows)
    return rows


def test_growth_past_the_threshold_keeps_rows_and_never_moves_them(small_reserve: None) -> None:
    store = DenseVectors(64, "Dot")
    expected = [_filled(store, 0, 100, 0)]  # 25 KiB: a numpy array
    assert not store._memory.owns(store.matrix)
    expected.append(_filled(store, 100, 400, 1))  # past 64 KiB: moved into the reservation once
    assert store._memory.owns(store.matrix)
    address = store.matrix.ctypes.data
    for step in range(4):  # several doublings: a larger view of the same memory each time
        expected.append(_filled(store, 400 + 1000 * step, 1400 + 1000 * step, 2 + step))
        assert store.matrix.ctypes.data == address
    rows = np.concatenate(expected)
    np.testing.assert_array_equal(store.matrix[: len(rows)], rows)
    assert not store.matrix[len(rows) :].any()  # rows never written are zero
    assert store.matrix.flags.writeable and store.matrix.dtype == np.float32


def test_compaction_shrinks_the_reservation_and_regrowth_sees_zeros(small_reserve: None) -> None:
    store = DenseVectors(32, "Dot")
    rows = _filled(store, 0, 3000, 0)
    keep = np.arange(0, 3000, 7)
    store.compact(keep, growth.next_capacity(0, len(keep)))
    assert store._memory.owns(store.matrix)
    assert len(store.matrix) == growth.next_capacity(0, len(keep))
    np.testing.assert_array_equal(store.matrix[: len(keep)], rows[keep])
    assert not store.matrix[len(keep) :].any()
    store.reserve(4096)  # rows that held data before the compaction come back zeroed
    assert len(store.matrix) == 4096 and not store.matrix[len(keep) :].any()


def test_without_a_reservation_growth_doubles(small_reserve: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(growth, "_MAP_NORESERVE", 0)  # as on a platform without the flag
    store = DenseVectors(64, "Dot")
    rows = np.concatenate([_filled(store, 0, 400, 0), _filled(store, 400, 3000, 1)])
    assert store._memory.reserved_bytes == 0 and not store._memory.owns(store.matrix)
    np.testing.assert_array_equal(store.matrix[:3000], rows)
    keep = np.arange(0, 3000, 2)
    store.compact(keep, growth.next_capacity(0, len(keep)))
    np.testing.assert_array_equal(store.matrix[: len(keep)], rows[keep])


def test_a_collection_in_a_reservation_answers_like_one_in_numpy(
    small_reserve: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Search, retrieve, delete (compaction) and regrowth on a reserved matrix give the same answers."""
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((3000, 48), dtype=np.float32)
    answers = []
    for reserve in (True, False):
        if not reserve:
            monkeypatch.setattr(growth, "_MAP_NORESERVE", 0)
        client = QdrantClient(":memory:")
        client.create_collection("c", vectors_config=models.VectorParams(size=48, distance=models.Distance.COSINE))
        for start in range(0, 3000, 500):
            client.upsert("c", models.Batch(ids=list(range(start, start + 500)), vectors=vectors[start : start + 500]))
        client.delete("c", points_selector=list(range(0, 3000, 2)))  # past a quarter: the store compacts
        client.upsert("c", models.Batch(ids=list(range(5000, 6000)), vectors=vectors[:1000]))
        store = client._database.collections["c"].store.vectors[""]  # type: ignore[attr-defined]
        assert store._memory.owns(store.matrix) is reserve
        hits = client.query_points("c", query=vectors[7].tolist(), limit=20).points
        answers.append(
            (
                [(h.id, round(h.score, 5)) for h in hits],
                [p.vector for p in client.retrieve("c", [1, 3, 5001], with_vectors=True)],
            )
        )
        client.close()
    assert answers[0] == answers[1]
