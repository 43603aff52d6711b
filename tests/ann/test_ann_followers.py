"""Read-only followers (``QdrantClient(path, read_only=True)``) load their writer's index file.

Real processes: the writer is ``index_writer.py``, run once per phase; the follower stays open in
this process and follows. A follower loads the writer's file when it opens, when a write it follows
brings a new one (a merge build), when the writer saves one without writing any record, and after a
compaction; it searches the points changed since exactly, builds in memory only when there is no
usable file, and never writes, replaces or removes a file in the folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import pytest

pytest.importorskip("faiss")

from qdrant_local import QdrantClient
from qdrant_local.engine.ann.files import index_file_name
from qdrant_local.engine.ann.service import FILE_CHECK_INTERVAL

from .helpers import EXACT, clustered, recall, settle
from .index_writer import ADDED, DELETED, GROWN, MOVED, N, far

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
QUERIES = clustered(8, seed=5)


def _writer(folder: str, phase: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ann.index_writer", folder, phase],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _file(folder: str) -> str:
    return os.path.join(folder, index_file_name("c", ""))


def _files(folder: str) -> dict[str, tuple[int, int]]:
    """The folder's index files and their (size, mtime): what a follower must leave alone."""
    return {
        e: (os.stat(os.path.join(folder, e)).st_size, os.stat(os.path.join(folder, e)).st_mtime_ns)
        for e in os.listdir(folder)
        if e.startswith("ann-")
    }


def _follow(client: QdrantClient) -> None:
    """Let the follower catch up (a request polls the log and the index files) and finish loading."""
    client.collection_exists("c")
    settle(client)


def _counts(client: QdrantClient) -> tuple[int, int]:
    service = client._database.ann
    return service.loads, service.builds


@pytest.fixture
def folder(tmp_path):
    path = str(tmp_path / "db")
    _writer(path, "create")
    assert os.path.exists(_file(path))
    return path


def test_a_follower_loads_the_writers_file_and_follows_new_ones(folder):
    with QdrantClient(path=folder, read_only=True) as follower:
        settle(follower)
        assert _counts(follower) == (1, 0)  # loaded, not built
        assert follower.get_collection("c").indexed_vectors_count == N
        assert recall(follower, "c", QUERIES) >= 0.9

        _writer(folder, "update")  # no build in the writer: the same file
        _follow(follower)
        assert _counts(follower) == (1, 0)
        moved = far()
        for i, vector in zip(MOVED, moved):  # changed since the file: found exactly, never stale
            hit = follower.query_points("c", vector, limit=1).points[0]
            exact = follower.query_points("c", vector, limit=1, search_params=EXACT).points[0]
            assert (hit.id, hit.score) == (exact.id, exact.score) and hit.id == i
        for q in QUERIES:
            found = {p.id for p in follower.query_points("c", q.tolist(), limit=50).points}
            assert not found & set(DELETED)
        assert follower.get_collection("c").points_count == N - len(DELETED) + len(ADDED)

        _writer(folder, "grow")  # a merge build in the writer: a new file, loaded instead of built
        _follow(follower)
        assert _counts(follower) == (2, 0)
        count = N - len(DELETED) + len(ADDED) + GROWN
        assert follower.get_collection("c").indexed_vectors_count == count
        assert recall(follower, "c", QUERIES) >= 0.9

        before = _files(folder)
        _writer(folder, "compact")  # a new generation: the follower reloads its state, then the file
        _follow(follower)
        assert _counts(follower) == (3, 0)
        assert follower.get_collection("c").indexed_vectors_count == count
        assert _files(folder) == before


def test_without_a_file_a_follower_builds_in_memory_then_loads_the_writers_next_one(folder):
    os.remove(_file(folder))
    with QdrantClient(path=folder, read_only=True) as follower:
        settle(follower)
        assert _counts(follower) == (0, 1)
        assert follower.get_collection("c").indexed_vectors_count == N
        assert _files(folder) == {}  # built in memory only

        _writer(folder, "open")  # the writer rebuilds its missing file; no record is written
        assert os.path.exists(_file(folder))
        time.sleep(FILE_CHECK_INTERVAL * 1.5)
        _follow(follower)
        assert _counts(follower) == (1, 1)
        assert recall(follower, "c", QUERIES) >= 0.9


def test_a_damaged_file_is_ignored_by_a_follower_and_left_in_place(folder):
    path = _file(folder)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        f.write(b"\x00\x01\x02\x03")
    before = _files(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with QdrantClient(path=folder, read_only=True) as follower:
            settle(follower)
            assert _counts(follower) == (0, 1)
            assert recall(follower, "c", QUERIES) >= 0.9
            _follow(follower)
            assert _counts(follower) == (0, 1)  # the same damaged file is not read again
    assert [w for w in caught if path in str(w.message)]
    assert _files(folder) == before
