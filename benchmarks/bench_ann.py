"""Approximate search (the ``ann`` extra) beside qdrant-edge-py's HNSW after ``optimize()``.

    python benchmarks/bench_ann.py --n 100000        # or: python benchmarks/run.py --ann --n 100000

Data: ``n`` x 384 embedding-like float32 vectors (points around 1,000 centres in a 48-dimensional
subspace, projected to 384 dimensions plus noise; seeded, generated block by block), payload
``group = i % 50`` (2% filter: group == 7) and ``half = i % 2`` (50% filter: half == 1), both with an
integer payload index. Ground truth: exact top 10 by numpy in the parent process. Each engine runs
in its own subprocess (peak RSS per engine).

qdrant_local (in memory): load with ``indexing_threshold=0`` (Qdrant's bulk-load recipe), then set it
back to 20,000 KB and time until the collection is green (the build, ``max_indexing_threads=0``: one
faiss graph per core but one, built side by side; on two cores one graph with two OpenMP threads).
qdrant-edge-py: load, then time ``optimize()`` (its own thread pool; one search thread). Payload indexes are created after loading
in both. BLAS is single-threaded in both subprocesses, as in run.py. Queries: single top-10 nearest queries, default search parameters; p50 over the
queries; recall@10 against the ground truth. Writes: upserting (overwriting) 10,240 points in
batches of 1,024, with no index and again with the index built.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

DIM = 384
BLOCK = 10_240
SEED = 4242
N_QUERIES = 100
LATENT = 48
CENTRES = 1000
WRITE_POINTS, WRITE_BATCH = 10_240, 1024
FILTERS = {"none": None, "2%": ("group", 7), "50%": ("half", 1)}
ENGINES = ("qdrant_local", "qdrant-edge-py")


def _basis() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((LATENT, DIM), dtype=np.float32), rng.standard_normal(
        (CENTRES, LATENT), dtype=np.float32
    ) * 2


def vectors(start: int, count: int, seed: int) -> np.ndarray:
    """``count`` embedding-like rows (the same for the same ``start`` and ``seed``)."""
    projection, centres = _basis()
    rng = np.random.default_rng([seed, start])
    latent = centres[rng.integers(0, CENTRES, count)] + rng.standard_normal((count, LATENT), dtype=np.float32)
    return (latent @ projection + 0.3 * rng.standard_normal((count, DIM), dtype=np.float32)).astype(np.float32)


def blocks(n: int):
    for start in range(0, n, BLOCK):
        count = min(BLOCK, n - start)
        ids = list(range(start, start + count))
        yield ids, vectors(start, count, SEED), [{"group": i % 50, "half": i % 2} for i in ids]


def matches(ids: np.ndarray, spec: tuple[str, int] | None) -> np.ndarray:
    if spec is None:
        return np.ones(len(ids), dtype=bool)
    return (ids % 50 == 7) if spec[0] == "group" else (ids % 2 == 1)


def ground_truth(n: int, queries: np.ndarray) -> dict[str, np.ndarray]:
    """Exact top-10 ids (Cosine) per filter, block by block."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best = {name: (np.full((len(q), 10), -np.inf), np.zeros((len(q), 10), dtype=np.int64)) for name in FILTERS}
    for ids, rows, _ in blocks(n):
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        scores = q @ rows.T
        id_array = np.asarray(ids)
        for name, spec in FILTERS.items():
            s = np.where(matches(id_array, spec)[None, :], scores, -np.inf)
            old_s, old_i = best[name]
            all_s = np.concatenate([old_s, s], axis=1)
            all_i = np.concatenate([old_i, np.broadcast_to(id_array, s.shape)], axis=1)
            top = np.argsort(-all_s, axis=1)[:, :10]
            best[name] = (np.take_along_axis(all_s, top, 1), np.take_along_axis(all_i, top, 1))
    return {name: ids for name, (_, ids) in best.items()}


def _recall(found: list[list[int]], truth: np.ndarray) -> float:
    return sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth)) / truth.size


def _queries_report(search, queries: np.ndarray, truth: dict[str, np.ndarray], filter_of) -> dict[str, Any]:
    out = {}
    for name, spec in FILTERS.items():
        flt = filter_of(spec)
        found, times = [], []
        for q in queries:
            started = time.perf_counter()
            ids = search(q, flt)
            times.append(time.perf_counter() - started)
            found.append(ids)
        out[name] = {
            "p50_ms": statistics.median(times) * 1000,
            "recall": _recall(found, truth[name]),
            "min_results": min(len(f) for f in found),
        }
    return out


# -- qdrant_local -----------------------------------------------------------------------------------


