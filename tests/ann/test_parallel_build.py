"""A merge build makes one graph per indexing thread, built side by side, each its own segment
(as Qdrant builds segments in parallel): searched together, followed by writes, saved and loaded."""

from __future__ import annotations

import pytest

pytest.importorskip("faiss")

from qdrant_local import QdrantClient, models
from qdrant_local.engine.ann import segments

from .helpers import EXACT, clustered, create, ids_scores, load, match, recall, settle

N = 3000
QUERIES = clustered(10, seed=5)


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    monkeypatch.setattr(segments, "MIN_PART_ROWS", 500)  # 3,000 points split like 60,000 would be


def _sizes(client: QdrantClient) -> list[tuple[int, int]]:
    index = client._database.collections["c"].vector_indexes[""]
    return [(len(s.labels), s.labels.n_fresh) for s in index.segments]


def _create(client: QdrantClient, threads: int) -> None:
    create(client, "c", hnsw_config=models.HnswConfigDiff(full_scan_threshold=1, max_indexing_threads=threads))
    load(client, "c", clustered(N))
    settle(client)


def test_one_graph_per_thread_searched_together():
    with QdrantClient(":memory:") as client:
        _create(client, threads=3)
        assert _sizes(client) == [(1000, 1000)] * 3
        assert client.get_collection("c").indexed_vectors_count == N
        assert recall(client, "c", QUERIES) >= 0.95
        assert recall(client, "c", QUERIES, query_filter=match("half", 1)) >= 0.95
        q = QUERIES[0]
        nearest = [p.id for p in client.query_points("c", q.tolist(), limit=3, search_params=EXACT).points]
        client.delete("c", nearest)
        moved = 2500 if 2500 not in nearest else 2501  # in the third graph
        client.update_vectors("c", [models.PointVectors(id=moved, vector=q.tolist())])
        exact = client.query_points("c", q.tolist(), limit=10, search_params=EXACT).points
        approx = client.query_points("c", q.tolist(), limit=10).points
        assert approx[0].id == moved and ids_scores(approx)[:3] == ids_scores(exact)[:3]
        assert [p.id for p in approx if p.id in nearest] == []
        assert sum(fresh for _, fresh in _sizes(client)) == N - 4  # stale in their graphs


def test_one_thread_makes_one_graph():
    with QdrantClient(":memory:") as client:
        _create(client, threads=1)
        assert _sizes(client) == [(N, N)]


def test_the_graphs_are_saved_and_loaded_together(tmp_path):
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        _create(client, threads=3)
        before = [ids_scores(client.query_points("c", q.tolist(), limit=10).points) for q in QUERIES]
    with QdrantClient(path=path) as client:
        settle(client)
        service = client._database.ann
        assert (service.loads, service.builds) == (1, 0)
        assert _sizes(client) == [(1000, 1000)] * 3
        assert [ids_scores(client.query_points("c", q.tolist(), limit=10).points) for q in QUERIES] == before
