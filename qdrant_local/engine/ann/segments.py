"""The approximate index of one dense vector name, organised in segments as Qdrant does.

A *segment* is an HNSW graph over the rows that existed when it was built, with a map between its
labels and the collection's slots. Every write to the vector store reaches :meth:`VectorIndex.changed`
(the store's observer hook): a row written or erased since the build is no longer *fresh* in its
segment, so the graph never returns it; it joins the *unindexed* part, which is searched exactly.
A search therefore asks each segment's graph (fresh labels only, filter applied during traversal)
and returns those candidates together with every eligible unindexed slot; the caller scores them all
exactly and keeps one top k.

When the unindexed part outgrows the indexing threshold, a new segment is built over it; when the
segments carry too many stale rows or are too many, one *merge* build replaces them all. Builds run
in a background thread (see service.py) against a :class:`Build`, which follows the writes made
while it runs the same way a segment does, and is installed atomically under the database lock.
All methods here are called with that lock held, except :meth:`Build.add_rows`' graph work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import TRAIN_ROWS, Graph
from .params import HnswParams

# More segments than this beyond those of the last merge are merged by the next build.
MAX_EXTRA_SEGMENTS = 3

# A merge build is split into one graph per indexing thread (built side by side, each on one core,
# as Qdrant builds its segments), with at least this many rows per graph.
MIN_PART_ROWS = 20_000

# A graph ranks by its codes' approximate distance: it returns this many times ``k`` labels, rescored
# exactly by the caller (2x kept recall@10 equal to a float32 graph's at 100,000 x 384: README).
OVERSAMPLING = 2

# A filtered graph search explores more candidates the fewer points match (faiss applies the filter
# during traversal but has no payload-aware links): ef is scaled by sqrt(0.5 / selectivity), capped.
MAX_EF_SCALE = 12.0


def _lookup(table: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """``table[slots]`` with -1 for slots past its end (slots allocated after it was sized)."""
    out = np.full(len(slots), -1, dtype=np.int64)
    inside = slots < len(table)
    out[inside] = table[slots[inside]]
    return out


class LabelMap:
    """Labels (row positions in a graph) <-> slots, and which labels still hold their slot's vector."""

    def __init__(self, slots: np.ndarray, capacity: int, fresh: np.ndarray | None = None) -> None:
        self.label_slot = np.asarray(slots, dtype=np.int64)
        self.fresh = np.ones(len(slots), dtype=bool) if fresh is None else fresh
        self.n_fresh = int(np.count_nonzero(self.fresh))
        self.slot_label = np.full(max(capacity, int(slots.max()) + 1 if len(slots) else 0), -1, dtype=np.int32)
        labels = np.flatnonzero(self.fresh)
        self.slot_label[self.label_slot[labels]] = labels.astype(np.int32)
        self._note_layout()

    def _note_layout(self) -> None:
        """Remember whether the labels are one run of consecutive slots (then a filter mask over
        slots is sliced, not gathered, into a mask over labels)."""
        slots = self.label_slot
        n = len(slots)
        self.first_slot = int(slots[0]) if n else 0
        self.consecutive = bool(n) and int(slots[-1]) - self.first_slot == n - 1 and bool(np.all(np.diff(slots) == 1))

    def over_labels(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` (a bool array over slots) as a bool array over labels."""
        n = len(self.label_slot)
        if self.consecutive and self.first_slot + n <= len(mask):
            return mask[self.first_slot : self.first_slot + n]
        return mask[np.minimum(self.label_slot, len(mask) - 1)]

    def __len__(self) -> int:
        return len(self.label_slot)

    def changed(self, slots: np.ndarray) -> None:
        labels = _lookup(self.slot_label, slots)
        labels = np.unique(labels[labels >= 0])
        if len(labels):
            self.n_fresh -= int(np.count_nonzero(self.fresh[labels]))
            self.fresh[labels] = False
            self.slot_label[self.label_slot[labels]] = -1

    def compacted(self, keep: np.ndarray) -> None:
        """Slots were renumbered: ``keep[i]`` (an old slot) is now slot ``i``."""
        mapped = _lookup(self.slot_label, keep)
        self.slot_label = np.full(len(keep), -1, dtype=np.int32)
        held = mapped >= 0
        self.slot_label[held] = mapped[held]
        dropped = self.fresh.copy()
        self.label_slot[mapped[held]] = np.flatnonzero(held)
        dropped[mapped[held]] = False
        if dropped.any():  # a fresh label whose slot went away (cannot happen: erase came first)
            self.n_fresh -= int(np.count_nonzero(dropped))
            self.fresh[dropped] = False
        self.label_slot[~self.fresh] = 0  # stale labels point anywhere harmless
        self._note_layout()

    def fresh_slots(self) -> np.ndarray:
        return self.label_slot[self.fresh]


class Segment:
    """A built graph and its label map."""

    def __init__(self, graph: Graph, labels: LabelMap) -> None:
        self.graph = graph
        self.labels = labels


def part_bounds(n: int, threads: int) -> list[int]:
    """Label bounds of the graphs one build of ``n`` rows is split into (one per thread, each of at
    least MIN_PART_ROWS rows): ``[0, b1, ..., n]``."""
    parts = max(1, min(threads, n // MIN_PART_ROWS))
    return [n * i // parts for i in range(parts + 1)]


class Build:
    """Graphs being built over ``slots`` (all of them for a merge), following writes meanwhile.

    Labels are numbered over all ``slots``; graph ``i`` holds labels ``bounds[i] .. bounds[i+1]``
    (its own labels 0..), so each is built by its own thread and becomes its own segment."""

    def __init__(self, target: VectorIndex, slots: np.ndarray, merge: bool) -> None:
        self.target = target
        self.merge = merge
        self.labels = LabelMap(slots, len(target.vectors.present))
        params = target.params
        self.bounds = part_bounds(len(slots), params.indexing_threads if merge else 1)
        vectors = target.vectors
        self.graphs = [
            Graph(vectors.dim, vectors.distance, params.m, params.ef_construct) for _ in range(len(self.bounds) - 1)
        ]
        self.params = params
        self.added = self.bounds[:-1]  # the next label of each graph
        self.cancelled = False

    def next_rows(self, part: int, chunk: int) -> np.ndarray | None:
        """The next rows of graph ``part`` to add (a copy, taken under the lock), or None when done."""
        start, stop = self.added[part], self.bounds[part + 1]
        if start >= stop:
            return None
        matrix = self.target.vectors.matrix
        # Labels gone stale keep an out-of-date slot number; their rows are never returned anyway.
        slots = np.minimum(self.labels.label_slot[start : min(start + chunk, stop)], len(matrix) - 1)
        rows = matrix[slots]
        self.added[part] = start + len(slots)
        return rows

    def sample_rows(self, part: int) -> np.ndarray:
        """Rows spread evenly over graph ``part``'s labels, to train its codes on (a copy, under the lock)."""
        lo, hi = self.bounds[part], self.bounds[part + 1]
        labels = np.unique(np.linspace(lo, hi - 1, min(TRAIN_ROWS, hi - lo)).astype(np.int64))
        matrix = self.target.vectors.matrix
        return matrix[np.minimum(self.labels.label_slot[labels], len(matrix) - 1)]

    def segments(self) -> list[Segment]:
        """One segment per graph, its label map cut from the build's (under the lock)."""
        slots, fresh, capacity = self.labels.label_slot, self.labels.fresh, len(self.labels.slot_label)
        return [
            Segment(graph, LabelMap(slots[lo:hi].copy(), capacity, fresh=fresh[lo:hi].copy()))
            for graph, lo, hi in zip(self.graphs, self.bounds, self.bounds[1:])
        ]


class VectorIndex:
    """Segments, unindexed part and pending build of one dense vector name."""

    def __init__(self, vectors: Any, params: HnswParams) -> None:
        self.vectors = vectors
        self.params = params
        self.segments: list[Segment] = []
        self.covered = np.zeros(len(vectors.present), dtype=bool)  # slot held by a fresh label
        self.building: Build | None = None
        self.merged_parts = 0  # segments the last merge (or loaded file) made
        self.loading = False  # an index file is being read (service.py)
        self.touched: np.ndarray | None = None  # slots written while it is read
        self.file_stamp: tuple[int, int, int] | None = None  # the index file last loaded (or tried)
        vectors.observers.append(self)

    def detach(self) -> None:
        """Stop following the vector store (the collection or vector name went away)."""
        if self in self.vectors.observers:
            self.vectors.observers.remove(self)
        if self.building is not None:
            self.building.cancelled = True
            self.building = None

    # -- following writes (the DenseVectors observer protocol) ------------------------------------

    def changed(self, slots: Any) -> None:
        slots = np.atleast_1d(np.asarray(slots, dtype=np.int64))
        if len(slots) == 0:
            return
        inside = slots[slots < len(self.covered)]
        if len(inside) and self.covered[inside].any():
            self.covered[inside] = False
            for segment in self.segments:
                segment.labels.changed(inside)
        if self.building is not None:
            self.building.labels.changed(slots)
        if self.touched is not None:
            if slots.max() >= len(self.touched):
                self.touched = np.pad(self.touched, (0, len(self.vectors.present) - len(self.touched)))
            self.touched[slots] = True

    def compacted(self, keep: np.ndarray) -> None:
        covered = np.zeros(len(self.vectors.present), dtype=bool)
        covered[: len(keep)] = _lookup(self.covered.astype(np.int64), keep) > 0
        self.covered = covered
        for segment in self.segments:
            segment.labels.compacted(keep)
        if self.building is not None:
            self.building.labels.compacted(keep)
        if self.touched is not None:
            touched = np.zeros(len(self.vectors.present), dtype=bool)
            touched[: len(keep)] = _lookup(self.touched.astype(np.int64), keep) > 0
            self.touched = touched

    # -- state -----------------------------------------------------------------------------------

    @property
    def indexed_count(self) -> int:
        return sum(segment.labels.n_fresh for segment in self.segments)

    @property
    def busy(self) -> bool:
        return self.building is not None or self.loading

    def vector_count(self) -> int:
        return int(np.count_nonzero(self.vectors.present))

    def plan_build(self) -> Build | None:
        """A build the current state calls for (by Qdrant's thresholds), or None."""
        params = self.params
        if self.busy or not params.enabled or params.indexing_vectors is None:
            return None
        present = self.vectors.present
        n_vectors = self.vector_count()
        if not self.segments:
            if n_vectors > params.indexing_vectors:
                return self.start_build(np.flatnonzero(present), merge=True)
            return None
        indexed = self.indexed_count
        labels = sum(len(segment.labels) for segment in self.segments)
        dead = labels - indexed
        unindexed = n_vectors - indexed
        if dead >= params.vacuum_min_vectors and dead > params.deleted_threshold * labels:
            return self.start_build(np.flatnonzero(present), merge=True)
        if unindexed > params.indexing_vectors:
            if len(self.segments) >= self.merged_parts + MAX_EXTRA_SEGMENTS or unindexed > indexed:
                return self.start_build(np.flatnonzero(present), merge=True)
            covered = np.zeros(len(present), dtype=bool)
            covered[: len(self.covered)] = self.covered[: len(present)]
            return self.start_build(np.flatnonzero(present & ~covered), merge=False)
        return None

    def start_build(self, slots: np.ndarray, merge: bool) -> Build:
        self.building = Build(self, slots, merge)
        return self.building

    def install(self, build: Build) -> bool:
        """Swap a finished build in (under the lock); False when it was superseded meanwhile."""
        if build is not self.building or build.cancelled:
            return False
        self.building = None
        self.add_segments(build.segments(), replace=build.merge)
        return True

    def add_segments(self, segments: list[Segment], replace: bool) -> None:
        """Add built or loaded segments; ``replace``: they replace every segment (a merge)."""
        if replace:
            self.segments = []
            self.covered = np.zeros(len(self.vectors.present), dtype=bool)
            self.merged_parts = len(segments)
        if len(self.covered) < len(self.vectors.present):
            grown = np.zeros(len(self.vectors.present), dtype=bool)
            grown[: len(self.covered)] = self.covered
            self.covered = grown
        for segment in segments:
            self.covered[segment.labels.fresh_slots()] = True
            if segment.labels.n_fresh:
                self.segments.append(segment)

    def drop_segments(self) -> None:
        self.segments = []
        self.covered = np.zeros(len(self.vectors.present), dtype=bool)

    # -- search ----------------------------------------------------------------------------------

    def candidates(
        self, query: np.ndarray, eligible: np.ndarray, filtered: bool, k: int, ef: int | None
    ) -> np.ndarray | None:
        """Slots that hold the top ``k`` of ``eligible`` (up to HNSW approximation), or None when
        an exact scan is the better plan (no segment yet, or few enough matching points).

        ``eligible`` is a bool array over the first n slots (live, holding the vector, matching the
        filter); ``filtered`` says whether a filter narrowed it.
        """
        if not self.segments:
            return None
        count = int(np.count_nonzero(eligible))
        if count <= max(self.params.full_scan_vectors, k):
            return None
        ef = ef if ef is not None else self.params.ef_construct
        n = len(eligible)
        covered = self.covered[:n] if len(self.covered) >= n else np.pad(self.covered, (0, n - len(self.covered)))
        parts = [np.flatnonzero(eligible & ~covered)]
        for segment in self.segments:
            parts.append(self._segment_candidates(segment, query, eligible, filtered, k, ef))
        return np.unique(np.concatenate(parts))

    def _segment_candidates(
        self, segment: Segment, query: np.ndarray, eligible: np.ndarray, filtered: bool, k: int, ef: int
    ) -> np.ndarray:
        labels = segment.labels
        if filtered:
            allowed = labels.over_labels(eligible) & labels.fresh
            n_allowed = int(np.count_nonzero(allowed))
        else:
            allowed = labels.fresh if labels.n_fresh < len(labels) else None
            n_allowed = labels.n_fresh
        if n_allowed == 0:
            return np.zeros(0, dtype=np.int64)
        if allowed is not None and n_allowed <= max(self.params.full_scan_vectors, k):
            return labels.label_slot[allowed]  # few enough to score them all
        selectivity = n_allowed / max(len(labels), 1)
        scale = min(MAX_EF_SCALE, max(1.0, (0.5 / selectivity) ** 0.5))
        found = segment.graph.search(query, OVERSAMPLING * k, int(ef * scale), allowed)
        if len(found) < min(k, n_allowed):
            # The traversal ran out of matching candidates: never return fewer than the filter allows.
            return labels.label_slot[allowed] if allowed is not None else labels.label_slot
        return labels.label_slot[found]
