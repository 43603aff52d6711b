"""AsyncQdrantClient: same answers as the sync client, off the event loop, in call order.

* A heartbeat coroutine keeps ticking while a 100,000-point upsert and a batch of searches run.
* Many concurrent writers and readers: every read equals what a sequential replay of the calls (in
  the order they were made) shows at that point, every failed write failed in the replay too and left
  nothing behind, and the final state (reopened from disk for a folder) equals the replay's.
* A sync and an async client on one folder in one process share the engine.
* close(): idempotent, runs after the calls made before it, later calls raise ClientClosed; a call
  cancelled before the worker started it never runs.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qdrant_local import AsyncQdrantClient, QdrantClient, models
from qdrant_local.errors import ClientClosed, PointNotFound

from ..persistence.helpers import run_python, visible_state

DIM = 8


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def ticks_while(awaitable: Awaitable[Any]) -> tuple[int, Any]:
    """How many times a heartbeat coroutine ran while ``awaitable`` was in progress, and its result."""
    task = asyncio.ensure_future(awaitable)
    ticks = 0
    while not task.done():
        await asyncio.sleep(0.001)
        ticks += 1
    return ticks, task.result()


def test_the_event_loop_keeps_running_during_a_big_upsert_and_a_search() -> None:
    n, dim = 100_000, 384
    vectors = np.random.default_rng(7).random((n, dim), dtype=np.float32)

    async def scenario() -> None:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection("c", vectors_config=models.VectorParams(size=dim, distance="Cosine"))
        batch = models.Batch(ids=list(range(n)), vectors=vectors, payloads=[{"group": i % 50} for i in range(n)])
        ticks, _ = await ticks_while(client.upsert("c", batch))
        assert ticks >= 3, "the event loop was blocked during upsert"
        requests = [models.QueryRequest(query=vectors[i].tolist(), limit=10) for i in range(40)]
        ticks, responses = await ticks_while(client.query_batch_points("c", requests))
        assert ticks >= 3, "the event loop was blocked during search"
        assert [r.points[0].id for r in responses] == list(range(40))
        assert (await client.count("c")).count == n
        await client.close()

    run(scenario())


# ------------------------------------------------------------------------- concurrent writers and readers

Call = tuple[str, tuple[Any, ...], dict[str, Any]]


def random_write(rng: random.Random) -> Call:
    ids = rng.sample(range(40), rng.randint(1, 4))
    kind = rng.choice(["upsert", "delete", "set_payload", "overwrite_payload", "batch", "missing", "update_vectors"])
    if kind == "upsert":
        points = [
            models.PointStruct(id=i, vector=[rng.random() for _ in range(DIM)], payload={"v": rng.randint(0, 9)})
            for i in ids
        ]
        return "upsert", ("c", points), {"wait": rng.random() < 0.5}
    if kind == "delete":
        return "delete", ("c", models.PointIdsList(points=ids)), {}
    if kind == "set_payload":
        return (
            "set_payload",
            (
                "c",
                {"s": rng.randint(0, 9)},
                models.Filter(must=[models.FieldCondition(key="v", match=models.MatchValue(value=rng.randint(0, 9)))]),
            ),
            {},
        )
    if kind == "overwrite_payload":
        return (
            "overwrite_payload",
            (
                "c",
                {"o": rng.randint(0, 9)},
                models.FilterSelector(filter=models.Filter(must=[models.HasIdCondition(has_id=ids)])),
            ),
            {},
        )
    if kind == "update_vectors":  # fails unless every id exists: all or nothing
        return "update_vectors", ("c", [models.PointVectors(id=i, vector=[1.0] * DIM) for i in ids]), {}
    if kind == "missing":  # always fails: a point id that is never written
        return "set_payload", ("c", {"never": 1}, ids + [999]), {}
    operations: list[Any] = [
        models.UpsertOperation(
            upsert=models.PointsList(points=[models.PointStruct(id=ids[0], vector=[0.5] * DIM, payload={"b": 1})])
        ),
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"b": 2}, points=ids)),
    ]
    if rng.random() < 0.3:  # a failing last operation undoes the whole batch
        operations.append(models.DeleteVectorsOperation(delete_vectors=models.DeleteVectors(points=[999], vector=[""])))
    return "batch_update_points", ("c", operations), {}


def random_read(rng: random.Random) -> Call:
    kind = rng.choice(["count", "scroll", "retrieve", "query"])
    if kind == "count":
        return (
            "count",
            ("c",),
            {
                "count_filter": models.Filter(
                    must=[models.FieldCondition(key="v", range=models.Range(gte=rng.randint(0, 9)))]
                )
            },
        )
    if kind == "scroll":
        return "scroll", ("c",), {"limit": 100, "with_vectors": True}
    if kind == "retrieve":
        return "retrieve", ("c", rng.sample(range(40), 5)), {}
    return "query_points", ("c",), {"query": [rng.random() for _ in range(DIM)], "limit": 5}


def outcome(call: Callable[[], Any]) -> Any:
    try:
        result = call()
    except (PointNotFound, ValueError) as exc:
        return ("raised", type(exc).__name__, str(exc))
    return result


@pytest.mark.parametrize("where", ["memory", "folder"])
def test_concurrent_writers_and_readers_match_a_sequential_replay(tmp_path: Path, where: str) -> None:
    rng = random.Random(2026)
    made: list[Call] = []  # every call, in the order it was made (= submitted to the worker)
    seen: dict[int, Any] = {}  # position in ``made`` -> what the async client answered
    location: dict[str, Any] = {"path": str(tmp_path / "db")} if where == "folder" else {"location": ":memory:"}
    plans = [[random_write(rng) if w < 8 else random_read(rng) for _ in range(25)] for w in range(14)]

    async def worker(client: AsyncQdrantClient, plan: list[Call]) -> None:
        for name, args, kwargs in plan:
            await asyncio.sleep(0)  # let the other coroutines interleave
            position = len(made)
            made.append((name, args, kwargs))
            # nothing may suspend between recording the call and making it
            try:
                seen[position] = await getattr(client, name)(*args, **kwargs)
            except (PointNotFound, ValueError) as exc:
                seen[position] = ("raised", type(exc).__name__, str(exc))

    async def scenario() -> None:
        client = AsyncQdrantClient(**location)
        await client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance="Dot"))
        await asyncio.gather(*(worker(client, plan) for plan in plans))
        seen[-1] = await client.scroll("c", limit=100, with_vectors=True)
        await client.close()

    run(scenario())
    replay = QdrantClient(":memory:")
    replay.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance="Dot"))
    for position, (name, args, kwargs) in enumerate(made):
        expected = outcome(functools.partial(getattr(replay, name), *args, **kwargs))
        assert seen[position] == expected, f"call {position} ({name}) saw another state than the replay"
    assert sum(1 for result in seen.values() if isinstance(result, tuple) and result[0] == "raised") > 5
    assert seen[-1] == replay.scroll("c", limit=100, with_vectors=True)
    if where == "folder":
        with QdrantClient(path=str(tmp_path / "db")) as reopened:
            assert visible_state(reopened) == visible_state(replay)


# ------------------------------------------------------------------------------------ sharing a folder


PROBE = """
import sys
from qdrant_local import QdrantClient
from qdrant_local.errors import StorageLocked
try:
    QdrantClient(path=sys.argv[1]).close()
