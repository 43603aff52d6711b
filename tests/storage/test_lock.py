"""One owner per folder (in this process or another), released on close and on death; foreign folders refused."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import qdrant_local.storage
from qdrant_local.errors import ForeignStorage, StorageCorrupted, StorageLocked
from qdrant_local.storage import DiskStorage

from .helpers import open_loaded, read_all, storage_files, write_records

_REPO_ROOT = str(Path(qdrant_local.storage.__file__).resolve().parents[2])


def test_second_instance_in_the_same_process_is_refused_until_close(folder: Path) -> None:
    first, _ = open_loaded(folder)
    with pytest.raises(StorageLocked) as info:
        DiskStorage(folder)
    assert str(info.value) == (
        f"Storage folder {folder} is already accessed by another instance of Qdrant client. "
        "If you require concurrent access, use Qdrant server instead."
    )
    first.append({"a": 1})
    first.close()
    second, records = open_loaded(folder)
    assert records == [{"a": 1}]
    second.close()


def test_dropping_the_last_reference_releases_the_lock(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    storage.append({"a": 1}, sync=False)
    del storage
    gc.collect()
    assert read_all(folder) == [{"a": 1}]


# qdrant-client's refused second client leaks its open .lock file (not ours to fix).
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_lock_message_matches_qdrant_client(tmp_path: Path) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    path = str(tmp_path / "qc")
    holder = qdrant_client.QdrantClient(path=path)
    try:
        with pytest.raises(RuntimeError) as theirs:
            qdrant_client.QdrantClient(path=path)
        their_message = str(theirs.value)
        del theirs  # its traceback holds the refused client's open .lock file
        gc.collect()  # collect that leak here, under this test's filter
        # Same lock file and lock kind: a qdrant-client holding the folder locks us out too.
        with pytest.raises(StorageLocked) as ours:
            DiskStorage(path)
        assert str(ours.value) == their_message
    finally:
        holder.close()


def test_folder_written_by_qdrant_client_is_refused_untouched(tmp_path: Path) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    path = tmp_path / "qc"
    client = qdrant_client.QdrantClient(path=str(path))
    client.create_collection("c", vectors_config=qdrant_client.models.VectorParams(size=2, distance="Cosine"))
    client.upsert("c", [qdrant_client.models.PointStruct(id=1, vector=[1.0, 0.0])])
    client.close()
    before = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    with pytest.raises(ForeignStorage, match="qdrant-client's local mode") as info:
        DiskStorage(path)
    assert isinstance(info.value, StorageCorrupted) and "meta.json" in info.value.names
    assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == before
    with pytest.raises(ForeignStorage):  # the refused open released its lock
        DiskStorage(path)


def test_unknown_files_are_refused_but_hidden_ones_ignored(folder: Path) -> None:
    write_records(folder, [{"a": 1}])
    (folder / ".DS_Store").write_bytes(b"finder")
    assert read_all(folder) == [{"a": 1}]
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ForeignStorage, match="notes.txt"):
        DiskStorage(folder)
    (folder / "notes.txt").unlink()
    (folder / "00000005.log").mkdir()  # our name, but a directory
    with pytest.raises(ForeignStorage):
        DiskStorage(folder)


def test_path_that_is_a_file_raises_file_exists_error(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(FileExistsError) as info:
        DiskStorage(path)
    assert str(info.value) == f"[Errno 17] File exists: '{path}'"


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.stdout is not None
    child.stdout.close()


def _spawn_holder(folder: Path) -> subprocess.Popen[str]:
    """A child process that opens the storage, appends one synced record, says so, and sleeps."""
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {_REPO_ROOT!r})
        from qdrant_local.storage import DiskStorage
        s = DiskStorage({str(folder)!r}); list(s.load())
        s.append({{"from": "child"}}, sync=True)
        s.append({{"unsynced": "child"}}, sync=False)
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_lock_held_by_another_process_then_freed_by_its_death(folder: Path) -> None:
    child = _spawn_holder(folder)
    try:
        with pytest.raises(StorageLocked):
            DiskStorage(folder)
    finally:
        _kill(child)
    assert child.returncode == -signal.SIGKILL
    # No stale lock, and the unsynced record was written by the dead process (the OS kept it).
    assert read_all(folder) == [{"from": "child"}, {"unsynced": "child"}]
    assert storage_files(folder) == [".lock", "00000000.log"]


def test_close_releases_for_another_process(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    storage.close()
    child = _spawn_holder(folder)  # it could take the lock
    _kill(child)
