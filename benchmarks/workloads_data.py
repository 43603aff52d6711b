"""Deterministic benchmark data for ``benchmarks/run.py``: vectors, payloads, queries and filters.

Every engine's subprocess regenerates the same data from fixed seeds, block by block, so that no
process ever holds more than one block of Python-level vectors (their lists of floats are ~8x the
float32 bytes and would swamp the peak RSS we measure) and so that the numpy floor searches exactly
the matrix the engines hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np

BLOCK = 256  # points per generated block; also the PointStruct batch size the issue asks for
BATCH_BLOCKS = 40  # one models.Batch carries 40 blocks = 10,240 points
CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]
SEED = 20240601
QUERY_SEED = 777
N_QUERIES = 32
SEARCH_BATCH = 8  # queries per batched search request

# Filter specs are (field, value) pairs; each engine adapter turns them into its own filter objects.
FILTER_2PCT = ("group", 7)  # group = i % 50
FILTER_50PCT = ("half", 1)  # half = i % 2
INDEXED_FIELDS = {"group": "integer", "half": "integer", "price": "float"}


def payload_for(point_id: int, price: float) -> dict[str, Any]:
    """The payload of point ``point_id``: a city (1 of 5), group (i % 50), half (i % 2), a price."""
    return {"city": CITIES[point_id % 5], "group": point_id % 50, "half": point_id % 2, "price": price}


def block(index: int, n: int, dim: int) -> tuple[list[int], np.ndarray, list[dict[str, Any]]]:
    """Ids, float32 vectors and payloads of block ``index`` (points ``index*BLOCK`` .. up to ``n``)."""
    first = index * BLOCK
    count = min(BLOCK, n - first)
    rng = np.random.default_rng([SEED, index])
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    prices = np.round(rng.uniform(0, 1000, size=count), 2).tolist()
    ids = list(range(first, first + count))
    return ids, vectors, [payload_for(i, p) for i, p in zip(ids, prices)]


def n_blocks(n: int) -> int:
    """Number of blocks that make up ``n`` points."""
    return (n + BLOCK - 1) // BLOCK


def blocks(n: int, dim: int) -> Iterator[tuple[list[int], np.ndarray, list[dict[str, Any]]]]:
    """All blocks of the ``n``-point data set, in id order."""
    for index in range(n_blocks(n)):
        yield block(index, n, dim)


def batches(n: int, dim: int) -> Iterator[tuple[list[int], np.ndarray, list[dict[str, Any]]]]:
    """The data set in chunks of ``BATCH_BLOCKS`` blocks (what one models.Batch carries)."""
    ids: list[int] = []
    parts: list[np.ndarray] = []
    payloads: list[dict[str, Any]] = []
    for block_ids, vectors, block_payloads in blocks(n, dim):
        ids += block_ids
        parts.append(vectors)
        payloads += block_payloads
        if len(parts) == BATCH_BLOCKS:
            yield ids, np.concatenate(parts), payloads
            ids, parts, payloads = [], [], []
    if parts:
        yield ids, np.concatenate(parts), payloads


def matrix(n: int, dim: int) -> np.ndarray:
    """The whole ``n x dim`` float32 matrix (only the numpy floor needs it at once)."""
    out = np.empty((n, dim), dtype=np.float32)
    for index, (_, vectors, _) in enumerate(blocks(n, dim)):
        out[index * BLOCK : index * BLOCK + len(vectors)] = vectors
    return out


def queries(dim: int) -> np.ndarray:
    """``N_QUERIES`` query vectors (float32), shared by every engine."""
    return np.random.default_rng(QUERY_SEED).standard_normal((N_QUERIES, dim), dtype=np.float32)


def filter_ids(spec: tuple[str, int], n: int) -> np.ndarray:
    """Ids matching a (field, value) filter spec, computed from the id arithmetic of ``payload_for``."""
    field, value = spec
    ids = np.arange(n)
    modulus = {"group": 50, "half": 2}[field]
    return ids[ids % modulus == value]


def raw_bytes(n: int, dim: int) -> tuple[int, int]:
    """(float32 vector bytes, msgpack bytes of every payload): the data's own size, for the RSS target."""
    payload_total = 0
    for index in range(n_blocks(n)):
        first = index * BLOCK
        count = min(BLOCK, n - first)
        rng = np.random.default_rng([SEED, index])
        rng.standard_normal((count, dim), dtype=np.float32)  # advance the stream exactly like block()
        prices = np.round(rng.uniform(0, 1000, size=count), 2).tolist()
        payload_total += sum(
            len(msgpack.packb(payload_for(first + k, p), use_bin_type=True)) for k, p in enumerate(prices)
        )
    return n * dim * 4, payload_total
