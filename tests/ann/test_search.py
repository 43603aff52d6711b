"""HNSW search: recall, exact scores, Qdrant's configuration, filters and the segment merge."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faiss")

from qdrant_local import QdrantClient, models

from .helpers import (
    DIM,
    EXACT,
    clustered,
    create,
    ids_scores,
    load,
    match,
    recall,
    settle,
)

N = 4000


@pytest.fixture
def client():
    with QdrantClient(":memory:") as client:
        yield client


def _indexed(client: QdrantClient, distance: str = "Cosine", n: int = N, **config) -> np.ndarray:
    create(client, distance=distance, **config)
    vectors = clustered(n)
    load(client, "c", vectors)
    settle(client)
    return vectors


@pytest.mark.parametrize("distance", ["Cosine", "Dot", "Euclid"])
def test_recall_and_exact_scores(client, distance):
    _indexed(client, distance)
    info = client.get_collection("c")
    assert info.indexed_vectors_count == N and info.status == models.CollectionStatus.GREEN
    queries = clustered(40, seed=7)
    assert recall(client, "c", queries) >= 0.9  # measured 1.0 on this data; margin for the seed
    for q in queries[:10]:
        approx = client.query_points("c", q.tolist(), limit=10).points
        exact = dict(ids_scores(client.query_points("c", q.tolist(), limit=50, search_params=EXACT).points))
        for point in approx:  # every returned score is the exact score of that point
            assert point.score == pytest.approx(exact.get(point.id, point.score), rel=1e-12)


def test_exact_true_equals_an_unindexed_collection(client):
    vectors = _indexed(client)
    client.create_collection("plain", vectors_config=models.VectorParams(size=DIM, distance="Cosine"))
    load(client, "plain", vectors)
    assert client.get_collection("plain").indexed_vectors_count == 0
    for q in clustered(10, seed=3):
        for flt in (None, match("g", 3), match("half", 1)):
            got = client.query_points("c", q.tolist(), limit=15, query_filter=flt, search_params=EXACT).points
            want = client.query_points("plain", q.tolist(), limit=15, query_filter=flt).points
            assert ids_scores(got) == ids_scores(want)


def test_below_threshold_or_disabled_stays_exact(client):
    create(client, "small", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10_000))
    create(client, "off", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0))
    create(client, "m0", hnsw_config=models.HnswConfigDiff(m=0, full_scan_threshold=1))
    create(client, "manhattan", distance="Manhattan")
    for name in ("small", "off", "m0", "manhattan"):
        load(client, name, clustered(N))
    settle(client)
    for name in ("small", "off", "m0", "manhattan"):
        assert client.get_collection(name).indexed_vectors_count == 0, name
        assert not client._database.collection(name).vector_indexes.get("", None) or name == "small"


def test_per_vector_hnsw_config(client):
    client.create_collection(
        "c",
        vectors_config={
            "on": models.VectorParams(size=DIM, distance="Cosine"),
            "off": models.VectorParams(size=DIM, distance="Cosine", hnsw_config=models.HnswConfigDiff(m=0)),
        },
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=4),
    )
    vectors = clustered(N)
    client.upsert("c", models.Batch(ids=list(range(N)), vectors={"on": vectors.tolist(), "off": vectors.tolist()}))
    settle(client)
    assert set(client._database.collection("c").vector_indexes) == {"on"}
    assert client.get_collection("c").indexed_vectors_count == N


def test_sparse_and_multivectors_stay_exact(client):
    client.create_collection(
        "c",
        vectors_config={
            "multi": models.VectorParams(
                size=4, distance="Cosine", multivector_config=models.MultiVectorConfig(comparator="max_sim")
            )
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1),
    )
    client.upsert(
        "c",
        [
            models.PointStruct(
                id=i, vector={"multi": [[1.0, i, 0, 1]], "s": models.SparseVector(indices=[i % 7], values=[1.0])}
            )
            for i in range(500)
        ],
    )
    settle(client)
    assert client._database.collection("c").vector_indexes == {}
    assert client.query_points("c", [[1.0, 3, 0, 1]], using="multi", limit=1).points[0].id == 3


def test_hnsw_ef_and_update_collection_rebuild(client):
    _indexed(client)
    q = clustered(1, seed=5)[0].tolist()
    assert len(client.query_points("c", q, limit=10, search_params=models.SearchParams(hnsw_ef=4)).points) == 10
    client.update_collection("c", hnsw_config=models.HnswConfigDiff(m=8))
    settle(client)
    index = client._database.collection("c").vector_indexes[""]
    assert index.params.m == 8 and index.indexed_count == N
    client.update_collection("c", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0))
    assert client.get_collection("c").indexed_vectors_count == 0


@pytest.mark.parametrize("field,value", [("g", 7), ("half", 1)])
def test_filtered_queries_return_limit_with_recall(client, field, value):
    _indexed(client, n=6000)
    client.create_payload_index("c", field, models.PayloadSchemaType.INTEGER)
    queries = clustered(30, seed=11)
    assert recall(client, "c", queries, query_filter=match(field, value)) >= 0.9
    for q in queries:
        for limit in (10, 100):
            points = client.query_points("c", q.tolist(), limit=limit, query_filter=match(field, value)).points
            assert len(points) == limit
            assert all(p.payload[field] == value for p in points)


def test_a_filter_matching_fewer_than_limit_returns_all_of_them(client):
    _indexed(client)
    client.upsert(
        "c",
        [
            models.PointStruct(id=10**6 + i, vector=clustered(1, seed=i)[0].tolist(), payload={"rare": True})
            for i in range(3)
        ],
    )
    points = client.query_points(
        "c", clustered(1, seed=9)[0].tolist(), limit=10, query_filter=match("rare", True)
    ).points
    assert sorted(p.id for p in points) == [10**6, 10**6 + 1, 10**6 + 2]


def test_points_written_after_the_build_are_never_stale(client):
    vectors = _indexed(client)
    q = clustered(1, seed=21)[0]
    top = [p.id for p in client.query_points("c", q.tolist(), limit=10).points]
    # Deleted: gone at once.
    client.delete("c", top[:3])
    after = [p.id for p in client.query_points("c", q.tolist(), limit=10).points]
    assert not set(top[:3]) & set(after)
    # Moved far away: no longer near, and its score is the new one.
    client.update_vectors("c", [models.PointVectors(id=top[3], vector=(-q).tolist())])
    points = client.query_points("c", q.tolist(), limit=10).points
    assert top[3] not in [p.id for p in points]
    # Moved onto the query, and a new point on the query: both first, with exact scores.
    client.update_vectors("c", [models.PointVectors(id=7, vector=q.tolist())])
    client.upsert("c", [models.PointStruct(id=N + 1, vector=(q * 2).tolist(), payload={"g": 0})])
    points = client.query_points("c", q.tolist(), limit=10).points
    assert {points[0].id, points[1].id} == {7, N + 1}
    assert points[0].score == pytest.approx(1.0, abs=1e-5)
    # Filtered as well: the payload changed after the build.
    client.set_payload("c", {"g": 999}, points=[int(top[4])])
    flt = match("g", 999)
    assert [p.id for p in client.query_points("c", q.tolist(), limit=5, query_filter=flt).points] == [top[4]]
    exact = client.query_points("c", q.tolist(), limit=10, search_params=EXACT).points
    assert ids_scores(client.query_points("c", q.tolist(), limit=10).points)[:2] == ids_scores(exact)[:2]
    assert vectors is not None


def test_unindexed_part_triggers_a_new_segment_then_a_merge(client):
    _indexed(client, n=1000)
    index = client._database.collection("c").vector_indexes[""]
    for step in range(6):
        load(client, "c", clustered(300, seed=100 + step), start=10_000 + step * 300)
        settle(client)
    assert 1 <= len(index.segments) <= 4
    assert index.indexed_count == 1000 + 6 * 300
    # 1200 of 2800 rows dead: past deleted_threshold (0.2) and vacuum_min_vector_number (1000).
    client.delete("c", list(range(1000)) + list(range(10_000, 10_200)))
    settle(client)
    assert len(index.segments) == 1 and index.indexed_count == 1600
    queries = clustered(20, seed=31)
    assert recall(client, "c", queries) >= 0.9


def test_batch_queries_and_recommend_use_the_index(client):
    _indexed(client)
    queries = clustered(4, seed=41)
    requests = [models.QueryRequest(query=q.tolist(), limit=5) for q in queries]
    batch = client.query_batch_points("c", requests)
    for q, response in zip(queries, batch):
        assert [p.id for p in response.points] == [p.id for p in client.query_points("c", q.tolist(), limit=5).points]
    rec = client.query_points(
        "c", models.RecommendQuery(recommend=models.RecommendInput(positive=[1, 2])), limit=5
    ).points
    assert len(rec) == 5 and not {1, 2} & {p.id for p in rec}
