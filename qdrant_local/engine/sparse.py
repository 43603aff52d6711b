"""Sparse vector storage: an inverted index of one sparse vector name, kept current on every write.

Each dimension (term) keeps a posting list of (slot, value) numpy arrays, so a query touches only
the postings of its own terms: ``scores[slots] += query_value * values`` per term, vectorised.

Writes never search a posting list. Every slot has a *generation*; replacing or erasing a slot's
vector bumps it, which invalidates all its old entries at once, and new entries are appended to a
pending list. A posting is merged and purged of stale entries the next time a query reads it.

Arithmetic follows qdrant-client's ``sparse_dot_product``: float64 accumulation over the terms in
ascending index order, then a cast to float32.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .growth import grown, next_capacity

__all__ = ["SparseIndex", "SparseArrays", "idf"]

SparseArrays = tuple[np.ndarray, np.ndarray]  # (indices int64 ascending, values float64)


def idf(document_frequency: np.ndarray, n_documents: int) -> np.ndarray:
    """Qdrant's IDF: ``ln((N - df + 0.5) / (df + 0.5) + 1)``, per term."""
    df = document_frequency.astype(np.float64)
    # math.log per term, not np.log: bit-identical to qdrant-client's per-value Python arithmetic.
    return np.array([math.log((n_documents - d + 0.5) / (d + 0.5) + 1) for d in df.tolist()], dtype=np.float64)


class SparseIndex:
    """Inverted index of one sparse vector name, addressed by slot."""

    def __init__(self) -> None:
        self._generation = np.zeros(0, dtype=np.int64)
        self._nnz = np.zeros(0, dtype=np.int64)  # entries of each slot's current vector
        # term -> merged arrays (slots, values, generations)
        self._postings: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # term -> appended since the last merge: ([slots], [values], [generations])
        self._pending: dict[int, tuple[list[int], list[float], list[int]]] = {}
        # Entries held (current or stale) and current; stale ones are normally purged when their
        # term is queried, and all at once when they outnumber the current ones (write-heavy use).
        self._held = 0
        self._current = 0
        self._merge_lock = threading.Lock()

    # -- writes ----------------------------------------------------------------------------------

    def _reserve(self, slot: int) -> None:
        if slot >= len(self._generation):
            capacity = next_capacity(len(self._generation), slot + 1)
            self._generation, self._nnz = grown(self._generation, capacity), grown(self._nnz, capacity)

    def set(self, slot: int, indices: np.ndarray, values: np.ndarray) -> None:
        """Make ``slot`` hold the sparse vector (indices, values), replacing what it held."""
        self._reserve(slot)
        self.remove(slot)
        generation = int(self._generation[slot])
        self._nnz[slot] = len(indices)
        self._held += len(indices)
        self._current += len(indices)
        pending = self._pending
        for term, value in zip(np.asarray(indices).tolist(), np.asarray(values, dtype=np.float64).tolist()):
            entry = pending.get(term)
            if entry is None:
                entry = pending[term] = ([], [], [])
            entry[0].append(slot)
            entry[1].append(value)
            entry[2].append(generation)

    def remove(self, slot: int) -> None:
        """Forget the vector of ``slot`` (its entries become stale at once)."""
        if slot < len(self._generation):
            self._generation[slot] += 1
            self._current -= int(self._nnz[slot])
            self._nnz[slot] = 0
            if self._held - self._current > max(65536, self._current):
                self.purge()

    def purge(self) -> None:
        """Drop every stale entry now (merging pending ones), so memory follows the live vectors."""
        for term in list(self._pending) + [t for t in list(self._postings) if t not in self._pending]:
            self.postings(term)
        self._held = self._current

    def clear(self) -> None:
        """Forget everything (the owner rebuilds after a compaction renumbers slots)."""
        self.__init__()  # type: ignore[misc]

    # -- reads -----------------------------------------------------------------------------------

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """Current (slots, values) holding ``term``; slots are unique. Merges the term's pending
        entries first, under a lock: searches (parallel reads) call this too."""
        with self._merge_lock:
            return self._merged_postings(term)

    def _merged_postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        merged = self._postings.get(term)
        pending = self._pending.pop(term, None)
        if pending is not None:
            added = (
                np.asarray(pending[0], dtype=np.int64),
                np.asarray(pending[1], dtype=np.float64),
                np.asarray(pending[2], dtype=np.int64),
            )
            merged = added if merged is None else tuple(np.concatenate(pair) for pair in zip(merged, added))  # type: ignore[assignment]
        if merged is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        slots, values, generations = merged
        valid = generations == self._generation[slots]
        if not valid.all():
            slots, values, generations = slots[valid], values[valid], generations[valid]
            merged = (slots, values, generations)
        if len(slots):
            self._postings[term] = merged
        else:
            self._postings.pop(term, None)
        return slots, values

    def accumulate(self, query: SparseArrays, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
        """(float64 dot products, overlap mask) of the query with every slot below ``n_slots``.

        Terms are visited in ascending index order, so each slot's sum is accumulated in the same
        order as qdrant-client's merge-join, giving the same float64 value.
        """
        scores = np.zeros(n_slots, dtype=np.float64)
        overlap = np.zeros(n_slots, dtype=bool)
        for term, query_value in zip(query[0].tolist(), query[1].tolist()):
            slots, values = self.postings(term)
            if len(slots) == 0:
                continue
            if slots.max(initial=-1) >= n_slots:
                keep = slots < n_slots
                slots, values = slots[keep], values[keep]
            scores[slots] += query_value * values
            overlap[slots] = True
        return scores, overlap

    def scores(self, query: SparseArrays, n_slots: int, *, empty_is_zero: bool) -> np.ndarray:
        """qdrant-client's ``calculate_distance_sparse`` over slots ``0..n_slots``: float32 scores,
        ``-inf`` where there is no overlap unless ``empty_is_zero``."""
        accumulated, overlap = self.accumulate(query, n_slots)
        result = accumulated.astype(np.float32)
        if not empty_is_zero:
            result[~overlap] = -np.inf
        return result

    def document_frequencies(self, terms: np.ndarray, corpus: np.ndarray | None = None) -> np.ndarray:
        """How many current vectors hold each term, counting only slots in ``corpus`` when given."""
        counts = np.zeros(len(terms), dtype=np.int64)
        for position, term in enumerate(np.asarray(terms).tolist()):
            slots, _ = self.postings(term)
            if corpus is not None:
                inside = slots < len(corpus)
                counts[position] = int(np.count_nonzero(corpus[slots[inside]]))
            else:
                counts[position] = len(slots)
        return counts

    def rescore_idf(self, query: SparseArrays, n_documents: int, corpus: np.ndarray | None = None) -> SparseArrays:
        """The query with each value multiplied by its term's IDF (qdrant-client's ``_rescore_idf``)."""
        weights = idf(self.document_frequencies(query[0], corpus), n_documents)
        # Per-value Python multiplication, as qdrant-client does it.
        values = np.array([v * w for v, w in zip(query[1].tolist(), weights.tolist())], dtype=np.float64)
        return query[0], values