def run_qdrant_local(n: int, queries: np.ndarray, truth: dict[str, np.ndarray], threshold_kb: int) -> dict[str, Any]:
    from qdrant_local import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection(
        "c",
        vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0),
    )
    load = 0.0
    for ids, rows, payloads in blocks(n):
        batch = models.Batch(ids=ids, vectors=rows.tolist(), payloads=payloads)
        started = time.perf_counter()
        client.upsert("c", batch)
        load += time.perf_counter() - started
    for field in ("group", "half"):
        client.create_payload_index("c", field, models.PayloadSchemaType.INTEGER)

    write_points = min(WRITE_POINTS, n // WRITE_BATCH * WRITE_BATCH)

    def overwrite(first: int) -> float:
        """Seconds to upsert (overwrite, same vectors) ``write_points`` points from ``first``."""
        total = 0.0
        for start in range(first, first + write_points, WRITE_BATCH):
            ids = list(range(start, start + WRITE_BATCH))
            batch = models.Batch(
                ids=ids, vectors=_rows_of(n, start), payloads=[{"group": i % 50, "half": i % 2} for i in ids]
            )
            started = time.perf_counter()
            client.upsert("c", batch)
            total += time.perf_counter() - started
        return total

    writes_plain = overwrite(0)

    def filter_of(spec):
        return (
            None
            if spec is None
            else models.Filter(must=[models.FieldCondition(key=spec[0], match=models.MatchValue(value=spec[1]))])
        )

    exact_times = []
    for q in queries[:10]:
        started = time.perf_counter()
        client.query_points("c", q.tolist(), limit=10, search_params=models.SearchParams(exact=True))
        exact_times.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), _cpu_seconds()
    client.update_collection("c", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=threshold_kb))
    assert client._database.ann is not None, "install the ann extra (faiss-cpu)"
    client._database.ann.wait_idle()
    build = time.perf_counter() - started
    build_cpu = _cpu_seconds() - cpu
    info = client.get_collection("c")

    def search(q, flt):
        return [
            p.id for p in client.query_points("c", q.tolist(), limit=10, query_filter=flt, with_payload=False).points
        ]

    report = _queries_report(search, queries, truth, filter_of)
    writes_indexed = overwrite(0)  # the same points again: now every one of them is in the graph
    client.close()
    return {
        "load_s": load,
        "build_s": build,
        "build_cpu_s": build_cpu,
        "indexed": info.indexed_vectors_count,
        "queries": report,
        "exact_p50_ms": statistics.median(exact_times) * 1000,
        "writes_plain_pts_s": write_points / writes_plain,
        "writes_indexed_pts_s": write_points / writes_indexed,
    }


