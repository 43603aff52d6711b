"""Builds run in the background while writers and readers go on; close() cancels them cleanly;
without the extra nothing changes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("faiss")

from qdrant_local import QdrantClient, models

from .helpers import EXACT, clustered, create, load, match, recall, settle


def test_writers_and_readers_during_builds():
    with QdrantClient(":memory:") as client:
        create(client)
        load(client, "c", clustered(2000))
        errors: list[BaseException] = []
        deleted: set[int] = set()
        done = threading.Event()

        def writer() -> None:
            try:
                rng = np.random.default_rng(3)
                for step in range(30):
                    load(client, "c", clustered(200, seed=50 + step), start=100_000 + step * 200)
                    victims = [int(i) for i in rng.choice(2000, 20, replace=False)]
                    client.delete("c", victims)
                    deleted.update(victims)
                    moved = int(rng.integers(100_000, 100_000 + (step + 1) * 200))
                    client.update_vectors(
                        "c", [models.PointVectors(id=moved, vector=clustered(1, seed=step)[0].tolist())]
                    )
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
            finally:
                done.set()

        def reader() -> None:
            try:
                queries = clustered(16, seed=77)
                while not done.is_set():
                    for q in queries:
                        points = client.query_points("c", q.tolist(), limit=10, query_filter=match("half", 1)).points
                        assert len(points) == 10 and len({p.id for p in points}) == 10
                        assert all(p.payload["half"] == 1 for p in points)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        settle(client)
        assert client.get_collection("c").indexed_vectors_count == client.count("c").count
        queries = clustered(20, seed=5)
        for q in queries:
            ids = {p.id for p in client.query_points("c", q.tolist(), limit=20).points}
            assert not ids & deleted
        assert recall(client, "c", queries) >= 0.9


def test_close_cancels_a_running_build(tmp_path):
    client = QdrantClient(path=str(tmp_path / "db"))
    create(client, "c", hnsw_config=models.HnswConfigDiff(ef_construct=400, full_scan_threshold=1))
    load(client, "c", clustered(20_000))
    service = client._database.ann
    client.close()
    assert service._thread is not None and not service._thread.is_alive()
    with QdrantClient(path=str(tmp_path / "db")) as reopened:
        assert reopened.count("c").count == 20_000
        q = clustered(1, seed=1)[0].tolist()
        assert len(reopened.query_points("c", q, limit=10).points) == 10


def test_yellow_while_building_green_after():
    with QdrantClient(":memory:") as client:
        create(client, "c", hnsw_config=models.HnswConfigDiff(ef_construct=200, full_scan_threshold=1))
        load(client, "c", clustered(8000))
        index = client._database.collection("c").vector_indexes[""]
        with client._database.lock:  # the build cannot finish while we hold the lock
            assert index.busy
            assert client.get_collection("c").status == models.CollectionStatus.YELLOW
            q = clustered(1, seed=2)[0].tolist()
            # meanwhile search is exact
            assert [p.id for p in client.query_points("c", q, limit=5).points] == [
                p.id for p in client.query_points("c", q, limit=5, search_params=EXACT).points
            ]
        settle(client)
        info = client.get_collection("c")
        assert info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count == 8000


def test_without_the_extra_nothing_changes(tmp_path):
    script = """
import sys, warnings
sys.modules["faiss"] = None  # as if faiss-cpu were not installed
from qdrant_local import QdrantClient, models
import importlib
helpers = importlib.import_module("tests.ann.helpers")  # a script cannot import relatively
c = QdrantClient(":memory:")
helpers.create(c)
helpers.load(c, "c", helpers.clustered(3000))
assert c._database.ann is None
info = c.get_collection("c")
assert info.indexed_vectors_count == 0 and info.status == models.CollectionStatus.GREEN
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    c.query_points("c", helpers.clustered(1)[0].tolist(), limit=3, search_params=models.SearchParams(hnsw_ef=10))
assert any("exact (brute-force)" in str(w.message) for w in caught)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_with_the_extra_search_params_are_used_without_a_warning():
    script = """
import warnings
from qdrant_local import QdrantClient, models
import importlib
helpers = importlib.import_module("tests.ann.helpers")
c = QdrantClient(":memory:")
helpers.create(c)
helpers.load(c, "c", helpers.clustered(3000))
helpers.settle(c)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for params in (models.SearchParams(hnsw_ef=10), models.SearchParams(exact=True)):
        c.query_points("c", helpers.clustered(1)[0].tolist(), limit=3, search_params=params)
assert not [w for w in caught if "search_params" in str(w.message)], [str(w.message) for w in caught]
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


EXIT_SCRIPT = """
import atexit, threading

def report():  # registered first, so it runs after qdrant_local's own exit handlers
    alive = [t.name for t in threading.enumerate() if t.name == "qdrant_local-hnsw" and t.is_alive()]
    print("build threads alive at exit:", alive, flush=True)

atexit.register(report)

import numpy as np
from qdrant_local import QdrantClient, models

client = QdrantClient(":memory:")
client.create_collection(
    "c",
    vectors_config=models.VectorParams(size=24, distance="Cosine"),
    optimizers_config=models.OptimizersConfigDiff(indexing_threshold=4),
    hnsw_config=models.HnswConfigDiff(ef_construct=400),
)
vectors = np.random.default_rng(0).standard_normal((20_000, 24)).astype(np.float32)
client.upsert("c", models.Batch(ids=list(range(20_000)), vectors=vectors))
assert client.get_collection("c").status == models.CollectionStatus.YELLOW
"""  # the client is never closed: the process exits while the build runs


def test_exit_during_a_build_stops_it_first():
    """An in-memory client's background build is cancelled and waited for at interpreter exit: a
    build left running inside faiss while the process exits aborted it (SIGABRT, "terminate called
    without an active exception") in about one exit in five."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "build threads alive at exit: []" in done.stdout, done.stdout + done.stderr
