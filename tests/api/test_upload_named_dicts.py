"""upload_collection with a list of named-vector dicts (some points lacking a name) matches qdrant-client."""

from __future__ import annotations

import qdrant_client

import qdrant_local


def _upload(module: object) -> tuple:
    models = module.models  # type: ignore[attr-defined]
    client = module.QdrantClient(":memory:")  # type: ignore[attr-defined]
    client.create_collection(
        "c",
        vectors_config={
            "a": models.VectorParams(size=2, distance="Dot"),
            "b": models.VectorParams(size=2, distance="Dot"),
        },
    )
    vectors = [{"a": [1.0, 2.0]}, {"a": [0.0, 1.0], "b": [3.0, 3.0]}, {"b": [1.0, 0.5]}]
    client.upload_collection("c", vectors, ids=iter([1, 2, 3, 4]), payload=[{"x": 1}, {"y": 2}, {}])
    records, _ = client.scroll("c", with_vectors=True)
    return tuple((r.id, r.payload, r.vector) for r in records)


def test_named_vector_dicts_upload_like_qdrant_client() -> None:
    assert _upload(qdrant_local) == _upload(qdrant_client)
