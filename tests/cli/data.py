"""Collections with every vector kind and payload shape, shared by the transfer tests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PAYLOADS: list[dict[str, Any]] = [
    {"city": "Oslo", "price": 7, "tags": ["a", "b"], "nested": {"x": [1, 2, {"y": None}]}, "ok": True},
    {"city": "Zürich ✓", "price": 12.5, "big": 2**63 - 1, "neg": -(2**63), "when": "2024-05-01T10:00:00Z"},
    {"empty_list": [], "empty_obj": {}, "null": None, "float": 1.0, "tiny": 5e-324, "pi": math.pi},
    {},
]
UUIDS = ["5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "00000000-0000-0000-0000-000000000001"]


def fill(client: Any, models: Any, points: int = 40, seed: int = 3) -> None:
    """Create collections "dense" (unnamed Cosine), "mixed" (named dense, multivector, sparse) and "empty"."""
    rng = np.random.default_rng(seed)
    client.create_collection(
        "dense",
        vectors_config=models.VectorParams(size=5, distance=models.Distance.COSINE),
        metadata={"owner": "me", "n": None},
    )
    client.create_collection(
        "mixed",
        vectors_config={
            "text": models.VectorParams(size=3, distance=models.Distance.DOT),
            "image": models.VectorParams(size=4, distance=models.Distance.EUCLID),
            "colbert": models.VectorParams(
                size=2,
                distance=models.Distance.COSINE,
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            ),
        },
        sparse_vectors_config={
            "bm25": models.SparseVectorParams(modifier=models.Modifier.IDF),
            "plain": models.SparseVectorParams(),
        },
    )
    client.create_collection("empty", vectors_config=models.VectorParams(size=2, distance=models.Distance.MANHATTAN))
    dense_ids: list[Any] = list(range(points - 2)) + UUIDS
    client.upsert(
        "dense",
        [
            models.PointStruct(id=point_id, vector=rng.normal(size=5).tolist(), payload=PAYLOADS[i % len(PAYLOADS)])
            for i, point_id in enumerate(dense_ids)
        ],
    )
    mixed = []
    for i in range(points):
        vector: dict[str, Any] = {}
        if i % 4 != 1:
            vector["text"] = rng.normal(size=3).tolist()
        if i % 3 != 2:
            vector["image"] = rng.normal(size=4).tolist()
        if i % 2 == 0:
            vector["colbert"] = rng.normal(size=(1 + i % 3, 2)).tolist()
        if i % 5 != 4:
            indices = sorted(rng.choice(100, size=1 + i % 4, replace=False).tolist())
            vector["bm25"] = models.SparseVector(indices=indices, values=rng.random(len(indices)).tolist())
        if i % 7 == 0:
            vector["plain"] = models.SparseVector(indices=[i], values=[0.5])
        mixed.append(models.PointStruct(id=10_000 + i, vector=vector, payload=PAYLOADS[(i + 1) % len(PAYLOADS)]))
    client.upsert("mixed", mixed)


def add_indexes_and_aliases(client: Any, models: Any) -> None:
    client.create_payload_index("dense", "city", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index("dense", "price", models.PayloadSchemaType.FLOAT)
    client.create_payload_index(
        "mixed",
        "city",
        models.TextIndexParams(type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD, lowercase=True),
    )
    client.update_collection_aliases(
        [
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="dense", alias_name="prod")),
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="mixed", alias_name="m2")),
        ]
    )
