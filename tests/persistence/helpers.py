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
        state[name] = {
            "info": dump(client.get_collection(name)),
            "count": client.count(name).count,
            "pages": pages,
            "ordered": ordered,
        }
    return state


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
