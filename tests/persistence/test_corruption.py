"""Damaged folders, seen through the client: each case recovers as specified or raises a clear error.

Recoverable (a crash explains it): a torn or CRC-failing *last* log record, garbage after the last
record, a zero-length log. The client opens with a StorageRecoveredWarning naming the file and offset,
and shows exactly the state after the intact records; the folder then works normally.

Errors (no crash explains it): a damaged record before the tail, damage in a snapshot, a missing
snapshot, foreign files. The client refuses to open with a RuntimeError subclass (StorageCorrupted or
ForeignStorage) whose message names the file and, where there is one, the byte offset; the folder is
not modified and not left locked, so the same error comes again on the next attempt.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import warnings
from pathlib import Path
from typing import Any

import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import ForeignStorage, StorageCorrupted, StorageLocked, StorageRecoveredWarning
from qdrant_local.storage import framing

from .helpers import folder_bytes, open_client, storage_file, visible_state

N_REQUESTS = 8


def request(client: QdrantClient, index: int) -> None:
    """Request ``index`` of the sequence: request 0 creates the collection, each later one is one upsert."""
    if index == 0:
        client.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE))
        return
    client.upsert(
        "docs",
        [
            models.PointStruct(id=index * 10 + k, vector=[index, k, 1.0, -0.5], payload={"req": index, "k": k})
            for k in range(3)
        ],
    )


@pytest.fixture(scope="module")
def expected_states() -> list[dict[str, Any]]:
    """expected_states[p]: the state after the first p requests (p = 0 .. N_REQUESTS)."""
    client = QdrantClient(":memory:")
    states = [visible_state(client)]
    for index in range(N_REQUESTS):
        request(client, index)
        states.append(visible_state(client))
    client.close()
    return states


def write_folder(path: Path, count: int = N_REQUESTS, *, compact_after: int | None = None) -> None:
    client = QdrantClient(path=str(path))
    for index in range(count):
        request(client, index)
        if compact_after is not None and index + 1 == compact_after:
            client.compact()
    client.close()


def frame_offsets(file: Path) -> list[int]:
    """Offsets of the record frames of a well-formed log (or snapshot), then the offset where they end."""
    data = file.read_bytes()
    offsets, pos = [], framing.HEADER_SIZE
    while pos + framing.FRAME_HEADER_SIZE <= len(data):
        (length,) = struct.unpack_from("<I", data, pos)
        if length == 0:  # a snapshot's trailer
            break
        offsets.append(pos)
        pos += framing.FRAME_HEADER_SIZE + length
    return offsets + [pos]


def flip_byte(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x5A
    file.write_bytes(bytes(data))


def folder_digest(path: Path) -> dict[str, str]:
    """Relative name -> content hash of every file under the folder (to show a refused folder was not touched).

    The ``.lock`` file is left out: taking the lock creates it (see test_foreign_folder_gets_no_lock_file).
    """
    return {
        str(file.relative_to(path)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != ".lock"
    }


def open_recovering(path: Path) -> tuple[QdrantClient, list[str]]:
    """Open a damaged folder; returns the client and the StorageRecoveredWarning messages (nothing else allowed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = QdrantClient(path=str(path))
    other = [w for w in caught if not issubclass(w.category, StorageRecoveredWarning)]
    assert not other, [str(w.message) for w in other]
    return client, [str(w.message) for w in caught]


def assert_refused(path: Path, error: type[Exception], *fragments: str) -> Exception:
    """Opening ``path`` raises ``error`` (a RuntimeError) naming every fragment, twice, leaving files unchanged."""
    before = folder_digest(path)
    messages = []
    for _ in range(2):  # the second attempt proves the failed open released the lock
        with pytest.raises(error) as info:
            QdrantClient(path=str(path))
        assert isinstance(info.value, RuntimeError)
        assert not isinstance(info.value, StorageLocked)
        messages.append(str(info.value))
        for fragment in fragments:
            assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"
    assert messages[0] == messages[1]
    assert folder_digest(path) == before, "a refused folder must not be modified"
    return info.value


def assert_works_after(path: Path, expected: dict[str, Any]) -> None:
    """The recovered folder accepts more writes and reopens cleanly (no second warning) with them."""
    client = open_client(path)
    assert visible_state(client) == expected
    client.upsert("docs", [models.PointStruct(id=999, vector=[1, 2, 3, 4], payload={"after": True})])
    state = visible_state(client)
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    reopened.close()


# ------------------------------------------------------------------------------ recoverable damage


@pytest.mark.parametrize("cut", ["1 byte", "inside the body", "whole body, frame header left", "half the frame header"])
def test_truncated_tail_drops_only_the_last_record(tmp_path: Path, expected_states: list[Any], cut: str) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    offsets = frame_offsets(log)
    last, end = offsets[-2], offsets[-1]
    new_size = {
        "1 byte": end - 1,
        "inside the body": (last + framing.FRAME_HEADER_SIZE + end) // 2,
        "whole body, frame header left": last + framing.FRAME_HEADER_SIZE,
        "half the frame header": last + framing.FRAME_HEADER_SIZE // 2,
    }[cut]
    os.truncate(log, new_size)

    client, messages = open_recovering(path)
    assert visible_state(client) == expected_states[N_REQUESTS - 1]
    client.close()
    assert len(messages) == 1 and str(log) in messages[0] and f"offset {last}" in messages[0], messages
    assert log.stat().st_size == last, "the torn record is cut off the file"
    assert_works_after(path, expected_states[N_REQUESTS - 1])


@pytest.mark.parametrize("garbage", [b"\x00" * 100, b"\xff" * 7, bytes(range(256)) * 3, b"\x05\x00\x00\x00abc"])
def test_garbage_after_the_last_record_loses_nothing(
    tmp_path: Path, expected_states: list[Any], garbage: bytes
) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    size = log.stat().st_size
    with open(log, "ab") as f:
        f.write(garbage)

    client, messages = open_recovering(path)
    assert visible_state(client) == expected_states[N_REQUESTS]
    client.close()
    assert len(messages) == 1 and str(log) in messages[0] and f"offset {size}" in messages[0], messages
    assert log.stat().st_size == size
    assert_works_after(path, expected_states[N_REQUESTS])


@pytest.mark.parametrize("where", ["length field", "crc field", "first body byte", "last body byte"])
def test_flipped_byte_in_the_last_record_drops_it(tmp_path: Path, expected_states: list[Any], where: str) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    offsets = frame_offsets(log)
    last, end = offsets[-2], offsets[-1]
    flip_byte(
        log,
        {"length field": last, "crc field": last + 5, "first body byte": last + 8, "last body byte": end - 1}[where],
    )

    client, messages = open_recovering(path)
    assert visible_state(client) == expected_states[N_REQUESTS - 1]
    client.close()
    assert len(messages) == 1 and str(log) in messages[0] and f"offset {last}" in messages[0], messages
    assert_works_after(path, expected_states[N_REQUESTS - 1])


def test_zero_length_log_is_an_interrupted_creation(tmp_path: Path, expected_states: list[Any]) -> None:
    """A log emptied by a crash right after its creation: no record was ever acknowledged in it."""
    path = tmp_path / "db"
    write_folder(path, count=0)
    log = storage_file(path, ".log")
    os.truncate(log, 0)
    client, messages = open_recovering(path)
    assert visible_state(client) == expected_states[0]
    client.close()
    assert len(messages) == 1 and str(log) in messages[0]
    client = open_client(path)
    request(client, 0)
    client.close()
    assert visible_state(reopened := open_client(path)) == expected_states[1]
    reopened.close()


def test_zero_length_log_after_a_compaction_keeps_the_snapshot(tmp_path: Path, expected_states: list[Any]) -> None:
    path = tmp_path / "db"
    write_folder(path, count=5, compact_after=5)
    log = storage_file(path, ".log")
    os.truncate(log, 0)
    client, messages = open_recovering(path)
    assert visible_state(client) == expected_states[5]
    client.close()
    assert len(messages) == 1 and str(log) in messages[0]


# ------------------------------------------------------------------------------------- clear errors


@pytest.mark.parametrize("record", [1, 3, N_REQUESTS - 2])
def test_flipped_byte_before_the_tail_is_a_clear_error(tmp_path: Path, record: int) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    offsets = frame_offsets(log)
    damaged = offsets[record]
    flip_byte(log, (damaged + 8 + offsets[record + 1]) // 2)  # inside the body: CRC mismatch
    assert_refused(path, StorageCorrupted, str(log), f"byte offset {damaged}")


def test_damaged_length_before_the_tail_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    damaged = frame_offsets(log)[2]
    flip_byte(log, damaged + 3)  # the length's high byte: the frame claims to run past the end of the file
    assert_refused(path, StorageCorrupted, str(log), f"byte offset {damaged}")


def test_damaged_log_header_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    flip_byte(log, 2)
    assert_refused(path, StorageCorrupted, str(log), "byte offset 0")


@pytest.mark.parametrize("damage", ["flip in a record", "flip in the trailer", "truncated", "bytes appended"])
def test_damaged_snapshot_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "db"
    write_folder(path, compact_after=6)
    snapshot = storage_file(path, ".snapshot")
    offsets = frame_offsets(snapshot)
    size = snapshot.stat().st_size
    if damage == "flip in a record":
        flip_byte(snapshot, offsets[1] + 9)
        fragments = [str(snapshot), f"byte offset {offsets[1]}"]
    elif damage == "flip in the trailer":
        flip_byte(snapshot, size - 1)
        fragments = [str(snapshot), f"byte offset {offsets[-1]}"]
    elif damage == "truncated":
        os.truncate(snapshot, size - 20)
        fragments = [str(snapshot), "byte offset"]
    else:
        with open(snapshot, "ab") as f:
            f.write(b"\x00" * 16)
        fragments = [str(snapshot), "byte offset"]
    assert_refused(path, StorageCorrupted, *fragments)


@pytest.mark.parametrize("log_state", ["records after the snapshot", "no record after the snapshot"])
def test_missing_snapshot_is_a_clear_error(tmp_path: Path, log_state: str) -> None:
    """Never replay a log on the wrong base, and never open it as an empty store (that would lose everything)."""
    path = tmp_path / "db"
    write_folder(path, count=N_REQUESTS if log_state.startswith("records") else 6, compact_after=6)
    snapshot = storage_file(path, ".snapshot")
    log = storage_file(path, ".log")
    snapshot.unlink()
    error = assert_refused(path, StorageCorrupted, str(log))
    assert snapshot.name in str(error)


def test_missing_log_after_compaction_is_refused(tmp_path: Path) -> None:
    """A snapshot without its log means lost files (possibly acknowledged records): a clear error naming the log."""
    path = tmp_path / "db"
    write_folder(path, count=6, compact_after=6)
    log = storage_file(path, ".log")
    log.unlink()
    assert_refused(path, StorageCorrupted, str(log))


def test_foreign_files_are_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "db"
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    assert_refused(path, ForeignStorage, str(path), "notes.txt")
    assert (path / "notes.txt").read_text() == "mine"


def test_foreign_folder_gets_no_lock_file(tmp_path: Path) -> None:
    """ForeignStorage promises that nothing is changed in such a folder; a stray .lock is a change."""
    path = tmp_path / "db"
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    with pytest.raises(ForeignStorage):
        QdrantClient(path=str(path))
    assert sorted(os.listdir(path)) == ["notes.txt"]


def test_a_qdrant_client_folder_is_refused_with_a_pointer_to_migrate(tmp_path: Path) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    path = tmp_path / "theirs"
    theirs = qdrant_client.QdrantClient(path=str(path))
    theirs.create_collection("c", vectors_config=qdrant_client.models.VectorParams(size=2, distance="Dot"))
    theirs.upsert("c", [qdrant_client.models.PointStruct(id=1, vector=[1.0, 2.0])])
    theirs.close()
    error = assert_refused(path, ForeignStorage, str(path), "qdrant-client")
    assert "migrate" in str(error)
    # qdrant-client can still read its folder: nothing was changed
    again = qdrant_client.QdrantClient(path=str(path))
    assert again.count("c").count == 1
    again.close()


def test_a_file_as_path_raises_like_qdrant_client(tmp_path: Path) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(Exception) as theirs:
        qdrant_client.QdrantClient(path=str(file))
    with pytest.raises(Exception) as ours:
        QdrantClient(path=str(file))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("read_only", [False, True])
def test_an_empty_path_is_refused_and_the_working_directory_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: bool
) -> None:
    """QdrantClient(path="") used to make the current directory a storage folder (issue 8 item 9)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    kwargs = {"read_only": True} if read_only else {}
    with pytest.raises(ValueError, match="path='' names no folder"):
        QdrantClient(path="", **kwargs)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    os.remove(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="path='' names no folder"):
        QdrantClient(path="", **kwargs)  # an empty working directory is not taken either
    assert os.listdir(tmp_path) == []


def test_missing_and_empty_folders_start_empty_stores(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "db"
    empty = tmp_path / "empty"
    empty.mkdir()
    for path in (nested, empty):
        client = open_client(path)
        assert visible_state(client) == {"collections": [], "aliases": []}
        request(client, 0)
        client.close()
        client = open_client(path)
        assert [c.name for c in client.get_collections().collections] == ["docs"]
        client.close()
        assert re.fullmatch(r"\d+", storage_file(path, ".log").stem)
        assert folder_bytes(path) > 0


# ---------------------------------------------------------------- the user's bytes never decide (item 7)


def vector_holding_a_whole_frame(dim: int) -> list[float]:
    """A vector whose float32 bytes contain a whole, valid record frame (all of its floats finite)."""
    import msgpack
    import numpy as np

    for salt in range(10_000):
        body = msgpack.packb({"op": "delete_collection", "name": f"docs{salt}"}, use_bin_type=True)
        frame = framing.encode_frame_header(body) + body
        data = frame + b"\0" * (-len(frame) % 4)
        floats = np.frombuffer(data, dtype="<f4")
        if np.isfinite(floats).all() and len(floats) <= dim:
            padded = np.zeros(dim, dtype=np.float32)
            padded[: len(floats)] = floats
            return padded.tolist()
    raise AssertionError("no salt gives finite floats")


def test_a_torn_record_whose_vector_bytes_form_a_whole_frame_is_still_a_torn_tail(tmp_path: Path) -> None:
    """Raw float32 bytes can look like a record frame; cut short by a crash, the record is still a torn tail
    (it used to be refused with "a whole record follows")."""
    path = tmp_path / "db"
    dim = 32
    client = QdrantClient(path=str(path))
    client.create_collection("docs", vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT))
    client.upsert("docs", [models.PointStruct(id=1, vector=[1.0] * dim)])
    expected = visible_state(client)
    client.upsert(
        "docs", [models.PointStruct(id=2, vector=vector_holding_a_whole_frame(dim), payload={"pad": "x" * 64})]
    )
    client.close()
    log = storage_file(path, ".log")
    data = log.read_bytes()
    last = frame_offsets(log)[-2]
    assert framing.find_whole_frame(memoryview(data), last + 1, len(data)) is not None, "the vector holds a frame"
    log.write_bytes(data[:-40])  # the crash cut the record after its vector, inside the payload
    client, warned = open_recovering(path)
    assert len(warned) == 1 and f"byte offset {last}" in warned[0]
    assert visible_state(client) == expected
    client.upsert("docs", [models.PointStruct(id=3, vector=[2.0] * dim)])
    state = visible_state(client)
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    reopened.close()


def _framed(kind: int, generation: int, bodies: list[bytes], version: int, *, trailer: bool) -> bytes:
    out = [framing.encode_header(kind, generation, version=version)]
    out += [framing.encode_frame_header(body, version=version) + body for body in bodies]
    if trailer:
        out.append(framing.encode_trailer(len(bodies), version=version))
    return b"".join(out)


def write_legacy_folder(path: Path, version: int, compact_after: int | None) -> None:
    """The folder an older qdrant_local (storage format ``version``, 1 or 2) left after the N requests:
    a log of one record per request, or a snapshot of records (an upsert per chunk of points, no column
    blocks) of the state after ``compact_after`` requests, followed by the log of the rest."""
    import msgpack

    from qdrant_local.transfer.archive import collection_records

    write_folder(path)  # current format, no compaction: one record per request
    log = storage_file(path, ".log")
    data = log.read_bytes()
    offsets = frame_offsets(log)
    bodies = [data[start + framing.FRAME_HEADER_SIZE : end] for start, end in zip(offsets, offsets[1:])]
    assert len(bodies) == N_REQUESTS
    log.unlink()
    if compact_after is None:
        (path / "00000000.log").write_bytes(_framed(framing.KIND_LOG, 0, bodies, version, trailer=False))
        return
    client = QdrantClient(":memory:")
    for index in range(compact_after):
        request(client, index)
    collection = client._database.collections["docs"]  # type: ignore[attr-defined]
    records = [msgpack.packb(record, use_bin_type=True) for record in collection_records(collection)]
    client.close()
    snapshot = _framed(framing.KIND_SNAPSHOT, 1, records, version, trailer=True)
    (path / "00000001.snapshot").write_bytes(snapshot)
    (path / "00000001.log").write_bytes(_framed(framing.KIND_LOG, 1, bodies[compact_after:], version, trailer=False))


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("compact_after", [None, 4])
def test_a_folder_in_an_older_format_opens_and_is_rewritten_in_the_current_one(
    tmp_path: Path, expected_states: list[dict[str, Any]], compact_after: int | None, version: int
) -> None:
    path = tmp_path / "db"
    write_legacy_folder(path, version, compact_after)
    assert storage_file(path, ".log").read_bytes()[8:10] == version.to_bytes(2, "little")
    client = open_client(path)
    assert visible_state(client) == expected_states[N_REQUESTS]
    client.close()
    generation = 2 if compact_after else 1  # the open compacted the folder into the current format
    assert storage_file(path, ".log").name == f"{generation:08d}.log"
    for file in (storage_file(path, ".log"), storage_file(path, ".snapshot")):
        assert file.read_bytes()[8:10] == framing.FORMAT_VERSION.to_bytes(2, "little")
    assert_works_after(path, expected_states[N_REQUESTS])


def test_a_newer_format_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "db"
    write_folder(path)
    log = storage_file(path, ".log")
    data = log.read_bytes()
    log.write_bytes(
        framing.encode_header(framing.KIND_LOG, 0, version=framing.FORMAT_VERSION + 1) + data[framing.HEADER_SIZE :]
    )
    assert_refused(
        path,
        StorageCorrupted,
        str(log),
        f"unsupported storage format version {framing.FORMAT_VERSION + 1}",
        "newer qdrant_local",
    )


# ------------------------------------------------ records with a valid checksum that cannot be replayed


def _upsert(ids: list[Any], dense: dict[str, Any] | None = None, payloads: Any = None) -> dict[str, Any]:
    import numpy as np

    rows = np.ones((len(ids), 4), dtype="<f4")
    positions = np.arange(len(ids), dtype="<i8")
    vectors = dense if dense is not None else {"": [positions.tobytes(), 4, rows.tobytes()]}
    return {
        "op": "points",
        "collection": "docs",
        "body": {
            "op": "upsert",
            "ids": ids,
            "payloads": [{}] * len(ids) if payloads is None else payloads,
            "vectors": {"dense": vectors, "multi": {}, "sparse": {}},
        },
    }


CRAFTED_RECORDS: dict[str, tuple[Any, str]] = {
    "unknown record kind": ({"op": "bogus"}, "unknown record kind 'bogus'"),
    "no kind": ({"name": "docs"}, "unknown record kind None"),
    "missing collection": (
        {"op": "points", "collection": "nope", "body": {"op": "delete", "ids": [1]}},
        "collection 'nope' does not exist",
    ),
    "unknown point operation": (
        {"op": "points", "collection": "docs", "body": {"op": "explode"}},
        "unknown point operation",
    ),
    "negative id": (_upsert([-1]), "-1 is not a valid point id"),
    "malformed uuid": (_upsert(["not-a-uuid"]), "'not-a-uuid' is not a valid point id"),
    "uuid not canonical": (_upsert(["8D2F6A4E-1C3B-4A5D-9E7F-0A1B2C3D4E5F"]), "is not a valid point id"),
    "id twice in one upsert": (_upsert([5, 5]), "a point id appears twice"),
    "vector bytes too short": (_upsert([5], {"": [b"\0" * 8, 4, b"\0" * 12]}), "bytes do not match"),
    "wrong dimension": (_upsert([5], {"": [b"\0" * 8, 3, b"\0" * 12]}), "has dimension 3, the collection 4"),
    "unknown vector name": (_upsert([5], {"v": [b"\0" * 8, 4, b"\0" * 16]}), "no dense vector named 'v'"),
    "position out of range": (
        _upsert([5], {"": [(7).to_bytes(8, "little"), 4, b"\0" * 16]}),
        "a position names no point",
    ),
    "payload not a map": (_upsert([5], payloads=[[1, 2]]), "a payload is not a map"),
    "payload count": (_upsert([5], payloads=[]), "not one payload per point"),
    "vectors missing": (
        {"op": "points", "collection": "docs", "body": {"op": "upsert", "ids": [1], "payloads": [{}]}},
        "'vectors'",
    ),
    "update of a missing point": (
        {
            "op": "points",
            "collection": "docs",
            "body": {"op": "update_vectors", "ids": [12345], "vectors": {"dense": {}, "multi": {}, "sparse": {}}},
        },
        "update_vectors names points that do not exist",
    ),
    "bad key path": (
        {"op": "points", "collection": "docs", "body": {"op": "delete_payload", "ids": [11], "keys": ["a[x"]}},
        "is not a valid path",
    ),
    "batch not a list": (
        {"op": "points", "collection": "docs", "body": {"op": "batch", "ops": 5}},
        "batch: operations",
    ),
    "delete of a missing collection": ({"op": "delete_collection", "name": "nope"}, "collection 'nope' does not exist"),
    "collection created twice": ({"op": "create_collection", "name": "docs", "config": {}}, "created twice"),
    "alias to a missing collection": ({"op": "aliases", "aliases": {"a": "nope"}}, "which does not exist"),
    "name not text": ({"op": "delete_collection", "name": 5}, "field 'name' is int"),
    "unreadable config": (
        {"op": "create_collection", "name": "new", "config": {"vectors": 5}},
        "record does not replay",
    ),
}


@pytest.mark.parametrize("case", sorted(CRAFTED_RECORDS))
def test_a_record_with_a_valid_checksum_that_cannot_be_replayed_is_storage_corrupted(tmp_path: Path, case: str) -> None:
    """Never KeyError, IndexError, AttributeError, a bare ValueError or an InvalidInput (issue 8 item 6)."""
    import msgpack

    record, reason = CRAFTED_RECORDS[case]
    path = tmp_path / "db"
    write_folder(path, count=3)
    log = storage_file(path, ".log")
    offset = log.stat().st_size
    body = msgpack.packb(record, use_bin_type=True)
    with open(log, "ab") as f:
        f.write(framing.encode_frame_header(body) + body)
    error = assert_refused(path, StorageCorrupted, str(log), f"byte offset {offset}", reason)
    assert type(error) is StorageCorrupted


def snapshot_frames(file: Path) -> tuple[list[int], list[bytes], int]:
    """(offsets, bodies, item count) of a snapshot's frames (column frames included)."""
    data = file.read_bytes()
    offsets = frame_offsets(file)
    bodies = [data[start + framing.FRAME_HEADER_SIZE : end] for start, end in zip(offsets, offsets[1:])]
    (count,) = struct.unpack_from("<Q", data, len(data) - 8)
    return offsets[:-1], bodies, count


def block_start(bodies: list[bytes]) -> int:
    """Index of the frame holding the (only) column block's descriptor."""
    import msgpack

    for index, body in enumerate(bodies):
        try:
            record = msgpack.unpackb(body, raw=False, strict_map_key=False)
        except Exception:
            continue
        if isinstance(record, dict) and "$columns" in record:
            return index
    raise AssertionError("no column block in the snapshot")


def column_frame(bodies: list[bytes], name: str) -> int:
    """Index of the frame holding column ``name`` of the block (small columns: one frame each)."""
    import msgpack

    first = block_start(bodies)
    names = [column for column, size in msgpack.unpackb(bodies[first], raw=False)["$columns"] if size]
    return first + 1 + names.index(name)


def write_frames(file: Path, generation: int, bodies: list[bytes], count: int) -> None:
    framed = [framing.encode_frame_header(body) + body for body in bodies]
    header = framing.encode_header(framing.KIND_SNAPSHOT, generation)
    file.write_bytes(header + b"".join(framed) + framing.encode_trailer(count))


def test_a_point_twice_in_a_snapshot_is_storage_corrupted(tmp_path: Path) -> None:
    """A duplicated id used to load, with count and scroll disagreeing (issue 8 item 6): here the whole
    column block of the collection's points is there twice."""
    path = tmp_path / "db"
    write_folder(path, compact_after=N_REQUESTS)
    snapshot = storage_file(path, ".snapshot")
    offsets, bodies, count = snapshot_frames(snapshot)
    first = block_start(bodies)
    write_frames(snapshot, 1, bodies + bodies[first:], count + 1)
    second = frame_offsets(snapshot)[len(bodies)]
    assert_refused(path, StorageCorrupted, str(snapshot), f"byte offset {second}", "appears twice in the snapshot")


# ------------------------------------------------ column blocks (storage format 3)


def test_damage_in_a_vector_column_names_the_column_and_its_frame(tmp_path: Path) -> None:
    path = tmp_path / "db"
    write_folder(path, compact_after=N_REQUESTS)
    snapshot = storage_file(path, ".snapshot")
    offsets, bodies, _ = snapshot_frames(snapshot)
    dense = column_frame(bodies, "dense:")
    flip_byte(snapshot, offsets[dense] + framing.FRAME_HEADER_SIZE + 5)
    assert_refused(path, StorageCorrupted, str(snapshot), f"byte offset {offsets[dense]}", "column 'dense:'", "CRC32")


def test_a_column_frame_missing_is_storage_corrupted(tmp_path: Path) -> None:
    path = tmp_path / "db"
    write_folder(path, compact_after=N_REQUESTS)
    snapshot = storage_file(path, ".snapshot")
    offsets, bodies, count = snapshot_frames(snapshot)
    dense = column_frame(bodies, "dense:")
    write_frames(snapshot, 1, bodies[:dense] + bodies[dense + 1 :], count)
    assert_refused(
        path, StorageCorrupted, str(snapshot), f"byte offset {offsets[dense]}", "column 'dense:' is missing frames"
    )


def _rewrite_block(path: Path, change: Any) -> tuple[Path, int]:
    """Write the folder, then let ``change(descriptor, columns)`` edit its column block (checksums stay valid)."""
    import msgpack

    write_folder(path, compact_after=N_REQUESTS)
    snapshot = storage_file(path, ".snapshot")
    offsets, bodies, count = snapshot_frames(snapshot)
    first = block_start(bodies)
    descriptor = msgpack.unpackb(bodies[first], raw=False)
    columns = dict(zip([name for name, _ in descriptor["$columns"]], bodies[first + 1 :]))
    change(descriptor, columns)
    descriptor["$columns"] = [[name, len(data)] for name, data in columns.items()]
    new_bodies = bodies[:first] + [msgpack.packb(descriptor, use_bin_type=True)] + [c for c in columns.values() if c]
    write_frames(snapshot, 1, new_bodies, count)
    return snapshot, offsets[first]


def _garbage_payloads(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    columns["payloads"] = b"\xc1" * len(columns["payloads"])  # 0xc1 is never used by msgpack


def _one_point_more(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    descriptor["meta"]["count"] += 1


def _payload_not_a_map(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    count = descriptor["meta"]["count"]
    columns["payloads"] = b"\x80" * (count - 1) + b"\x92\x01\x02"  # empty maps, then a list
    columns["payload_ends"] = struct.pack(f"<{count}Q", *range(1, count), count + 2)


def _payload_extents(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    count = descriptor["meta"]["count"]
    columns["payload_ends"] = struct.pack(f"<{count}Q", *([1] * count))


def _id_twice(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    columns["ids"] = columns["ids"][:8] * descriptor["meta"]["count"]


def _bad_uuid_flags(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    count = descriptor["meta"]["count"]
    columns["ids:uuid"], columns["ids:lo"] = b"\x02" * count, b"\x00" * (8 * count)


def _unknown_collection(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    descriptor["meta"]["collection"] = "nope"


def _stray_column(descriptor: dict[str, Any], columns: dict[str, bytes]) -> None:
    columns["extra"] = b"x"


BAD_BLOCKS = {
    "payloads not msgpack": (_garbage_payloads, "a payload is not a msgpack map"),
    "count does not match the columns": (_one_point_more, "ids column does not hold one id per point"),
    "payload not a map": (_payload_not_a_map, "a payload is not a msgpack map"),
    "payload extents": (_payload_extents, "payload extents do not cover the payload bytes"),
    "id twice": (_id_twice, "appears twice in the snapshot"),
    "malformed uuid flags": (_bad_uuid_flags, "malformed UUID flags"),
    "unknown collection": (_unknown_collection, "column block of unknown kind or collection"),
    "unexpected column": (_stray_column, "unexpected or missing columns ['extra']"),
}


@pytest.mark.parametrize("case", sorted(BAD_BLOCKS))
def test_a_column_block_with_valid_checksums_that_cannot_be_loaded_is_storage_corrupted(
    tmp_path: Path, case: str
) -> None:
    change, reason = BAD_BLOCKS[case]
    snapshot, offset = _rewrite_block(tmp_path / "db", change)
    error = assert_refused(tmp_path / "db", StorageCorrupted, str(snapshot), f"byte offset {offset}", reason)
    assert type(error) is StorageCorrupted
