"""Reads on one client run in parallel; writes wait for them and run alone.

Overlap is proven inside real read paths: the engine method each read reaches is wrapped to wait at a
barrier, which only breaks if the reads cannot be inside the shared section at the same time. The
hammer tests run many threads of reads (whose caches are cold after each write: masks, scroll order,
sparse postings, payload indexes, gathered rows, row norms) against one client, and compare every
answer with the same read run serially on a twin client given the same writes.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from qdrant_local import AsyncQdrantClient, QdrantClient, models
from qdrant_local.engine.collection import Collection
from qdrant_local.query.planner import Planner

WAIT = 30  # seconds before a barrier gives up: a failure detector, never a measurement
DIM = 16
CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]


def _client(path: str = ":memory:") -> QdrantClient:
    client = QdrantClient(path) if path == ":memory:" else QdrantClient(path=path)
    client.create_collection(
        "c",
        vectors_config={
            "cos": models.VectorParams(size=DIM, distance=models.Distance.COSINE),
            "euc": models.VectorParams(size=DIM, distance=models.Distance.EUCLID),
        },
        sparse_vectors_config={"sp": models.SparseVectorParams()},
    )
    client.create_payload_index("c", "city", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index("c", "rank", models.PayloadSchemaType.INTEGER)
    return client


def _points(ids: list[Any], seed: int) -> list[models.PointStruct]:
    rng = np.random.default_rng(seed)
    points = []
    for k, point_id in enumerate(ids):
        terms = sorted(rng.choice(40, size=4, replace=False).tolist())
        points.append(
            models.PointStruct(
                id=point_id,
                vector={
                    "cos": rng.normal(size=DIM).tolist(),
                    "euc": rng.normal(size=DIM).tolist(),
                    "sp": models.SparseVector(indices=terms, values=rng.random(4).tolist()),
                },
                payload={"city": CITIES[(seed + k) % 5], "rank": (seed * 7 + k) % 50, "group": k % 3},
            )
        )
    return points


def _fill(client: QdrantClient, count: int = 300) -> None:
    client.upsert("c", _points(list(range(count)), seed=1))


@pytest.fixture(autouse=True)
def fast_switching() -> Any:
    """Threads switch every 10 microseconds, so they really interleave inside calls."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


# -- overlap -----------------------------------------------------------------------------------------


def _meet_inside(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, parties: int) -> threading.Barrier:
    """Wrap the real method ``owner.name`` so that each call waits for ``parties`` calls to be inside."""
    barrier = threading.Barrier(parties)
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(WAIT)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)
    return barrier


def _in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not errors, errors
    return results


