"""A disk that fails: a write that returned stands, a write that raised never comes back.

* Disk full during the automatic compaction that follows a write: the write was logged and fsync'd before
  compaction started, so it returns normally; the failure is a CompactionFailedWarning, the folder keeps its
  snapshot and log, and compaction is retried once the log has grown further (not on every write).
* An fsync that fails (EIO) after a record was written: the call raises, memory is unchanged, the record is
  cut back off the log, and the next open does not replay it. Later writes are refused until reopen.

A full disk is real where the test can mount a small tmpfs (root); the same behaviour is also checked
everywhere by making ``os.fsync`` fail, the OS call where a full or failing disk reports itself last. We
cannot make a disk fail on demand, so that is fault injection at the OS seam, not a mock of our code.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import CompactionFailedWarning, QdrantLocalError
from qdrant_local.storage.disk import DiskStorage

from .helpers import open_client, visible_state

DIM = 64


def create(client: QdrantClient) -> None:
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))


def upsert(client: QdrantClient, ids: range, seed: int) -> None:
    vectors = np.random.default_rng(seed).random((len(ids), DIM), dtype=np.float32)
    client.upsert("c", models.Batch(ids=list(ids), vectors=vectors.tolist(), payloads=[{"seed": seed}] * len(ids)))


def storage_of(client: QdrantClient) -> DiskStorage:
    return client._db.storage  # type: ignore[union-attr,return-value]


@pytest.fixture
def small_compaction_threshold(monkeypatch: pytest.MonkeyPatch) -> int:
    """Compaction kicks in after 64 KiB of log instead of 4 MiB, so small tests reach it; the per-record
    replay cost is left out, so that when it kicks in follows the log's bytes alone."""
    monkeypatch.setattr(DiskStorage, "COMPACT_MIN_LOG_BYTES", 64 << 10)
    monkeypatch.setattr(DiskStorage, "RECORD_REPLAY_BYTES", 0)
    return 64 << 10


