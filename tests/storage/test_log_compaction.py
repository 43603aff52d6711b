"""Compaction: the new snapshot replaces snapshot + log, and a crash at any step loses or doubles nothing."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qdrant_local.storage import DiskStorage, framing

from .helpers import iter_small_records, open_loaded, read_all, storage_files, write_records

# The operations compact() performs that a crash can fall between.
_STEP_FUNCTIONS = ("fsync", "replace", "remove", "unlink", "rename")


class SimulatedCrash(BaseException):
    """Raised in place of a filesystem call: a BaseException, so no `except Exception` cleanup runs."""


class StepCounter:
    """Wraps the os functions of _STEP_FUNCTIONS; raises ``error`` at call number ``fail_at`` (0-based)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None, error: BaseException) -> None:
        self.calls: list[str] = []
        for name in _STEP_FUNCTIONS:
            real = getattr(os, name)

            def wrapper(*args: Any, _real=real, _name=name, **kwargs: Any) -> Any:
                if fail_at is not None and len(self.calls) == fail_at:
                    self.calls.append(_name + "!")
                    raise error
                self.calls.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(os, name, wrapper)


def die(storage: DiskStorage, folder: Path) -> None:
    """Simulate the death of the process that owns ``storage``: close its descriptors, run no cleanup."""
    lock_file = storage._lock._file  # type: ignore[union-attr]
    storage._lock._file = None  # type: ignore[union-attr]
    storage._log_fd = None
    storage._closed = True
    for fd_name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd_name}")
        except OSError:
            continue
        if target.startswith(str(folder) + os.sep) and int(fd_name) != lock_file.fileno():
            os.close(int(fd_name))  # logs and snapshots, including those compact() had open
    lock_file.close()  # closing its last descriptor drops the flock, as the kernel does on death


OLD_SNAPSHOT = [{"gen": 1, "i": i} for i in range(3)]
OLD_LOG = [{"log": i, "v": b"\x00" * i} for i in range(4)]
NEW_STATE = [{"state": i, "v": b"\xff" * 50} for i in range(5)]


def _old_state(folder: Path) -> DiskStorage:
    """A storage at generation 1 (snapshot + log), loaded and ready to compact."""
    storage, _ = open_loaded(folder)
    storage.compact(iter(OLD_SNAPSHOT))
    for record in OLD_LOG:
        storage.append(record, sync=True)
    storage.close()
    storage, records = open_loaded(folder)
    assert records == OLD_SNAPSHOT + OLD_LOG
    return storage


def test_compaction_round_trip_and_fresh_log(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    for record in iter_small_records(50):
        storage.append(record, sync=False)
    assert storage.log_bytes > framing.HEADER_SIZE
    storage.compact(iter_small_records(20))
    assert storage.generation == 1 and storage.log_bytes == framing.HEADER_SIZE
    storage.append({"after": 1})
    storage.close()
    assert storage_files(folder) == [".lock", "00000001.log", "00000001.snapshot"]
    assert read_all(folder) == list(iter_small_records(20)) + [{"after": 1}]

    storage, _ = open_loaded(folder)
    storage.compact([])
    storage.compact(iter([{"only": True}]))
    storage.close()
    assert storage_files(folder) == [".lock", "00000003.log", "00000003.snapshot"]
    assert read_all(folder) == [{"only": True}]


def test_compaction_streams_big_records(folder: Path) -> None:
    produced = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for i in range(40):
            produced += 1
            yield {"i": i, "v": os.urandom(1 << 20)}

    storage, _ = open_loaded(folder)
    storage.compact(records())
    storage.close()
    assert produced == 40
    assert len(read_all(folder)) == 40
    assert (folder / "00000001.snapshot").stat().st_size > 40 << 20


def _count_steps(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    storage = _old_state(folder)
    with monkeypatch.context() as patch:
        counter = StepCounter(patch, None, SimulatedCrash())
        storage.compact(iter(NEW_STATE))
    storage.close()
    return counter.calls


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="die() reads /proc/self/fd")
def test_crash_at_every_step_of_compaction_yields_old_or_new_state(tmp_path: Path, monkeypatch) -> None:
    steps = _count_steps(tmp_path / "count", monkeypatch)
    assert "replace" in steps and steps.count("fsync") >= 3
    outcomes = []
    for k in range(len(steps) + 1):
        folder = tmp_path / f"crash{k}"
        storage = _old_state(folder)
        with monkeypatch.context() as patch:
            StepCounter(patch, k, SimulatedCrash())
            try:
                storage.compact(iter(NEW_STATE))
                crashed = False
            except SimulatedCrash:
                crashed = True
        assert crashed == (k < len(steps))
        die(storage, folder)
        records = read_all(folder)  # no warning either: a crash mid-compaction is not damage
        assert records in (OLD_SNAPSHOT + OLD_LOG, NEW_STATE), k
        outcomes.append("new" if records == NEW_STATE else "old")
        # The state is the one reached: appending and reopening work on it, leftovers are gone.
        write_records(folder, [{"next": k}])
        assert read_all(folder) == records + [{"next": k}]
        gen = 2 if records == NEW_STATE else 1
        assert storage_files(folder) == [".lock", f"{gen:08d}.log", f"{gen:08d}.snapshot"]
    # Old up to the rename of the snapshot, new from it on: exactly one switch.
    commit = steps.index("replace")
    assert outcomes == ["old"] * (commit + 1) + ["new"] * (len(steps) - commit)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="die() reads /proc/self/fd")
def test_crash_while_the_snapshot_is_being_written_keeps_the_old_state(folder: Path) -> None:
    storage = _old_state(folder)

    def dying_records() -> Iterator[dict[str, Any]]:
        yield NEW_STATE[0]
        yield NEW_STATE[1]
        raise SimulatedCrash

    with pytest.raises(SimulatedCrash):
        storage.compact(dying_records())
    die(storage, folder)
    assert read_all(folder) == OLD_SNAPSHOT + OLD_LOG


def test_failure_at_any_step_leaves_a_usable_storage(tmp_path: Path, monkeypatch) -> None:
    steps = _count_steps(tmp_path / "count", monkeypatch)
    for k in range(len(steps)):
        folder = tmp_path / f"fail{k}"
        storage = _old_state(folder)
        with monkeypatch.context() as patch:
            StepCounter(patch, k, OSError(28, "No space left on device"))
            try:
                storage.compact(iter(NEW_STATE))
                failed = False
            except OSError:
                failed = True
        committed = k > steps.index("replace")
        # Failures after the commit point are only cleanup: compact() succeeds and leaves leftovers.
        assert failed == (k <= steps.index("fsync", steps.index("replace"))), (k, steps)
        storage.append({"after": k})
        storage.close()
        expected = (NEW_STATE if committed else OLD_SNAPSHOT + OLD_LOG) + [{"after": k}]
        assert read_all(folder) == expected, (k, steps)


def test_compaction_of_a_bad_record_raises_and_changes_nothing(folder: Path) -> None:
    storage = _old_state(folder)
    with pytest.raises(TypeError):
        storage.compact(iter([{"ok": 1}, {"bad": object()}]))
    storage.append({"still": "usable"})
    storage.close()
    assert read_all(folder) == OLD_SNAPSHOT + OLD_LOG + [{"still": "usable"}]
    assert storage_files(folder) == [".lock", "00000001.log", "00000001.snapshot"]
