"""Search spaces: one vector name of one collection, seen by the query planner.

A space knows how to validate a query vector of its kind, read a stored vector back as a query
(query by point id), rank a nearest query, rank an example-based query (recommend, discover, context,
feedback: a ``combine`` function over the examples' core similarities) and compute the matrices MMR
needs. :class:`DenseSpace`, :class:`SparseSpace` and :class:`MultiSpace` share that interface, so the
planner never branches on the vector kind.

Ranking always takes an ``eligible`` mask over slots (live, holding the vector, matching the filter)
and ``k`` (limit + offset) and returns :class:`~.scoring.RankedSlots` in result order.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from ..engine.distance import COSINE, EUCLID, normalize_query
from ..engine.vectors import DenseVectors, MultiVectors, SparseVectors
from . import mmr, multi, scoring, sparse
from .scoring import DOT, RankedSlots, order_by_score, top_candidates

__all__ = ["DenseSpace", "SparseSpace", "MultiSpace", "Space", "Combine"]

# Combines the core similarities of each example (one array per example, all over the same points)
# into scores for those points.
Combine = Callable[[list[np.ndarray], int], np.ndarray]


def _empty() -> RankedSlots:
    return RankedSlots(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _finish(candidates: np.ndarray, scores: np.ndarray, descending: bool, k: int) -> RankedSlots:
    # Scores keep qdrant-client's dtype (float32 for sparse, best/sum and context scores): the
    # score_threshold comparison then happens in that precision, as it does there.
    order = order_by_score(candidates, scores, descending)[:k]
    return RankedSlots(candidates[order], np.asarray(scores)[order])


# Squared row norms per dense store (Euclid), valid for one collection state.
_NORMS: weakref.WeakKeyDictionary[DenseVectors, tuple[Any, np.ndarray]] = weakref.WeakKeyDictionary()


# Searches run in parallel (engine/rwlock.py): the caches below are read and filled under this lock.
_CACHE_LOCK = threading.Lock()


def _row_norms(store: DenseVectors, n_slots: int, version: Any) -> np.ndarray:
    """Squared norms of the first ``n_slots`` rows, recomputed only after the collection changed."""
    key = (version, n_slots, id(store.matrix))
    with _CACHE_LOCK:
        cached = _NORMS.get(store)
    if cached is None or cached[0] != key:
        cached = (key, scoring.squared_norms(store.matrix[:n_slots]))
        with _CACHE_LOCK:
            _NORMS[store] = cached
    return cached[1]


# Rows of selective filter masks, gathered once per collection state and reused while the same
# filters repeat (a search on them is then one product over a contiguous copy, as fast as a
# pre-gathered matrix). The copies of one store may take at most this fraction of its matrix.
GATHERED_FRACTION = 1 / 16
_Entries = OrderedDict[bytes, tuple[np.ndarray, np.ndarray]]
# Per store: (state key, its gather function), one function per collection state.
_GATHERED: weakref.WeakKeyDictionary[DenseVectors, tuple[Any, scoring.Gather]] = weakref.WeakKeyDictionary()


def _gatherer(store: DenseVectors, n_slots: int, version: Any) -> scoring.Gather:
    """``rows -> store.matrix[rows]``, served from copies kept for this collection state."""
    key = (version, n_slots, id(store.matrix))
    with _CACHE_LOCK:
        cached = _GATHERED.get(store)
        if cached is None or cached[0] != key:
            cached = (key, _new_gatherer(store, n_slots))
            _GATHERED[store] = cached
    return cached[1]


def _new_gatherer(store: DenseVectors, n_slots: int) -> scoring.Gather:
    """A gather function with its own copies (for one state of ``store``).

    The collection's selection cache hands out the same read-only rows object for a repeated
    filter; the bytes of such an object are remembered (weakly, by identity) while its copy is
    kept, so a repeated search does not hash them again.
    """
    entries: _Entries = OrderedDict()
    digests: dict[int, tuple[Any, bytes]] = {}
    owner = weakref.ref(store)  # not the store itself: the cache's value must not keep its key alive
    budget = GATHERED_FRACTION * n_slots * store.dim * 4

    def remember(rows: np.ndarray, digest: bytes) -> None:
        if not rows.flags.writeable:  # an array that can change in place is hashed every time
            if len(digests) >= 64:
                digests.clear()
            digests[id(rows)] = (weakref.ref(rows), digest)

    def gather(rows: np.ndarray) -> np.ndarray | None:
        store = owner()
        if store is None or len(rows) * store.dim * 4 > budget:
            return None  # never kept: the caller reads the rows a chunk at a time
        with _CACHE_LOCK:
            known = digests.get(id(rows))
        digest = known[1] if known is not None and known[0]() is rows else rows.tobytes()
        with _CACHE_LOCK:
            hit = entries.get(digest)
            if hit is not None:
                entries.move_to_end(digest)
                remember(rows, digest)
                return hit[1]
        subset = store.matrix[rows]
        with _CACHE_LOCK:
            entries[digest] = (rows, subset)
            remember(rows, digest)
            while sum(entry[1].nbytes for entry in entries.values()) > budget:
                evicted, _ = entries.popitem(last=False)
                for ident in [i for i, (_, d) in digests.items() if d is evicted]:
                    del digests[ident]
        return subset

    return gather


class DenseSpace:
    """A dense vector name: float32 rows, one per slot."""

    kind = "dense"

    def __init__(self, store: DenseVectors, n_slots: int, vector_name: str, version: Any = None) -> None:
        """``version`` identifies the collection's state (``store.version``): with it, Euclid keeps
        the rows' squared norms between queries; without it they are recomputed per query."""
        self.store = store
        self.n_slots = n_slots
        self.vector_name = vector_name
        self.distance = store.distance
        self.dim = store.dim
        self.bigger_is_better = scoring.bigger_is_better(self.distance)
        self._version = version

    @property
    def row_norms(self) -> np.ndarray | None:
        if self.distance != EUCLID:
            return None
        if self._version is None:
            return scoring.squared_norms(self.store.matrix[: self.n_slots])
        return _row_norms(self.store, self.n_slots, self._version)

    def parse(self, vector: Any, what: str = "Query vector") -> np.ndarray:
        return scoring.dense_query(vector, self.dim, self.vector_name, what=what)

    def stored(self, slot: int) -> np.ndarray:
        # float64 of the float32 row: what qdrant-client's ``row.tolist()`` then ``np.array`` gives.
        return self.store.matrix[slot].astype(np.float64)

    def _prepared(self, query: np.ndarray) -> np.ndarray:
        return normalize_query(query) if self.distance == COSINE else query

    @property
    def gather(self) -> scoring.Gather | None:
        """Gathers rows through the per-state cache (None when the state is not known)."""
        return None if self._version is None else _gatherer(self.store, self.n_slots, self._version)

    def nearest(self, query: np.ndarray, eligible: np.ndarray, k: int, rows: np.ndarray | None = None) -> RankedSlots:
        """``rows``, when known, are ``np.flatnonzero(eligible)``."""
        return scoring.rank_dense(
            self.store.matrix, self.n_slots, eligible, query, self.distance, k, self.row_norms, self.gather, rows
        )

    def nearest_batch(
        self,
        queries: list[np.ndarray],
        masks: list[np.ndarray],
        ks: list[int],
        rows: list[np.ndarray | None] | None = None,
    ) -> list[RankedSlots]:
        return scoring.rank_dense_batch(
            self.store.matrix, self.n_slots, masks, queries, self.distance, ks, self.row_norms, self.gather, rows
        )

    def rank_examples(
        self, examples: Sequence[np.ndarray], combine: Combine, eligible: np.ndarray, k: int
    ) -> RankedSlots:
        matrix = self.store.matrix
        prepared = [self._prepared(example) for example in examples]
        count = int(np.count_nonzero(eligible))
        if count == 0 or k <= 0:
            return _empty()
        stacked = np.stack(prepared)
        norms = self.row_norms
        if count <= scoring.GATHER_FRACTION * self.n_slots:
            rows = np.flatnonzero(eligible)
            approx = scoring.approx_core_chunked(matrix, rows, stacked, self.distance, norms)
            keys = np.asarray(combine(list(approx), len(rows)))
            candidates = rows[top_candidates(keys, k)]
        else:
            similarities = scoring.approx_core(matrix[: self.n_slots], stacked, self.distance, norms)
            keys = np.array(combine(list(similarities), self.n_slots), dtype=np.float64)
            keys[~eligible] = -np.inf
            candidates = top_candidates(keys, k)
        exact = [scoring.exact_core(matrix, candidates, example, self.distance) for example in prepared]
        return _finish(candidates, combine(exact, len(candidates)), True, k)

    def mmr_matrices(self, query: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self.store.matrix[slots]
        return mmr.dense_relevance(query, rows, self.distance), mmr.dense_similarity_matrix(rows, self.distance)


class SparseSpace:
    """A sparse vector name, searched through its inverted index (always Dot, bigger is better)."""

    kind = "sparse"
    distance = DOT
    bigger_is_better = True

    def __init__(
        self,
        store: SparseVectors,
        n_slots: int,
        vector_name: str,
        corpus: Callable[[], np.ndarray] | None = None,
    ) -> None:
        """``corpus`` returns the IDF corpus mask (live points holding the vector, narrowed by
        ``search_params.idf``); it is only called for a vector name with the IDF modifier."""
        self.store = store
        self.index = store.index
        self.n_slots = n_slots
        self.vector_name = vector_name
        self._corpus = corpus
        self._idf_corpus: np.ndarray | None = None

    @property
    def uses_idf(self) -> bool:
        return self.store.modifier == "idf"

    def parse(self, vector: Any, what: str = "Query vector") -> sparse.SparseArrays:
        return sparse.sparse_query(vector)

    def stored(self, slot: int) -> sparse.SparseArrays:
        raw = self.store.raw(slot)
        if raw is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return raw[0].astype(np.int64), raw[1].astype(np.float64)

    def weighted(self, query: sparse.SparseArrays) -> sparse.SparseArrays:
        """The query as scored: IDF-weighted when the vector name has the IDF modifier."""
        if not self.uses_idf or self._corpus is None:
            return query
        if self._idf_corpus is None:
            self._idf_corpus = self._corpus()
        corpus = self._idf_corpus
        return self.index.rescore_idf(query, int(np.count_nonzero(corpus)), corpus)

    def nearest(self, query: sparse.SparseArrays, eligible: np.ndarray, k: int) -> RankedSlots:
        scores = self.index.scores(self.weighted(query), self.n_slots, empty_is_zero=False)
        # No shared index means no score at all: such points are skipped, as in qdrant-client.
        keys = np.where(eligible, scores, np.float32(-np.inf))
        candidates = top_candidates(keys, k)
        return _finish(candidates, scores[candidates], True, k)

    def rank_examples(
        self, examples: Sequence[sparse.SparseArrays], combine: Combine, eligible: np.ndarray, k: int
    ) -> RankedSlots:
        similarities = [
            self.index.scores(self.weighted(example), self.n_slots, empty_is_zero=True) for example in examples
        ]
        scores = np.asarray(combine(similarities, self.n_slots))
        keys = np.where(eligible, scores, -np.inf)
        candidates = top_candidates(keys, k)
        return _finish(candidates, scores[candidates], True, k)

    def mmr_matrices(self, query: sparse.SparseArrays, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = [self.stored(int(slot)) for slot in slots]

        def similarity(a: Any, b: Any) -> float:
            value = sparse.sparse_dot(a, b)
            return float(np.float32(0.0 if value is None else value))

        relevance = np.array([similarity(query, vector) for vector in vectors], dtype=np.float64)
        return relevance, mmr.pairwise_matrix(vectors, similarity)


class MultiSpace:
    """A multivector name (MAX_SIM), ranked with matrix products over its contiguous row matrix."""

    kind = "multi"

    def __init__(self, store: MultiVectors, n_slots: int, vector_name: str) -> None:
        self.store = store
        self.index = store.index
        self.n_slots = n_slots
        self.vector_name = vector_name
        self.distance = store.distance
        self.dim = store.dim
        self.bigger_is_better = scoring.bigger_is_better(self.distance)

    def parse(self, vector: Any, what: str = "Query vector") -> np.ndarray:
        return scoring.dense_matrix_query(vector, self.dim, self.vector_name, what=what)

    def stored(self, slot: int) -> np.ndarray:
        return self.index.matrix(slot).astype(np.float64)

    def _approx(self, queries: Sequence[np.ndarray], slots: np.ndarray) -> list[np.ndarray]:
        return self.index.approx_max_sim(multi.prepare_queries(list(queries), self.distance), slots, self.distance)

    def _exact(self, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
        index, distance = self.index, self.distance
        return np.array([multi.exact_max_sim(query, index.matrix(int(s)), distance) for s in slots], dtype=np.float64)

    def nearest(self, query: np.ndarray, eligible: np.ndarray, k: int) -> RankedSlots:
        slots = np.flatnonzero(eligible)
        if len(slots) == 0 or k <= 0:
            return _empty()
        approx = self._approx([query], slots)[0]
        candidates = slots[top_candidates(approx, k)]
        display = np.asarray(multi.display_from_core(self._exact(query, candidates), self.distance), dtype=np.float64)
        return _finish(candidates, display, self.bigger_is_better, k)

    def rank_examples(
        self, examples: Sequence[np.ndarray], combine: Combine, eligible: np.ndarray, k: int
    ) -> RankedSlots:
        slots = np.flatnonzero(eligible)
        if len(slots) == 0 or k <= 0:
            return _empty()
        keys = np.asarray(combine(self._approx(examples, slots), len(slots)))
        candidates = slots[top_candidates(keys, k)]
        exact = [self._exact(example, candidates) for example in examples]
        return _finish(candidates, combine(exact, len(candidates)), True, k)

    def mmr_matrices(self, query: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        matrices = [self.stored(int(slot)) for slot in slots]
        distance = self.distance
        relevance = np.array([multi.exact_max_sim(query, m, distance) for m in matrices], dtype=np.float64)
        return relevance, mmr.pairwise_matrix(matrices, lambda a, b: multi.exact_max_sim(a, b, distance))


Space = DenseSpace | SparseSpace | MultiSpace
