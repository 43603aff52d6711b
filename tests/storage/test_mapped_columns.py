"""Storage format 4: large dense columns are page-aligned in the snapshot and *mapped* on open (the
matrix's first rows are the file's pages, copy-on-write). Every state survives writes into the mapped
rows, compaction and reopen exactly; damage is a StorageCorrupted naming the column and its offset;
version 3 folders still open; followers map too; the snapshot files are never changed in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import uuid
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qdrant_local
from qdrant_local import QdrantClient, models
from qdrant_local.engine import filemap, growth
from qdrant_local.engine.vectors import DenseVectors
from qdrant_local.errors import ClientClosed, StorageCorrupted
from qdrant_local.storage import framing, snapshot

REPO_ROOT = str(Path(qdrant_local.__file__).resolve().parents[1])
V3_FOLDER = Path(__file__).parent / "data" / "v3_folder"
DIM = 385  # 1,540-byte rows: rows do not end on a page boundary
ROWS = 3000  # 4.6 MB: mapped once reservations start at 64 KiB (the small_reserve fixture)

pytestmark = pytest.mark.skipif(not filemap.available(), reason="pages cannot be placed on this platform")


@pytest.fixture(autouse=True)
def small_reserve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reserve (and align, and map) dense matrices from 64 KiB on, so a few thousand rows are mapped."""
    monkeypatch.setattr(growth, "RESERVE_FROM", 64 << 10)


def _points(client: QdrantClient, name: str) -> list[tuple[Any, Any, Any]]:
    records, _ = client.scroll(name, limit=100_000, with_payload=True, with_vectors=True)
    return [(r.id, r.payload, r.vector) for r in records]


def _state(client: QdrantClient) -> dict[str, Any]:
    names = sorted(c.name for c in client.get_collections().collections)
    return {name: (client.count(name).count, _points(client, name)) for name in names}


def _dense(client: QdrantClient, collection: str, name: str = "") -> DenseVectors:
    vectors = client._db.collections[collection].store.vectors[name]  # type: ignore[union-attr]
    assert isinstance(vectors, DenseVectors)
    return vectors


def _mapped_files() -> list[str]:
    """Snapshot files this process maps (Linux: /proc/self/maps)."""
    with open("/proc/self/maps") as maps:
        return sorted({line.split(None, 5)[5].strip() for line in maps if ".snapshot" in line})


