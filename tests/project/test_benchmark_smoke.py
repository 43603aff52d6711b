"""benchmarks/run.py works end to end on a tiny dataset (no timings are checked, only answers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_py_gives_the_same_answers_on_every_engine(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    engines = ["qdrant_local:memory", "qdrant_local:path", "numpy-floor"]
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--n", "600", "--engines", *engines,
         "--json-out", str(out), "--dir", str(tmp_path)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(out.read_text())
    memory, path = report["engines"]["qdrant_local:memory"], report["engines"]["qdrant_local:path"]
    floor = report["engines"]["numpy-floor"]["answers"]
    assert memory["answers"] == path["answers"]
    # 600 points, group = i % 50: the 2% filter matches 12 points, the 50% one 300; a full scroll sees all.
    assert memory["answers"]["count_2"] == 12
    assert memory["answers"]["count_50"] == 300
    assert memory["answers"]["scroll_full"] == 600
    for workload in ("search", "search_2", "search_50"):
        assert memory["answers"][workload] == floor[workload], workload
    assert {"upsert_points", "upsert_batch", "search", "scroll_full", "peak_rss"} <= set(memory["results"])
