"""Benchmark of the storage layer alone: durable appends of vector batches, then a full replay.

Run: ``python benchmarks/bench_storage.py [--points 100000] [--dim 384] [--batch 256] [--dir DIR]``.
Each record looks like what the engine writes for an upsert batch: ids, raw float32 vector bytes and
small payloads. Times: appending with sync=True (one fsync per record), loading from the page cache
(I/O + CRC + unpack), and a compaction of the loaded records.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from qdrant_local.storage import DiskStorage


def make_records(points: int, dim: int, batch: int) -> Iterator[dict[str, Any]]:
    """Upsert-like records of ``batch`` points each, with float32 vectors as raw bytes."""
    rng = np.random.default_rng(0)
    for first in range(0, points, batch):
        n = min(batch, points - first)
        vectors = rng.standard_normal((n, dim), dtype=np.float32)
        yield {
            "op": "upsert",
            "collection": "bench",
            "ids": list(range(first, first + n)),
            "vectors": {"": vectors.tobytes()},
            "payloads": [{"i": first + k} for k in range(n)],
        }


def folder_size(path: str) -> int:
    """Total bytes of the files in ``path``."""
    return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))


def main() -> None:
    """Run the benchmark and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--dir", default=None, help="parent folder for the storage (default: a temp dir)")
    args = parser.parse_args()

    parent = tempfile.mkdtemp(dir=args.dir)
    path = os.path.join(parent, "storage")
    try:
        records = list(make_records(args.points, args.dim, args.batch))
        storage = DiskStorage(path)
        for _ in storage.load():
            pass
        t0 = time.perf_counter()
        for record in records:
            storage.append(record, sync=True)
        append_s = time.perf_counter() - t0
        storage.close()
        size = folder_size(path)
        print(
            f"append: {len(records)} records ({args.points} x {args.dim} float32) with sync=True: "
            f"{append_s:.3f} s ({append_s / len(records) * 1e3:.2f} ms/record, {size / append_s / 2**20:.0f} MiB/s)"
        )
        print(f"log size: {size / 2**20:.1f} MiB ({size} bytes)")

        for attempt in range(3):
            storage = DiskStorage(path)
            before = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            loaded = list(storage.load())
            load_s = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_SELF)
            # sys time is mostly page faults on the freshly allocated bytes of the records, which
            # depends on the allocator's state: the first loads of a process pay the most.
            print(
                f"load #{attempt + 1} (page cache): {len(loaded)} records in {load_s:.3f} s "
                f"({size / load_s / 2**20:.0f} MiB/s; user {after.ru_utime - before.ru_utime:.3f} s, "
                f"sys {after.ru_stime - before.ru_stime:.3f} s, {after.ru_minflt - before.ru_minflt} page faults)"
            )
            if attempt < 2:
                storage.close()
        t0 = time.perf_counter()
        storage.compact(iter(loaded))
        compact_s = time.perf_counter() - t0
        storage.close()
        print(f"compact: {compact_s:.3f} s, folder now {folder_size(path) / 2**20:.1f} MiB")
        storage = DiskStorage(path)
        t0 = time.perf_counter()
        count = sum(1 for _ in storage.load())
        print(f"load of the snapshot: {count} records in {time.perf_counter() - t0:.3f} s")
        storage.close()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