def _fill(client: QdrantClient, rng: np.random.Generator) -> None:
    """Collections of every shape: default dense, named vectors with presence masks, an empty one, UUIDs."""
    client.create_collection("plain", vectors_config=models.VectorParams(size=DIM, distance="Dot"))
    vectors = rng.standard_normal((ROWS, DIM), dtype=np.float32)
    client.upsert(
        "plain",
        models.Batch(
            ids=list(range(ROWS)),
            vectors=vectors,
            payloads=[{"n": i, "text": f"point {i:05d} of the plain collection"} for i in range(ROWS)],
        ),
    )
    client.create_collection(
        "named",
        vectors_config={
            "big": models.VectorParams(size=DIM, distance="Cosine"),
            "half": models.VectorParams(size=301, distance="Euclid"),
            "tiny": models.VectorParams(size=3, distance="Dot"),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    points = []
    for i in range(ROWS):
        vector: dict[str, Any] = {"big": rng.standard_normal(DIM).tolist(), "tiny": [1.0, float(i), 2.0]}
        if i % 2:
            vector["half"] = rng.standard_normal(301).tolist()  # only some points: a presence mask
        if i % 97 == 0:
            vector["s"] = models.SparseVector(indices=[i % 5, 9], values=[1.0, -2.0])
        point_id = str(uuid.UUID(int=i + 1)) if i % 10 == 0 else i
        points.append(models.PointStruct(id=point_id, vector=vector, payload={"i": i}))
    client.upsert("named", points)
    client.create_collection("empty", vectors_config=models.VectorParams(size=DIM, distance="Dot"))


def _reopened(path: Path) -> QdrantClient:
    client = QdrantClient(path=str(path))
    assert _dense(client, "plain").file_backed
    return client


def test_a_v4_snapshot_round_trips_and_its_large_columns_are_mapped(tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    _fill(client, np.random.default_rng(0))
    before = _state(client)
    client.compact()
    placed = client._db.storage.placed  # type: ignore[union-attr]
    client.close()
    # "tiny" and the payloads of "named" are below the size; the payloads of "plain" are mapped too.
    assert sorted((p.meta["collection"], p.name) for p in placed) == [
        ("named", "dense:big"),
        ("named", "dense:half"),
        ("plain", "dense:"),
        ("plain", "payloads"),
    ]
    assert all(p.offset % snapshot.ALIGNMENT == 0 and p.length % snapshot.ALIGNMENT == 0 for p in placed)
    header = (tmp_path / "db" / "00000001.snapshot").read_bytes()[: framing.HEADER_SIZE]
    assert header == framing.encode_header(framing.KIND_SNAPSHOT, 1, 4)

    client = _reopened(tmp_path / "db")
    assert _dense(client, "named", "big").file_backed and _dense(client, "named", "half").file_backed
    assert not _dense(client, "named", "tiny").file_backed
    assert _mapped_files() == [str(tmp_path / "db" / "00000001.snapshot")]
    assert _state(client) == before
    # Exact search over the mapped rows answers as before.
    query = np.random.default_rng(1).standard_normal(DIM).tolist()
    assert client.query_points("plain", query, limit=5).points[0].id is not None
    client.close()


def test_writes_into_mapped_rows_then_compaction_and_reopen_keep_the_exact_state(tmp_path: Path) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    reference = QdrantClient(":memory:")
    rng = np.random.default_rng(2)
    for target in (client, reference):
        _fill(target, np.random.default_rng(0))
    client.close()

    def both(method: str, *args: Any, **kwargs: Any) -> None:
        for target in (client, reference):
            getattr(target, method)(*args, **kwargs)

    client = _reopened(path)
    # Overwrite mapped rows (copy-on-write), append past them, delete some.
    rows = rng.standard_normal((50, DIM), dtype=np.float32)
    both("upsert", "plain", models.Batch(ids=list(range(0, 500, 10)), vectors=rows))
    both("upsert", "plain", models.Batch(ids=list(range(ROWS, ROWS + 700)), vectors=rng.standard_normal((700, DIM))))
    both("upsert", "named", [models.PointStruct(id=5, vector={"big": [0.5] * DIM, "half": [1.0] * 301})])
    both("delete", "plain", points_selector=[1, 2, ROWS + 3])
    assert _state(client) == _state(reference)
    client.compact()  # tombstones in "plain": its column is gathered, the old pages stay mapped
    assert _state(client) == _state(reference)
    client.close()

    client = _reopened(path)
    assert _state(client) == _state(reference)
    both("upsert", "plain", models.Batch(ids=[7, ROWS + 800], vectors=[[3.0] * DIM, [4.0] * DIM]))
    client.compact()  # no tombstone: every mapped matrix moves onto the new snapshot's identical pages
    assert _mapped_files() == [str(path / "00000003.snapshot")]  # the old file is let go (and its disk space)
    assert _state(client) == _state(reference)
    both("upsert", "plain", models.Batch(ids=[8], vectors=[[5.0] * DIM]))  # a write after the re-mapping
    # Delete past a quarter of the points: the store compacts in place, handing the file's pages past
    # the kept rows back as zeros.
    both("delete", "plain", points_selector=list(range(0, ROWS, 2)))
    assert _state(client) == _state(reference)
    client.compact()  # no deleted row left in the matrix: mapped onto the new file, the old one let go
    assert _mapped_files() == [str(path / "00000004.snapshot")]
    assert _state(client) == _state(reference)
    client.close()
    client = QdrantClient(path=str(path))
    assert _state(client) == _state(reference)
    client.close()


def test_the_fallback_reads_the_column_when_pages_cannot_be_placed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    _fill(client, np.random.default_rng(0))
    before = _state(client)
    client.close()
    monkeypatch.setattr(filemap, "_libc_mmap", False)  # as on a platform without libc mmap
    client = QdrantClient(path=str(tmp_path / "db"))
    assert not _dense(client, "plain").file_backed
    assert _state(client) == before
    client.close()


def _damage(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


def _compacted_with_placements(path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> list[snapshot.Placement]:
    monkeypatch.setattr(snapshot, "COLUMN_FRAME_BYTES", chunk)
    client = QdrantClient(path=str(path))
    _fill(client, np.random.default_rng(0))
    client.compact()
    placed = list(client._db.storage.placed)  # type: ignore[union-attr]
    client.close()
    return placed


@pytest.mark.parametrize("mapped", [True, False], ids=["mapped", "read"])
def test_a_damaged_byte_in_a_mapped_column_names_the_column_and_its_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool
) -> None:
    path = tmp_path / "db"
    chunk = 1 << 20
    placed = _compacted_with_placements(path, chunk, monkeypatch)
    column = next(p for p in placed if p.name == "dense:big")
    snapshot_file = path / "00000001.snapshot"
    pristine = snapshot_file.read_bytes()
    _damage(snapshot_file, column.offset + 2 * chunk + 123)  # inside the column's third chunk
    if not mapped:
        monkeypatch.setattr(filemap, "_libc_mmap", False)
    with pytest.raises(StorageCorrupted) as caught:
        QdrantClient(path=str(path))
    assert caught.value.file == str(snapshot_file)
    assert caught.value.offset == column.offset + 2 * chunk
    assert "dense:big" in str(caught.value)
    payloads = next(p for p in placed if p.name == "payloads")  # an aligned column mapped read-only
    snapshot_file.write_bytes(pristine)
    _damage(snapshot_file, payloads.offset + 7)
    with pytest.raises(StorageCorrupted) as caught:
        QdrantClient(path=str(path))
    assert caught.value.offset == payloads.offset and "'payloads'" in str(caught.value)


def test_damage_in_a_columns_padding_or_checksums_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "db"
    placed = _compacted_with_placements(path, 1 << 20, monkeypatch)
    column = next(p for p in placed if p.name == "dense:")
    snapshot_file = path / "00000001.snapshot"
    pristine = snapshot_file.read_bytes()
    for offset in (
        column.offset - 1,  # the zeros that align the column
        column.offset + column.nbytes + 1,  # the zeros that pad it (checked by the last chunk's CRC)
        column.offset + column.length + framing.FRAME_HEADER_SIZE + 2,  # its CRC frame
    ):
        snapshot_file.write_bytes(pristine)
        _damage(snapshot_file, offset)
        with pytest.raises(StorageCorrupted) as caught:
            QdrantClient(path=str(path))
        assert caught.value.file == str(snapshot_file)
        assert "dense:" in str(caught.value)
    snapshot_file.write_bytes(pristine)
    QdrantClient(path=str(path)).close()


def _v3_reference() -> QdrantClient:
    """What tests/storage/data/v3_folder holds (written by qdrant_local at format 3, the same calls)."""
    client = QdrantClient(":memory:")
    client.create_collection(
        "mixed",
        vectors_config={
            "a": models.VectorParams(size=5, distance="Cosine"),
            "b": models.VectorParams(size=3, distance="Dot"),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    client.create_payload_index("mixed", "n", models.PayloadSchemaType.INTEGER)
    rng = np.random.default_rng(3)
    points = []
    for i in range(40):
        vector: dict[str, Any] = {"a": rng.standard_normal(5).round(3).tolist()}
        if i % 3 == 0:
            vector["b"] = rng.standard_normal(3).round(3).tolist()
        if i % 4 == 0:
            vector["s"] = models.SparseVector(indices=[i % 7, 11], values=[0.5, -1.0])
        point_id = str(uuid.UUID(int=i * 7919)) if i % 10 == 0 else i
        points.append(models.PointStruct(id=point_id, vector=vector, payload={"n": i, "tag": ["x", i % 4]}))
    client.upsert("mixed", points)
    client.create_collection("plain", vectors_config=models.VectorParams(size=4, distance="Euclid"))
    client.upsert("plain", models.Batch(ids=list(range(30)), vectors=rng.standard_normal((30, 4)).round(3).tolist()))
    client.delete("plain", [3, 4])
    client.set_payload("mixed", {"late": True}, points=[1])
    return client


def test_a_version_3_folder_opens_unchanged_and_is_rewritten_in_version_4(tmp_path: Path) -> None:
    path = tmp_path / "v3"
    shutil.copytree(V3_FOLDER, path)
    assert (path / "00000001.snapshot").read_bytes()[8:10] == (3).to_bytes(2, "little")
    expected = _state(_v3_reference())
    client = QdrantClient(path=str(path))
    assert _state(client) == expected
    client.close()
    snapshots = sorted(path.glob("*.snapshot"))
    assert [s.name for s in snapshots] == ["00000002.snapshot"]  # the writer upgraded the folder
    assert snapshots[0].read_bytes()[8:10] == (4).to_bytes(2, "little")
    client = QdrantClient(path=str(path))
    assert _state(client) == expected
    client.close()


def test_a_follower_maps_a_v4_folder_and_follows_its_compactions(tmp_path: Path) -> None:
    path = tmp_path / "db"
    writer = QdrantClient(path=str(path))
    _fill(writer, np.random.default_rng(0))
    writer.compact()
    follower = QdrantClient(path=str(path), read_only=True)
    assert _dense(follower, "plain").file_backed
    assert _state(follower) == _state(writer)
    writer.upsert("plain", models.Batch(ids=[1, ROWS + 1], vectors=[[2.0] * DIM, [3.0] * DIM]))
    writer.compact()
    assert _state(follower) == _state(writer)  # reloaded from the new generation, mapped again
    assert _dense(follower, "plain").file_backed
    writer.close()
    follower.close()


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from qdrant_local import QdrantClient, models
    from qdrant_local.engine import growth
    growth.RESERVE_FROM = 64 << 10
    client = QdrantClient(path=sys.argv[1])
    client.create_collection("plain", vectors_config=models.VectorParams(size={dim}, distance="Dot"))
    rows = np.random.default_rng(0).standard_normal(({rows}, {dim}), dtype=np.float32)
    client.upsert("plain", models.Batch(ids=list(range({rows})), vectors=rows))
    client.compact()
    print("ready", flush=True)
    for step in range(3):
        sys.stdin.readline()
        client.upsert("plain", models.Batch(ids=[step], vectors=[[float(step)] * {dim}]))
        client.compact()
        print("compacted", flush=True)
    client.close()
    """
).format(dim=DIM, rows=ROWS)


def test_a_follower_in_another_process_reads_the_writers_mapped_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "db"
    env = {**os.environ, "PYTHONPATH": REPO_ROOT}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "ready"
        follower = QdrantClient(path=str(path), read_only=True)
        assert _dense(follower, "plain").file_backed
        for step in range(3):
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == "compacted"
            point = follower.retrieve("plain", [step], with_vectors=True)[0]
            assert point.vector == [float(step)] * DIM
            assert follower.count("plain").count == ROWS
        follower.close()
    finally:
        writer.communicate(timeout=60)
    assert writer.returncode == 0


def test_searches_in_another_thread_stay_right_while_compactions_remap_the_matrix(tmp_path: Path) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    _fill(client, np.random.default_rng(0))
    target = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    client.upsert("plain", models.Batch(ids=[123], vectors=[target.tolist()]))
    client.close()
    client = _reopened(path)
    failures: list[Any] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            hits = client.query_points("plain", target.tolist(), limit=1, with_vectors=True).points
            if hits[0].id != 123 or not isinstance(hits[0].vector, list):
                failures.append(hits)

    reader = threading.Thread(target=search)
    reader.start()
    try:
        for step in range(4):
            client.upsert("plain", models.Batch(ids=[ROWS + step], vectors=[[0.01] * DIM]))
            client.compact()
    finally:
        stop.set()
        reader.join()
    assert not failures
    client.close()


def test_use_after_close_raises_and_results_never_alias_the_matrix(tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    _fill(client, np.random.default_rng(0))
    client.close()
    client = _reopened(tmp_path / "db")
    record = client.retrieve("plain", [3], with_vectors=True)[0]
    hit = client.query_points("plain", [1.0] * DIM, limit=1, with_vectors=True).points[0]
    assert isinstance(record.vector, list) and isinstance(hit.vector, list)  # copies, not views of the pages
    client.close()
    assert record.vector == record.vector  # still readable after the pages are gone
    with pytest.raises(ClientClosed):
        client.query_points("plain", [1.0] * DIM, limit=1)
    with pytest.raises(ClientClosed):
        client.retrieve("plain", [3])


def test_snapshot_files_are_never_changed_in_place(tmp_path: Path) -> None:
    """A mapped file truncated under a reader would kill it (SIGBUS): the writer only ever writes new
    files and renames them into place, so every snapshot keeps its bytes while anyone can hold it."""
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    _fill(client, np.random.default_rng(0))
    client.compact()
    client.close()
    held = open(path / "00000001.snapshot", "rb")  # noqa: SIM115 - kept open across the writes below
    try:
        size, crc = os.fstat(held.fileno()).st_size, zlib.crc32(held.read())
        client = _reopened(path)
        client.upsert("plain", models.Batch(ids=[1, ROWS + 5], vectors=[[1.0] * DIM, [2.0] * DIM]))
        client.delete("plain", points_selector=list(range(0, ROWS, 3)))
        client.compact()
        client.compact()
        client.close()
        QdrantClient(path=str(path)).close()
        held.seek(0)
        assert os.fstat(held.fileno()).st_size == size and zlib.crc32(held.read()) == crc
    finally:
        held.close()
