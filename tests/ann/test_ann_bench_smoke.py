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
