"""Point operations: qdrant_local against qdrant-client's local mode, in one run.

    python benchmarks/bench_points.py [--sizes 20000 100000] [--dim 384]

Workloads: upsert in batches of 256 PointStructs, retrieve 1000 ids, full scroll in pages of 1000,
filtered count (no payload index), set_payload by filter. Prints medians and the speedup ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import median_seconds, print_table  # noqa: E402

CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]


def make_data(n: int, dim: int) -> tuple[np.ndarray, list[dict]]:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    payloads = [{"city": CITIES[i % 5], "price": i % 100, "group": i % 50} for i in range(n)]
    return vectors, payloads


def run_engine(
    module: object, n: int, dim: int, vectors: np.ndarray, payloads: list[dict], repeat: int
) -> dict[str, float]:
    models = module.models  # type: ignore[attr-defined]
    client = module.QdrantClient(":memory:")  # type: ignore[attr-defined]
    client.create_collection("bench", vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE))
    lists = vectors.tolist()
    batches = [
        [models.PointStruct(id=i, vector=lists[i], payload=payloads[i]) for i in range(start, min(start + 256, n))]
        for start in range(0, n, 256)
    ]

    def upsert_all() -> None:
        for batch in batches:
            client.upsert("bench", batch)

    results: dict[str, float] = {}
    results["upsert (batches of 256)"] = median_seconds(upsert_all, 1)
    ids = list(range(0, n, max(1, n // 1000)))[:1000]
    results["retrieve 1000 ids"] = median_seconds(lambda: client.retrieve("bench", ids), repeat)

    def full_scroll() -> None:
        offset = None
        while True:
            _, offset = client.scroll("bench", limit=1000, offset=offset)
            if offset is None:
                break

    results["full scroll (pages of 1000)"] = median_seconds(full_scroll, max(1, repeat // 2))
    two_percent = models.Filter(must=[models.FieldCondition(key="group", match=models.MatchValue(value=7))])
    results["count, filter matching 2%"] = median_seconds(
        lambda: client.count("bench", count_filter=two_percent), repeat
    )
    counter = iter(range(10**9))
    results["set_payload by filter (2%)"] = median_seconds(
        lambda: client.set_payload("bench", {"seen": next(counter)}, points=two_percent), repeat
    )
    client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import qdrant_local

    try:
        import qdrant_client
    except ImportError:
        qdrant_client = None
    rows = []
    for n in args.sizes:
        vectors, payloads = make_data(n, args.dim)
        ours = run_engine(qdrant_local, n, args.dim, vectors, payloads, args.repeat)
        theirs = run_engine(qdrant_client, n, args.dim, vectors, payloads, 3) if qdrant_client else {}
        for workload, seconds in ours.items():
            rows.append({"workload": workload, "n": n, "qdrant_local": seconds, "qdrant-client": theirs.get(workload)})
    print_table(rows, baseline="qdrant-client", subject="qdrant_local")


if __name__ == "__main__":
    main()
