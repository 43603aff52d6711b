"""Grouping query results by a payload field, and the sampled distance matrix.

Both run on a :class:`~.planner.Planner`'s collection and follow qdrant-client's local mode:
``query_groups`` (groups in order of their best hit, a point joins one group per distinct int or
str value and none if any value has another type) and ``_search_distance_matrix`` (samples sorted
by id, each compared with the other samples only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import models
from ..engine.paths import extract_values
from ..engine.projection import compile_payload_selector, select_payload
from ..engine.vectors import DenseVectors, MultiVectors, SparseVectors
from ..ids import order_key
from ..models.convert import to_filter
from .planner import Hit, Planner
from .requests import FilterSpec

__all__ = ["Grouping", "group_hits", "distance_matrix"]


@dataclass(frozen=True)
class Grouping:
    """How a groups request groups its hits (``group_by``, ``limit`` groups of at most ``group_size``)
    and what each hit and group carries (payload, vectors, the looked-up record)."""

    group_by: str
    limit: int
    group_size: int
    with_payload: Any = True
    with_vectors: Any = False
    with_lookup: Any = None


def group_hits(planner: Planner, hits: list[Hit], grouping: Grouping) -> list[tuple[Any, list[models.ScoredPoint]]]:
    """Groups of hits by the values of ``group_by`` (qdrant-client's ``query_groups``).

    A point joins one group per distinct value (int or str); a point with any value of another type
    joins none (the server drops it). Groups come in order of their best hit; each keeps at most
    ``group_size`` hits; the first ``limit`` groups are returned.
    """
    group_by, group_size, with_vectors = grouping.group_by, grouping.group_size, grouping.with_vectors
    selector = compile_payload_selector(grouping.with_payload)
    store = planner.store
    groups: dict[Any, list[models.ScoredPoint]] = {}
    for slot, score, order_value in hits:
        payload = store.payloads[slot] or {}
        values = extract_values(payload, group_by)
        # type() rather than isinstance: True is not the group 1, and floats never group.
        if not values or any(type(value) not in (int, str) for value in values):
            continue
        point = models.ScoredPoint(
            id=store.point_ids[slot],
            version=0,
            score=score,
            payload=select_payload(payload, selector),
            vector=planner.collection.read_vectors(slot, with_vectors),
            shard_key=None,
            order_value=order_value,
        )
        for value in dict.fromkeys(values):
            members = groups.setdefault(value, [])
            if len(members) < group_size:
                members.append(point)
    return list(groups.items())[: grouping.limit]


def distance_matrix(
    planner: Planner, query_filter: Any, limit: int, sample: int, using: str | None
) -> tuple[list[Any], list[list[Hit]]]:
    """Sampled point ids (in id order) and each one's ``limit`` nearest among the other samples."""
    using = using or ""
    spec = FilterSpec(to_filter(query_filter))
    eligible = planner.eligible(spec, None, using)
    slots = np.flatnonzero(eligible)
    slots = slots[np.random.permutation(len(slots))[:sample]]
    if len(slots) < 2:
        return [], []
    store = planner.store
    slots = np.array(sorted(slots.tolist(), key=lambda slot: order_key(store.point_ids[slot])), dtype=np.int64)
    store_kind = {DenseVectors: "dense", SparseVectors: "sparse", MultiVectors: "multi"}[type(store.vectors[using])]
    space = planner._space(store_kind, using)
    rows: list[list[Hit]] = []
    for slot in slots.tolist():
        others = np.zeros(store.n_slots, dtype=bool)
        others[slots] = True
        others[slot] = False
        query: Any = space.stored(slot)
        ranked = space.nearest(query, others & eligible, limit)
        rows.append([(int(s), float(v), None) for s, v in zip(ranked.slots.tolist(), ranked.scores.tolist())])
    return [store.point_ids[slot] for slot in slots.tolist()], rows
