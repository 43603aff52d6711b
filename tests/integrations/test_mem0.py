"""mem0's Memory (add with infer=False, search, get_all, delete) on local mode and on qdrant_local.

mem0 builds ``qdrant_client.QdrantClient(path=...)`` itself and its config only accepts a
``qdrant_client.QdrantClient``, so qdrant_local runs under it in installed mode. The embedding model is a
deterministic fake; the LLM is configured (mem0 requires one) but never called with ``infer=False``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

# mem0 reads these at import time: no telemetry (it would need the network), no files under ~/.mem0.
os.environ.setdefault("MEM0_TELEMETRY", "False")
os.environ.setdefault("MEM0_DIR", os.path.join(tempfile.gettempdir(), "qdrant_local_tests_mem0"))

pytest.importorskip("mem0", reason="the integrations extra is not installed")

from mem0 import Memory

from . import fakes
from .compare import assert_same_in_both, check_engine

VOLATILE = {"id", "created_at", "updated_at"}  # mem0 draws uuid4 ids and stamps the current time


class FakeEmbedder:
    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        return fakes.dense(text)


def _memory(folder: Path) -> Memory:
    memory = Memory.from_config(
        {
            "vector_store": {
                "provider": "qdrant",
                "config": {"collection_name": "mem", "path": str(folder / "qdrant"), "embedding_model_dims": fakes.DIM},
            },
            "embedder": {"provider": "openai", "config": {"api_key": "unused", "embedding_dims": fakes.DIM}},
            "llm": {"provider": "openai", "config": {"api_key": "unused"}},
            "history_db_path": str(folder / "history.db"),
        }
    )
    memory.embedding_model = FakeEmbedder()
    return memory


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stable(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [_stable(item) for item in value]
    return value


def test_memory_matches(tmp_path: Path) -> None:
    runs = iter(["local", "installed"])

    def scenario() -> list[Any]:
        memory = _memory(tmp_path / next(runs))
        check_engine(memory.vector_store.client)
        added = [memory.add(text, user_id="u1" if i % 3 else "u2", infer=False) for i, text in enumerate(fakes.TEXTS)]
        out: list[Any] = [added]
        out += [memory.search(query, filters={"user_id": "u1"}, top_k=4) for query in fakes.QUERIES]
        out.append(sorted(item["memory"] for item in memory.get_all(filters={"user_id": "u2"})["results"]))
        first = added[1]["results"][0]["id"]
        out.append(memory.get(first)["memory"])
        out.append(memory.delete(first))
        out.append(memory.get(first))
        out += [memory.search(query, filters={"user_id": "u1"}, top_k=4) for query in fakes.QUERIES]
        memory.vector_store.client.close()
        return _stable(out)

    results = assert_same_in_both(scenario)
    assert results[1]["results"], "search found nothing"
