"""Compiled filter conditions: a tree of nodes, each turning a candidate mask into a match mask.

Every node has ``evaluate(target, candidates) -> mask``: a numpy bool array of ``target.n_slots``
that is a subset of ``candidates``, and it only looks at candidate slots. :class:`FilterNode`
combines its clauses with mask algebra, narrowing the candidates as it goes, so later conditions
only see slots that are still alive.

Seam for payload indexes: a :class:`FieldNode` exposes ``kind``, ``key``, ``path``, ``flat``,
``params`` (the compiled operands) and two pure tests: ``matches(values)`` on the values
``extract_values(payload, path, flat)`` returns for one point, and, for the kinds where a point
matches when any single value does, ``value_test(value)``. An index can answer a node from those
without going through ``evaluate``.

Semantics are local mode's ``payload_filters.py`` (see each node).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Protocol, Sequence

import numpy as np

from .paths import Path, make_extractor
from .payload_column import extracted_values, matching_slots

__all__ = [
    "FilterTarget",
    "PlainTarget",
    "ConditionNode",
    "ConstantNode",
    "FieldNode",
    "GeoNode",
    "HasIdNode",
    "HasVectorNode",
    "SliceNode",
    "NestedNode",
    "FilterNode",
    "slice_of_ids",
]

Mask = np.ndarray


class FilterTarget(Protocol):
    """What a filter runs against: the slots of one collection (or the elements of a nested array)."""

    # Read-only properties, so that plain attributes of narrower types (a list) satisfy them.
    @property
    def n_slots(self) -> int:
        """Length of every mask."""

    @property
    def point_ids(self) -> Sequence[Any]:
        """Canonical point id by slot; None for a free slot."""

    @property
    def payloads(self) -> Sequence[Optional[dict[str, Any]]]:
        """Payload by slot; None for a free slot."""

    @property
    def slot_of(self) -> Mapping[Any, int]:
        """Canonical point id -> slot."""

    def vector_mask(self, vector_name: str) -> Optional[np.ndarray]:
        """bool[n_slots]: the slot holds that vector; None when the collection has no such name."""
        ...

    def index_answer(self, node: FieldNode, candidates: Mask) -> Optional[Mask]:
        """The candidates matching ``node`` when an index answers it cheaply; None to scan payloads."""
        ...

    def order_must(self, nodes: list[ConditionNode]) -> list[ConditionNode]:
        """``must`` conditions in the order to run them (those an index answers early)."""
        ...


class PlainTarget:
    """The seams of :class:`FilterTarget` for a target without payload indexes: every condition
    scans, in the filter's own order."""

    def index_answer(self, node: FieldNode, candidates: Mask) -> Optional[Mask]:
        return None

    def order_must(self, nodes: list[ConditionNode]) -> list[ConditionNode]:
        return nodes


class ConditionNode:
    """A compiled condition. ``cost`` orders siblings: cheaper conditions narrow the mask first."""

    cost: int = 10

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        """The candidate slots that satisfy this condition."""
        raise NotImplementedError


class ConstantNode(ConditionNode):
    """Always true or always false (a FieldCondition with no condition in it is always false)."""

    cost = 0

    def __init__(self, value: bool) -> None:
        self.value = value

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        return candidates.copy() if self.value else np.zeros(target.n_slots, dtype=bool)

    def __repr__(self) -> str:
        return f"ConstantNode({self.value})"


class FieldNode(ConditionNode):
    """A condition on the values of one payload key.

    ``kind`` is one of: match_value, match_any, match_except, text, text_any, phrase, prefix,
    substring, range, datetime_range, geo_radius, geo_bounding_box, geo_polygon (all "any value
    matches", ``flat=True``, with a ``value_test``) and values_count, is_empty, is_null (whole-field
    tests on unflattened values, ``value_test`` is None).
    """

    def __init__(
        self,
        kind: str,
        key: str,
        path: Path,
        params: dict[str, Any],
        matches: Callable[[list[Any]], bool],
        value_test: Callable[[Any], bool] | None,
        flat: bool = True,
    ) -> None:
        self.kind = kind
        self.key = key
        self.path = path
        self.params = params
        self.matches = matches
        self.value_test = value_test
        self.flat = flat
        self._extract = make_extractor(path, flat)

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        # A target with payload indexes (engine/index.py) may answer without scanning payloads.
        answered = target.index_answer(self, candidates)
        if answered is not None:
            return answered
        out = np.zeros(target.n_slots, dtype=bool)
        slots = np.flatnonzero(candidates)
        if slots.size == 0:
            return out
        hits = matching_slots(target.payloads, self.path, self.flat, self._extract, self.matches, slots.tolist())
        if hits:
            out[hits] = True
        return out

    def __repr__(self) -> str:
        return f"FieldNode({self.kind}, key={self.key!r}, params={self.params!r})"


