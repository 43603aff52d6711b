"""Dense scoring: the four distances over a float32 matrix, top-k selection, score conventions.

A dense query runs in two passes:

1. **rank** - one float32 matrix-vector product (a batch: one matrix-matrix product) over the
   first ``n_slots`` rows of the stored matrix gives an approximate key per slot, bigger is better.
   Slots the mask rejects get ``-inf``; a selective mask (or a denser one shared by a batch) instead
   scores only its rows, kept by the gather cache or gathered a chunk at a time. A
   block-maximum bound and a partition pick the candidates: there is never a full sort, and the
   stored matrix is neither copied nor re-normalised.
2. **refine** - only the candidates are scored again exactly the way qdrant-client scores them (a
   float64 query against the float32 rows), and only they are sorted. Scores therefore match
   qdrant-client to the last bits, and float32 rounding can never reorder two results.

Score conventions are qdrant-client's: Cosine and Dot are similarities (bigger is better); Euclid and
Manhattan report the distance itself (smaller is better), and ``score_threshold`` is then an upper
bound. Internally ("core" similarities, used by recommend, discover, context and MMR) Euclid is
``-squared L2`` and Manhattan ``-L1``, as in Qdrant core.

Ties: qdrant-client orders by ``np.argsort(scores)`` (reversed for bigger-is-better). numpy's
default sort is unstable (a SIMD sort on AVX-512 machines), so the order of exactly equal scores in
local mode depends on the CPU and the whole score array. We use what that code gives under a stable
sort: among equal scores, the later slot first when bigger is better, the earlier slot first when
smaller is better.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine.distance import COSINE, DOT, EPSILON, EUCLID, MANHATTAN, normalize_query
from ..errors import InvalidInput, InvalidVector

__all__ = [
    "EPSILON",
    "COSINE",
    "DOT",
    "EUCLID",
    "MANHATTAN",
    "bigger_is_better",
    "dense_query",
    "dense_matrix_query",
    "approx_core",
    "approx_core_chunked",
    "squared_norms",
    "exact_core",
    "exact_display",
    "top_candidates",
    "order_by_score",
    "threshold_cut",
    "rank_dense",
    "rank_dense_batch",
    "RankedSlots",
]

# Rows per chunk for the element-wise distances: 1024 x 384 float32 is 1.5 MB, so a chunk is read
# from RAM once and stays in cache for the second pass over it; the chunk's small products also stay
# below OpenBLAS's threading threshold, whose thread hand-offs cost up to 10x on a busy machine.
CHUNK_ROWS = 1024

# A mask keeping at most this fraction of the slots is applied by scoring only its rows: the gather
# cache's copy of them, or else the rows gathered a chunk at a time (a one-off copy of them all costs
# a fresh allocation's first touch: 25% of 100,000 x 384, one query, 7.0 ms copied whole, 3.6 ms in
# chunks, 5.2 ms for the product over every row); a denser one costs less as a -inf overwrite.
GATHER_FRACTION = 0.25

# Several queries sharing a denser mask (up to this fraction of the slots) are scored on its rows
# gathered a chunk at a time into a buffer that stays in cache: a matrix-matrix product is bound by
# arithmetic, not by reading the rows, so skipping the rejected rows pays for the small copies
# (8 queries, 50% of 100,000 x 384: 10.4 against 26.0 ms on one BLAS thread, 8.4 against 14.3 ms on
# two). A single query's product is bound by reading the matrix, which the gather reads anyway, so
# it keeps the -inf overwrite; so does a BLAS with more threads than CHUNKED_GATHER_MAX_THREADS,
# whose product over every row runs in parallel while the gather runs on one core.
CHUNKED_GATHER_FRACTION = 0.75
CHUNKED_GATHER_MAX_THREADS = 2

# Rows per gathered chunk: 512 x 384 float32 is 768 KB, within a core's L2 cache.
GATHER_CHUNK_ROWS = 512

# Candidates within this relative margin of the k-th approximate key are refined too. float32
# products carry a relative error of about sqrt(dim) * 6e-8 (1.2e-6 at dim 384), so 2e-5 covers the
# worst case of every realistic dimension with room to spare.
REFINE_RTOL = 2e-5
REFINE_ATOL = 1e-6

# Block size of the block-maximum bound used to find the top-k candidates.
_BLOCK = 64

# Up to this many refined candidates are ordered as Python values (a few microseconds) rather than
# by a lexsort and fancy indexing (a few numpy calls, each with its fixed cost).
SMALL_SORT = 64


class RankedSlots:
    """Result of a ranking: slots in result order and their qdrant-client scores.

    Built from arrays, or (the small results of a nearest query) from ``(slot, score)`` pairs of
    Python values; each form is made from the other on first use.
    """

    __slots__ = ("_slots", "_scores", "_pairs")

    def __init__(self, slots: np.ndarray, scores: np.ndarray) -> None:
        self._slots: np.ndarray | None = slots
        self._scores: np.ndarray | None = scores
        self._pairs: list[tuple[int, float]] | None = None

    @classmethod
    def from_pairs(cls, pairs: list[tuple[int, float]]) -> RankedSlots:
        """From ``(slot, score)`` pairs in result order (int slots, float64 scores as floats)."""
        ranked = cls.__new__(cls)
        ranked._slots = ranked._scores = None
        ranked._pairs = pairs
        return ranked

    @property
    def slots(self) -> np.ndarray:
        if self._slots is None:
            self._slots = np.array([pair[0] for pair in self._pairs or ()], dtype=np.int64)
        return self._slots

    @property
    def scores(self) -> np.ndarray:
        if self._scores is None:
            self._scores = np.array([pair[1] for pair in self._pairs or ()], dtype=np.float64)
        return self._scores

    def pairs(self) -> list[tuple[int, float]]:
        """``(slot, score)`` in result order, as Python values (``tolist()`` of the arrays)."""
        if self._pairs is None:
            self._pairs = list(zip(self.slots.tolist(), self.scores.tolist()))
        return self._pairs

    def __len__(self) -> int:
        return len(self._pairs) if self._pairs is not None else len(self.slots)

    def __repr__(self) -> str:
        return f"RankedSlots(slots={self.slots.tolist()}, scores={self.scores.tolist()})"


def bigger_is_better(distance: str) -> bool:
    """True for similarities (Cosine, Dot), False for distances (Euclid, Manhattan)."""
    return distance not in (EUCLID, MANHATTAN)


# -- query preparation ---------------------------------------------------------------------------


def dense_query(vector: Any, dim: int, vector_name: str, *, what: str = "Query vector") -> np.ndarray:
    """Validate a dense query vector and return it as float64, unnormalised.

    float64, because qdrant-client turns the query into ``np.array(list)``; the refine pass
    reproduces its arithmetic with it. Rejects NaN (qdrant-client's message), infinity (local mode
    would return NaN scores; the server rejects it), nested or empty input and the wrong dimension
    (local mode leaks numpy's "shapes (8,3) and (2,) not aligned" there).
    """
    array = _float_array(vector, vector_name)
    if array.ndim != 1:
        raise InvalidVector(f"Wrong input: Dense vector must be one-dimensional for vector '{vector_name}'")
    _check_query_values(array, what)
    if len(array) != dim:
        raise InvalidVector(
            f"Wrong input: Vector dimension error: expected dim: {dim}, got {len(array)} for vector '{vector_name}'"
        )
    return array


def dense_matrix_query(vector: Any, dim: int, vector_name: str, *, what: str = "Query vector") -> np.ndarray:
    """Validate a multivector query (a list of dense vectors) and return it as a float64 matrix."""
    array = _float_array(vector, vector_name)
    if array.ndim != 2 or array.shape[0] == 0:
        raise InvalidVector(f"Wrong input: Multivector must be two-dimensional for vector '{vector_name}'")
    _check_query_values(array, what)
    if array.shape[1] != dim:
        raise InvalidVector(
            f"Wrong input: Vector dimension error: expected dim: {dim}, got {array.shape[1]} for vector '{vector_name}'"
        )
    return array


def _float_array(vector: Any, vector_name: str) -> np.ndarray:
    try:
        array = np.asarray(vector, dtype=np.float64)
    except (ValueError, TypeError):
        raise InvalidVector(f"Wrong input: Vector is malformed for vector '{vector_name}'") from None
    if array.size == 0:
        raise InvalidVector(f"Wrong input: Dense vector must not be empty for vector '{vector_name}'")
    return array


def _check_query_values(array: np.ndarray, what: str) -> None:
    if not np.isfinite(array).all():
        if np.isnan(array).any():
            raise InvalidInput(f"{what} must not contain NaN")
        # Deviation: local mode accepts an infinite query and returns NaN scores.
        raise InvalidInput(f"{what} must not contain infinite values")


# -- approximate keys (rank pass) ----------------------------------------------------------------


def squared_norms(rows: np.ndarray) -> np.ndarray:
    """float32 squared L2 norm of every row, a chunk at a time."""
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        out[start : start + len(chunk)] = np.einsum("ij,ij->i", chunk, chunk)
    return out


def approx_core(
    rows: np.ndarray, queries: np.ndarray, distance: str, row_norms: np.ndarray | None = None
) -> np.ndarray:
    """Approximate core similarity of every row to every query: an (m, n) float32 array.

    ``rows`` is an (n, dim) float32 array (the stored matrix's live prefix, a view, or a gathered
    subset); ``queries`` is (m, dim) and already normalised for Cosine. Bigger is better: dot
    products for Cosine and Dot, ``-squared L2`` for Euclid, ``-L1`` for Manhattan. For Euclid,
    ``row_norms`` (the rows' squared norms, see :func:`squared_norms`) turns the search into one
    matrix product plus two vector operations.
    """
    queries32 = np.ascontiguousarray(queries, dtype=np.float32)
    m, n = len(queries32), len(rows)
    if distance in (COSINE, DOT) or (distance == EUCLID and row_norms is not None):
        # rows @ queries.T, not queries @ rows.T: OpenBLAS's kernels run the tall-skinny
        # product several times faster than the short-wide one (0.5 vs 1.7 ms for 8 x 5,000 x 384).
        dots = (rows @ queries32[0])[np.newaxis, :] if m == 1 else np.ascontiguousarray((rows @ queries32.T).T)
        if distance != EUCLID:
            return dots
        # -|v - q|^2 = 2 v.q - |v|^2 - |q|^2
        dots *= 2.0
        dots -= row_norms[np.newaxis, :]  # type: ignore[index]
        dots -= np.einsum("ij,ij->i", queries32, queries32)[:, np.newaxis]
        return dots
    out = np.empty((m, n), dtype=np.float32)
    if distance == EUCLID:
        # -|v - q|^2 = 2 v.q - |v|^2 - |q|^2, a chunk at a time so each chunk is read from RAM once.
        q_norms = np.einsum("ij,ij->i", queries32, queries32)
        for start in range(0, n, CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            row_norms = np.einsum("ij,ij->i", chunk, chunk)
            dots = chunk @ queries32.T  # (c, m)
            block = dots * 2.0
            block -= row_norms[:, np.newaxis]
            block -= q_norms[np.newaxis, :]
            out[:, start : start + len(chunk)] = block.T
        return out
    if distance == MANHATTAN:
        ones = np.ones(rows.shape[1], dtype=np.float32)
        buffer = np.empty((min(CHUNK_ROWS, max(n, 1)), rows.shape[1]), dtype=np.float32)
        for start in range(0, n, CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            work = buffer[: len(chunk)]
            for index in range(m):
                np.subtract(chunk, queries32[index], out=work)
                np.abs(work, out=work)
                # A product with ones is a BLAS row sum, several times faster than .sum(axis=1).
                np.negative(work @ ones, out=out[index, start : start + len(chunk)])
        return out
    raise InvalidInput(f"Unknown distance type {distance}")


# -- exact scores (refine pass) ------------------------------------------------------------------


def exact_display(matrix: np.ndarray, slots: np.ndarray, query: np.ndarray, distance: str) -> np.ndarray:
    """qdrant-client's nearest-search score (``calculate_distance``) of the given rows, float64.

    ``query`` is float64 and already normalised for Cosine. Rows are processed in chunks so that a
    large candidate set never copies more than a chunk.
    """
    if len(slots) <= CHUNK_ROWS and distance in (COSINE, DOT):
        return np.dot(matrix[slots], query)  # one chunk: the loop below, without its copy
    out = np.empty(len(slots), dtype=np.float64)
    for start in range(0, len(slots), CHUNK_ROWS):
        rows = matrix[slots[start : start + CHUNK_ROWS]]
        if distance in (COSINE, DOT):
            # np.dot of float32 rows with a float64 vector, as in qdrant-client.
            value = np.dot(rows, query)
        elif distance == EUCLID:
            value = np.linalg.norm(rows - query, axis=-1)
        elif distance == MANHATTAN:
            value = np.sum(np.abs(rows - query), axis=-1)
        else:
            raise InvalidInput(f"Unknown distance type {distance}")
        out[start : start + len(rows)] = value
    return out


def exact_core(matrix: np.ndarray, slots: np.ndarray, query: np.ndarray, distance: str) -> np.ndarray:
    """qdrant-client's core similarity (``calculate_distance_core``) of the given rows.

    Cosine and Dot give float64 (as the display score); Euclid and Manhattan give float32
    ``-squared L2`` / ``-L1``, computed with qdrant-client's dtypes. ``query`` is normalised for Cosine.
    """
    if distance in (COSINE, DOT):
        return exact_display(matrix, slots, query, distance)
    out = np.empty(len(slots), dtype=np.float32)
    for start in range(0, len(slots), CHUNK_ROWS):
        rows = matrix[slots[start : start + CHUNK_ROWS]]
        if distance == EUCLID:
            value = -np.square(rows - query, dtype=np.float32).sum(axis=1, dtype=np.float32)
        elif distance == MANHATTAN:
            value = -np.abs(rows - query, dtype=np.float32).sum(axis=1, dtype=np.float32)
        else:
            raise InvalidInput(f"Unknown distance type {distance}")
        out[start : start + len(rows)] = value
    return out


# -- selection -----------------------------------------------------------------------------------


def refine_margin(value: float, top: float) -> float:
    """How far below the k-th approximate key a candidate may lie and still be refined.

    The absolute part covers scores that saturate at an exact value (context scores of 0.0), whose
    approximations may fall a rounding error short of it.
    """
    return REFINE_RTOL * (abs(value) + abs(top)) + REFINE_ATOL


def top_candidates(keys: np.ndarray, k: int) -> np.ndarray:
    """Positions that may hold the k largest keys: the approximate top k plus near-ties.

    ``-inf`` (rejected) and NaN keys are never returned. Without a full sort: the k-th largest of
    the per-block maxima is a lower bound of the k-th largest key (those k blocks hold k distinct
    keys at least that large), so one comparison pass leaves a small set to partition.
    """
    n = len(keys)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= n:
        return np.flatnonzero(keys > -np.inf)
    n_blocks = n // _BLOCK
    if n_blocks >= 4 * k:
        block_max = keys[: n_blocks * _BLOCK].reshape(n_blocks, _BLOCK).max(axis=1)
        bound = np.partition(block_max, n_blocks - k)[n_blocks - k]
        top = float(block_max.max())
    else:
        # Two calls, not one partition at (n - k, n - 1): numpy partitions at a single kth with its
        # SIMD selection, several times faster than its general multi-kth path.
        bound = np.partition(keys, n - k)[n - k]
        top = float(keys.max())
    if not (bound > -np.inf and np.isfinite(top)):
        # Fewer than k eligible keys (or non-finite ones): every eligible key is a candidate.
        candidates = np.flatnonzero(keys > -np.inf)
        finite = keys[candidates]
        return candidates[~np.isnan(finite)]
    candidates = (keys >= bound - refine_margin(float(bound), top)).nonzero()[0]
    if len(candidates) > k:
        candidate_keys = keys[candidates]
        kth = np.partition(candidate_keys, len(candidates) - k)[len(candidates) - k]
        candidates = candidates[candidate_keys >= kth - refine_margin(float(kth), top)]
    return candidates


def order_by_score(slots: np.ndarray, scores: np.ndarray, descending: bool) -> np.ndarray:
    """Permutation putting (slots, scores) in result order; NaN scores are dropped.

    Ties follow a stable ``argsort`` (reversed when descending), see the module docstring.
    """
    keep = ~np.isnan(scores)
    if not keep.all():
        positions = np.flatnonzero(keep)
        return positions[order_by_score(slots[positions], scores[positions], descending)]
    if descending:
        return np.lexsort((-slots, -scores))
    return np.lexsort((slots, scores))


def threshold_cut(scores: np.ndarray, threshold: float | None, bigger: bool) -> int:
    """How many leading (ordered) scores pass ``score_threshold``.

    qdrant-client walks the ordered scores and stops at the first that fails: ``score <= threshold``
    when bigger is better, ``score >= threshold`` otherwise. The direction comes from the distance,
    not from the query: a best_score recommendation on Euclid is ordered descending but still cut
    with the upper-bound rule, which is what local mode does.

    The comparison happens in the scores' dtype (numpy casts the Python threshold to it), as
    qdrant-client's scalar comparison does: for float32 scores a subnormal threshold is 0.0.
    """
    if threshold is None or len(scores) == 0:
        return len(scores)
    failing = scores <= threshold if bigger else scores >= threshold
    hits = np.flatnonzero(failing)
    return int(hits[0]) if len(hits) else len(scores)


# -- the dense nearest pipeline ------------------------------------------------------------------


# The gather cache of a collection state: ``gather(rows)`` is its kept copy of ``matrix[rows]`` (made
# and kept now if it fits the cache), or None when it keeps none: the rows are then read in chunks.
Gather = Callable[[np.ndarray], np.ndarray | None]


def rank_dense(
    matrix: np.ndarray,
    n_slots: int,
    mask: np.ndarray,
    query: np.ndarray,
    distance: str,
    k: int,
    row_norms: np.ndarray | None = None,
    gather: Gather | None = None,
    rows: np.ndarray | None = None,
) -> RankedSlots:
    """Top ``k`` slots of ``mask`` for a nearest query, in result order with qdrant-client's scores.

    ``query`` comes from :func:`dense_query` (float64, unnormalised). ``mask`` is a bool array over
    the first ``n_slots`` slots of the eligible rows (live, holding the vector, matching the filter).
    ``row_norms`` (squared norms of the first ``n_slots`` rows) speeds up Euclid. ``gather`` may
    serve the rows of a selective mask from a cache; ``rows``, when known, are the mask's true positions.
    """
    if rows is not None and k > 0 and 0 < len(rows) <= GATHER_FRACTION * n_slots:
        # A selective mask whose rows are known: the batch path's steps for one query, without its
        # grouping (the same products, so the same result).
        prepared = normalize_query(query) if distance == COSINE else query
        keys = _keys_of_rows(matrix, rows, prepared[np.newaxis], distance, row_norms, gather)[0]
        return _refine(matrix, rows[top_candidates(keys, k)], prepared, distance, k)
    return rank_dense_batch(matrix, n_slots, [mask], [query], distance, [k], row_norms, gather, [rows])[0]


def rank_dense_batch(
    matrix: np.ndarray,
    n_slots: int,
    masks: list[np.ndarray],
    queries: list[np.ndarray],
    distance: str,
    ks: list[int],
    row_norms: np.ndarray | None = None,
    gather: Gather | None = None,
    known_rows: Sequence[np.ndarray | None] | None = None,
) -> list[RankedSlots]:
    """:func:`rank_dense` for several queries over the same matrix, sharing matrix products.

    Queries whose mask is selective are ranked on their gathered rows (queries with the same mask
    share one gather and one product); the rest share a single (m, n) float32 product.
    ``known_rows[i]``, when given, is ``np.flatnonzero(masks[i])`` already computed (or None).
    """
    prepared = [normalize_query(q) if distance == COSINE else q for q in queries]
    results: list[RankedSlots | None] = [None] * len(queries)
    shared: list[int] = []
    # Queries with the same selective rows share one gather and one product. Known rows (from the
    # collection's cache) are the same object for the same filter, so they are told apart by
    # identity; rows computed here by content.
    selective: dict[Any, tuple[np.ndarray, list[int]]] = {}
    for index, mask in enumerate(masks):
        rows = known_rows[index] if known_rows is not None else None
        eligible = len(rows) if rows is not None else int(np.count_nonzero(mask))
        if eligible == 0 or ks[index] <= 0:
            results[index] = _empty()
        elif eligible <= GATHER_FRACTION * n_slots:
            if rows is None:
                rows = np.flatnonzero(mask)
                key: Any = rows.tobytes()
            else:
                key = id(rows)
            selective.setdefault(key, (rows, []))[1].append(index)
        else:
            shared.append(index)
    for rows, group in selective.values():
        for start in range(0, len(group), 64):
            part = group[start : start + 64]
            keys = _keys_of_rows(matrix, rows, _stacked(prepared, part), distance, row_norms, gather)
            for row, index in enumerate(part):
                candidates = rows[top_candidates(keys[row], ks[index])]
                results[index] = _refine(matrix, candidates, prepared[index], distance, ks[index])
    for rows, group in _dense_groups(masks, shared, known_rows, n_slots):
        for start in range(0, len(group), 64):
            part = group[start : start + 64]
            keys = approx_core_chunked(matrix, rows, _stacked(prepared, part), distance, row_norms)
            for row, index in enumerate(part):
                candidates = rows[top_candidates(keys[row], ks[index])]
                results[index] = _refine(matrix, candidates, prepared[index], distance, ks[index])
    shared = [index for index in shared if results[index] is None]
    # Chunks of 64 queries keep the (m, n) key array within a few tens of MB.
    for start in range(0, len(shared), 64):
        group = shared[start : start + 64]
        keys = approx_core(matrix[:n_slots], _stacked(prepared, group), distance, row_norms)
        for row, index in enumerate(group):
            row_keys = keys[row]
            mask = masks[index]
            if not mask.all():
                row_keys[~mask] = -np.inf
            candidates = top_candidates(row_keys, ks[index])
            results[index] = _refine(matrix, candidates, prepared[index], distance, ks[index])
    return results  # type: ignore[return-value]


def _dense_groups(
    masks: list[np.ndarray], shared: list[int], known_rows: Sequence[np.ndarray | None] | None, n_slots: int
) -> list[tuple[np.ndarray, list[int]]]:
    """Queries of ``shared`` (denser masks) that share one mask with at least one other query and keep
    at most :data:`CHUNKED_GATHER_FRACTION` of the slots: ``(rows, queries)`` per mask."""
    if len(shared) < 2 or blas_threads() > CHUNKED_GATHER_MAX_THREADS:
        return []
    groups: dict[Any, tuple[np.ndarray | None, list[int]]] = {}
    for index in shared:
        mask = masks[index]
        if mask.all():
            continue  # no filter: nothing to skip
        rows = known_rows[index] if known_rows is not None else None
        key: Any = id(rows) if rows is not None else mask.tobytes()
        groups.setdefault(key, (rows, []))[1].append(index)
    found = []
    for rows, group in groups.values():
        if len(group) < 2:
            continue
        if rows is None:
            rows = np.flatnonzero(masks[group[0]])
        if len(rows) <= CHUNKED_GATHER_FRACTION * n_slots:
            found.append((rows, group))
    return found


@functools.lru_cache(maxsize=1)
def blas_threads() -> int:
    """Threads the BLAS runs a product on, as its environment variables set them (else one per CPU)."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(variable, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def approx_core_chunked(
    matrix: np.ndarray, rows: np.ndarray, queries: np.ndarray, distance: str, row_norms: np.ndarray | None = None
) -> np.ndarray:
    """:func:`approx_core` of ``matrix[rows]``, gathered :data:`GATHER_CHUNK_ROWS` rows at a time
    into one reused buffer: (m, len(rows)) keys, without a copy of all the rows."""
    out = np.empty((len(queries), len(rows)), dtype=np.float32)
    buffer = np.empty((min(GATHER_CHUNK_ROWS, len(rows)), matrix.shape[1]), dtype=np.float32)
    for start in range(0, len(rows), GATHER_CHUNK_ROWS):
        part = rows[start : start + GATHER_CHUNK_ROWS]
        chunk = buffer[: len(part)]
        # mode="clip": with the default "raise", numpy copies into a temporary first so that a bad
        # index cannot leave ``out`` half written (1.9x the time); these rows come from a mask.
        np.take(matrix, part, axis=0, out=chunk, mode="clip")
        norms = row_norms[part] if row_norms is not None else None
        out[:, start : start + len(part)] = approx_core(chunk, queries, distance, norms)
    return out


def _keys_of_rows(
    matrix: np.ndarray,
    rows: np.ndarray,
    queries: np.ndarray,
    distance: str,
    row_norms: np.ndarray | None,
    gather: Gather | None,
) -> np.ndarray:
    """:func:`approx_core` of the rows at ``rows``: over the gather cache's copy of them when it keeps
    one, else gathered a chunk at a time (a one-off copy of them all would cost more than the product:
    a fresh allocation's first touch)."""
    subset = gather(rows) if gather is not None else None
    if subset is None:
        return approx_core_chunked(matrix, rows, queries, distance, row_norms)
    return approx_core(subset, queries, distance, row_norms[rows] if row_norms is not None else None)


def _stacked(prepared: list[np.ndarray], indices: list[int]) -> np.ndarray:
    """The prepared queries at ``indices`` as one (m, dim) array (a view for a single query)."""
    if len(indices) == 1:
        return prepared[indices[0]][np.newaxis]
    return np.stack([prepared[i] for i in indices])


def _refine(matrix: np.ndarray, candidates: np.ndarray, query: np.ndarray, distance: str, k: int) -> RankedSlots:
    scores = exact_display(matrix, candidates, query, distance)
    descending = bigger_is_better(distance)
    if len(candidates) <= SMALL_SORT:
        return RankedSlots.from_pairs(sort_pairs(candidates.tolist(), scores.tolist(), descending)[:k])
    order = order_by_score(candidates, scores, descending)[:k]
    return RankedSlots(candidates[order], scores[order])


def sort_pairs(slots: list[int], scores: list[float], descending: bool) -> list[tuple[int, float]]:
    """:func:`order_by_score` for a few Python values: ``(slot, score)`` pairs in result order, NaN
    scores dropped. Sorting ``(score, slot)`` tuples (reversed when descending) is the same order as
    the stable lexsort there: score first, then the later slot first when descending."""
    ordered = [(score, slot) for score, slot in zip(scores, slots) if score == score]  # NaN first out
    ordered.sort(reverse=descending)
    return [(slot, score) for score, slot in ordered]


def _empty() -> RankedSlots:
    return RankedSlots(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def rank_dense_slots(matrix: np.ndarray, slots: np.ndarray, query: np.ndarray, distance: str, k: int) -> RankedSlots:
    """:func:`rank_dense` restricted to the given candidate ``slots`` (an approximate index's: its
    graphs' results plus the rows no graph covers yet, sorted and unique)."""
    if len(slots) == 0 or k <= 0:
        return _empty()
    n_slots = int(slots[-1]) + 1
    if len(slots) > GATHER_FRACTION * n_slots:
        # Many rows (most of a collection whose first graph is still being built): a product over
        # the matrix itself with a mask, as exact search does, instead of a gathered copy of them.
        mask = np.zeros(n_slots, dtype=bool)
        mask[slots] = True
        return rank_dense(matrix, n_slots, mask, query, distance, k)
    prepared = normalize_query(query) if distance == COSINE else query
    keys = approx_core(matrix[slots], prepared[np.newaxis, :], distance)[0]
    return _refine(matrix, slots[top_candidates(keys, k)], prepared, distance, k)
