"""benchmarks/bench_ann.py runs end to end on a tiny data set (answers checked, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("faiss")

ROOT = Path(__file__).resolve().parents[2]


def test_bench_ann_runs_and_finds_the_neighbours(tmp_path: Path) -> None:
    out = tmp_path / "ann.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ann.py"), "--n", "3000", "--queries", "5",
         "--engines", "qdrant_local", "--indexing-threshold", "1000", "--json-out", str(out)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    ours = json.loads(out.read_text())["results"]["qdrant_local"]
    assert ours["indexed"] == 3000
    for name in ("none", "2%", "50%"):
        assert ours["queries"][name]["min_results"] == 10, name
        assert ours["queries"][name]["recall"] >= 0.9, name


def test_the_exact_benchmark_collection_never_gets_an_index() -> None:
    """run.py's exact table (workloads_engines.ClientAdapter) stays exact with faiss installed."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import numpy as np
        from workloads_engines import ClientAdapter

        import qdrant_local
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    adapter = ClientAdapter(qdrant_local, None)
    adapter.open(None)
    adapter.create(8)
    rows = np.random.default_rng(0).standard_normal((3000, 8)).astype(np.float32)
    adapter.client.upsert("bench", qdrant_local.models.Batch(ids=list(range(3000)), vectors=rows.tolist()))
    assert adapter.client._database.ann.wait_idle(60)
    info = adapter.client.get_collection("bench")
    assert info.config.optimizer_config.indexing_threshold == 0  # 0: never indexed, however large
    assert not info.indexed_vectors_count
    adapter.close()


def test_bench_ann_storage_runs_and_rescored_codes_find_the_neighbours(tmp_path: Path) -> None:
    out = tmp_path / "storage.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ann_storage.py"), "--n", "2000", "--queries", "5",
         "--repeat", "1", "--threads", "1", "--variants", "flat", "sq8", "--json-out", str(out)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    table = json.loads(out.read_text())["table"]
    assert set(table) == {"flat/1", "sq8/1"}
    for name in ("none/20", "50%/20"):
        assert table["sq8/1"][name]["recall"] >= 0.9, name
    assert table["sq8/1"]["index_mib"] < table["flat/1"]["index_mib"] / 2  # codes, not float32 rows
