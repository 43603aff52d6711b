"""Selective filters: gathered rows are reused between searches, never past a write.

A search whose filter keeps few points ranks a gathered copy of their rows; the copy is kept for
the next search with the same filter while the collection is unchanged. These tests check that a
write of any kind (new vector, deleted point, payload change moving a point out of the filter) is
seen by the very next search, and that batched searches (sharing one gather per distinct filter)
give exactly what single searches give.
"""

from __future__ import annotations

import numpy as np

from qdrant_local import QdrantClient, models

N, DIM = 400, 8


def _setup(distance: models.Distance = models.Distance.COSINE) -> tuple[QdrantClient, np.ndarray]:
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=distance))
    vectors = np.random.default_rng(5).standard_normal((N, DIM)).astype(np.float32)
    client.upsert(
        "c", models.Batch(ids=list(range(N)), vectors=vectors.tolist(), payloads=[{"g": i % 10} for i in range(N)])
    )
    return client, vectors


def _group(g: int) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])


def _search(client: QdrantClient, query: list[float], g: int) -> list[tuple[int, float]]:
    points = client.query_points("c", query, query_filter=_group(g), limit=5).points
    return [(p.id, p.score) for p in points]


def test_writes_are_seen_by_the_next_search() -> None:
    client, vectors = _setup()
    query = vectors[3].tolist()
    assert _search(client, query, 3)[0][0] == 3
    assert _search(client, query, 3)[0][0] == 3  # served from the kept rows
    client.update_vectors("c", [models.PointVectors(id=13, vector=query)])
    top = _search(client, query, 3)
    assert {top[0][0], top[1][0]} == {3, 13}
    client.delete("c", [3, 13])
    assert {p for p, _ in _search(client, query, 3)}.isdisjoint({3, 13})
    client.set_payload("c", {"g": 3}, [4])
    assert 4 in {p for p, _ in _search(client, vectors[4].tolist(), 3)}
    client.upsert("c", [models.PointStruct(id=1000, vector=query, payload={"g": 3})])
    assert _search(client, query, 3)[0][0] == 1000


def test_batched_searches_equal_single_searches() -> None:
    for distance in (models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN):
        client, _ = _setup(distance)
        queries = np.random.default_rng(9).standard_normal((12, DIM)).tolist()
        groups = [k % 3 for k in range(12)]
        requests = [models.QueryRequest(query=q, filter=_group(g), limit=5) for q, g in zip(queries, groups)]
        for _ in range(2):  # the second round reuses the gathered rows
            batched = [[(p.id, p.score) for p in r.points] for r in client.query_batch_points("c", requests)]
            assert batched == [_search(client, q, g) for q, g in zip(queries, groups)]
