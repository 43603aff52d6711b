"""wait=True / wait=False durability, observed through the fsync calls the client makes.

``os.fsync`` is wrapped to remember, per file, how many bytes were on disk when it was last fsync'd. That
gives the two promises a precise meaning:

* wait=True: when the call returns, the log is fsync'd up to its current end;
* wait=False: when the call returns, the record is written (another reader of the folder sees it) but
  not necessarily fsync'd; the next waiting write, compact() or close() (also via ``del``) fsyncs it.

A power loss is then simulated by copying the folder with every log cut back to its last fsync'd size
(and, for torn writes, to sizes in between): opening the copy must show the state after some prefix of
the requests that contains every request acknowledged with wait=True.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import StorageRecoveredWarning

from .helpers import STRESS, open_client, visible_state
from .workload import PrefixStates, apply_request, make_requests


class FsyncTracker:
    """Wraps os.fsync; ``synced[(dev, inode)]`` is the file's size at its last fsync."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.synced: dict[tuple[int, int], int] = {}
        self.calls = 0
        original = os.fsync

        def fsync(fd: Any) -> None:
            original(fd)
            self.calls += 1
            info = os.fstat(fd if isinstance(fd, int) else fd.fileno())
            self.synced[(info.st_dev, info.st_ino)] = info.st_size

        monkeypatch.setattr(os, "fsync", fsync)

    def synced_size(self, file: Path) -> int | None:
        """Bytes of ``file`` known to be on disk (None: never fsync'd through the tracker)."""
        info = file.stat()
        return self.synced.get((info.st_dev, info.st_ino))


def the_log(path: Path) -> Path:
    logs = sorted(path.glob("*.log"))
    assert len(logs) == 1, os.listdir(path)
    return logs[0]


def unsynced_bytes(tracker: FsyncTracker, path: Path) -> int:
    log = the_log(path)
    synced = tracker.synced_size(log)
    assert synced is not None, "the log was never fsync'd"
    return log.stat().st_size - synced


def copy_as_a_crashed_process_leaves_it(path: Path, target: Path) -> Path:
    """What survives the death of the process: everything written to the OS (the files as they are now)."""
    shutil.copytree(path, target, ignore=shutil.ignore_patterns(".lock"))
    return target


@pytest.fixture
def tracker(monkeypatch: pytest.MonkeyPatch) -> FsyncTracker:
    return FsyncTracker(monkeypatch)


def make_collection(client: QdrantClient) -> None:
    client.create_collection("c", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE))


def point(i: int) -> list[models.PointStruct]:
    return [models.PointStruct(id=i, vector=[1.0, i, 2.0], payload={"i": i})]


def test_wait_true_returns_after_the_record_is_fsynced(tmp_path: Path, tracker: FsyncTracker) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    make_collection(client)
    assert unsynced_bytes(tracker, path) == 0
    for i in range(5):
        size = the_log(path).stat().st_size
        client.upsert("c", point(i), wait=True)
        assert the_log(path).stat().st_size > size
        assert unsynced_bytes(tracker, path) == 0
    for call in (
        lambda: client.set_payload("c", {"x": 1}, [1], wait=True),
        lambda: client.delete("c", [2], wait=True),
        lambda: client.batch_update_points("c", [models.UpsertOperation(upsert=models.PointsList(points=point(9)))]),
        lambda: client.create_payload_index("c", "i", "integer", wait=True),
        lambda: client.update_collection("c", metadata={"m": 1}),
        lambda: client.create_collection("d", vectors_config=models.VectorParams(size=2, distance="Dot")),
        lambda: client.delete_collection("d"),
    ):
        size = the_log(path).stat().st_size
        call()
        assert the_log(path).stat().st_size > size
        assert unsynced_bytes(tracker, path) == 0
    client.close()


def test_wait_false_writes_now_and_fsyncs_with_the_next_waiting_write(tmp_path: Path, tracker: FsyncTracker) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    make_collection(client)
    for i in range(3):
        client.upsert("c", point(i), wait=False)
    assert unsynced_bytes(tracker, path) > 0, "wait=False should not pay for an fsync"
    # written: a crash of this process would not lose them
    copy = copy_as_a_crashed_process_leaves_it(path, tmp_path / "copy")
    reader = open_client(copy)
    assert [r.id for r in reader.scroll("c")[0]] == [0, 1, 2]
    reader.close()
    client.upsert("c", point(3), wait=True)
    assert unsynced_bytes(tracker, path) == 0
    client.close()


