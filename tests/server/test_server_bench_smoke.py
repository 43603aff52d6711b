"""benchmarks/bench_server.py runs end to end on a tiny dataset (no timing is checked)."""

from __future__ import annotations

import subprocess
import sys

from .process import REPO


def test_bench_server_runs() -> None:
    command = [
        sys.executable, str(REPO / "benchmarks" / "bench_server.py"),
        "--n", "300", "--dim", "8", "--queries", "5", "--seconds", "0.3", "--clients", "2",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    for row in (
        "| upsert, points/s |",
        "| single query top-10, median ms |",
        "| QPS, 1 client -> 2 client processes (REST) |",
    ):
        assert row in done.stdout
