"""Read-only followers: QdrantClient(path=..., read_only=True) beside one writing process.

Real processes: one writer (crashing once part-way, then a second writer continuing) and several
readers, with compactions in between. Readers take no lock, never error, never see part of a request
(see follower_workload.py for how a partial state would show) and end with every request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import InvalidPath, ReadOnlyStorage, StorageRecoveredWarning

from .follower_workload import observed_requests, write
from .helpers import child_env, storage_file, visible_state

WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "follower_workload.py")


def _python(*args: str) -> list[str]:
    return [sys.executable, WORKLOAD, *args]


def test_readers_follow_a_writer_through_compactions_and_a_crash(tmp_path) -> None:
    folder, done = tmp_path / "db", tmp_path / "done"
    folder.mkdir()
    total, crash_at = 48, 29
    readers = [
        subprocess.Popen(
            _python("read", str(folder), str(done), str(total)),
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        first = subprocess.run(
            _python("write", str(folder), "0", str(total), "5", str(crash_at)),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert first.returncode == 3, first.stderr  # died at request crash_at without closing
        second = subprocess.run(
            _python("write", str(folder), str(crash_at), str(total), "4"),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert second.returncode == 0, second.stderr
    finally:
        done.touch()
    for reader in readers:
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, err
        assert out.startswith("ok"), out


def test_a_reader_sees_the_committed_prefix_of_a_crashed_writer_and_what_the_next_writer_adds(tmp_path) -> None:
    write(str(tmp_path), 0, 5, compact_every=0)
    reader = QdrantClient(path=tmp_path, read_only=True)
    assert observed_requests(reader) == 5
    log = storage_file(tmp_path, ".log")
    whole = log.stat().st_size
    with open(log, "ab") as f:  # a crash cut the next request short: half of a frame
        f.write((5000).to_bytes(4, "little") + b"\x00" * 4 + b"\x80" * 100)
    assert observed_requests(reader) == 5  # the torn frame is not there for the reader
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StorageRecoveredWarning)
        write(str(tmp_path), 5, 9, compact_every=0)  # truncates the torn tail, appends in its place
    assert log.stat().st_size > whole
    assert observed_requests(reader) == 9
    fresh = QdrantClient(path=tmp_path, read_only=True)
    assert visible_state(fresh) == visible_state(reader)


def test_a_reader_follows_compactions_and_new_collections(tmp_path) -> None:
    writer = QdrantClient(path=tmp_path)
    reader = QdrantClient(path=tmp_path, read_only=True)
    assert reader.get_collections().collections == []
    writer.create_collection("a", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    writer.create_payload_index("a", "k", models.PayloadSchemaType.KEYWORD)
    writer.upsert("a", [models.PointStruct(id=i, vector=[1.0, i], payload={"k": str(i % 3)}) for i in range(30)])
    assert visible_state(reader) == visible_state(writer)
    for _ in range(3):
        writer.delete("a", [1, 2])
        writer.compact()
        writer.update_collection_aliases(
            [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="a", alias_name="b"))]
        )
    writer.upsert("a", [models.PointStruct(id=99, vector=[0.5, 0.5])])
    assert visible_state(reader) == visible_state(writer)
    assert reader.count("b").count == 29
    writer.delete_collection("a")
    assert reader.get_collections().collections == []


def test_writes_through_a_reader_raise_naming_read_only_and_change_nothing(tmp_path) -> None:
    writer = QdrantClient(path=tmp_path)
    writer.create_collection("a", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    reader = QdrantClient(path=tmp_path, read_only=True)
    before = visible_state(reader)
    attempts = [
        lambda: reader.upsert("a", [models.PointStruct(id=1, vector=[1.0, 2.0])]),
        lambda: reader.create_collection("b", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT)),
        lambda: reader.delete_collection("a"),
        lambda: reader.create_payload_index("a", "k", models.PayloadSchemaType.KEYWORD),
        lambda: reader.batch_update_points(
            "a",
            [models.UpsertOperation(upsert=models.PointsList(points=[models.PointStruct(id=2, vector=[1.0, 0.0])]))],
        ),
        lambda: reader.update_collection_aliases(
            [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="a", alias_name="x"))]
        ),
        reader.compact,
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyStorage, match="read_only=True"):
            attempt()
    assert visible_state(reader) == before
    writer.close()
    assert visible_state(QdrantClient(path=tmp_path, read_only=True)) == before


def test_readers_take_no_lock_and_need_an_existing_folder(tmp_path) -> None:
    readers = [QdrantClient(path=tmp_path, read_only=True) for _ in range(3)]
    with QdrantClient(path=tmp_path) as writer:  # the writer's lock is free
        writer.create_collection("a", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        assert all(r.collection_exists("a") for r in readers)
    with pytest.raises(InvalidPath):
        QdrantClient(path=tmp_path / "missing", read_only=True)
    assert not (tmp_path / "missing").exists()


def test_an_async_client_can_follow_too(tmp_path) -> None:
    import asyncio

    from qdrant_local import AsyncQdrantClient

    writer = QdrantClient(path=tmp_path)
    writer.create_collection("a", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))

    async def follow() -> None:
        reader = AsyncQdrantClient(path=tmp_path, read_only=True)
        assert (await reader.count("a")).count == 0
        writer.upsert("a", [models.PointStruct(id=1, vector=[1.0, 2.0])])
        assert (await reader.count("a")).count == 1
        with pytest.raises(ReadOnlyStorage):
            await reader.upsert("a", [models.PointStruct(id=2, vector=[1.0, 2.0])])
        await reader.close()

    asyncio.run(follow())
    writer.close()