def test_counts_are_inside_the_engine_together(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client()
    _fill(client)
    barrier = _meet_inside(monkeypatch, Collection, "count", 3)
    counts = _in_threads([lambda: client.count("c").count] * 3)
    assert counts == [300, 300, 300] and not barrier.broken


def test_searches_are_inside_the_planner_together(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client()
    _fill(client)
    query = [0.5] * DIM
    expected = client.query_points("c", query=query, using="cos", limit=5).points
    barrier = _meet_inside(monkeypatch, Planner, "run", 2)
    found = _in_threads([lambda: client.query_points("c", query=query, using="cos", limit=5).points] * 2)
    assert found == [expected, expected] and not barrier.broken


def test_async_reads_overlap_and_a_write_waits_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The async client runs reads made between two writes side by side (api/call_order.py)."""

    async def main() -> list[Any]:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance="Dot"))
        await client.upsert("c", _points_plain(50))
        barrier = _meet_inside(monkeypatch, Collection, "count", 3)
        try:
            answers = await asyncio.gather(
                client.count("c"),
                client.count("c"),
                client.count("c"),
                client.delete("c", models.PointIdsList(points=[0])),  # made after the reads: runs after them
                client.count("c"),  # made after the write: sees it (and completes the barrier's next round)
                client.count("c"),
                client.count("c"),
            )
            assert not barrier.broken
            return [getattr(answer, "count", None) for answer in answers]
        finally:
            await client.close()

    assert asyncio.run(main()) == [50, 50, 50, None, 49, 49, 49]


def _points_plain(count: int) -> list[models.PointStruct]:
    return [models.PointStruct(id=i, vector=[float(i)] * DIM) for i in range(count)]


def test_a_write_waits_for_the_reads_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client()
    _fill(client)
    database = client._database
    inside, leave = threading.Event(), threading.Event()
    original = Collection.count

    def held_count(self: Collection, compiled: Any) -> int:
        inside.set()
        leave.wait(WAIT)
        return original(self, compiled)

    monkeypatch.setattr(Collection, "count", held_count)
    results: list[Any] = []
    reader = threading.Thread(target=lambda: results.append(client.count("c").count))
    reader.start()
    assert inside.wait(WAIT)
    writer = threading.Thread(target=lambda: client.delete("c", models.PointIdsList(points=[0, 1, 2])))
    writer.start()
    deadline = threading.Event()
    while database.lock._writers_waiting == 0 and writer.is_alive():
        deadline.wait(0.001)
    assert writer.is_alive() and database.lock._writers_waiting == 1  # held back by the read inside
    leave.set()
    reader.join(WAIT)
    writer.join(WAIT)
    assert results == [300]  # the read saw the state from before the write, whole
    monkeypatch.setattr(Collection, "count", original)
    assert client.count("c").count == 297


# -- hammering: many readers, results equal to a serial run ---------------------------------------


def _reads(rng: random.Random) -> list[tuple[str, Callable[[QdrantClient], Any]]]:
    """Reads that fill every cache a read fills; each returns something comparable."""
    city = models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="Rome"))])
    rare = models.Filter(must=[models.FieldCondition(key="rank", range=models.Range(gte=10, lt=12))])
    group = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=1))])
    query = [rng.uniform(-1, 1) for _ in range(DIM)]
    sparse = models.SparseVector(indices=list(range(40)), values=[rng.random() for _ in range(40)])

    def hits(points: list[Any]) -> list[Any]:
        return [(p.id, round(p.score, 4)) for p in points]

    def records(found: list[Any]) -> list[Any]:
        return [(r.id, r.payload) for r in found]

    return [
        ("query cos", lambda c: hits(c.query_points("c", query=query, using="cos", limit=7).points)),
        ("query cos city", lambda c: hits(c.query_points("c", query=query, using="cos", query_filter=city).points)),
        ("query cos rare", lambda c: hits(c.query_points("c", query=query, using="cos", query_filter=rare).points)),
        ("query euc", lambda c: hits(c.query_points("c", query=query, using="euc", limit=7).points)),
        ("query euc group", lambda c: hits(c.query_points("c", query=query, using="euc", query_filter=group).points)),
        ("query sparse", lambda c: hits(c.query_points("c", query=sparse, using="sp", limit=9).points)),
        (
            "batch",
            lambda c: [
                hits(r.points)
                for r in c.query_batch_points(
                    "c",
                    [
                        models.QueryRequest(query=query, using="cos", filter=city, limit=3),
                        models.QueryRequest(query=query, using="cos", filter=rare, limit=3),
                    ],
                )
            ],
        ),
        ("scroll", lambda c: records(c.scroll("c", limit=25)[0])),
        ("scroll offset", lambda c: records(c.scroll("c", limit=10, offset=150)[0])),
        ("scroll city", lambda c: records(c.scroll("c", scroll_filter=city, limit=30)[0])),
        ("scroll order_by", lambda c: records(c.scroll("c", limit=15, order_by="rank")[0])),
        ("count city", lambda c: c.count("c", count_filter=city).count),
        ("count rare", lambda c: c.count("c", count_filter=rare).count),
        ("facet", lambda c: [(h.value, h.count) for h in c.facet("c", "city").hits]),
        ("retrieve", lambda c: records(c.retrieve("c", [0, 3, 77, 150, 299, 10**6]))),
        ("get_collection", lambda c: (c.get_collection("c").points_count, c.get_collection("c").payload_schema)),
    ]


def _write_round(client: QdrantClient, round_: int) -> None:
    """A round of writes that leaves caches stale: new integer and UUID ids, sparse rewrites, payloads, deletes."""
    rng = np.random.default_rng(round_)
    fresh = [1000 + round_ * 40 + k for k in range(30)]
    if round_ % 3 == 2:
        fresh += [str(uuid.UUID(int=round_ * 1000 + k)) for k in range(5)]
    client.upsert("c", _points(fresh, seed=round_ + 10))
    rewritten = sorted(rng.choice(300, size=20, replace=False).tolist())
    client.upsert("c", _points(rewritten, seed=round_ + 100))
    client.set_payload("c", {"group": round_ % 3}, points=rewritten[:15])
    client.delete("c", models.PointIdsList(points=sorted(rng.choice(300, size=5, replace=False).tolist())))


@pytest.mark.parametrize("storage", [":memory:", "folder"])
def test_many_readers_after_each_write_agree_with_a_serial_run(storage: str, tmp_path: Any) -> None:
    shared = _client(":memory:" if storage == ":memory:" else str(tmp_path / "db"))
    twin = _client()
    for client in (shared, twin):
        _fill(client)
    threads = 8
    for round_ in range(12):
        for client in (shared, twin):
            _write_round(client, round_)
        reads = _reads(random.Random(round_))
        expected = {name: read(twin) for name, read in reads}
        barrier = threading.Barrier(threads)

        def reader(seed: int, reads: Any = reads, barrier: Any = barrier) -> dict[str, Any]:
            order = list(reads)
            random.Random(seed).shuffle(order)
            barrier.wait(WAIT)  # all start on cold caches at once
            return {name: read(shared) for name, read in order}

        answers = _in_threads([lambda seed=seed: reader(seed) for seed in range(threads)])
        for answer in answers:
            assert answer == expected
    shared.close()


def test_readers_and_writers_together_end_as_a_serial_run(tmp_path: Any) -> None:
    """Two writers (disjoint ids) and four readers on one folder client: no error, every read whole,
    and the final state is what the same writes give one after the other."""
    shared = _client(str(tmp_path / "db"))
    twin = _client()
    for client in (shared, twin):
        _fill(client)
    rounds = 12
    stop = threading.Event()
    seen_counts: list[int] = []

    def writer(offset: int) -> None:
        for round_ in range(rounds):
            ids = [10_000 + offset * 1000 + round_ * 10 + k for k in range(10)]
            shared.upsert("c", _points(ids, seed=offset * 100 + round_))
            shared.delete("c", models.PointIdsList(points=[offset * 100 + round_]))

    def reader(seed: int) -> None:
        reads = _reads(random.Random(seed))
        while not stop.is_set():
            for _, read in reads:
                read(shared)
            points, _ = shared.scroll("c", limit=10_000, with_vectors=["cos"])
            for point in points:  # every point whole: vector and payload from one request
                assert point.vector is not None and "city" in point.payload
            seen_counts.append(len(points))

    readers = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                stop.set()

        return run

    readers = [threading.Thread(target=guarded(lambda s=s: reader(s))) for s in range(4)]
    writers = [threading.Thread(target=guarded(lambda o=o: writer(o))) for o in range(2)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(WAIT * 4)
    stop.set()
    for thread in readers:
        thread.join(WAIT * 4)
    assert not errors, errors
    assert seen_counts
    for offset in range(2):
        for round_ in range(rounds):
            ids = [10_000 + offset * 1000 + round_ * 10 + k for k in range(10)]
            twin.upsert("c", _points(ids, seed=offset * 100 + round_))
            twin.delete("c", models.PointIdsList(points=[offset * 100 + round_]))
    # (order_by breaks ties by insertion order, which interleaving writers change: left out)
    final = {name: read(shared) for name, read in _reads(random.Random(99)) if name != "scroll order_by"}
    assert final == {name: read(twin) for name, read in _reads(random.Random(99)) if name != "scroll order_by"}
    everything = [
        shared.scroll("c", limit=10_000, with_vectors=True)[0],
        twin.scroll("c", limit=10_000, with_vectors=True)[0],
    ]
    assert everything[0] == everything[1]
    shared.close()