# Coordinates beyond 2**53 do not survive conversion to float64 exactly; those (absurd) values take
# the exact per-value path so that comparisons stay Python's exact int/float ones.
_EXACT_FLOAT_LIMIT = 2**53


class GeoNode(FieldNode):
    """A geo condition whose points are tested in one numpy batch (``points_test(lats, lons)``).

    Collecting coordinates is the only per-value Python work left; the batch test reproduces the
    per-value ``value_test`` exactly (see :mod:`.geo`).
    """

    def __init__(
        self,
        kind: str,
        key: str,
        path: Path,
        params: dict[str, Any],
        matches: Callable[[list[Any]], bool],
        value_test: Callable[[Any], bool],
        points_test: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ) -> None:
        super().__init__(kind, key, path, params, matches, value_test)
        self.points_test = points_test

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        # A target with payload indexes (engine/index.py) may answer without scanning payloads.
        answered = target.index_answer(self, candidates)
        if answered is not None:
            return answered
        out = np.zeros(target.n_slots, dtype=bool)
        value_test = self.value_test
        lats: list[float] = []
        lons: list[float] = []
        owners: list[int] = []
        exact_hits: list[int] = []
        slot_list = np.flatnonzero(candidates).tolist()
        extracted = extracted_values(target.payloads, self.path, self.flat, self._extract, slot_list)
        for slot, values in zip(slot_list, extracted):
            for value in values:
                if not isinstance(value, dict):
                    continue
                lat, lon = value.get("lat"), value.get("lon")
                lat_type, lon_type = type(lat), type(lon)
                if not ((lat_type is float or lat_type is int) and (lon_type is float or lon_type is int)):
                    continue  # bools, strings, missing coordinates: not a geo point
                if (lat_type is int and abs(lat) > _EXACT_FLOAT_LIMIT) or (  # type: ignore[arg-type]
                    lon_type is int and abs(lon) > _EXACT_FLOAT_LIMIT  # type: ignore[arg-type]
                ):
                    if value_test(value):  # type: ignore[misc]
                        exact_hits.append(slot)
                    continue
                lats.append(lat)  # type: ignore[arg-type]
                lons.append(lon)  # type: ignore[arg-type]
                owners.append(slot)
        if owners:
            lat_array = np.array(lats, dtype=np.float64)
            lon_array = np.array(lons, dtype=np.float64)
            finite = np.isfinite(lat_array) & np.isfinite(lon_array)
            with np.errstate(all="ignore"):
                hit = self.points_test(lat_array, lon_array) & finite
            out[np.asarray(owners, dtype=np.intp)[hit]] = True
        if exact_hits:
            out[exact_hits] = True
        return out


class HasIdNode(ConditionNode):
    """The point id is one of ``point_ids`` (already canonical); answered through ``slot_of``."""

    cost = 0

    def __init__(self, point_ids: frozenset[Any]) -> None:
        self.point_ids = point_ids

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        out = np.zeros(target.n_slots, dtype=bool)
        slot_of = target.slot_of
        slots = [slot for slot in map(slot_of.get, self.point_ids) if slot is not None]
        if slots:
            index = np.fromiter(slots, dtype=np.intp, count=len(slots))
            out[index] = candidates[index]
        return out

    def __repr__(self) -> str:
        return f"HasIdNode({sorted(map(str, self.point_ids))})"


