"""Helpers shared by the client-level persistence tests: what a client shows, folders, child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import qdrant_local
from qdrant_local import QdrantClient
from qdrant_local.errors import StorageRecoveredWarning

#: The folder holding the ``qdrant_local`` package, for child processes' PYTHONPATH.
REPO_ROOT = str(Path(qdrant_local.__file__).resolve().parents[1])
HERE = os.path.dirname(os.path.abspath(__file__))
#: Stress mode runs many more crash cycles and examples (QDRANT_LOCAL_STRESS=1).
STRESS = os.environ.get("QDRANT_LOCAL_STRESS", "") not in ("", "0")

# Keys ordered scrolls are taken on: they have ties on purpose, so the tie order (slot order) is checked too.
ORDER_KEYS = ("n",)
# Filters counted in every collection: payload conditions on the keys the tests write (some of them indexed,
# so index state rebuilt by replay is checked against the index state kept up to date by writes).
COUNT_FILTERS = (
    {"must": [{"key": "n", "range": {"gte": 1}}]},
    {"must": [{"key": "tag", "match": {"value": "Oslo"}}]},
    {"must": [{"key": "group", "match": {"any": [1, 3, 5]}}]},
    {"must_not": [{"is_empty": {"key": "n"}}]},
    {"should": [{"key": "seed", "range": {"lt": 2**31}}, {"has_id": [0, 1, 2, 3]}]},
)


def dump(model: Any) -> Any:
    """A model (or list of models) as plain JSON values, for exact comparisons and readable diffs."""
    if isinstance(model, list):
        return [dump(item) for item in model]
    return model.model_dump(mode="json")


def visible_state(client: QdrantClient, page_size: int = 7) -> dict[str, Any]:
    """Everything a user can see through the client, as plain values.

    Collections (in listing order) with their full info (config, metadata, payload_schema, points_count),
    aliases, every point with payload and all vectors, in scroll order and scrolled in small pages (so
    page offsets are compared too), and scrolls ordered by a payload key (whose ties follow slot order).
    """
    names = [c.name for c in client.get_collections().collections]
    state: dict[str, Any] = {
        "collections": names,
        "aliases": [(a.alias_name, a.collection_name) for a in client.get_aliases().aliases],
    }
    for name in names:
        pages = []
        offset = None
        while True:
            records, offset = client.scroll(name, limit=page_size, offset=offset, with_payload=True, with_vectors=True)
            pages.append((dump(records), offset))
            if offset is None:
                break
        ordered = {}
        for key in ORDER_KEYS:
            for direction in ("asc", "desc"):
                records, _ = client.scroll(name, limit=10_000, order_by={"key": key, "direction": direction})
                ordered[f"{key} {direction}"] = [(r.id, r.order_value) for r in records]
        info = client.get_collection(name)
        state[name] = {
            "info": dump(info),
            "count": client.count(name).count,
            "pages": pages,
            "ordered": ordered,
            "filtered counts": [client.count(name, count_filter=f).count for f in COUNT_FILTERS],
            "queries": nearest(client, name, info),
        }
    return state


def nearest(client: QdrantClient, name: str, info: Any) -> dict[str, Any]:
    """Top-5 (id, score) of a fixed query on every vector of the collection: scoring structures rebuilt by
    replay (norms, sparse IDF statistics, ...) must rank and score exactly like the ones kept up to date live."""
    if not hasattr(client, "query_points"):
        return {}
    vectors = info.config.params.vectors
    dense = vectors if isinstance(vectors, dict) else {"": vectors}
    queries: dict[str, Any] = {}
    for vector_name, params in dense.items():
        query: Any = [((k % 5) - 1.5) / 2 for k in range(params.size)]
        if params.multivector_config is not None:
            query = [query, query[::-1]]
        queries[vector_name] = query
    for vector_name in info.config.params.sparse_vectors or {}:
        queries[vector_name] = {"indices": [1, 2, 5, 9, 30], "values": [1.0, 0.5, 0.25, 2.0, -1.0]}
    found = {}
    for vector_name, query in queries.items():
        if isinstance(query, dict):
            from qdrant_local import models

            query = models.SparseVector(**query)
        response = client.query_points(name, query=query, using=vector_name or None, limit=5, with_payload=False)
        found[vector_name] = [(point.id, point.score) for point in response.points]
    return found


def open_client(path: str | os.PathLike[str], *, recovered: bool = False) -> QdrantClient:
    """Open ``path``; any warning fails the test unless ``recovered`` allows a StorageRecoveredWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = QdrantClient(path=os.fspath(path))
    for warning in caught:
        if not (recovered and issubclass(warning.category, StorageRecoveredWarning)):
            client.close()
            raise AssertionError(f"unexpected warning on open: {warning.category.__name__}: {warning.message}")
    return client


def reopened_state(path: str | os.PathLike[str], *, recovered: bool = False) -> dict[str, Any]:
    """The visible state of the folder, read by a fresh client that is closed again."""
    client = open_client(path, recovered=recovered)
    try:
        return visible_state(client)
    finally:
        client.close()


def folder_bytes(path: str | os.PathLike[str]) -> int:
    """Total size of the regular files in the folder (the lock file included)."""
    return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file())


def storage_file(path: str | os.PathLike[str], suffix: str) -> Path:
    """The one ``*.log`` or ``*.snapshot`` file of the folder (fails if there is not exactly one)."""
    matches = sorted(Path(path).glob(f"*{suffix}"))
    assert len(matches) == 1, f"expected one {suffix} file in {os.listdir(path)}"
    return matches[0]


def child_env() -> dict[str, str]:
    """Environment for a child Python process that imports this checkout's qdrant_local."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO_ROOT, HERE, env.get("PYTHONPATH")) if p)
    return env


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (this checkout importable); returns the finished process."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=child_env(), capture_output=True, text=True, timeout=timeout
    )
