"""HNSW libraries side by side on bench_ann.py's data: why the ``ann`` extra uses the one it uses.

    python benchmarks/bench_ann_libraries.py --n 100000   # after: pip install faiss-cpu usearch hnswlib

Each library builds one graph over ``n`` x 384 embedding-like rows (bench_ann.py's data, normalised:
Cosine) with Qdrant's default settings (m=16 links per node, 2m on level 0; ef_construct=100; search
ef=100), in its own subprocess, once per thread count; ``faiss-graphs`` is what the extra does: one
faiss graph per thread, built side by side. Reported: build time, single-query p50 and
recall@10 against exact search (no filter, and a 50% filter where the library can apply a filter
during traversal), and the memory the graph adds (RSS after the build minus before it: a library that
keeps its own copy of the rows pays n x 384 x 4 bytes for it). BLAS is single-threaded, as in run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ann import DIM, SEED, vectors  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
RUNS = [("faiss", 1), ("faiss", 2), ("faiss-graphs", 2), ("usearch", 1), ("usearch", 2), ("hnswlib", 1), ("hnswlib", 2)]


def _rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _data(n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.concatenate([vectors(start, min(10_240, n - start), SEED) for start in range(0, n, 10_240)])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    queries = vectors(10**9, n_queries, SEED + 1)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return rows, queries


def _truth(rows: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    scores = queries @ rows.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    return np.argsort(-scores, axis=1)[:, :10]


class Faiss:
    def __init__(self, rows: np.ndarray, threads: int) -> None:
        import faiss

        self.faiss = faiss
        faiss.omp_set_num_threads(threads)
        self.index = faiss.IndexHNSWFlat(DIM, M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = EF_CONSTRUCT
        self.index.add(rows)
        faiss.omp_set_num_threads(1)

    def search(self, query: np.ndarray, allowed_bits: np.ndarray | None, n: int) -> list[int]:
        params = self.faiss.SearchParametersHNSW()
        params.efSearch = EF
        if allowed_bits is not None:
            params.sel = self.faiss.IDSelectorBitmap(n, self.faiss.swig_ptr(allowed_bits))
        _, labels = self.index.search(query.reshape(1, -1), 10, params=params)
        return labels[0].tolist()


class FaissGraphs:
    """The ann extra's build: one faiss graph per thread over its share of the rows, built side by
    side (one OpenMP thread each); a query searches every graph and keeps the best 10."""

    def __init__(self, rows: np.ndarray, threads: int) -> None:
        import threading

        bounds = [len(rows) * i // threads for i in range(threads + 1)]
        self.parts = [Faiss(rows[:0], 1) for _ in range(threads)]
        self.bounds = bounds
        workers = [
            threading.Thread(target=part.index.add, args=(rows[lo:hi],))
            for part, lo, hi in zip(self.parts, bounds, bounds[1:])
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def search(self, query: np.ndarray, allowed_bits: np.ndarray | None, n: int) -> list[int]:
        found: list[tuple[float, int]] = []
        for part, lo, hi in zip(self.parts, self.bounds, self.bounds[1:]):
            params = part.faiss.SearchParametersHNSW()
            params.efSearch = EF
            if allowed_bits is not None:
                bits = np.packbits(np.unpackbits(allowed_bits, bitorder="little")[lo:hi], bitorder="little")
                params.sel = part.faiss.IDSelectorBitmap(hi - lo, part.faiss.swig_ptr(bits))
            scores, labels = part.index.search(query.reshape(1, -1), 10, params=params)
            found.extend((float(s), int(label) + lo) for s, label in zip(scores[0], labels[0]) if label >= 0)
        return [label for _, label in sorted(found, reverse=True)[:10]]


class Usearch:
    filters = False  # its Python search() has no filter: only post-filtering, which the issue rules out

    def __init__(self, rows: np.ndarray, threads: int) -> None:
        from usearch.index import Index

        self.index = Index(
            ndim=DIM, metric="ip", dtype="f32", connectivity=M, expansion_add=EF_CONSTRUCT, expansion_search=EF
        )
        self.index.add(np.arange(len(rows)), rows, threads=threads)

    def search(self, query: np.ndarray, allowed_bits: np.ndarray | None, n: int) -> list[int]:
        return self.index.search(query, 10, threads=1).keys.tolist()


class Hnswlib:
    def __init__(self, rows: np.ndarray, threads: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=DIM)
        self.index.init_index(max_elements=len(rows), M=M, ef_construction=EF_CONSTRUCT)
        self.index.add_items(rows, np.arange(len(rows)), num_threads=threads)
        self.index.set_ef(EF)
        self.index.set_num_threads(1)

    def search(self, query: np.ndarray, allowed: Any, n: int) -> list[int]:
        labels, _ = self.index.knn_query(query, k=10, filter=allowed)
        return labels[0].tolist()


LIBRARIES = {"faiss": Faiss, "faiss-graphs": FaissGraphs, "usearch": Usearch, "hnswlib": Hnswlib}


def child(library: str, threads: int, n: int, n_queries: int) -> dict[str, Any]:
    rows, queries = _data(n, n_queries)
    half = np.arange(n) % 2 == 1
    truths = {"none": _truth(rows, queries, None), "50%": _truth(rows, queries, half)}
    before = _rss_mib()
    started = time.perf_counter()
    index = LIBRARIES[library](rows, threads)
    build = time.perf_counter() - started
    added = _rss_mib() - before
    report: dict[str, Any] = {"build_s": build, "added_mib": added, "rows_mib": rows.nbytes / 2**20}
    filters: dict[str, Any] = {"none": None}
    if getattr(index, "filters", True):
        filters["50%"] = (
            (lambda label: label % 2 == 1) if library == "hnswlib" else np.packbits(half, bitorder="little")
        )
    for name, allowed in filters.items():
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            found.append(index.search(q, allowed, n))
            times.append(time.perf_counter() - t)
        hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truths[name]))
        report[name] = {"p50_ms": statistics.median(times) * 1000, "recall": hits / truths[name].size}
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--runs", nargs="+", help="library:threads (default: all)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.n, args.queries)))
        return 0
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    print(f"{args.n:,} x {DIM}, m={M}, ef_construct={EF_CONSTRUCT}, ef={EF}; load {os.getloadavg()}")
    print("| library | threads | build (s) | +RSS (MiB) | p50 (ms) | recall@10 | p50 50% filter (ms) | recall 50% |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    runs = [(r.split(":")[0], int(r.split(":")[1])) for r in args.runs] if args.runs else RUNS
    for library, threads in runs:
        command = [sys.executable, __file__, "--n", str(args.n), "--queries", str(args.queries)]
        done = subprocess.run([*command, "--child", library, str(threads)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {library} | {threads} | failed: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        f = r.get("50%", {})
        filtered = f"{f['p50_ms']:.3f} | {f['recall']:.3f}" if f else "no filter API | -"
        print(
            f"| {library} | {threads} | {r['build_s']:.1f} | {r['added_mib']:.0f} | {r['none']['p50_ms']:.3f} | "
            f"{r['none']['recall']:.3f} | {filtered} |",
            flush=True,
        )
    print(f"rows themselves: {args.n * DIM * 4 / 2**20:.0f} MiB; load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
