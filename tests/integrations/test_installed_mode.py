"""Installed mode: qdrant-client's own QdrantClient with qdrant_local as its engine.

Each scenario runs on qdrant-client's local mode and, after ``install()``, on the same qdrant-client
class backed by qdrant_local; the results must match value by value and be qdrant_client's own models.
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest

qdrant_client = pytest.importorskip("qdrant_client")

from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client.local.async_qdrant_local import AsyncQdrantLocal
from qdrant_client.local.qdrant_local import QdrantLocal

import qdrant_local

from .compare import assert_same

DIM = 8


def _vector(i: int) -> list[float]:
    """Distinct per point (no score ties, whose order is unspecified)."""
    rng = random.Random(i)
    return [rng.uniform(-1, 1) for _ in range(DIM)]


def _sparse(i: int) -> models.SparseVector:
    rng = random.Random(-i - 1)
    return models.SparseVector(indices=sorted(rng.sample(range(12), 3)), values=[rng.uniform(0.1, 2) for _ in range(3)])


def _points(n: int) -> list[models.PointStruct]:
    return [
        models.PointStruct(
            id=i if i % 3 else str(uuid.UUID(int=i + 1)),
            vector={"dense": _vector(i), "sparse": _sparse(i)},
            payload={"group": f"g{i % 4}", "rank": i, "tags": ["a", "b"][: i % 3]},
        )
        for i in range(n)
    ]


def _scenario(client: QdrantClient) -> list[Any]:
    """A tour of qdrant-client's calls; returns every result."""
    out: list[Any] = []
    out.append(
        client.create_collection(
            "docs",
            vectors_config={"dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
            sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
    )
    out.append(client.upsert("docs", _points(30)))
    client.upload_points("docs", _points(60)[30:], batch_size=7)
    out.append(client.count("docs"))
    near = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value="g1"))])
    out.append(client.query_points("docs", query=_vector(3), using="dense", limit=5, with_vectors=True))
    out.append(client.query_points("docs", query=_vector(3), using="dense", query_filter=near, limit=3))
    out.append(client.query_points("docs", query=_sparse(2), using="sparse", limit=4))
    out.append(
        client.query_points(
            "docs",
            prefetch=[
                models.Prefetch(query=_vector(5), using="dense", limit=10),
                models.Prefetch(query=_sparse(5), using="sparse", limit=10),
            ],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            limit=5,
        )
    )
    out.append(client.query_points_groups("docs", query=_vector(1), using="dense", group_by="group", limit=3))
    out.append(client.scroll("docs", limit=7, with_vectors=True))
    out.append(client.scroll("docs", scroll_filter=near, order_by="rank", limit=5))
    out.append(client.retrieve("docs", ids=[1, 2, str(uuid.UUID(int=1))], with_vectors=True))
    out.append(client.set_payload("docs", payload={"seen": True}, points=[1, 2]))
    out.append(client.delete("docs", points_selector=models.PointIdsList(points=[4, 5])))
    out.append(client.facet("docs", key="group"))
    out.append(client.count("docs", count_filter=near))
    out.append(client.get_collection("docs").config.params)
    out.append(client.get_collections())
    return out


@pytest.mark.parametrize("location", [":memory:", "path"])
def test_installed_client_matches_local_mode(installed: None, tmp_path: Any, location: str) -> None:
    def open_client(where: str) -> QdrantClient:
        return QdrantClient(":memory:") if location == ":memory:" else QdrantClient(path=str(tmp_path / where))

    qdrant_local.uninstall()
    expected_client = open_client("theirs")
    assert type(expected_client._client) is QdrantLocal
    expected = _scenario(expected_client)
    qdrant_local.install()
    client = open_client("ours")
    assert isinstance(client, qdrant_client.QdrantClient) and isinstance(client._client, QdrantLocal)
    assert type(client._client).__module__.startswith("qdrant_local.")
    actual = _scenario(client)
    assert_same(expected, actual)
    for result in actual:  # qdrant_client's own models, not look-alikes
        if hasattr(result, "model_dump"):
            assert type(result).__module__.startswith("qdrant_client."), type(result)
    vectors = client.get_collection("docs").config.params.vectors
    assert isinstance(vectors["dense"], models.VectorParams)
    expected_client.close()
    client.close()


def test_path_client_persists_in_our_format(installed: None, tmp_path: Any) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"k": "v"})])
    client.close()
    assert not (tmp_path / "db" / "meta.json").exists()  # qdrant-client's layout is not written
    reopened = QdrantClient(path=str(tmp_path / "db"))
    assert reopened.retrieve("c", [1])[0].payload == {"k": "v"}
    native = qdrant_local.QdrantClient(path=str(tmp_path / "other"))  # the same engine, used directly
    native.close()
    reopened.close()