class FailingFsync:
    """os.fsync, failing with ``error`` for the file descriptors ``fails(fd)`` picks while armed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.original = os.fsync
        self.armed = False
        self.error = errno.ENOSPC
        self.fails: Any = lambda fd: True
        self.failures = 0
        monkeypatch.setattr(os, "fsync", self)

    def __call__(self, fd: Any) -> None:
        if self.armed and self.fails(fd):
            self.failures += 1
            raise OSError(self.error, os.strerror(self.error))
        self.original(fd)


@pytest.fixture
def failing_fsync(monkeypatch: pytest.MonkeyPatch) -> FailingFsync:
    return FailingFsync(monkeypatch)


def write_until_compaction_warns(client: QdrantClient) -> int:
    """Overwrite the same 50 points until a write's automatic compaction fails; returns that write's seed."""
    for seed in range(1, 1000):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            upsert(client, range(50), seed)
        failures = [w for w in caught if issubclass(w.category, CompactionFailedWarning)]
        assert len(failures) == len(caught), [str(w.message) for w in caught]
        if failures:
            assert "the write succeeded and compaction will be retried later" in str(failures[0].message)
            return seed
    raise AssertionError("no automatic compaction was attempted")


def points_with_seed(client: QdrantClient, seed: int) -> int:
    return client.count("c", count_filter={"must": [{"key": "seed", "match": {"value": seed}}]}).count


# ------------------------------------------------------------------------- failed compaction


def test_failed_automatic_compaction_is_a_warning_and_the_write_stands(
    tmp_path: Path, small_compaction_threshold: int, failing_fsync: FailingFsync
) -> None:
    path = tmp_path / "db"
    client = open_client(path)
    create(client)
    upsert(client, range(50), seed=0)
    storage = storage_of(client)
    log_fd = storage._log_fd
    failing_fsync.fails = lambda fd: fd != storage._log_fd  # the log's own fsync works: the write commits
    failing_fsync.armed = True
    seed = write_until_compaction_warns(client)  # the write returned normally
    assert points_with_seed(client, seed) == 50
    assert failing_fsync.failures == 1 and storage.generation == 0 and storage._log_fd == log_fd
    assert sorted(os.listdir(path)) == [".lock", "00000000.log"], "what compaction wrote is removed again"

    # Not retried on the very next writes (each would rewrite the whole state on a full disk) ...
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompactionFailedWarning)
        upsert(client, range(60, 61), seed=1001)
        upsert(client, range(50), seed=1002)
    assert failing_fsync.failures == 1
    # ... but once the log has grown by another COMPACT_MIN_LOG_BYTES, and then it succeeds.
    failing_fsync.armed = False
    seed = 2000
    while storage.generation == 0:
        seed += 1
        upsert(client, range(50), seed)
        assert seed < 3000, "compaction was never retried"
    state = visible_state(client)
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    reopened.close()


def test_failed_compaction_at_close_is_a_warning_and_close_completes(
    tmp_path: Path, small_compaction_threshold: int, failing_fsync: FailingFsync
) -> None:
    """Every write is in the log already: a compaction that fails at close leaves the folder as it was,
    and the close still fsyncs and unlocks."""
    path = tmp_path / "db"
    client = open_client(path)
    create(client)
    for start in range(0, 2000, 200):  # inserts only: no compaction while writing, one due at close
        upsert(client, range(start, start + 200), seed=start)
    assert storage_of(client).generation == 0
    state = visible_state(client)
    storage = storage_of(client)
    failing_fsync.fails = lambda fd: fd != storage._log_fd
    failing_fsync.armed = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.close()
    failing_fsync.armed = False
    assert [w.category for w in caught] == [CompactionFailedWarning], [str(w.message) for w in caught]
    assert "every write is kept" in str(caught[0].message)
    assert sorted(os.listdir(path)) == [".lock", "00000000.log"], "what compaction wrote is removed again"
    reopened = open_client(path)  # the lock was released
    assert visible_state(reopened) == state
    reopened.close()  # compacts this time
    assert sorted(os.listdir(path)) == [".lock", "00000001.log", "00000001.snapshot"]


def test_explicit_compact_reports_its_failure_and_changes_nothing(tmp_path: Path, failing_fsync: FailingFsync) -> None:
    path = tmp_path / "db"
    client = open_client(path)
    create(client)
    upsert(client, range(20), seed=0)
    state = visible_state(client)
    storage = storage_of(client)
    failing_fsync.fails = lambda fd: fd != storage._log_fd
    failing_fsync.armed = True
    with pytest.raises(OSError) as info:
        client.compact()
    assert info.value.errno == errno.ENOSPC
    failing_fsync.armed = False
    upsert(client, range(20, 25), seed=1)  # the storage is still usable
    state = visible_state(client)
    client.close()
    assert sorted(os.listdir(path)) == [".lock", "00000000.log"]
    reopened = open_client(path)
    assert visible_state(reopened) == state
    reopened.close()


# ------------------------------------------------------------------------------- failed fsync


@pytest.mark.parametrize("request_kind", ["upsert", "set_payload", "delete", "batch", "create_collection"])
def test_failed_fsync_cuts_the_write_back_and_reopen_never_replays_it(
    tmp_path: Path, failing_fsync: FailingFsync, request_kind: str
) -> None:
    path = tmp_path / "db"
    client = open_client(path)
    create(client)
    upsert(client, range(10), seed=0)
    state = visible_state(client)
    log = path / "00000000.log"
    size = log.stat().st_size
    failing_fsync.error = errno.EIO
    failing_fsync.armed = True
    with pytest.raises(OSError) as info:
        if request_kind == "upsert":
            upsert(client, range(5, 15), seed=1)
        elif request_kind == "set_payload":
            client.set_payload("c", {"lost": True}, [1, 2])
        elif request_kind == "delete":
            client.delete("c", [1, 2])
        elif request_kind == "batch":
            client.batch_update_points(
                "c",
                [
                    models.DeleteOperation(delete=models.PointIdsList(points=[3])),
                    models.SetPayloadOperation(set_payload=models.SetPayload(payload={"lost": 1}, points=[4])),
                ],
            )
        else:
            client.create_collection("d", vectors_config=models.VectorParams(size=2, distance="Dot"))
    assert info.value.errno == errno.EIO
    failing_fsync.armed = False
    assert visible_state(client) == state, "a write that raised changed memory"
    assert log.stat().st_size == size, "the failed record was not cut back off the log"
    # After a failed fsync the storage takes no more writes (the kernel may have dropped other pages).
    with pytest.raises(QdrantLocalError, match="reopen"):
        client.set_payload("c", {"later": 1}, [1])
    assert visible_state(client) == state
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    upsert(reopened, range(3), seed=2)  # reopening makes the folder writable again
    reopened.close()


# --------------------------------------------------------------------- a really full disk (tmpfs)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, mounted for this test (skipped where mounting is not allowed)."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of ``folder`` with a file, leaving about ``leave`` bytes free."""
    filler = folder.parent / "filler"
    info = os.statvfs(folder)
    free = info.f_bavail * info.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def test_really_full_disk_during_automatic_compaction(small_tmpfs: Path, small_compaction_threshold: int) -> None:
    path = small_tmpfs / "db"
    client = open_client(path)
    create(client)
    upsert(client, range(50), seed=0)
    storage = storage_of(client)
    size = storage.log_bytes
    upsert(client, range(50), seed=1)
    record = storage.log_bytes - size  # one upsert of the 50 points; a snapshot of them is about as large
    seed = 1
    while storage.log_bytes + record <= small_compaction_threshold:
        seed += 1
        upsert(client, range(50), seed)
    # The next write triggers compaction: leave room for its record, not for a snapshot on top of it.
    filler = fill(path, leave=record + 6 * 1024)
    seed += 1
    with pytest.warns(CompactionFailedWarning, match="No space left on device"):
        upsert(client, range(50), seed)  # returns normally
    assert points_with_seed(client, seed) == 50
    assert storage_of(client).generation == 0
    state = visible_state(client)
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == state
    filler.unlink()  # space again: compaction catches up as the log grows
    seed = 2000
    while storage_of(reopened).generation == 0:
        seed += 1
        upsert(reopened, range(50), seed)
        assert seed < 3000, "compaction was never retried"
    state = visible_state(reopened)
    reopened.close()
    again = open_client(path)
    assert visible_state(again) == state
    again.close()
