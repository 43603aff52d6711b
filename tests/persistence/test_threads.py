"""One folder client shared by four threads: concurrent upserts, scrolls, counts, set_payload (and compaction).

No call may raise; every point must stay whole (its vector and its payload written by the same request);
the final count is the number of distinct ids upserted; and reopening the folder shows exactly the final
state. The thread switch interval is shortened so the threads really interleave inside calls.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.storage import DiskStorage

from .helpers import STRESS, open_client, visible_state

DIM = 8
ROUNDS = 1000 if STRESS else 150


def vector_of(writer: int, point_id: int, round_: int) -> list[float]:
    """A vector that encodes who wrote it, so a point mixing two writes is detectable."""
    return [float(writer), float(point_id), float(round_)] + [float((point_id * 7 + round_) % 5)] * (DIM - 3)


@pytest.fixture
def fast_switching() -> Any:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def test_four_threads_share_one_client(tmp_path: Path, fast_switching: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DiskStorage, "COMPACT_MIN_LOG_BYTES", 64 * 1024)  # automatic compactions mid-run
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    errors: list[BaseException] = []
    upserted: list[set[int]] = [set() for _ in range(4)]
    barrier = threading.Barrier(4)

    def writer(index: int) -> Callable[[], None]:
        """Threads 0 and 1 upsert (overlapping id ranges) and set payloads; 2 scrolls and compacts; 3 counts."""

        def run() -> None:
            rng = np.random.default_rng(index)
            barrier.wait()
            for round_ in range(ROUNDS):
                if index in (0, 1):
                    ids = sorted({int(i) for i in rng.integers(index * 150, index * 150 + 300, size=12)})
                    client.upsert(
                        "c",
                        [
                            models.PointStruct(
                                id=i, vector=vector_of(index, i, round_), payload={"writer": index, "round": round_}
                            )
                            for i in ids
                        ],
                        wait=bool(round_ % 2),
                    )
                    upserted[index].update(ids)
                    mine = sorted(upserted[index])
                    chosen = [mine[int(k)] for k in rng.integers(0, len(mine), size=3)]
                    client.set_payload("c", {f"seen_by_{index}": round_}, chosen, wait=False)
                elif index == 2:
                    offset, seen = None, []
                    while True:
                        page, offset = client.scroll("c", limit=37, offset=offset, with_vectors=True)
                        ids = [r.id for r in page]
                        assert ids == sorted(ids) and len(set(ids)) == len(ids)
                        for record in page:  # a whole point: vector and payload from one request
                            assert record.vector[0] == record.payload["writer"], record
                            assert record.vector[1] == record.id
                            assert record.vector[2] == record.payload["round"], record
                        seen.extend(ids)
                        if offset is None:
                            break
                    assert seen == sorted(seen)
                    if round_ % 15 == 0:
                        client.compact()
                else:
                    last = 0
                    for _ in range(5):
                        count = client.count("c").count
                        # only upserts add points and nothing deletes them: counts never go down
                        assert count >= last
                        last = count
                        exact = client.count(
                            "c",
                            count_filter=models.Filter(
                                must=[models.FieldCondition(key="writer", match=models.MatchValue(value=0))]
                            ),
                        ).count
                        assert 0 <= exact <= client.count("c").count

        def guarded() -> None:
            try:
                run()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                barrier.abort()

        return guarded

    threads = [threading.Thread(target=writer(i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]

    expected_ids = upserted[0] | upserted[1]
    assert client.count("c").count == len(expected_ids)
    records, _ = client.scroll("c", limit=10_000, with_vectors=True)
    assert [r.id for r in records] == sorted(expected_ids)
    for record in records:
        assert record.vector == vector_of(record.payload["writer"], record.id, record.payload["round"])
    state = visible_state(client)
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    reopened.close()


def test_close_while_other_threads_write(tmp_path: Path, fast_switching: Any) -> None:
    """Threads still writing when another one closes the client get ClientClosed, never a stray OSError,
    and every write acknowledged before the close is in the folder afterwards."""
    from qdrant_local.errors import ClientClosed

    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    acknowledged: list[set[int]] = [set() for _ in range(3)]
    attempted: list[set[int]] = [set() for _ in range(3)]
    outcomes: list[BaseException | None] = [None] * 3
    started = threading.Barrier(4)

    def run(index: int) -> None:
        started.wait()
        try:
            for round_ in range(100_000):
                point_id = index * 1_000_000 + round_
                attempted[index].add(point_id)
                client.upsert(
                    "c",
                    [
                        models.PointStruct(
                            id=point_id, vector=vector_of(index, point_id, 0), payload={"writer": index, "round": 0}
                        )
                    ],
                    wait=bool(round_ % 2),
                )
                acknowledged[index].add(point_id)
        except BaseException as exc:  # examined by the main thread
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    started.wait()
    while sum(len(a) for a in acknowledged) < 300:
        threading.Event().wait(0.001)
    client.close()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(outcome, ClientClosed) for outcome in outcomes), outcomes
    reopened = open_client(path)
    records, _ = reopened.scroll("c", limit=1_000_000)
    reopened.close()
    stored = {r.id for r in records}
    # an upsert that returned is stored; one cut off by close() may or may not be
    assert set().union(*acknowledged) <= stored <= set().union(*attempted)