def test_results_are_qdrant_client_models(installed: None) -> None:
    client = QdrantClient(":memory:")
    client.create_collection(
        "c",
        vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE),
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    client.upsert("c", [models.PointStruct(id=1, vector={"": [1.0, 0.0], "s": _sparse(1)})])
    record = client.retrieve("c", [1], with_vectors=True)[0]
    assert isinstance(record, models.Record)
    assert isinstance(record.vector["s"], models.SparseVector)  # what Haystack checks for hybrid search
    info = client.get_collection("c")
    assert isinstance(info, models.CollectionInfo) and isinstance(info.status, models.CollectionStatus)
    assert isinstance(info.config.params.vectors, models.VectorParams)
    assert info.config.params.vectors.distance is models.Distance.COSINE


def test_constructor_features_survive(installed: None) -> None:
    client = QdrantClient(":memory:", metadata={"from": "haystack"})  # unknown kwargs, as qdrant-client allows
    assert client.init_options["location"] == ":memory:"
    assert client.init_options["metadata"] == {"from": "haystack"}
    twin = AsyncQdrantClient(**client.init_options)
    assert isinstance(twin._client, AsyncQdrantLocal) and type(twin._client).__module__.startswith("qdrant_local.")
    asyncio.run(twin.close())
    client.close()
    assert client._client.closed
    client.close()  # idempotent, like local mode


def test_remote_clients_are_untouched(installed: None) -> None:
    from qdrant_client.qdrant_remote import QdrantRemote

    client = QdrantClient(url="http://localhost:1", check_compatibility=False)  # never connects here
    assert type(client._client) is QdrantRemote
    client.close()


