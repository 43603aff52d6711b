"""What the HNSW graph stores: faiss's float32 copy of the rows or a compressed one, rescored exactly.

    python benchmarks/bench_ann_storage.py --n 100000 --repeat 3

Each variant builds one faiss HNSW graph over ``n`` x 384 rows of bench_ann.py's data (normalised:
Cosine) with Qdrant's defaults (m=16, ef_construct=100; search ef=100), in its own subprocess, added
in chunks of 8,192 rows as the ann extra adds them, with 1 and 2 OpenMP threads. ``flat`` is
``IndexHNSWFlat`` (a float32 copy of the rows); the others are ``IndexHNSWSQ`` over 8-bit
(per-dimension ranges trained on a sample of 32,768 rows, training included in the build), 8-bit
uniform, float16 or bfloat16 codes. Every query asks the graph for a shortlist of the best
``shortlist`` labels by the graph's own (approximate) distance, scores them exactly against the float32
matrix the caller already holds, and keeps the top 10 (what the ann extra does: its scores are exact).
Reported per variant (medians over ``--repeat`` runs, run in alternation so a load change on the
shared machine spreads over all of them): build wall and CPU seconds, RSS added by the graph, and for
each shortlist size the single-query p50 (graph search plus rescore) and recall@10 against exact search,
with no filter and with a 50% filter applied during traversal (``IDSelectorBitmap``).
BLAS is single-threaded, as in run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ann import DIM  # noqa: E402
from bench_ann_libraries import _data, _rss_mib, _truth  # noqa: E402

M, EF_CONSTRUCT, EF = 16, 100, 100
CHUNK = 8192
TRAIN_ROWS = 32_768
VARIANTS = ("flat", "sq8", "sq8u", "fp16", "bf16")
SHORTLISTS = (10, 20, 40, 100)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(faiss: Any, variant: str, rows: np.ndarray) -> Any:
    metric = faiss.METRIC_INNER_PRODUCT
    if variant == "flat":
        index = faiss.IndexHNSWFlat(DIM, M, metric)
    else:
        kinds = {"sq8": "QT_8bit", "sq8u": "QT_8bit_uniform", "fp16": "QT_fp16", "bf16": "QT_bf16"}
        index = faiss.IndexHNSWSQ(DIM, getattr(faiss.ScalarQuantizer, kinds[variant]), M, metric)
    index.hnsw.efConstruction = EF_CONSTRUCT
    if not index.is_trained:
        sample = rows[np.linspace(0, len(rows) - 1, min(TRAIN_ROWS, len(rows))).astype(np.int64)]
        index.train(sample)
    for start in range(0, len(rows), CHUNK):
        index.add(rows[start : start + CHUNK])
    return index


def child(variant: str, threads: int, n: int, n_queries: int) -> dict[str, Any]:
    import faiss

    rows, queries = _data(n, n_queries)
    half = np.arange(n) % 2 == 1
    truths = {"none": _truth(rows, queries, None), "50%": _truth(rows, queries, half)}
    bits = np.packbits(half, bitorder="little")
    faiss.omp_set_num_threads(threads)
    before, started, cpu = _rss_mib(), time.perf_counter(), _cpu_s()
    index = build(faiss, variant, rows)
    report: dict[str, Any] = {
        "build_s": time.perf_counter() - started,
        "build_cpu_s": _cpu_s() - cpu,
        "added_mib": _rss_mib() - before,
        "index_mib": len(faiss.serialize_index(index)) / 2**20,
    }
    faiss.omp_set_num_threads(1)
    for name, allowed in (("none", None), ("50%", bits)):
        for shortlist in SHORTLISTS:
            times, hits = [], 0
            for q, truth in zip(queries, truths[name]):
                t = time.perf_counter()
                params = faiss.SearchParametersHNSW()
                params.efSearch = max(EF, shortlist)
                if allowed is not None:
                    params.sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(allowed))
                _, labels = index.search(q.reshape(1, -1), shortlist, params=params)
                found = labels[0][labels[0] >= 0]
                exact = rows[found] @ q  # the rescore against our own float32 rows
                top = found[np.argsort(-exact)[:10]]
                times.append(time.perf_counter() - t)
                hits += len(set(top.tolist()) & set(truth.tolist()))
            report[f"{name}/{shortlist}"] = {
                "p50_ms": statistics.median(times) * 1000,
                "recall": hits / truths[name].size,
            }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.n, args.queries)))
        return 0
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    runs = [(v, t) for t in args.threads for v in args.variants]
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loads = [os.getloadavg()[0]]
    results: dict[tuple[str, int], list[dict[str, Any]]] = {run: [] for run in runs}
    for round_ in range(args.repeat):
        for variant, threads in runs if round_ % 2 == 0 else runs[::-1]:
            command = [sys.executable, __file__, "--n", str(args.n), "--queries", str(args.queries)]
            done = subprocess.run([*command, "--child", variant, str(threads)], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{variant}/{threads}: failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[(variant, threads)].append(result)
            loads.append(os.getloadavg()[0])
            print(
                f"round {round_} {variant}/{threads}: build {result['build_s']:.1f} s, load {loads[-1]:.1f}", flush=True
            )
    print(
        f"\n{args.n:,} x {DIM}, m={M}, ef_construct={EF_CONSTRUCT}, ef={EF}; {started_at}; medians of "
        f"{args.repeat} alternated runs; load average (1 min) {min(loads):.1f}-{max(loads):.1f}\n"
    )
    shortlists = " | ".join(f"p50 / recall, {s} rescored" for s in SHORTLISTS)
    print(
        f"| storage | threads | build wall (s) | build CPU (s) | +RSS (MiB) | index (MiB) | {shortlists} | 50% filter, {EF} rescored |"
    )
    print("|---|---:|---:|---:|---:|---:|" + "---|" * (len(SHORTLISTS) + 1))
    table = {}
    for (variant, threads), records in results.items():
        if not records:
            continue
        med = {
            key: statistics.median(r[key] for r in records)
            for key in ("build_s", "build_cpu_s", "added_mib", "index_mib")
        }
        for key in records[0]:
            if "/" in key:
                med[key] = {field: statistics.median(r[key][field] for r in records) for field in ("p50_ms", "recall")}
        table[f"{variant}/{threads}"] = med
        cells = " | ".join(f"{med[f'none/{s}']['p50_ms']:.3f} / {med[f'none/{s}']['recall']:.3f}" for s in SHORTLISTS)
        filtered = med[f"50%/{EF}"]
        print(
            f"| {variant} | {threads} | {med['build_s']:.1f} | {med['build_cpu_s']:.1f} | {med['added_mib']:.0f} | {med['index_mib']:.0f} | "
            f"{cells} | {filtered['p50_ms']:.3f} / {filtered['recall']:.3f} |"
        )
    print(f"\nrows themselves: {args.n * DIM * 4 / 2**20:.0f} MiB")
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"n": args.n, "started": started_at, "loads": loads, "table": table}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
