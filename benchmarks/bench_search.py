"""Search: qdrant_local against qdrant-client's local mode and a bare numpy floor, in one run.

    python benchmarks/bench_search.py [--points 100000] [--dim 384] [--distance Cosine]
                                      [--queries 50] [--baseline-queries 5] [--batch 64]

One collection of ``--points`` random vectors (payload ``bucket = i % 50``), loaded into both engines.
Workloads, each a median over its queries (same query vectors for every engine):

* floor: ``np.argpartition(matrix @ query, n - 10)`` plus sorting those 10, on qdrant_local's own stored
  float32 matrix (already normalised for Cosine) - the least any exact search can do.
* query_points, limit 10, default payload: qdrant_local and qdrant-client.
* the same with a filter matching 2% of the points (``bucket == b``, a different ``b`` per query, so
  each filter is evaluated afresh); then with one filter repeated (its mask cached after the first
  query); then, distinct again, after ``create_payload_index("bucket")`` (qdrant-client's local mode
  ignores payload indexes).
* query_batch_points of ``--batch`` queries, per query, against ``--batch`` single query_points calls.

qdrant-client takes 0.1-1 s per query at this size, so it runs ``--baseline-queries`` of them, each
right after the same query on qdrant_local; its speedups are medians of those per-query ratios, which
keeps load drift on a shared machine out of them. Results land in ``benchmarks/results/search.json``.

Targets (from the issue): single query within 1.5x of the floor; at least 10x faster than qdrant-client
unfiltered and 20x with the 2% filter; a batch of 64 at least 5x faster per query than single calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COLLECTION = "bench"
BUCKETS = 50


def timed(action: Callable[[Any], Any], inputs: list[Any]) -> tuple[float, list[Any]]:
    """Median seconds of ``action(x)`` over ``inputs``, and the results."""
    timings, results = [], []
    for item in inputs:
        started = time.perf_counter()
        results.append(action(item))
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), results


def load(client: Any, models: Any, vectors: np.ndarray, distance: str, chunk: int = 5000) -> float:
    """Create the collection and upsert every point; returns the load time."""
    started = time.perf_counter()
    client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=vectors.shape[1], distance=distance))
    for start in range(0, len(vectors), chunk):
        ids = list(range(start, min(start + chunk, len(vectors))))
        client.upsert(
            COLLECTION,
            models.Batch(
                ids=ids,
                vectors=vectors[start : start + chunk].tolist(),
                payloads=[{"bucket": i % BUCKETS} for i in ids],
            ),
        )
    return time.perf_counter() - started


def bucket_filter(models: Any, bucket: int = 7) -> Any:
    return models.Filter(must=[models.FieldCondition(key="bucket", match=models.MatchValue(value=bucket))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--distance", default="Cosine", choices=["Cosine", "Dot", "Euclid", "Manhattan"])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--baseline-queries", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--skip-baseline", action="store_true", help="do not run qdrant-client")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import qdrant_local
    from qdrant_local import models as ql_models

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.points, args.dim), dtype=np.float32)
    queries = [q.tolist() for q in rng.standard_normal((max(args.queries, args.batch), args.dim))]
    k = 10

    ours = qdrant_local.QdrantClient(":memory:")
    load_ours = load(ours, ql_models, vectors, args.distance)
    matrix = ours._database.collection(COLLECTION).store.vectors[""].matrix[: args.points]  # the stored rows

    def floor(query: list[float]) -> np.ndarray:
        q = np.asarray(query, dtype=np.float32)
        if args.distance == "Cosine":
            q = q / np.linalg.norm(q)
        # For Euclid and Manhattan too: one product is a lower bound of any exact search.
        scores = matrix @ q
        top = np.argpartition(scores, len(scores) - k)[-k:]
        return top[np.argsort(-scores[top])]

    # Floor and engine alternate query by query, so load drift on a shared machine hits both alike.
    floor_times, single_times, single_results = [], [], []
    for query in queries[: args.queries]:
        started = time.perf_counter()
        floor(query)
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        single_results.append(ours.query_points(COLLECTION, query, limit=k))
        single_times.append(time.perf_counter() - started)
    floor_s, single_s = statistics.median(floor_times), statistics.median(single_times)
    ratio_to_floor = statistics.median(s / f for s, f in zip(single_times, floor_times))
    # A different bucket per query (each matching 2%): every filter is evaluated afresh.
    distinct = list(enumerate(queries[: args.queries]))
    filtered_s, _ = timed(
        lambda iq: ours.query_points(
            COLLECTION, iq[1], limit=k, query_filter=bucket_filter(ql_models, iq[0] % BUCKETS)
        ),
        distinct,
    )
    # The same filter every time: after the first query its mask comes from the mask cache.
    repeated_s, _ = timed(
        lambda q: ours.query_points(COLLECTION, q, limit=k, query_filter=bucket_filter(ql_models)),
        queries[: args.queries],
    )
    ours.create_payload_index(COLLECTION, "bucket", ql_models.PayloadSchemaType.INTEGER)
    indexed_s, _ = timed(
        lambda iq: ours.query_points(
            COLLECTION, iq[1], limit=k, query_filter=bucket_filter(ql_models, iq[0] % BUCKETS)
        ),
        distinct,
    )
    batch_queries = queries[: args.batch]
    requests = [ql_models.QueryRequest(query=q, limit=k, with_payload=True) for q in batch_queries]
    batch_runs = []
    for _ in range(5):
        started = time.perf_counter()
        batch_results = ours.query_batch_points(COLLECTION, requests)
        batch_runs.append(time.perf_counter() - started)
    batch_s = statistics.median(batch_runs) / len(batch_queries)
    singles_s, _ = timed(lambda q: ours.query_points(COLLECTION, q, limit=k), batch_queries)
    assert [[p.id for p in r.points] for r in batch_results] == [
        [p.id for p in ours.query_points(COLLECTION, q, limit=k).points] for q in batch_queries
    ], "batch and single results differ"

    rows: dict[str, Any] = {
        "points": args.points,
        "dim": args.dim,
        "distance": args.distance,
        "load qdrant_local s": load_ours,
        "floor ms": floor_s * 1e3,
        "qdrant_local single / floor (per-query median)": ratio_to_floor,
        "qdrant_local single ms": single_s * 1e3,
        "qdrant_local filtered 2% ms": filtered_s * 1e3,
        "qdrant_local filtered 2%, same filter repeated ms": repeated_s * 1e3,
        "qdrant_local filtered 2%, payload index ms": indexed_s * 1e3,
        "qdrant_local batch per query ms": batch_s * 1e3,
        "qdrant_local single (batch queries) ms": singles_s * 1e3,
    }

    if not args.skip_baseline:
        import qdrant_client
        from qdrant_client import models as qc_models

        theirs = qdrant_client.QdrantClient(":memory:")
        rows["load qdrant-client s"] = load(theirs, qc_models, vectors, args.distance)
        few = queries[: args.baseline_queries]
        # Engine and baseline alternate query by query (same query, same filter), and the speedup is
        # the median of the per-query ratios, so load drift on a shared machine cancels out.
        # The cold, unindexed filter path: drop the index, and write once so that no cached mask
        # from the runs above can answer.
        ours.delete_payload_index(COLLECTION, "bucket")
        ours.set_payload(COLLECTION, {"touched": True}, points=[0])
        mine_single, their_single_t, mine_filtered, their_filtered_t, their_results = [], [], [], [], []
        for number, query in enumerate(few):
            for engine, models, times, filtered in (
                (ours, ql_models, mine_single, False),
                (theirs, qc_models, their_single_t, False),
                (ours, ql_models, mine_filtered, True),
                (theirs, qc_models, their_filtered_t, True),
            ):
                query_filter = bucket_filter(models, (number * 7 + 3) % BUCKETS) if filtered else None
                started = time.perf_counter()
                result = engine.query_points(COLLECTION, query, limit=k, query_filter=query_filter)
                times.append(time.perf_counter() - started)
                if engine is theirs and not filtered:
                    their_results.append(result)
        their_single, their_filtered = statistics.median(their_single_t), statistics.median(their_filtered_t)
        rows["qdrant-client single ms"] = their_single * 1e3
        rows["qdrant-client filtered 2% ms"] = their_filtered * 1e3
        rows["speedup single (per-query median)"] = statistics.median(
            t / m for t, m in zip(their_single_t, mine_single)
        )
        rows["speedup filtered 2% (per-query median)"] = statistics.median(
            t / m for t, m in zip(their_filtered_t, mine_filtered)
        )
        same = sum(
            [p.id for p in mine.points] == [p.id for p in their.points]
            for mine, their in zip(single_results, their_results)
        )
        rows["identical top-10 vs qdrant-client"] = f"{same}/{len(few)}"
        theirs.close()
    ours.close()

    print(f"{args.points} points x {args.dim} dims, {args.distance}, limit {k} (medians)")
    for key, value in rows.items():
        print(f"  {key:<42} {value:.3f}" if isinstance(value, float) else f"  {key:<42} {value}")
    print("targets:")
    print(f"  single / floor                 {ratio_to_floor:.2f}x   (target <= 1.5x; median of per-query ratios)")
    if "qdrant-client single ms" in rows:
        print(
            f"  speedup vs qdrant-client       {rows['speedup single (per-query median)']:.1f}x   (target >= 10x; interleaved)"
        )
        print(
            f"  speedup, 2% filter             {rows['speedup filtered 2% (per-query median)']:.1f}x   (target >= 20x; interleaved, unindexed)"
        )
        print(
            f"  speedup, 2% filter, repeated   {rows['qdrant-client filtered 2% ms'] / rows['qdrant_local filtered 2%, same filter repeated ms']:.1f}x   (mask cache)"
        )
        print(
            f"  speedup, 2% filter, indexed    {rows['qdrant-client filtered 2% ms'] / rows['qdrant_local filtered 2%, payload index ms']:.1f}x   (qdrant-client ignores payload indexes)"
        )
    print(
        f"  batch of {args.batch} per query vs single {rows['qdrant_local single (batch queries) ms'] / rows['qdrant_local batch per query ms']:.1f}x   (target >= 5x)"
    )
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "search.json"), "w") as handle:
        json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