@pytest.mark.parametrize("flush", ["close", "del", "compact", "create_collection", "set_payload(wait=True)"])
def test_unwaited_writes_are_fsynced_by(tmp_path: Path, tracker: FsyncTracker, flush: str) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    make_collection(client)
    client.upsert("c", point(1), wait=False)
    client.delete("c", [1], wait=False)
    client.upsert("c", point(2), wait=False)
    log = the_log(path)
    assert unsynced_bytes(tracker, path) > 0
    if flush == "close":
        client.close()
    elif flush == "del":
        del client
        gc.collect()
    elif flush == "compact":
        client.compact()
    elif flush == "create_collection":
        client.create_collection("other", vectors_config=models.VectorParams(size=2, distance="Dot"))
    else:
        client.set_payload("c", {"x": 1}, [2], wait=True)
    if flush == "compact":
        # the records now live in an fsync'd snapshot; the new log holds only its fsync'd header
        snapshot = next(path.glob("*.snapshot"))
        assert tracker.synced_size(snapshot) == snapshot.stat().st_size
        assert unsynced_bytes(tracker, path) == 0
    else:
        assert tracker.synced_size(log) == log.stat().st_size
    if flush not in ("close", "del"):
        client.close()
    reader = open_client(path)
    assert [r.id for r in reader.scroll("c")[0]] == [2]
    reader.close()


# --------------------------------------------------------------------------------- power loss


def power_loss_image(path: Path, target: Path, tracker: FsyncTracker, rng: random.Random) -> Path:
    """A copy of the folder as a power loss could leave it: each log cut somewhere between its fsync'd size
    and its current size (usually at the fsync'd size: everything unsynced lost)."""
    target.mkdir()
    for entry in sorted(path.iterdir()):
        if entry.name == ".lock":
            continue
        data = entry.read_bytes()
        if entry.suffix == ".log":
            synced = tracker.synced_size(entry)
            assert synced is not None, f"{entry.name} was never fsync'd"
            cut = synced if rng.random() < 0.6 else rng.randint(synced, len(data))
            data = data[:cut]
        else:
            # snapshots are fsync'd before they are renamed into place; a .tmp would be ignored anyway
            assert entry.suffix != ".snapshot" or tracker.synced_size(entry) == len(data)
        (target / entry.name).write_bytes(data)
    return target


def test_power_loss_keeps_every_request_acknowledged_with_wait(
    tmp_path: Path, tracker: FsyncTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qdrant_local.storage import DiskStorage

    requests = make_requests(7, 600 if STRESS else 160)
    prefixes = PrefixStates(requests, keep_all=True)
    rng = random.Random(7)
    path = tmp_path / "db"
    monkeypatch.setattr(DiskStorage, "COMPACT_MIN_LOG_BYTES", 128 * 1024)  # let automatic compaction run too
    client = QdrantClient(path=str(path))
    last_waited = -1
    images = 0
    try:
        for index, request in enumerate(requests):
            apply_request(client, request)
            if request.get("wait", True):  # create/drop/alias/index/compact requests always wait
                last_waited = index
            if rng.random() < 0.25:
                image = power_loss_image(path, tmp_path / f"image{index}", tracker, rng)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", StorageRecoveredWarning)
                    reopened = QdrantClient(path=str(image))
                state = visible_state(reopened, page_size=64)
                reopened.close()
                shutil.rmtree(image)
                images += 1
                matching = [p for p in range(last_waited + 1, index + 2) if prefixes.state_after(p) == state]
                assert matching, (
                    f"after request {index} (last waited-for request {last_waited}), a power loss leaves a state "
                    f"that is no prefix {last_waited + 1}..{index + 1}"
                )
        generation = int(the_log(path).stem)
    finally:
        client.close()
        prefixes.close()
    assert images > 10
    assert generation >= 3, "compactions (explicit and automatic) should have run between the images"