class HasVectorNode(ConditionNode):
    """The point holds the named vector (``""`` is the unnamed one); an unknown name matches nothing."""

    cost = 1

    def __init__(self, vector_name: str) -> None:
        self.vector_name = vector_name

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        present = target.vector_mask(self.vector_name)
        if present is None:
            return np.zeros(target.n_slots, dtype=bool)
        return candidates & present

    def __repr__(self) -> str:
        return f"HasVectorNode({self.vector_name!r})"


class SliceNode(ConditionNode):
    """The point id falls in slice ``index`` of ``total`` (SipHash-2-4 of the id bytes, as core)."""

    cost = 2

    def __init__(self, total: int, index: int) -> None:
        self.total = total
        self.index = index

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        out = np.zeros(target.n_slots, dtype=bool)
        slots = np.flatnonzero(candidates)
        if slots.size == 0:
            return out
        point_ids = target.point_ids
        ids = [point_ids[slot] for slot in slots.tolist()]
        slices = slice_of_ids(ids, self.total)
        out[slots[slices == self.index]] = True
        return out

    def __repr__(self) -> str:
        return f"SliceNode(total={self.total}, index={self.index})"


class NestedNode(ConditionNode):
    """``filter`` holds for one object element of the array at ``key`` (``a`` or ``a[]``).

    The elements of all candidate points become the slots of a temporary target, the inner filter
    runs over them as masks, and a point matches when any of its elements does. Inside, ids,
    vectors and slices match nothing, as local mode evaluates them with point id -1.
    """

    cost = 20

    def __init__(self, key: str, path: Path, inner: FilterNode) -> None:
        self.key = key
        self.path = path
        self.inner = inner
        self._extract = make_extractor(path, flat=False)

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        out = np.zeros(target.n_slots, dtype=bool)
        elements: list[dict[str, Any]] = []
        owners: list[int] = []
        slot_list = np.flatnonzero(candidates).tolist()
        extracted = extracted_values(target.payloads, self.path, False, self._extract, slot_list)
        for slot, values in zip(slot_list, extracted):
            for value in values:
                if isinstance(value, list):
                    for element in value:
                        if isinstance(element, dict):  # only objects are checked, as on the server
                            elements.append(element)
                            owners.append(slot)
        if not elements:
            return out
        inner_mask = self.inner.evaluate(_ElementsTarget(elements), np.ones(len(elements), dtype=bool))
        out[np.asarray(owners, dtype=np.intp)[inner_mask]] = True
        return out

    def __repr__(self) -> str:
        return f"NestedNode(key={self.key!r}, {self.inner!r})"


class _ElementsTarget(PlainTarget):
    """Array elements of nested payloads presented as slots: no ids, no vectors."""

    def __init__(self, elements: list[dict[str, Any]]) -> None:
        self.n_slots = len(elements)
        self.payloads = elements
        self.point_ids: list[Any] = [None] * len(elements)
        self.slot_of: dict[Any, int] = {}

    def vector_mask(self, vector_name: str) -> np.ndarray | None:
        return None


