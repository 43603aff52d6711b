"""Records go in, the same records come out, in order, across reopen; the API's contracts around it."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local.errors import ClientClosed, InvalidInput, QdrantLocalError, StorageRecoveredWarning
from qdrant_local.storage import DiskStorage, framing

from .helpers import open_loaded, read_all, storage_files, write_records

# Every value type a record may hold (see the storage contract): msgpack with use_bin_type keeps
# str and bytes apart, and ints up to 2**64-1 and down to -2**63.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=64)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_records = st.dictionaries(st.text(max_size=10), _values, max_size=6)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(records=st.lists(_records, max_size=12), syncs=st.lists(st.booleans(), min_size=12, max_size=12))
def test_any_records_round_trip_in_order(tmp_path_factory: pytest.TempPathFactory, records, syncs) -> None:
    path = tmp_path_factory.mktemp("rt") / "store"
    storage, loaded = open_loaded(path)
    assert loaded == []
    for record, sync in zip(records, syncs):
        storage.append(record, sync=sync)
    storage.close()
    # Differential: what comes back equals the msgpack round trip of what went in (lists stay lists).
    expected = [msgpack.unpackb(msgpack.packb(r, use_bin_type=True), raw=False, strict_map_key=False) for r in records]
    assert read_all(path) == expected


def test_many_records_with_big_vector_bytes_survive_reopen(folder: Path) -> None:
    rng = np.random.default_rng(7)
    records = []
    for i in range(200):
        vectors = rng.standard_normal((int(rng.integers(1, 64)), 384), dtype=np.float32)
        records.append({"op": "upsert", "ids": list(range(i, i + len(vectors))), "v": vectors.tobytes(), "n": i})
    records.append({"op": "blob", "v": os.urandom(5 * 2**20)})  # one 5 MiB body
    write_records(folder, records[:100], sync=True)
    write_records(folder, records[100:], sync=False)
    loaded = read_all(folder)
    assert len(loaded) == len(records)
    for got, want in zip(loaded, records):
        assert got == want
    np.testing.assert_array_equal(
        np.frombuffer(loaded[3]["v"], dtype=np.float32), np.frombuffer(records[3]["v"], dtype=np.float32)
    )


def test_async_appends_are_in_the_file_before_sync_and_synced_on_close(folder: Path, monkeypatch) -> None:
    storage, _ = open_loaded(folder)
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    size0 = (folder / "00000000.log").stat().st_size
    storage.append({"a": 1}, sync=False)
    storage.append({"a": 2}, sync=False)
    assert synced == []  # no fsync for sync=False ...
    assert (folder / "00000000.log").stat().st_size > size0  # ... but the bytes are in the file already
    assert storage.log_bytes == (folder / "00000000.log").stat().st_size
    storage.sync()
    assert len(synced) == 1
    storage.sync()
    assert len(synced) == 1  # nothing pending, nothing to do
    storage.append({"a": 3}, sync=True)
    assert len(synced) == 2
    storage.append({"a": 4}, sync=False)
    storage.close()
    assert len(synced) == 3  # close() fsyncs the pending record
    monkeypatch.undo()
    assert read_all(folder) == [{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}]


def test_reopen_many_times_accumulates(folder: Path) -> None:
    for i in range(5):
        write_records(folder, [{"round": i}])
    assert read_all(folder) == [{"round": i} for i in range(5)]


def test_new_folder_is_created_with_parents_and_initialised(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c"
    storage, loaded = open_loaded(path)
    assert loaded == []
    assert storage.generation == 0
    assert storage.log_bytes == framing.HEADER_SIZE
    assert storage.path == str(path)
    storage.close()
    assert storage_files(path) == [".lock", "00000000.log"]
    assert (path / "00000000.log").read_bytes() == framing.encode_header(framing.KIND_LOG, 0)


def test_a_new_folder_and_its_new_parents_are_fsynced_in_their_parents(tmp_path: Path, monkeypatch) -> None:
    """Durability of a new folder (issue 8 item 8): a power loss cannot drop a folder whose writes were
    acknowledged, because every directory the storage created is fsync'd in its parent before any write."""
    synced: list[tuple[int, int]] = []
    original = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        synced.append((info.st_dev, info.st_ino))
        original(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = tmp_path / "a" / "b" / "c"
    storage, _ = open_loaded(path)
    storage.append({"x": 1})
    storage.close()
    for directory in (tmp_path, tmp_path / "a", tmp_path / "a" / "b", path):
        info = directory.stat()
        assert (info.st_dev, info.st_ino) in synced, f"{directory} was never fsync'd"
    # ... and the parent before the first record was fsync'd
    info = tmp_path.stat()
    log = (path / "00000000.log").stat()
    assert synced.index((info.st_dev, info.st_ino)) < len(synced) - 1 - synced[::-1].index((log.st_dev, log.st_ino))


def test_frame_bytes_are_length_crc_header_crc_msgpack(folder: Path) -> None:
    write_records(folder, [{"k": "v"}])
    data = (folder / "00000000.log").read_bytes()
    body = msgpack.packb({"k": "v"}, use_bin_type=True)
    import zlib

    head = len(body).to_bytes(4, "little") + zlib.crc32(body).to_bytes(4, "little")
    assert data[framing.HEADER_SIZE :] == head + zlib.crc32(head).to_bytes(4, "little") + body


def test_append_refuses_non_dict_and_unpackable_values_without_writing(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    size = storage.log_bytes
    with pytest.raises(InvalidInput):
        storage.append([1, 2])  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        storage.append({"too_big": 2**64})
    with pytest.raises(TypeError):
        storage.append({"obj": object()})
    assert storage.log_bytes == size == (folder / "00000000.log").stat().st_size
    storage.append({"ok": True})  # the packer was left clean by the failures
    storage.close()
    assert read_all(folder) == [{"ok": True}]


def test_write_failure_midway_cuts_the_partial_frame_off(folder: Path, monkeypatch) -> None:
    storage, _ = open_loaded(folder)
    storage.append({"before": 1})
    real_write = os.write

    def short_then_fail(fd: int, data) -> int:
        monkeypatch.setattr(os, "write", real_write)
        real_write(fd, bytes(data)[:3])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_fail)
    with pytest.raises(OSError):
        storage.append({"lost": b"x" * 100})
    assert (folder / "00000000.log").stat().st_size == storage.log_bytes
    storage.append({"after": 2})
    storage.close()
    assert read_all(folder) == [{"before": 1}, {"after": 2}]


def test_load_contract_once_and_before_writes(folder: Path) -> None:
    storage = DiskStorage(folder)
    with pytest.raises(QdrantLocalError, match="load"):
        storage.append({"a": 1})
    it = storage.load()
    with pytest.raises(QdrantLocalError, match="once"):
        storage.load()
    with pytest.raises(QdrantLocalError, match="load"):
        storage.append({"a": 1})  # load() started but not consumed
    assert list(it) == []
    storage.append({"a": 1})
    storage.close()


def test_closed_storage_refuses_calls_and_close_is_idempotent(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    storage.close()
    storage.close()
    storage.__del__()
    for call in (lambda: storage.append({}), storage.sync, lambda: storage.compact([]), storage.load):
        with pytest.raises(ClientClosed):
            call()


def test_context_manager_closes(folder: Path) -> None:
    with DiskStorage(folder) as storage:
        list(storage.load())
        storage.append({"x": 1}, sync=False)
    assert read_all(folder) == [{"x": 1}]


def test_should_compact_policy(folder: Path) -> None:
    """Reopen work (snapshot bytes, LOG_BYTE_COST per log byte, RECORD_REPLAY_BYTES per log record) against
    the live data: compaction after a write past WRITE_BOUND times it, at close past CLOSE_BOUND times it."""
    storage, _ = open_loaded(folder)
    storage.COMPACT_MIN_LOG_BYTES = 1000
    storage.RECORD_REPLAY_BYTES = 100
    assert not storage.should_compact(0) and not storage.should_compact_at_close(0)  # below the minimum size
    storage.append({"v": b"x" * 2000})
    log = storage.log_bytes
    assert log > 2000
    assert not storage.should_compact(log)  # a log that only appended live data: never after a write ...
    assert storage.should_compact_at_close(log)  # ... but at close, so that reopen loads a snapshot
    assert storage.should_compact(log // 2)  # half of the log overwritten or deleted: after a write too
    storage.compact(iter([{"v": b"y" * 5000}]))
    snapshot = (folder / "00000001.snapshot").stat().st_size
    assert not storage.should_compact(snapshot) and not storage.should_compact_at_close(snapshot)
    storage.append({"v": b"x" * 200})
    live = snapshot + 200
    assert not storage.should_compact_at_close(live)  # a small log beside the snapshot: not even at close
    storage.append({"v": b"x" * 3000})
    live += 3000
    assert not storage.should_compact(live) and storage.should_compact_at_close(live)
    for _ in range(4 * live // 100):
        storage.append({"n": 1})  # many small requests: each counts RECORD_REPLAY_BYTES
    assert storage.should_compact(live)
    storage.close()
    assert not storage.should_compact_at_close(live)  # closed
    reopened, _ = open_loaded(folder)  # the counts come back with the folder
    reopened.COMPACT_MIN_LOG_BYTES, reopened.RECORD_REPLAY_BYTES = 1000, 100
    assert reopened.should_compact(live)
    reopened.close()


def test_failed_fsync_cuts_the_record_back_and_refuses_further_writes(folder: Path, monkeypatch) -> None:
    """The caller is told the write failed, so the next open must not replay it (issue 8 item 2)."""
    storage, _ = open_loaded(folder)
    storage.append({"durable": 1})

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError):
            storage.append({"maybe": 2}, sync=True)
    with pytest.raises(QdrantLocalError, match="reopen"):
        storage.append({"refused": 3})
    storage.close()
    assert read_all(folder) == [{"durable": 1}]


def test_close_while_loading_leaves_the_torn_tail_for_the_next_open(folder: Path) -> None:
    write_records(folder, [{"a": 1}, {"b": 2}])
    log = folder / "00000000.log"
    log.write_bytes(log.read_bytes()[:-1])
    storage = DiskStorage(folder)
    records = storage.load()
    assert next(records) == {"a": 1}
    storage.close()
    with pytest.warns(StorageRecoveredWarning):
        assert list(records) == []
    with pytest.warns(StorageRecoveredWarning):
        storage, loaded = open_loaded(folder)  # the tail is found (and dropped) again
    storage.close()
    assert loaded == [{"a": 1}]


def test_pages_already_read_are_dropped_while_loading_and_records_stay_intact(folder: Path, monkeypatch) -> None:
    """Replay hands back the log's pages behind it (so a big log is not resident twice); with a drop
    after every page, every record of the log and of a snapshot still reads back exactly."""
    import mmap

    from qdrant_local.storage import disk

    calls: list[tuple[int, int]] = []
    real_madvise = mmap.mmap.madvise

    class CountingMap(mmap.mmap):
        def madvise(self, option: int, start: int = 0, length: int = 0) -> None:  # type: ignore[override]
            if option == mmap.MADV_DONTNEED:
                calls.append((start, length))
            real_madvise(self, option, start, length)

    monkeypatch.setattr(disk.mmap, "mmap", CountingMap)
    monkeypatch.setattr(disk._mapped, "DROP_STEP", mmap.PAGESIZE)
    rng = np.random.default_rng(3)
    records = [
        {"op": "upsert", "n": i, "v": rng.standard_normal((40, 384), dtype=np.float32).tobytes()} for i in range(60)
    ]
    write_records(folder, records)
    assert read_all(folder) == records
    assert calls and all(start % mmap.PAGESIZE == 0 for start, _ in calls)
    calls.clear()
    storage, loaded = open_loaded(folder)
    storage.compact(loaded)  # the same records, now as a snapshot
    storage.close()
    assert read_all(folder) == records
    assert calls, "the snapshot reader should drop pages too"
