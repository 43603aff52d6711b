"""Index files: loaded on reopen when they match the folder's state, rebuilt when stale, damaged,
foreign or missing; a bad file never blocks opening and never changes results."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest

pytest.importorskip("faiss")

from qdrant_local import QdrantClient
from qdrant_local.engine.ann.files import index_file_name

from .helpers import clustered, create, ids_scores, load, settle

N = 3000
QUERIES = clustered(8, seed=5)


def _results(client: QdrantClient, name: str = "c") -> list:
    return [ids_scores(client.query_points(name, q.tolist(), limit=10).points) for q in QUERIES]


@pytest.fixture
def folder(tmp_path):
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        create(client, "c")
        create(client, "d")
        load(client, "c", clustered(N))
        load(client, "d", clustered(N, seed=1))
        settle(client)
    return path


def _file(folder: str, name: str = "c") -> str:
    return os.path.join(folder, index_file_name(name, ""))


def _reopen(folder: str) -> tuple[QdrantClient, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = QdrantClient(path=folder)
        settle(client)
    return client, [str(w.message) for w in caught if "HNSW index file" in str(w.message)]


def test_a_matching_file_is_loaded_not_rebuilt(folder):
    path = _file(folder)
    assert os.path.exists(path) and os.path.exists(_file(folder, "d"))
    stamp = os.stat(path).st_mtime_ns
    client, warned = _reopen(folder)
    with client:
        assert client.get_collection("c").indexed_vectors_count == N
        assert not warned
        assert os.stat(path).st_mtime_ns == stamp  # not rewritten: it was loaded
        before = _results(client)
        client.close()
        client, _ = _reopen(folder)
        assert _results(client) == before  # the same graph answers the same way


def _segment_sizes(client: QdrantClient, name: str = "c") -> list[tuple[int, int]]:
    """(labels, fresh labels) of each segment of the collection's index."""
    index = client._database.collections[name].vector_indexes[""]
    return [(len(s.labels), s.labels.n_fresh) for s in index.segments]


def test_a_file_older_than_the_folder_is_loaded_and_never_stale(folder):
    """Writes after the file was saved (new, overwritten, deleted points) leave it usable: it is
    loaded, not rebuilt, and the points changed since are searched exactly, never through the graph."""
    far = clustered(10, seed=77) * -3.0  # new vectors for 10 indexed points, far from their old ones
    with QdrantClient(path=folder) as client:
        settle(client)
        load(client, "c", clustered(5, seed=9), start=N)  # below the threshold: no build
        client.upsert("c", [{"id": i, "vector": far[i].tolist(), "payload": {}} for i in range(10)])
        client.delete("c", list(range(10, 30)))
        settle(client)
        assert _segment_sizes(client) == [(N, N - 30)]
    stamp = os.stat(_file(folder)).st_mtime_ns
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert _segment_sizes(client) == [(N, N - 30)]  # the saved graph, with 30 stale labels
        assert client.get_collection("c").indexed_vectors_count == N - 30
        assert os.stat(_file(folder)).st_mtime_ns == stamp  # loaded, not rebuilt
        for i in range(10):  # a changed point is found at its new place, with its new score
            top = client.query_points("c", far[i].tolist(), limit=1).points[0]
            assert top.id == i and top.score == pytest.approx(1.0, abs=1e-5)
        for q in QUERIES:
            got = client.query_points("c", q.tolist(), limit=10).points
            exact = client.query_points("c", q.tolist(), limit=10, search_params={"exact": True}).points
            assert not {p.id for p in got} & set(range(10, 30))  # deleted points never come back
            assert len(got) == 10 and len({p.id for p in got} & {p.id for p in exact}) >= 8


def test_a_file_is_loaded_after_a_compaction_of_the_folder(folder):
    """A snapshot/compaction since the file was saved (a new storage generation) does not stale it."""
    with QdrantClient(path=folder) as client:
        settle(client)
        client.delete("c", list(range(5)))
        client._database.compact()
    stamp = os.stat(_file(folder)).st_mtime_ns
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert _segment_sizes(client) == [(N, N - 5)]
        assert os.stat(_file(folder)).st_mtime_ns == stamp


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "other_collection"])
def test_a_damaged_or_foreign_file_is_ignored_with_a_warning(folder, damage):
    path = _file(folder)
    with QdrantClient(path=folder) as client:
        expected = [
            ids_scores(client.query_points("c", q.tolist(), limit=10, search_params={"exact": True}).points)
            for q in QUERIES
        ]
    if damage == "flip":
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "truncate":
        os.truncate(path, os.path.getsize(path) // 3)
    elif damage == "garbage":
        with open(path, "wb") as f:
            f.write(b"not an index at all")
    else:
        shutil.copyfile(_file(folder, "d"), path)
    client, warned = _reopen(folder)
    with client:
        assert len(warned) == 1 and path in warned[0]
        assert client.get_collection("c").indexed_vectors_count == N  # rebuilt
        got = _results(client)
        hits = sum(len({p for p, _ in g} & {p for p, _ in e}) for g, e in zip(got, expected))
        assert hits / (10 * len(QUERIES)) >= 0.9
    client, warned = _reopen(folder)  # the rebuilt file is good again
    with client:
        assert not warned


def test_a_missing_file_is_rebuilt(folder):
    os.remove(_file(folder))
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert client.get_collection("c").indexed_vectors_count == N
        assert os.path.exists(_file(folder))


def test_writes_while_the_file_loads_are_never_stale(folder):
    client = QdrantClient(path=folder)  # the load runs in the background: write at once
    with client:
        q = QUERIES[0]
        client.delete(
            "c", [p.id for p in client.query_points("c", q.tolist(), limit=3, search_params={"exact": True}).points]
        )
        client.upsert("c", [{"id": 10**6, "vector": q.tolist(), "payload": {}}])
        settle(client)
        exact = client.query_points("c", q.tolist(), limit=5, search_params={"exact": True}).points
        assert client.query_points("c", q.tolist(), limit=5).points[0].id == 10**6
        assert ids_scores(client.query_points("c", q.tolist(), limit=5).points)[:3] == ids_scores(exact)[:3]


def test_deleting_a_collection_removes_its_file_and_strays_are_cleaned(folder):
    with QdrantClient(path=folder) as client:
        client.delete_collection("d")
        assert not os.path.exists(_file(folder, "d"))
    stray = os.path.join(folder, "ann-0123456789abcdef.hnsw")
    with open(stray, "wb") as f:
        f.write(b"x")
    client, _ = _reopen(folder)  # a name the storage knows: opening is not refused
    with client:
        assert not os.path.exists(stray)
        assert client.get_collection("c").indexed_vectors_count == N


def test_a_file_of_uuid_points_is_loaded(tmp_path):
    import uuid

    path = str(tmp_path / "u")
    rows = clustered(500)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(500)]
    with QdrantClient(path=path) as client:
        create(client, "u")
        client.upsert("u", [{"id": p, "vector": v.tolist(), "payload": {}} for p, v in zip(ids, rows)])
        settle(client)
        client.delete("u", ids[:3])
    client, warned = _reopen(path)
    with client:
        assert not warned
        assert _segment_sizes(client, "u") == [(500, 497)]
        assert client.query_points("u", rows[10].tolist(), limit=1).points[0].id == ids[10]