class FilterNode(ConditionNode):
    """must (AND), must_not (AND NOT), should (OR; empty matches all), min_should (count >= min)."""

    cost = 15

    def __init__(
        self,
        must: list[ConditionNode],
        should: list[ConditionNode] | None,
        must_not: list[ConditionNode],
        min_should: tuple[list[ConditionNode], int] | None,
    ) -> None:
        # The result does not depend on the order (conditions are pure), so cheap ones go first.
        self.must = sorted(must, key=lambda node: node.cost)
        self.must_not = sorted(must_not, key=lambda node: node.cost)
        # Mirrors local mode and the server: an empty should is no constraint, not an impossible one.
        self.should = sorted(should, key=lambda node: node.cost) if should else None
        self.min_should = min_should
        self.cost = 1 + max((node.cost for node in self._children()), default=0)

    def _children(self) -> list[ConditionNode]:
        children = [*self.must, *self.must_not, *(self.should or ())]
        if self.min_should is not None:
            children.extend(self.min_should[0])
        return children

    @property
    def is_trivial(self) -> bool:
        """True when the filter has no constraint at all (matches every candidate)."""
        return not self.must and not self.must_not and self.should is None and self.min_should is None

    def evaluate(self, target: FilterTarget, candidates: Mask) -> Mask:
        alive = candidates.copy()
        must = self.must
        # A target with payload indexes knows which conditions it answers cheaply; running those
        # first leaves only their survivors to the conditions that scan payloads.
        if len(must) > 1:
            must = target.order_must(must)
        for node in must:
            if not alive.any():
                return alive
            alive = node.evaluate(target, alive)
        for node in self.must_not:
            if not alive.any():
                return alive
            alive &= ~node.evaluate(target, alive)
        if self.should is not None and alive.any():
            matched = np.zeros_like(alive)
            undecided = alive
            for node in self.should:
                hit = node.evaluate(target, undecided)
                matched |= hit
                undecided = undecided & ~hit
                if not undecided.any():
                    break
            alive = matched
        if self.min_should is not None and alive.any():
            alive = self._evaluate_min_should(target, alive)
        return alive

    def _evaluate_min_should(self, target: FilterTarget, alive: Mask) -> Mask:
        conditions, min_count = self.min_should  # type: ignore[misc]
        counts = np.zeros(target.n_slots, dtype=np.int64)
        left = len(conditions)
        for node in conditions:
            # Only slots whose outcome is still open: not yet at min_count, and able to reach it.
            undecided = alive & (counts < min_count) & (counts + left >= min_count)
            left -= 1
            if not undecided.any():
                break
            counts += node.evaluate(target, undecided)
        return alive & (counts >= min_count)

    def __repr__(self) -> str:
        return (
            f"FilterNode(must={self.must}, should={self.should}, must_not={self.must_not}, "
            f"min_should={self.min_should})"
        )


# --------------------------------------------------------------------------------------------------
# SipHash-2-4 over point ids, vectorised (qdrant-client's local/siphash.py, core's slice hash)

_U64 = np.uint64
_INIT = (_U64(0x736F6D6570736575), _U64(0x646F72616E646F6D), _U64(0x6C7967656E657261), _U64(0x7465646279746573))


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << _U64(bits)) | (x >> _U64(64 - bits))


def _sip_round(v0: np.ndarray, v1: np.ndarray, v2: np.ndarray, v3: np.ndarray) -> tuple[np.ndarray, ...]:
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def _siphash_blocks(blocks: list[np.ndarray], length: int) -> np.ndarray:
    """SipHash-2-4 with a zero key of messages that are exactly ``len(blocks)`` 8-byte words."""
    size = blocks[0].shape[0]
    v0, v1, v2, v3 = (np.full(size, init, dtype=_U64) for init in _INIT)
    for block in [*blocks, np.full(size, _U64((length & 0xFF) << 56), dtype=_U64)]:
        v3 = v3 ^ block
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        v0 = v0 ^ block
    v2 = v2 ^ _U64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def slice_of_ids(point_ids: Sequence[Any], total: int) -> np.ndarray:
    """Slice index of each canonical point id (-1 for None or a negative int, which are in none)."""
    result = np.full(len(point_ids), -1, dtype=np.int64)
    int_positions: list[int] = []
    int_words: list[int] = []
    uuid_positions: list[int] = []
    uuid_words: list[tuple[int, int]] = []
    for position, point_id in enumerate(point_ids):
        if isinstance(point_id, int):
            if 0 <= point_id < 2**64:
                int_positions.append(position)
                int_words.append(point_id)  # the 8 little-endian bytes read back as one word
        elif isinstance(point_id, str):
            raw = int(point_id.replace("-", ""), 16).to_bytes(16, "big")  # RFC 4122 byte order
            uuid_positions.append(position)
            uuid_words.append((int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")))
    with np.errstate(over="ignore"):
        if int_positions:
            hashes = _siphash_blocks([np.array(int_words, dtype=_U64)], 8)
            result[int_positions] = (hashes % _U64(total)).astype(np.int64)
        if uuid_positions:
            words = np.array(uuid_words, dtype=_U64).reshape(-1, 2)
            hashes = _siphash_blocks([words[:, 0].copy(), words[:, 1].copy()], 16)
            result[uuid_positions] = (hashes % _U64(total)).astype(np.int64)
    return result
