"""Seeded data and small helpers for the HNSW tests (the ``ann`` extra must be installed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from qdrant_local import QdrantClient, models

DIM = 24
# Tiny thresholds so a few thousand points get an index: 4 KB = 42 vectors of dim 24; the full
# scan threshold (1 KB = 10 vectors) lets filtered queries reach the graph.
SMALL = {
    "optimizers_config": models.OptimizersConfigDiff(indexing_threshold=4),
    "hnsw_config": models.HnswConfigDiff(full_scan_threshold=1),
}
EXACT = models.SearchParams(exact=True)


def clustered(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    """Points around 50 centres in a 6-dimensional subspace plus noise: embedding-like, seeded."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(1234).standard_normal((6, dim))
    centres = np.random.default_rng(99).standard_normal((50, 6)) * 3
    latent = centres[rng.integers(0, 50, n)] + rng.standard_normal((n, 6))
    return (latent @ basis + 0.2 * rng.standard_normal((n, dim))).astype(np.float32)


def payload(i: int) -> dict[str, Any]:
    return {"g": i % 50, "half": i % 2}


def create(client: QdrantClient, name: str = "c", distance: str = "Cosine", **config: Any) -> None:
    settings = {**SMALL, **config}
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=distance), **settings)


def load(client: QdrantClient, name: str, vectors: np.ndarray, start: int = 0) -> None:
    ids = list(range(start, start + len(vectors)))
    client.upsert(name, models.Batch(ids=ids, vectors=vectors.tolist(), payloads=[payload(i) for i in ids]))


def settle(client: QdrantClient, timeout: float = 120.0) -> None:
    """Wait until no index build or load is queued or running."""
    service = client._database.ann
    assert service is not None, "the ann extra (faiss-cpu) is not installed"
    assert service.wait_idle(timeout), "index build did not finish"


def match(field: str, value: Any) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key=field, match=models.MatchValue(value=value))])


def ids_scores(points: list[Any]) -> list[tuple[Any, float]]:
    return [(p.id, p.score) for p in points]


def recall(client: QdrantClient, name: str, queries: np.ndarray, limit: int = 10, **kwargs: Any) -> float:
    """Mean recall@limit of the default (indexed) search against exact search on the same client."""
    hits = total = 0
    for q in queries:
        approx = {p.id for p in client.query_points(name, q.tolist(), limit=limit, **kwargs).points}
        exact = {p.id for p in client.query_points(name, q.tolist(), limit=limit, search_params=EXACT, **kwargs).points}
        hits += len(approx & exact)
        total += len(exact)
    return hits / max(total, 1)
