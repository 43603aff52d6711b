"""Where qdrant_local's memory goes, structure by structure (tracemalloc), for the README.

    python benchmarks/memory_breakdown.py [--n 100000] [--dim 384] [--points]

Loads the benchmark data set (payloads of 4 keys: city, group, half, price) in Batches of 10,240
(``--points``: PointStruct lists of 256), creates the benchmark's 3 payload indexes and answers one
filter on each, then prints the bytes tracemalloc attributes to each structure of the collection,
beside the raw float32 vectors and the msgpack size of the payloads (the memory target's budget).
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import workloads_data as data  # noqa: E402

# Source file of the allocating frame (innermost qdrant_local frame) -> structure name.
STRUCTURES = [
    ("engine/vectors.py", "vector matrix and presence masks"),
    ("engine/payload_column.py", "payloads: msgpack bytes per point"),
    ("engine/payload.py", "payload normalisation temporaries"),
    ("engine/idmap.py", "ids: id columns and hash table"),
    ("engine/store.py", "store: live mask"),
    ("engine/collection.py", "request temporaries"),
    ("engine/index.py", "payload indexes"),
    ("engine/order_column.py", "payload indexes (order columns)"),
]


def structure_of(trace: tracemalloc.Traceback) -> str:
    """The structure an allocation belongs to: its innermost qdrant_local frame's file."""
    for frame in reversed(trace):  # innermost last with most_recent_first=False
        name = frame.filename.replace(os.sep, "/")
        if "/qdrant_local/" in name:
            if name.endswith("engine/growth.py"):
                continue  # growth by doubling: the structure is the caller's
            for suffix, structure in STRUCTURES:
                if name.endswith(suffix):
                    return structure
            return "other qdrant_local (" + name.split("/qdrant_local/")[1] + ")"
    return "outside qdrant_local"


def build_indexes(client: Any, models: Any, collection: str) -> None:
    """Create the benchmark's payload indexes and build each one (its second query builds it)."""
    kinds = {"integer": models.PayloadSchemaType.INTEGER, "float": models.PayloadSchemaType.FLOAT}
    for field, kind in data.INDEXED_FIELDS.items():
        client.create_payload_index(collection, field, kinds[kind])
        flt = models.Filter(must=[models.FieldCondition(key=field, range=models.Range(gte=0))])
        client.count(collection, count_filter=flt)
        client.count(collection, count_filter=flt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--points", action="store_true", help="load PointStruct lists of 256 instead of Batches")
    args = parser.parse_args()

    from qdrant_local import QdrantClient, models

    client = QdrantClient(":memory:")
    client.create_collection(
        "bench", vectors_config=models.VectorParams(size=args.dim, distance=models.Distance.COSINE)
    )
    tracemalloc.start(8)
    chunks = data.blocks(args.n, args.dim) if args.points else data.batches(args.n, args.dim)
    for ids, vectors, payloads in chunks:
        if args.points:
            batch: object = [
                models.PointStruct(id=i, vector=v, payload=p) for i, v, p in zip(ids, vectors.tolist(), payloads)
            ]
        else:
            batch = models.Batch(ids=ids, vectors=vectors, payloads=payloads)
        client.upsert("bench", batch)
        del batch
    build_indexes(client, models, "bench")
    client.scroll("bench", limit=10, order_by="price")
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()

    totals: dict[str, int] = {}
    outside = 0
    for stat in snapshot.statistics("traceback"):
        key = structure_of(stat.traceback)
        if key == "outside qdrant_local":
            outside += stat.size  # this script's own data (the last generated batch), not the collection's
            continue
        totals[key] = totals.get(key, 0) + stat.size
    # Dense matrices past 32 MiB live in an anonymous mapping of their own (engine/vectors.py), which
    # tracemalloc does not see: count the rows written, which is what is resident.
    store = client._db.collections["bench"].store  # type: ignore[union-attr]
    mapped = sum(
        store.n_slots * vectors.matrix.shape[1] * vectors.matrix.itemsize
        for vectors in store.vectors.values()
        if getattr(vectors, "kind", "") == "dense" and not vectors.matrix.flags.owndata
    )
    if mapped:
        totals["vector matrix rows written (mapped, not traced)"] = mapped
    raw_vectors, raw_payloads = data.raw_bytes(args.n, args.dim)
    mib = 2**20
    print(
        f"{args.n:,} points x dim {args.dim}, loaded by {'PointStruct lists of 256' if args.points else 'Batches of 10,240'}"
    )
    print(f"raw float32 vectors {raw_vectors / mib:,.1f} MiB; payloads as msgpack {raw_payloads / mib:,.1f} MiB")
    for key, size in sorted(totals.items(), key=lambda item: -item[1]):
        if size >= 1024:
            print(f"  {key:<58} {size / mib:>9,.1f} MiB  {size / args.n:>7,.0f} B/point")
    total = sum(totals.values())
    print(
        f"  {'total traced':<58} {total / mib:>9,.1f} MiB  = {total / (raw_vectors + raw_payloads):.2f}x the raw data"
    )
    print(f"  (not counted: {outside / mib:,.1f} MiB of this script's own input data, nor what faiss holds in C++")
    print("   for an HNSW index; a mapped vector matrix is counted by its written rows, which are what is resident)")


if __name__ == "__main__":
    main()
