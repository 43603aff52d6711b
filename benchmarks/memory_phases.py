"""Peak RSS by phase for the memory target: load, payload indexes and reads, payload writes and
deletes (and, with ``--path``, close + reopen), against the raw data's size.

    python benchmarks/memory_phases.py [--n 1000000] [--dim 384] [--load points|batch|lists|upload] [--path DIR]

The raw data is the float32 vectors plus the payloads as msgpack; the target is a peak RSS of at most
1.3x that, over the process's own RSS before the client was created (interpreter and imports).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import workloads_data as data  # noqa: E402
from memory_breakdown import build_indexes  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--load", choices=["points", "batch", "lists", "upload"], default="points")
    parser.add_argument("--path", default=None, help="a folder to store in (default: in memory)")
    parser.add_argument(
        "--no-hnsw", action="store_true", help="indexing_threshold=0: no HNSW index (faiss keeps its own vector copy)"
    )
    args = parser.parse_args()

    from qdrant_local import QdrantClient, models

    folder = None
    if args.path is not None:
        folder = tempfile.mkdtemp(dir=args.path)
    base = rss_mib()
    raw_vectors, raw_payloads = data.raw_bytes(args.n, args.dim)
    raw = (raw_vectors + raw_payloads) / 2**20
    where = "folder" if folder else "memory"
    print(f"{args.n:,} x {args.dim}, load by {args.load}, {where}, hnsw {not args.no_hnsw}; raw data {raw:,.0f} MiB")
    print(f"  {'phase':<34} {'seconds':>8} {'RSS MiB':>9} {'peak MiB':>9} {'peak / raw':>10}")

    def report(phase: str, started: float) -> None:
        peak = peak_mib() - base
        print(
            f"  {phase:<34} {time.perf_counter() - started:8.1f} {rss_mib() - base:9,.0f} {peak:9,.0f} {peak / raw:9.2f}x",
            flush=True,
        )

    client = QdrantClient(path=folder) if folder else QdrantClient(":memory:")
    optimizers = models.OptimizersConfigDiff(indexing_threshold=0) if args.no_hnsw else None
    client.create_collection(
        "m",
        vectors_config=models.VectorParams(size=args.dim, distance=models.Distance.COSINE),
        optimizers_config=optimizers,
    )
    started = time.perf_counter()
    if args.load in ("points", "upload"):
        for ids, vectors, payloads in data.blocks(args.n, args.dim):
            points = [models.PointStruct(id=i, vector=v, payload=p) for i, v, p in zip(ids, vectors.tolist(), payloads)]
            if args.load == "points":
                client.upsert("m", points)
            else:
                client.upload_points("m", points)
            del points
    else:
        for ids, vectors, payloads in data.batches(args.n, args.dim):
            columns = vectors.tolist() if args.load == "lists" else vectors
            client.upsert("m", models.Batch(ids=ids, vectors=columns, payloads=payloads))
            del columns
    report("load", started)

    started = time.perf_counter()
    build_indexes(client, models, "m")
    client.scroll("m", limit=100, order_by="price")
    client.count(
        "m", count_filter=models.Filter(must=[models.FieldCondition(key="city", match=models.MatchValue(value="Oslo"))])
    )
    client.query_points("m", query=[0.5] * args.dim, limit=10)
    report("indexes and reads", started)

    started = time.perf_counter()
    two_percent = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=7))])
    client.set_payload("m", {"seen": 1}, points=two_percent)
    client.delete("m", points_selector=list(range(0, args.n, 100)))
    client.delete("m", points_selector=models.FilterSelector(filter=two_percent))
    report("payload writes and deletes", started)

    service = getattr(client._database, "ann", None)  # the ann extra's background index builds
    if service is not None and not args.no_hnsw:
        started = time.perf_counter()
        service.wait_idle()
        report("HNSW build finished", started)

    if folder:
        started = time.perf_counter()
        client.close()
        client = QdrantClient(path=folder)
        client.count("m")
        report("close + reopen", started)
        client.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
