"""A served folder as the target of ``qdrant-local migrate`` and the source of ``qdrant-local pull``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import qdrant_local
from qdrant_local import models

from .process import REPO, ServerProcess


def build_folder(folder: Path) -> None:
    with qdrant_local.QdrantClient(path=str(folder)) as client:
        client.create_collection(
            "docs",
            vectors_config={"dense": models.VectorParams(size=3, distance=models.Distance.COSINE)},
            sparse_vectors_config={"words": models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"owner": "search"},
        )
        client.create_payload_index("docs", "lang", models.PayloadSchemaType.KEYWORD)
        client.upsert(
            "docs",
            [
                models.PointStruct(
                    id=i if i % 3 else f"00000000-0000-0000-0000-{i:012d}",
                    vector={
                        "dense": [1.0, float(i), 0.5],
                        "words": models.SparseVector(indices=[i, i + 7], values=[0.5, 1.5]),
                    },
                    payload={"lang": ["en", "no"][i % 2], "n": i, "nested": {"tags": [i, None]}},
                )
                for i in range(40)
            ],
        )
        client.create_collection("plain", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert("plain", [models.PointStruct(id=1, vector=[1.0, 2.0])])
        client.update_collection_aliases(
            [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="docs", alias_name="current"))]
        )


def contents(folder: Path) -> dict[str, Any]:
    with qdrant_local.QdrantClient(path=str(folder)) as client:
        state: dict[str, Any] = {
            "aliases": sorted((a.alias_name, a.collection_name) for a in client.get_aliases().aliases)
        }
        for name in ("docs", "plain"):
            info = client.get_collection(name)
            records, _ = client.scroll(name, limit=1000, with_payload=True, with_vectors=True)
            state[name] = {
                "metadata": info.config.metadata,
                "indexes": sorted(info.payload_schema),
                "points": {str(r.id): (r.payload, r.vector) for r in records},
            }
        return state


def assert_same_contents(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """Equal, except dense vectors within 1e-6: a server normalises Cosine vectors again on upsert."""
    assert actual["aliases"] == expected["aliases"]
    for name in ("docs", "plain"):
        mine, theirs = expected[name], actual[name]
        assert (theirs["metadata"], theirs["indexes"]) == (mine["metadata"], mine["indexes"])
        assert theirs["points"].keys() == mine["points"].keys()
        for point_id, (payload, vector) in mine["points"].items():
            their_payload, their_vector = theirs["points"][point_id]
            assert their_payload == payload
            assert same_vector(vector, their_vector), (point_id, vector, their_vector)


def same_vector(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_vector(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return bool(np.allclose(a, b, rtol=0, atol=1e-6))
    return bool(a == b)


def cli(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qdrant_local", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_migrate_into_a_served_folder_and_pull_back(tmp_path: Path) -> None:
    source, served, pulled = tmp_path / "source", tmp_path / "served", tmp_path / "pulled"
    build_folder(source)
    server = ServerProcess(served, "--api-key", "k")
    try:
        cli("migrate", str(source), "--url", server.url, "--api-key", "k", "--batch-size", "16")
        cli("pull", server.url, str(pulled), "--api-key", "k", "--batch-size", "7")
        code, err = server.stop()
        assert code == 0, err
    finally:
        server.kill()
    expected = contents(source)
    assert_same_contents(expected, contents(served))
    assert_same_contents(expected, contents(pulled))
