"""Reopen of a large folder in fresh processes: wall, user and system CPU, peak RSS, first search.

    python benchmarks/bench_reopen.py [--points 1000000] [--dim 384] [--repeat 3] [--dir DIR]
                                      [--tree PATH ...]

For each source tree given with ``--tree`` (default: this checkout; give another checkout, e.g. of
main, to compare before and after), a child process running that tree's qdrant_local loads
``--points`` random vectors with 4-key payloads as ``Batch`` requests of 10,240 points into a fresh
folder (``indexing_threshold=0``: no HNSW index, even with the ann extra) and closes it (close compacts: the folder is one snapshot). Then, ``--repeat`` rounds, each
tree in turn (alternating, so load drifts hit both alike): a fresh child process opens the folder and
counts the points (timed: wall from the client's construction; user and system CPU of the whole
process, interpreter start and imports included; peak RSS is its ``ru_maxrss``),
then runs one exact top-10 search (timed separately: it is the first scan of the matrix); anonymous
RSS (``RssAnon``: memory of the process's own, not the page cache's) is taken after the open.
``--pause`` waits before each reopen: on a virtual machine, memory a process freed is handed back
to the host after a few seconds, and a later first touch of it is what costs. Medians are printed,
with ``uptime`` before and after. The snapshot is in the page cache (it was just written),
as on a reopen after a close.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

_BUILD = r"""
import sys, time
import numpy as np
from qdrant_local import QdrantClient, models
path, n, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
client = QdrantClient(path=path)
client.create_collection(
    "bench",
    vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
    optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0),  # exact search: no HNSW (ann extra)
)
cities = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]
for start in range(0, n, 10240):
    stop = min(start + 10240, n)
    payloads = [{"city": cities[i % 5], "price": i % 100, "group": i % 50, "title": f"document {i}"} for i in range(start, stop)]
    vectors = rng.standard_normal((stop - start, dim), dtype=np.float32)
    client.upsert("bench", models.Batch(ids=list(range(start, stop)), vectors=vectors, payloads=payloads), wait=False)
client.close()
"""

_REOPEN = r"""
import json, resource, sys, time
import numpy as np
from qdrant_local import QdrantClient
began = time.perf_counter()
client = QdrantClient(path=sys.argv[1])
count = client.count("bench").count
opened = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
anon = None
try:
    with open("/proc/self/status") as status:
        anon = next(int(line.split()[1]) / 1024 for line in status if line.startswith("RssAnon:"))
except (OSError, StopIteration):
    pass
query = np.random.default_rng(1).standard_normal(int(sys.argv[2]), dtype=np.float32)
searched = time.perf_counter()
client.query_points("bench", query, limit=10)
search = time.perf_counter() - searched
client.close()
print(json.dumps({"count": count, "wall": opened - began, "user": usage.ru_utime, "sys": usage.ru_stime,
                  "peak_rss_mib": usage.ru_maxrss / 1024, "anon_mib": anon, "first_search": search}))
"""


def _run(tree: str, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": tree}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="parent folder of the storage folders (default: a temp dir)")
    parser.add_argument("--tree", action="append", help="a qdrant_local source tree (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the folders under --dir, and reuse them")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds to wait before each reopen (memory freed settles)"
    )
    args = parser.parse_args()
    trees = args.tree or [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    parent = os.path.abspath(args.dir) if args.keep and args.dir else tempfile.mkdtemp(dir=args.dir)
    try:
        folders = {}
        for index, tree in enumerate(trees):
            folders[tree] = os.path.join(parent, f"reopen-{index}-{args.points}x{args.dim}")
            if not os.path.isdir(folders[tree]):
                _run(tree, _BUILD, folders[tree], str(args.points), str(args.dim))
            print(f"{args.points:,} x {args.dim} written by {tree}: {sorted(os.listdir(folders[tree]))}", flush=True)
        print(_uptime(), flush=True)
        results: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
        for round_ in range(args.repeat):
            for tree in trees:
                time.sleep(args.pause)
                result = json.loads(_run(tree, _REOPEN, folders[tree], str(args.dim)))
                assert result["count"] == args.points, result
                results[tree].append(result)
                print(f"round {round_ + 1} {tree}: {result}", flush=True)
        print(_uptime())
        print(f"\nmedians of {args.repeat} fresh-process reopens of {args.points:,} x {args.dim}:")
        print("| tree | wall s | user s | sys s | peak RSS MiB | anonymous RSS MiB | first search ms |")
        print("|---|---|---|---|---|---|---|")
        for tree in trees:
            runs = results[tree]

            def median(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(run[key] for run in runs)

            print(
                f"| {tree} | {median('wall'):.2f} | {median('user'):.2f} | {median('sys'):.2f} | "
                f"{median('peak_rss_mib'):,.0f} | {median('anon_mib'):,.0f} | {1000 * median('first_search'):.1f} |"
            )
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
