"""Small shared helpers for the benchmarks: medians of repeated runs and a ratio table."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable


def median_seconds(action: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None) -> float:
    """Median wall time of ``repeat`` runs of ``action`` (``setup`` runs untimed before each)."""
    timings = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def print_table(rows: list[dict[str, Any]], baseline: str, subject: str) -> None:
    """Rows of {"workload", "n", <engine>: seconds}; prints medians and baseline/subject ratios."""
    header = f"{'workload':<34}{'n':>9}{subject:>16}{baseline:>16}{'speedup':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ours, theirs = row.get(subject), row.get(baseline)
        ratio = f"{theirs / ours:9.1f}x" if ours and theirs else "      n/a"
        ours_text = f"{ours * 1000:13.2f} ms" if ours is not None else "n/a".rjust(16)
        theirs_text = f"{theirs * 1000:13.2f} ms" if theirs is not None else "n/a".rjust(16)
        print(f"{row['workload']:<34}{row['n']:>9}{ours_text}{theirs_text}{ratio}")