def _cpu_seconds() -> float:
    """CPU time of this process so far, every thread (user + system): unlike wall time, it hardly
    depends on how busy a shared machine is."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rows_of(n: int, start: int) -> list:
    """Rows ``start .. start + WRITE_BATCH`` of the data set (their block regenerated)."""
    block_start = start // BLOCK * BLOCK
    rows = vectors(block_start, min(BLOCK, n - block_start), SEED)
    return rows[start - block_start : start - block_start + WRITE_BATCH].tolist()


# -- qdrant-edge-py ---------------------------------------------------------------------------------


def run_edge(n: int, queries: np.ndarray, truth: dict[str, np.ndarray]) -> dict[str, Any]:
    import qdrant_edge as e

    folder = tempfile.mkdtemp(prefix="bench-ann-edge-")
    config = e.EdgeConfig(vectors=e.EdgeVectorParams(size=DIM, distance=e.Distance.Cosine), max_search_threads=1)
    shard = e.EdgeShard.create(folder, config)
    load = 0.0
    for ids, rows, payloads in blocks(n):
        lists = rows.tolist()
        for start in range(0, len(ids), 256):
            op = e.UpdateOperation.upsert_points(
                [
                    e.Point(i, v, p)
                    for i, v, p in zip(
                        ids[start : start + 256], lists[start : start + 256], payloads[start : start + 256]
                    )
                ]
            )
            started = time.perf_counter()
            shard.update(op)
            load += time.perf_counter() - started
    for field in ("group", "half"):
        shard.update(e.UpdateOperation.create_field_index(field, e.PayloadSchemaType.Integer))
    started, cpu = time.perf_counter(), _cpu_seconds()
    shard.optimize()
    build = time.perf_counter() - started
    build_cpu = _cpu_seconds() - cpu

    def filter_of(spec):
        return None if spec is None else e.Filter(must=[e.FieldCondition(key=spec[0], match=e.MatchValue(spec[1]))])

    def search(q, flt):
        return [p.id for p in shard.query(e.QueryRequest(limit=10, query=e.Query.Nearest(q.tolist()), filter=flt))]

    report = _queries_report(search, queries, truth, filter_of)
    info = shard.info()
    shard.close()
    return {"load_s": load, "build_s": build, "build_cpu_s": build_cpu, "queries": report, "info": str(info)[:300]}


# -- driver -----------------------------------------------------------------------------------------


def child(engine: str, n: int, data_path: str, out_path: str, threshold_kb: int) -> None:
    data = np.load(data_path)
    queries = data["queries"]
    truth = {name: data[f"truth_{name}"] for name in FILTERS}
    if engine == "qdrant_local":
        result = run_qdrant_local(n, queries, truth, threshold_kb)
    else:
        result = run_edge(n, queries, truth)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out_path, "w") as handle:
        json.dump(result, handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--queries", type=int, default=N_QUERIES)
    parser.add_argument("--indexing-threshold", type=int, default=20_000, help="KB (Qdrant's default 20,000)")
    parser.add_argument("--json-out", default=None, help="default: benchmarks/results/ann-<n>.json")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        child(args.engine, args.n, args.data, args.out, args.indexing_threshold)
        return 0
    work = tempfile.mkdtemp(prefix="bench-ann-")
    queries = vectors(10**9, args.queries, SEED + 1)
    started = time.perf_counter()
    truth = ground_truth(args.n, queries)
    print(f"ground truth for {args.n:,} x {DIM}: {time.perf_counter() - started:.1f} s", flush=True)
    data_path = os.path.join(work, "data.npz")
    np.savez(data_path, queries=queries, **{f"truth_{name}": ids for name, ids in truth.items()})
    results = {}
    for engine in args.engines:
        out = os.path.join(work, f"{engine}.json")
        command = [
            sys.executable,
            os.path.abspath(__file__),
            "--engine",
            engine,
            "--n",
            str(args.n),
            "--data",
            data_path,
            "--out",
            out,
            "--indexing-threshold",
            str(args.indexing_threshold),
        ]
        started = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
        # Single-threaded BLAS (as run.py): multithreaded BLAS spin-waits badly on a loaded 2-core box.
        env.update(OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        done = subprocess.run(command, env=env, check=False)
        if done.returncode != 0:
            print(f"{engine}: failed ({done.returncode})")
            continue
        with open(out) as handle:
            results[engine] = json.load(handle)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{engine}: done in {time.perf_counter() - started:.0f} s (load average {load})", flush=True)
    render(args.n, results)
    json_out = args.json_out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", f"ann-{args.n}.json"
    )
    os.makedirs(os.path.dirname(json_out), exist_ok=True)
    with open(json_out, "w") as handle:
        json.dump({"n": args.n, "results": results}, handle, indent=1)
    return 0


def render(n: int, results: dict[str, Any]) -> None:
    ours, edge = results.get("qdrant_local"), results.get("qdrant-edge-py")
    print(
        f"\n**{n:,} x {DIM}, embedding-like data; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end**\n"
    )
    print("| measure | qdrant_local (faiss HNSW) | qdrant-edge-py (optimize) | edge ÷ ours |")
    print("|---|---:|---:|---:|")

    def row(label: str, a: float | None, b: float | None, fmt: str = "{:,.2f}") -> None:
        ratio = f"{b / a:.2f}x" if a and b else "n/a"
        print(
            f"| {label} | {fmt.format(a) if a is not None else 'n/a'} | {fmt.format(b) if b is not None else 'n/a'} | {ratio} |"
        )

    get = lambda r, *keys: None if r is None else _dig(r, keys)
    row("load (s)", get(ours, "load_s"), get(edge, "load_s"))
    row("index build (s)", get(ours, "build_s"), get(edge, "build_s"))
    row("index build, CPU time (s)", get(ours, "build_cpu_s"), get(edge, "build_cpu_s"))
    for name in FILTERS:
        row(
            f"search p50, filter {name} (ms)",
            get(ours, "queries", name, "p50_ms"),
            get(edge, "queries", name, "p50_ms"),
            "{:,.3f}",
        )
        row(
            f"recall@10, filter {name}",
            get(ours, "queries", name, "recall"),
            get(edge, "queries", name, "recall"),
            "{:.3f}",
        )
        row(
            f"fewest results, filter {name}",
            get(ours, "queries", name, "min_results"),
            get(edge, "queries", name, "min_results"),
            "{:.0f}",
        )
    row("peak RSS (MiB)", get(ours, "peak_rss_mib"), get(edge, "peak_rss_mib"), "{:,.0f}")
    if ours:
        print(
            f"\nqdrant_local exact search p50 (exact=True): {ours['exact_p50_ms']:.2f} ms; "
            f"indexed_vectors_count {ours['indexed']:,}; upsert of {WRITE_POINTS:,} points in batches of "
            f"{WRITE_BATCH}: {ours['writes_plain_pts_s']:,.0f} points/s without an index, "
            f"{ours['writes_indexed_pts_s']:,.0f} with one ({ours['writes_indexed_pts_s'] / ours['writes_plain_pts_s']:.2f}x)"
        )


def _dig(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        record = record.get(key) if isinstance(record, dict) else None
        if record is None:
            return None
    return record


if __name__ == "__main__":
    sys.exit(main())