@pytest.mark.parametrize("direction", ["theirs to ours", "ours to theirs"])
def test_migrate_both_ways(installed: None, direction: str) -> None:
    qdrant_local.uninstall()
    theirs = QdrantClient(":memory:")
    qdrant_local.install()
    ours = QdrantClient(":memory:")
    source, destination = (theirs, ours) if direction == "theirs to ours" else (ours, theirs)
    source.create_collection(
        "m",
        vectors_config={"dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
        sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    source.upsert("m", _points(25))
    source.migrate(destination, batch_size=10)
    assert destination.get_collection("m").config.params == source.get_collection("m").config.params
    assert_same(
        source.scroll("m", limit=100, with_vectors=True)[0], destination.scroll("m", limit=100, with_vectors=True)[0]
    )
    assert_same(
        source.query_points("m", query=_vector(2), using="dense", limit=5),
        destination.query_points("m", query=_vector(2), using="dense", limit=5),
    )


def test_install_is_idempotent_and_uninstall_restores() -> None:
    import qdrant_client.async_qdrant_client as async_module
    import qdrant_client.qdrant_client as sync_module

    originals = (sync_module.QdrantLocal, async_module.AsyncQdrantLocal)
    assert originals == (QdrantLocal, AsyncQdrantLocal)
    qdrant_local.install()
    qdrant_local.install()
    try:
        client = QdrantClient(":memory:")
        assert type(client._client) is not QdrantLocal and isinstance(client._client, QdrantLocal)
    finally:
        qdrant_local.uninstall()
    qdrant_local.uninstall()
    assert (sync_module.QdrantLocal, async_module.AsyncQdrantLocal) == originals
    assert type(QdrantClient(":memory:")._client) is QdrantLocal
    assert type(AsyncQdrantClient(":memory:")._client) is AsyncQdrantLocal
    # The client made while installed keeps working on our engine after uninstall.
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    assert client.collection_exists("c")


def test_import_does_not_pull_in_qdrant_client() -> None:
    import subprocess

    code = "import sys, qdrant_local; qdrant_local.__version__; assert 'qdrant_client' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _async_scenario(client: AsyncQdrantClient) -> Callable[[], Any]:
    async def run() -> list[Any]:
        out: list[Any] = []
        out.append(
            await client.create_collection(
                "a", vectors_config={"dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)}
            )
        )
        points = [
            models.PointStruct(id=p.id, vector={"dense": p.vector["dense"]}, payload=p.payload) for p in _points(20)
        ]
        out.append(await client.upsert("a", points))
        client.upload_points("a", points[:5])  # synchronous in qdrant-client's async client too
        out.append(await client.query_points("a", query=_vector(4), using="dense", limit=4))
        out.append(await client.scroll("a", limit=5))
        out.append(await client.count("a"))
        out.append(await client.get_collection("a"))
        await client.close()
        return out

    return run


def test_async_client_matches_local_mode(installed: None) -> None:
    qdrant_local.uninstall()
    expected = asyncio.run(_async_scenario(AsyncQdrantClient(":memory:"))())
    qdrant_local.install()
    client = AsyncQdrantClient(":memory:")
    assert type(client._client).__module__.startswith("qdrant_local.")
    actual = asyncio.run(_async_scenario(client)())
    # get_collection's optimizer status and points count are compared too; the config is the same shape.
    assert_same(expected, actual)


def test_async_client_does_not_block_the_event_loop(installed: None) -> None:
    async def run() -> tuple[int, int]:
        client = AsyncQdrantClient(":memory:")
        await client.create_collection("h", vectors_config=models.VectorParams(size=64, distance=models.Distance.DOT))
        ticks = 0
        done = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        beat = asyncio.create_task(heartbeat())
        batch = models.Batch(ids=list(range(50_000)), vectors=[[float(i % 13)] * 64 for i in range(50_000)])
        await client.upsert("h", batch)
        await client.query_points("h", query=[1.0] * 64, limit=10)
        done.set()
        await beat
        count = (await client.count("h")).count
        await client.close()
        return ticks, count

    ticks, count = asyncio.run(run())
    assert count == 50_000
    assert ticks > 10  # the loop kept running while the engine worked in a thread


def test_conversion_equals_pydantic_validation() -> None:
    """The fast conversion builds exactly what validating our results' dumps with qdrant_client's models builds."""
    from qdrant_client.http import models as rest

    from qdrant_local._compat.convert import to_qdrant_client

    ours = qdrant_local.QdrantClient(":memory:")
    ql = qdrant_local.models
    ours.create_collection(
        "c",
        vectors_config={
            "dense": ql.VectorParams(size=DIM, distance=ql.Distance.COSINE),
            "multi": ql.VectorParams(
                size=2,
                distance=ql.Distance.DOT,
                multivector_config=ql.MultiVectorConfig(comparator=ql.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"sparse": ql.SparseVectorParams(modifier=ql.Modifier.IDF)},
    )
    ours.create_payload_index("c", "group", ql.PayloadSchemaType.KEYWORD)
    ours.upsert(
        "c",
        [
            ql.PointStruct(
                id=i if i % 2 else str(uuid.UUID(int=i + 1)),
                vector={
                    "dense": _vector(i),
                    "multi": [[1.0, float(i)], [0.5, 2.0]],
                    "sparse": ql.SparseVector(indices=[1, 4], values=[0.5, i + 1.0]),
                },
                payload={"group": f"g{i % 3}", "n": i},
            )
            for i in range(12)
        ],
    )
    ours.update_collection_aliases(
        [ql.CreateAliasOperation(create_alias=ql.CreateAlias(collection_name="c", alias_name="a"))]
    )
    results = [
        ours.get_collection("c"),
        ours.get_collections(),
        ours.get_aliases(),
        ours.scroll("c", limit=5, with_vectors=True)[0],
        ours.query_points("c", query=_vector(1), using="dense", limit=3, with_vectors=True),
        ours.query_points_groups("c", query=_vector(2), using="dense", group_by="group", limit=2),
        ours.count("c"),
        ours.facet("c", "group"),
        ours.search_matrix_pairs("c", using="dense", sample=4, limit=2),
        ours.upsert("c", [ql.PointStruct(id=99, vector={"dense": _vector(99)})]),
    ]
    for result in results:
        items = result if isinstance(result, list) else [result]
        for item in items:
            expected = getattr(rest, type(item).__name__).model_validate(item.model_dump())
            converted = to_qdrant_client(item)
            assert converted == expected, type(item).__name__
            _assert_same_types(expected, converted)
    ours.close()


def _assert_same_types(expected: Any, actual: Any, path: str = "$") -> None:
    """Equality alone would let our str-based enums pass for qdrant_client's: compare classes too."""
    assert type(expected) is type(actual), (path, type(expected), type(actual))
    if hasattr(type(expected), "model_fields"):
        for name in type(expected).model_fields:
            _assert_same_types(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
    elif isinstance(expected, (list, tuple)):
        for i, (e, a) in enumerate(zip(expected, actual)):
            _assert_same_types(e, a, f"{path}[{i}]")
    elif isinstance(expected, dict):
        for key in expected:
            _assert_same_types(expected[key], actual[key], f"{path}.{key}")


def test_sync_and_async_clients_share_one_folder(installed: None, tmp_path: Any) -> None:
    """LlamaIndex and Haystack build a sync and an async client from the same path: one engine serves both."""
    folder = str(tmp_path / "shared")
    sync_client = QdrantClient(path=folder)
    async_client = AsyncQdrantClient(path=folder)

    async def run() -> list[Any]:
        await async_client.create_collection(
            "s", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)
        )
        sync_client.upsert("s", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"by": "sync"})])
        records = await async_client.retrieve("s", [1])
        await async_client.close()
        return records

    records = asyncio.run(run())
    assert records[0].payload == {"by": "sync"} and isinstance(records[0], models.Record)
    assert sync_client.count("s").count == 1  # closing one client leaves the other working
    sync_client.close()


def test_unclosed_installed_clients_exit_silently(tmp_path: Any) -> None:
    """qdrant-client's local mode prints tracebacks at exit for clients never closed; installed mode does not."""
    import subprocess

    code = f"""
import asyncio, qdrant_local
qdrant_local.install()
from qdrant_client import AsyncQdrantClient, QdrantClient, models
sync_client = QdrantClient(path={str(tmp_path / "a")!r})
sync_client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
memory_client = QdrantClient(":memory:")
async_client = AsyncQdrantClient(path={str(tmp_path / "b")!r})
asyncio.run(async_client.get_collections())
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    reopened = qdrant_local.QdrantClient(path=str(tmp_path / "a"))  # and the folder was released
    assert reopened.collection_exists("c")
    reopened.close()
