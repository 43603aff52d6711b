"""Multivector storage: the sub-vectors of one vector name in one float32 matrix, a run of rows per slot.

Replacing a slot's multivector appends its new rows and leaves the old ones as garbage; the matrix is
compacted once garbage outweighs live rows. ``approx_max_sim`` ranks slots with one matrix product
per chunk and a segmented ``np.maximum.reduceat`` (the query layer refines the candidates exactly):

    MAX_SIM(q, d) = sum over query rows i of  max over document rows j of  sim(q_i, d_j)
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput
from .distance import COSINE, DOT, EUCLID, MANHATTAN
from .growth import grown, next_capacity

__all__ = ["MultiIndex"]

# Rows of the stored matrix multiplied at once: bounds the (rows, query rows) float32 product.
_CHUNK_ROWS = 65536


class MultiIndex:
    """The sub-vectors of one multivector name, stored contiguously per slot."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.rows = np.zeros((0, dim), dtype=np.float32)
        self.row_norms = np.zeros(0, dtype=np.float32)  # squared L2 norm per row, for Euclid
        self.used = 0
        self.start = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)  # 0: the slot holds no multivector
        self.garbage = 0

    # -- writes ----------------------------------------------------------------------------------

    def _reserve_slots(self, slot: int) -> None:
        if slot >= len(self.count):
            capacity = next_capacity(len(self.count), slot + 1)
            self.start, self.count = grown(self.start, capacity), grown(self.count, capacity)

    def _reserve_rows(self, needed: int) -> None:
        if needed > len(self.rows):
            capacity = next_capacity(len(self.rows), needed, minimum=64)
            self.rows = grown(self.rows, capacity, self.used)
            self.row_norms = grown(self.row_norms, capacity, self.used)

    def set(self, slot: int, matrix: np.ndarray) -> None:
        """Make ``slot`` hold ``matrix`` (k, dim) float32, already normalised for Cosine."""
        self._reserve_slots(slot)
        self.remove(slot)
        k = len(matrix)
        self._reserve_rows(self.used + k)
        self.rows[self.used : self.used + k] = matrix
        self.row_norms[self.used : self.used + k] = np.einsum("ij,ij->i", matrix, matrix)
        self.start[slot] = self.used
        self.count[slot] = k
        self.used += k

    def remove(self, slot: int) -> None:
        """Drop the multivector of ``slot``; compacts when garbage exceeds the live rows."""
        if slot < len(self.count) and self.count[slot]:
            self.garbage += int(self.count[slot])
            self.count[slot] = 0
            if self.garbage > 1024 and self.garbage > self.used - self.garbage:
                self.compact()

    def compact(self) -> None:
        """Rewrite the rows in slot order without garbage."""
        slots = np.flatnonzero(self.count)
        rows_index = self._row_index(slots)
        self.rows = np.ascontiguousarray(self.rows[rows_index])
        self.row_norms = self.row_norms[rows_index]
        counts = self.count[slots]
        self.start[slots] = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(slots) else []
        self.used = len(rows_index)
        self.garbage = 0

    def clear(self) -> None:
        self.__init__(self.dim)  # type: ignore[misc]

    def matrix(self, slot: int) -> np.ndarray:
        start, count = int(self.start[slot]), int(self.count[slot])
        return self.rows[start : start + count]

    def _row_index(self, slots: np.ndarray) -> np.ndarray:
        counts = self.count[slots]
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        run_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return np.repeat(self.start[slots] - run_starts, counts) + np.arange(total)

    # -- scoring ---------------------------------------------------------------------------------

    def approx_max_sim(self, queries: list[np.ndarray], slots: np.ndarray, distance: str) -> list[np.ndarray]:
        """Approximate core MAX_SIM of each query (a (qr, dim) float64 matrix, normalised for
        Cosine) against each of ``slots``: float32, bigger is better, ``-inf`` for a slot without
        a multivector."""
        results = [np.full(len(slots), -np.inf, dtype=np.float32) for _ in queries]
        inside = slots < len(self.count)
        held = np.flatnonzero(inside)
        held = held[self.count[slots[held]] > 0]
        if len(held) == 0:
            return results
        positions, slots = held, slots[held]
        # Visit the slots in storage order, so that a group of them is one contiguous row range.
        by_start = np.argsort(self.start[slots], kind="stable")
        ordered = slots[by_start]
        ends = self.start[ordered] + self.count[ordered]
        group_start = 0
        while group_start < len(ordered):
            first_row = int(self.start[ordered[group_start]])
            group_end = int(np.searchsorted(ends, first_row + _CHUNK_ROWS, side="right"))
            group_end = max(group_end, group_start + 1)
            group = ordered[group_start:group_end]
            last_row = int(ends[group_end - 1])
            # Interleaved [start, end) offsets: reduceat's even results are the slots' own runs.
            starts = self.start[group] - first_row
            offsets = np.empty(2 * len(group), dtype=np.int64)
            offsets[0::2] = starts
            offsets[1::2] = starts + self.count[group]
            span = last_row - first_row
            if offsets[-1] >= span:
                offsets = offsets[:-1]
            block = self.rows[first_row:last_row]
            for index, query in enumerate(queries):
                sims = _row_similarities(block, self.row_norms[first_row:last_row], query, distance)
                best = np.maximum.reduceat(sims, offsets, axis=0)[0::2]
                results[index][positions[by_start[group_start:group_end]]] = best.sum(axis=1, dtype=np.float32)
            group_start = group_end
        return results


def _row_similarities(block: np.ndarray, row_norms: np.ndarray, query: np.ndarray, distance: str) -> np.ndarray:
    """(rows, query rows) float32 core similarities of stored rows to query rows."""
    query32 = np.ascontiguousarray(query, dtype=np.float32)
    if distance in (COSINE, DOT):
        return block @ query32.T
    if distance == EUCLID:
        sims = block @ query32.T
        sims *= 2.0
        sims -= row_norms[:, np.newaxis]
        sims -= np.einsum("ij,ij->i", query32, query32)[np.newaxis, :]
        return sims
    if distance == MANHATTAN:
        out = np.empty((len(block), len(query32)), dtype=np.float32)
        ones = np.ones(block.shape[1], dtype=np.float32)
        for column, row in enumerate(query32):
            out[:, column] = -(np.abs(block - row) @ ones)
        return out
    raise InvalidInput(f"Unknown distance type {distance}")
