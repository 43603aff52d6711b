"""Unindexed payload filters: the scan's cost per request (count and scroll with a filter on a key
that has no payload index), for the compact payload storage's before / after.

    python benchmarks/bench_payload_scan.py [--n 100000] [--repeat 15]

Loads the benchmark payloads (city, group, half, price) with 4-dim vectors (the scan does not read
vectors), then times requests whose filter value changes every time, so no cached mask answers.
Prints the median milliseconds per request kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import workloads_data as data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from qdrant_local import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection("scan", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    for ids, vectors, payloads in data.batches(args.n, 4):
        client.upsert("scan", models.Batch(ids=ids, vectors=vectors, payloads=payloads))

    def match(key: str, value: object) -> models.Filter:
        return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))])

    def price_at_least(bound: float) -> models.Filter:
        return models.Filter(must=[models.FieldCondition(key="price", range=models.Range(gte=bound))])

    kinds = {
        "count, match on an int key (2%)": lambda i: client.count("scan", count_filter=match("group", i % 50)),
        "count, range on a float key": lambda i: client.count("scan", count_filter=price_at_least(i * 37.0)),
        "scroll 100, match on a str key": lambda i: client.scroll(
            "scan", scroll_filter=match("city", data.CITIES[i % 5] if i % 2 else "none"), limit=100
        ),
    }
    print(f"{args.n:,} points, unindexed filters, median of {args.repeat}")
    start = time.perf_counter()
    client.count("scan", count_filter=match("half", 1))
    print(f"  {'first count on a key (cold)':<36} {(time.perf_counter() - start) * 1000:8.1f} ms")
    for name, run in kinds.items():
        times = []
        for i in range(args.repeat):
            client.upsert("scan", [models.PointStruct(id=args.n + i, vector=[0.0] * 4, payload={})])  # fresh masks
            start = time.perf_counter()
            run(i)
            times.append(time.perf_counter() - start)
        print(f"  {name:<36} {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