except StorageLocked:
    sys.exit(3)
"""


def test_a_sync_and_an_async_client_share_one_folder(tmp_path: Path) -> None:
    path = str(tmp_path / "db")

    async def scenario() -> None:
        sync = QdrantClient(path=path)
        sync.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        aclient = AsyncQdrantClient(path=path)
        await aclient.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0])], wait=False)
        sync.upsert("c", [models.PointStruct(id=2, vector=[1.0, 2.0])])
        assert [r.id for r in (await aclient.scroll("c"))[0]] == [1, 2]
        assert visible_state(sync) == visible_state(QdrantClient(path=path))
        sync.close()
        assert run_python(PROBE, path).returncode == 3  # the async client still holds the folder
        await aclient.upsert("c", [models.PointStruct(id=3, vector=[1.0, 2.0])])
        await aclient.close()
        assert run_python(PROBE, path).returncode == 0

    run(scenario())
    with QdrantClient(path=path) as client:
        assert [r.id for r in client.scroll("c")[0]] == [1, 2, 3]


# ---------------------------------------------------------------------------------------------- close


def test_close_waits_for_earlier_calls_and_refuses_later_ones(tmp_path: Path) -> None:
    path = str(tmp_path / "db")

    async def scenario() -> None:
        client = AsyncQdrantClient(path=path)
        await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        writes = [
            asyncio.ensure_future(client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 2.0])], wait=False))
            for i in range(50)
        ]
        await asyncio.sleep(0)  # the writes are submitted
        await asyncio.gather(client.close(), client.close())
        await client.close()
        assert all(w.done() and w.exception() is None for w in writes)
        with pytest.raises(ClientClosed):
            await client.count("c")
        with pytest.raises(ClientClosed):
            client.upload_points("c", [models.PointStruct(id=99, vector=[1.0, 2.0])])

    run(scenario())
    with QdrantClient(path=path) as client:
        assert client.count("c").count == 50


def test_a_call_cancelled_before_it_started_never_runs() -> None:
    async def scenario() -> None:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        slow = asyncio.ensure_future(
            client.upsert("c", models.Batch(ids=list(range(50_000)), vectors=np.ones((50_000, 2), dtype=np.float32)))
        )
        queued = asyncio.ensure_future(client.delete("c", models.Filter()))  # would delete everything
        await asyncio.sleep(0)
        queued.cancel()
        await slow
        assert (await client.count("c")).count == 50_000
        await client.close()

    run(scenario())


def test_upload_points_and_upload_collection_are_plain_methods_that_finish_before_returning() -> None:
    async def scenario() -> None:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        assert client.upload_points("c", [models.PointStruct(id=1, vector=[1.0, 2.0])]) is None
        assert client.upload_collection("c", [[1.0, 2.0], [3.0, 4.0]], ids=[2, 3]) is None
        assert (await client.count("c")).count == 3
        await client.close()

    run(scenario())


def test_the_same_answers_and_errors_as_the_sync_client() -> None:
    def calls(m: Any) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        return [
            ("create_collection", ("c",), {"vectors_config": m.VectorParams(size=2, distance="Cosine")}),
            ("create_collection", ("c",), {"vectors_config": m.VectorParams(size=2, distance="Cosine")}),
            ("upsert", ("c", [m.PointStruct(id=i, vector=[i, 1.0], payload={"i": i}) for i in range(5)]), {}),
            ("get_collection", ("c",), {}),
            ("query_points", ("c",), {"query": [1.0, 0.0], "limit": 3}),
            ("retrieve", ("c", [1, 2]), {"with_vectors": True}),
            ("set_payload", ("c", {"x": 1}, [77]), {}),
            ("count", ("missing",), {}),
            ("facet", ("c", "i"), {}),
            ("info", (), {}),
        ]

    def sync_side() -> list[Any]:
        client = QdrantClient(":memory:")
        return [outcome(functools.partial(getattr(client, n), *a, **k)) for n, a, k in calls(models)]

    async def async_side() -> list[Any]:
        client = AsyncQdrantClient(":memory:")
        results = []
        for n, a, k in calls(models):
            try:
                results.append(await getattr(client, n)(*a, **k))
            except (PointNotFound, ValueError) as exc:
                results.append(("raised", type(exc).__name__, str(exc)))
        await client.close()
        return results

    assert run(async_side()) == sync_side()


def test_unknown_constructor_arguments_are_ignored_and_remembered() -> None:
    async def scenario() -> None:
        client = AsyncQdrantClient(":memory:", metadata={"from": "haystack"})
        assert (await client.get_collections()).collections == []
        await client.close()

    run(scenario())
