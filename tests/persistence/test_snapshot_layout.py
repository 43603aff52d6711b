"""Snapshots hold each collection's points as one column block (engine/columns.py): every kind of
point survives compaction and reopen exactly, and dense vectors are read straight into the matrix."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.engine import growth
from qdrant_local.storage import framing

from .helpers import visible_state


def _mixed_collection(client: QdrantClient) -> None:
    client.create_collection(
        "mixed",
        vectors_config={
            "a": models.VectorParams(size=6, distance=models.Distance.COSINE),
            "b": models.VectorParams(size=3, distance=models.Distance.EUCLID),
            "m": models.VectorParams(
                size=2,
                distance=models.Distance.DOT,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={"s": models.SparseVectorParams()},
    )
    client.create_payload_index("mixed", "n", models.PayloadSchemaType.INTEGER)
    rng = np.random.default_rng(7)
    points = []
    for i in range(300):
        vector: dict = {"a": rng.standard_normal(6).tolist()}
        if i % 3 == 0:
            vector["b"] = rng.standard_normal(3).tolist()  # only some points have "b"
        if i % 5 == 0:
            vector["m"] = rng.standard_normal((1 + i % 3, 2)).tolist()
        if i % 4 == 0:
            vector["s"] = models.SparseVector(indices=[i % 7, 10 + i % 5], values=[0.5, -1.0])
        point_id = str(uuid.UUID(int=i * 7919)) if i % 10 == 0 else i
        points.append(models.PointStruct(id=point_id, vector=vector, payload={"n": i, "tag": ["x", i % 4]}))
    client.upsert("mixed", points)
    client.delete("mixed", points_selector=list(range(1, 300, 7)))  # tombstones: the gathered path
    client.create_collection("empty", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.create_collection("plain", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    client.upsert("plain", models.Batch(ids=list(range(50)), vectors=rng.standard_normal((50, 4)).tolist()))
    client.update_collection_aliases(
        change_aliases_operations=[
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="plain", alias_name="p"))
        ]
    )


def _column_blocks(snapshot: Path) -> int:
    import msgpack

    data = snapshot.read_bytes()
    pos, blocks = framing.HEADER_SIZE, 0
    while True:
        length = int.from_bytes(data[pos : pos + 4], "little")
        if length == 0:
            return blocks
        body = data[pos + framing.FRAME_HEADER_SIZE : pos + framing.FRAME_HEADER_SIZE + length]
        try:
            record = msgpack.unpackb(body, raw=False)
            blocks += isinstance(record, dict) and "$columns" in record
        except Exception:
            pass  # a column frame
        pos += framing.FRAME_HEADER_SIZE + length


def test_every_kind_of_point_survives_a_column_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "db"
    client = QdrantClient(path=str(path))
    _mixed_collection(client)
    before = visible_state(client)
    query = client.query_points("mixed", query=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], using="a", limit=10).points
    client.compact()
    client.close()
    assert _column_blocks(path / "00000001.snapshot") == 2  # "mixed" and "plain"; "empty" has no points
    reopened = QdrantClient(path=str(path))
    assert visible_state(reopened) == before
    again = reopened.query_points("mixed", query=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], using="a", limit=10).points
    assert [(p.id, p.score) for p in again] == [(p.id, p.score) for p in query]
    count = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gte=100))])
    assert reopened.count("mixed", count_filter=count).count == client_count_in_memory(count)
    reopened.upsert("mixed", [models.PointStruct(id=1000, vector={"a": [1.0] * 6}, payload={"n": 1000})])
    state = visible_state(reopened)
    reopened.close()
    last = QdrantClient(path=str(path))
    assert visible_state(last) == state
    last.close()


def client_count_in_memory(count_filter: models.Filter) -> int:
    client = QdrantClient(":memory:")
    _mixed_collection(client)
    return client.count("mixed", count_filter=count_filter).count


def test_reopen_reads_the_vectors_into_the_final_matrix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dense column lands in the reserved matrix the store searches (no intermediate copy to grow from)."""
    monkeypatch.setattr(growth, "RESERVE_FROM", 64 << 10)
    path = tmp_path / "db"
    rows = np.random.default_rng(1).standard_normal((5000, 16), dtype=np.float32)
    client = QdrantClient(path=str(path))
    client.create_collection("c", vectors_config=models.VectorParams(size=16, distance=models.Distance.DOT))
    client.upsert("c", models.Batch(ids=list(range(5000)), vectors=rows))
    client.compact()
    client.close()
    reopened = QdrantClient(path=str(path))
    store = reopened._database.collections["c"].store.vectors[""]  # type: ignore[attr-defined]
    assert store._memory.owns(store.matrix)
    np.testing.assert_array_equal(store.matrix[:5000], rows)
    reopened.close()
