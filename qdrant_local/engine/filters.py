"""Filters: compile a Filter (our model, as ``models.convert.to_filter`` returns it) into a node tree.

:func:`compile_filter` validates the operands of the whole tree up front (key paths, operand types,
point ids, ``min_should.min_count``, slice bounds), so a write can be rejected before it touches any
point; the converter at the client facade already checked its shape. :func:`filter_mask` then
evaluates it over a :class:`FilterTarget` as numpy masks; see :mod:`.conditions` for the nodes and
their semantics, which are qdrant-client 1.20.0 local mode's (``local/payload_filters.py``).

Conditions are told apart by their model class; clauses are lists (or None), as the converter makes
them. Nothing here reads dicts or qdrant_client objects.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Hashable, Iterable

import numpy as np

from .. import models
from ..errors import InvalidInput
from ..ids import normalize_id
from ..models.convert import Unfreezable, freeze
from . import geo, text
from .conditions import (
    ConditionNode,
    FieldNode,
    FilterNode,
    FilterTarget,
    GeoNode,
    HasIdNode,
    HasVectorNode,
    NestedNode,
    SliceNode,
)
from .datetimes import bound_to_microseconds, parse_timestamp
from .paths import Path, parse_path

__all__ = [
    "CompiledFilter",
    "FilterTarget",
    "compile_condition",
    "compile_filter",
    "filter_mask",
]

_MATCH_KINDS: dict[type, str] = {
    models.MatchValue: "value",
    models.MatchAny: "any",
    models.MatchExcept: "except",
    models.MatchText: "text",
    models.MatchTextAny: "text_any",
    models.MatchPhrase: "phrase",
    models.MatchPrefix: "prefix",
    models.MatchSubstring: "substring",
}
_BOUNDS = ("lt", "gt", "gte", "lte")


class CompiledFilter:
    """A validated filter, ready to evaluate any number of times against any target.

    ``key`` identifies the filter by its structure (equal filters, equal keys), for the
    collection's mask cache; None when the filter holds a value that cannot be keyed.
    """

    def __init__(self, root: FilterNode, key: Hashable | None = None) -> None:
        self.root = root
        self.key = key

    @property
    def is_trivial(self) -> bool:
        """True when the filter constrains nothing (``Filter()``, empty clauses)."""
        return self.root.is_trivial

    def __repr__(self) -> str:
        return f"CompiledFilter({self.root!r})"


#: Compiled filters by the identity of the converted filter they came from (converted filters are
#: shared by ``to_filter`` and never modified, so a repeated filter compiles once). A weak reference
#: confirms the identity, so an entry never outlives its filter's meaning.
_COMPILED: dict[int, tuple[weakref.ref[models.Filter], CompiledFilter]] = {}
_COMPILED_CAPACITY = 256


def compile_filter(filter_obj: models.Filter | None) -> CompiledFilter | None:
    """Validate and compile a filter converted by ``models.convert.to_filter``; None for None.
    Raises InvalidInput (or a subclass) for an invalid operand.

    ``min_count < 1`` raises local mode's ``"min_count value 0 is invalid. Must be 1 or larger."``;
    a bad key path ``InvalidPath("Invalid path")``; a bad id in ``has_id`` ``InvalidPointId``.
    """
    if filter_obj is None:
        return None
    entry = _COMPILED.get(id(filter_obj))
    if entry is not None and entry[0]() is filter_obj:
        return entry[1]
    node = compile_condition(filter_obj)
    if not isinstance(node, FilterNode):
        node = FilterNode([node], None, [], None)
    try:
        key: Hashable | None = freeze(filter_obj)
    except Unfreezable:
        key = None
    compiled = CompiledFilter(node, key)
    if len(_COMPILED) >= _COMPILED_CAPACITY:
        _COMPILED.clear()
    _COMPILED[id(filter_obj)] = (weakref.ref(filter_obj), compiled)
    return compiled


def filter_mask(compiled: CompiledFilter | None, target: FilterTarget, candidates: np.ndarray) -> np.ndarray:
    """bool[n_slots]: the candidate slots whose point matches; a new array, a subset of ``candidates``.

    ``candidates`` is normally the live-slot mask; only candidate slots are looked at.
    """
    if compiled is None or compiled.root.is_trivial:
        return np.array(candidates, dtype=bool, copy=True)
    return compiled.root.evaluate(target, np.asarray(candidates, dtype=bool))


# --------------------------------------------------------------------------------------------------
# Conditions


def compile_condition(condition: Any) -> ConditionNode:
    """Compile one converted condition (or a nested Filter) into a node; raises InvalidInput when invalid."""
    kind = type(condition)
    if kind is models.FieldCondition:
        return _compile_field_condition(condition)
    if kind is models.Filter:
        return _compile_filter_node(condition)
    if kind is models.HasIdCondition:
        return _compile_has_id(condition.has_id)
    if kind is models.HasVectorCondition:
        name = condition.has_vector
        if not isinstance(name, str):
            raise InvalidInput(f"has_vector must be a vector name, got {name!r}")
        return HasVectorNode(name)
    if kind is models.IsEmptyCondition:
        key = condition.is_empty.key
        return _whole_field_node("is_empty", key, _parse_key(key), True)
    if kind is models.IsNullCondition:
        key = condition.is_null.key
        return _whole_field_node("is_null", key, _parse_key(key), True)
    if kind is models.NestedCondition:
        return _compile_nested(condition.nested)
    if kind is models.SliceCondition:
        return _compile_slice(condition.slice)
    raise InvalidInput(f"Unknown condition: {condition!r}")


def _compile_filter_node(filter_obj: models.Filter) -> FilterNode:
    # Converted clauses are lists or None (the model's annotation also allows one bare condition).
    must: Any = filter_obj.must
    should: Any = filter_obj.should
    must_not: Any = filter_obj.must_not
    min_should = None
    min_should_obj = filter_obj.min_should
    if min_should_obj is not None:
        min_count = min_should_obj.min_count
        if isinstance(min_count, bool) or not isinstance(min_count, int):
            raise InvalidInput(f"min_should.min_count must be an integer, got {min_count!r}")
        if min_count < 1:
            raise InvalidInput(f"min_count value {min_count} is invalid. Must be 1 or larger.")
        min_should = ([compile_condition(c) for c in min_should_obj.conditions], min_count)
    return FilterNode(
        [compile_condition(c) for c in must] if must else [],
        None if should is None else [compile_condition(c) for c in should],
        [compile_condition(c) for c in must_not] if must_not else [],
        min_should,
    )


def _compile_has_id(ids: Any) -> HasIdNode:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise InvalidInput(f"has_id must be a list of point ids, got {ids!r}")
    # Deviation: local mode lets a malformed id simply match nothing; the server rejects the request.
    return HasIdNode(frozenset(normalize_id(point_id) for point_id in ids))


def _compile_slice(slice_obj: models.Slice) -> SliceNode:
    total, index = slice_obj.total, slice_obj.index
    for name, value in (("total", total), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"Slice {name} must be an integer, got {value!r}")
    if total < 1:
        raise InvalidInput(f"Slice total must be >= 1, got {total}")
    if not 0 <= index < total:
        raise InvalidInput(f"Slice index must be in [0;{total - 1}], got {index}")
    return SliceNode(total, index)


def _compile_nested(nested: models.Nested) -> NestedNode:
    key = nested.key
    # `data` and `data[]` are the same nested key (payload_filters.nested_filter_values).
    stripped = key[: -len("[]")] if isinstance(key, str) and len(key) > 2 and key.endswith("[]") else key
    path = _parse_key(stripped)
    return NestedNode(key, path, _compile_filter_node(nested.filter))


def _parse_key(key: Any) -> Path:
    if not isinstance(key, str):
        raise InvalidInput(f"Condition key must be a string, got {key!r}")
    return parse_path(key)


# --------------------------------------------------------------------------------------------------
# Field conditions


def _compile_field_condition(condition: models.FieldCondition) -> ConditionNode:
    key = condition.key
    path = _parse_key(key)
    # The first condition present wins, in local mode's order (the converter kept only that one).
    if condition.values_count is not None:
        return _compile_values_count(key, path, condition.values_count)
    for kind, flag in (("is_empty", condition.is_empty), ("is_null", condition.is_null)):
        if flag is not None:
            if not isinstance(flag, bool):
                raise InvalidInput(f"{kind} must be a bool, got {flag!r}")
            return _whole_field_node(kind, key, path, flag)
    if condition.match is not None:
        return _compile_match(key, path, condition.match)
    if condition.range is not None:
        return _compile_range(key, path, condition.range)
    geo_kinds: tuple[tuple[str, Any, Callable[[Any], _GeoCompiled]], ...] = (
        ("geo_bounding_box", condition.geo_bounding_box, _compile_bounding_box),
        ("geo_radius", condition.geo_radius, _compile_radius),
        ("geo_polygon", condition.geo_polygon, _compile_polygon),
    )
    for kind, geo_obj, compile_geo in geo_kinds:
        if geo_obj is not None:
            params, value_test, points_test = compile_geo(geo_obj)
            return GeoNode(kind, key, path, params, _any_of(value_test), value_test, points_test)
    # Deviation: local mode lets a FieldCondition without any condition match nothing; the server rejects
    # the request (validate_field_condition).
    raise InvalidInput("Validation error in JSON body: [match: At least one field condition must be specified]")


def _any_value_node(
    kind: str, key: str, path: Path, params: dict[str, Any], value_test: Callable[[Any], bool]
) -> FieldNode:
    """A node that matches a point when any one of its values passes ``value_test``."""
    return FieldNode(kind, key, path, params, _any_of(value_test), value_test)


def _whole_field_node(kind: str, key: str, path: Path, flag: bool) -> FieldNode:
    """is_empty / is_null, on unflattened values. A missing field is empty and not null."""
    if kind == "is_empty":

        def check(values: list[Any]) -> bool:
            # empty: no value at all, or every value is null or []
            for value in values:
                if value is not None and not (isinstance(value, list) and not value):
                    return not flag
            return flag

    else:

        def check(values: list[Any]) -> bool:
            # null: a value is null, or is an array holding a null one level deep (qdrant#10101)
            for value in values:
                if value is None or (isinstance(value, list) and any(element is None for element in value)):
                    return flag
            return not flag

    return FieldNode(kind, key, path, {kind: flag}, check, None, flat=False)


def _compile_values_count(key: str, path: Path, values_count: models.ValuesCount) -> FieldNode:
    bounds = {name: _integer_bound(getattr(values_count, name), name) for name in _BOUNDS}
    lt, gt, gte, lte = (bounds[name] for name in _BOUNDS)

    def count_ok(count: int) -> bool:
        return (
            (lt is None or count < lt)
            and (lte is None or count <= lte)
            and (gt is None or count > gt)
            and (gte is None or count >= gte)
        )

    def matches(values: list[Any]) -> bool:
        # Counts per value: an array its length, null 0, anything else 1; a missing field counts
        # 0. All bounds must hold for the same value (payload_filters.check_values_count).
        if all(value is None for value in values):
            return count_ok(0)
        for value in values:
            count = 0 if value is None else len(value) if isinstance(value, list) else 1
            if count_ok(count):
                return True
        return False

    return FieldNode("values_count", key, path, bounds, matches, None, flat=False)


def _integer_bound(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)  # pydantic's lax int takes 1.0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"values_count.{name} must be an integer, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------------
# match


def _compile_match(key: str, path: Path, match: Any) -> FieldNode:
    kind = _MATCH_KINDS.get(type(match))
    if kind is None:
        raise InvalidInput(f"Unknown match condition: {match!r}")
    operand = getattr(match, "except_" if kind == "except" else kind)
    if kind == "value":
        return _compile_match_value(key, path, operand)
    if kind in ("any", "except"):
        return _compile_match_any(key, path, operand, negate=kind == "except")
    if not isinstance(operand, str):
        raise InvalidInput(f"match.{kind} must be a string, got {operand!r}")
    factory = {
        "text": text.text_predicate,
        "text_any": text.text_any_predicate,
        "phrase": text.phrase_predicate,
        "prefix": text.prefix_predicate,
        "substring": text.substring_predicate,
    }[kind]
    return _any_value_node(kind, key, path, {kind: operand}, factory(operand))


def _check_match_operand(value: Any, what: str) -> Any:
    """A match operand as a plain bool, int or str (qdrant_client: StrictBool | StrictInt | StrictStr)."""
    if type(value) in (bool, int, str):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # a str enum member
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__int__(value)  # an int enum member
    raise InvalidInput(f"{what} must be a bool, an int or a str, got {value!r}")


def _compile_match_value(key: str, path: Path, value: Any) -> FieldNode:
    value = _check_match_operand(value, "match.value")
    value_type = type(value)

    def value_test(item: Any) -> bool:
        # Strict typing: 1 matches neither 1.0 nor True nor "1" (payload_filters.values_match).
        return type(item) is value_type and item == value

    def matches(values: list[Any]) -> bool:
        if value not in values:  # C-speed rejection of the common case; `in` is type-blind
            return False
        for item in values:
            if type(item) is value_type and item == value:
                return True
        return False

    return FieldNode("match_value", key, path, {"value": value}, matches, value_test)


def _compile_match_any(key: str, path: Path, operands: Any, negate: bool) -> FieldNode:
    kind = "match_except" if negate else "match_any"
    what = "match.except" if negate else "match.any"
    if isinstance(operands, (str, bytes)) or not isinstance(operands, (list, tuple, set, frozenset)):
        raise InvalidInput(f"{what} must be a list of strings or a list of integers, got {operands!r}")
    operands = [_check_match_operand(operand, what) for operand in operands]
    kinds = {type(operand) for operand in operands}
    # qdrant_client's AnyVariants is List[StrictStr] | List[StrictInt]: no bools, no mixing.
    if bool in kinds or len(kinds) > 1:
        raise InvalidInput(f"{what} must be a list of strings or a list of integers, got {operands!r}")
    members = frozenset((type(operand), operand) for operand in operands)
    member_types = frozenset(kinds)

    def is_member(item: Any) -> bool:
        item_type = type(item)
        return item_type in member_types and (item_type, item) in members

    if not negate:
        return FieldNode(kind, key, path, {"any": operands}, _any_of(is_member), is_member)

    def is_other(item: Any) -> bool:
        # A null is absence, not a value that differs from the list; bools, floats and objects
        # are never in it (payload_filters.check_match, MatchExcept).
        return item is not None and not is_member(item)

    return FieldNode(kind, key, path, {"except": operands}, _any_of(is_other), is_other)


def _any_of(value_test: Callable[[Any], bool]) -> Callable[[list[Any]], bool]:
    def matches(values: list[Any]) -> bool:
        for value in values:
            if value_test(value):
                return True
        return False

    return matches


# --------------------------------------------------------------------------------------------------
# range


def _range_bounds(range_obj: Any, convert: Callable[[str, Any], Any]) -> dict[str, Any]:
    """lt, gt, gte, lte of a range, each converted (None when absent); ``convert(name, bound)`` raises
    InvalidInput for a bound it cannot read."""
    bounds: dict[str, Any] = {}
    for name in _BOUNDS:
        bound = getattr(range_obj, name)
        bounds[name] = None if bound is None else convert(name, bound)
    return bounds


def _number_bound(name: str, bound: Any) -> float:
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise InvalidInput(f"range.{name} must be a number, got {bound!r}")
    try:
        return float(bound)  # pydantic's float field turns ints into floats
    except OverflowError:
        raise InvalidInput(f"range.{name} is out of range: {bound!r}") from None


def _datetime_bound(name: str, bound: Any) -> int:
    try:
        return bound_to_microseconds(bound)
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(f"range.{name} is not a valid datetime: {bound!r}") from None


def _compile_range(key: str, path: Path, range_obj: models.Range | models.DatetimeRange) -> FieldNode:
    if type(range_obj) is models.DatetimeRange:
        return _compile_datetime_range(key, path, range_obj)
    bounds = _range_bounds(range_obj, _number_bound)
    lt, gt, gte, lte = (bounds[name] for name in _BOUNDS)

    def value_test(value: Any) -> bool:
        kind = type(value)
        # bool is an int in Python but not a number in Qdrant
        if kind is not int and kind is not float:
            return False
        return (
            (lt is None or value < lt)
            and (lte is None or value <= lte)
            and (gt is None or value > gt)
            and (gte is None or value >= gte)
        )

    return _any_value_node("range", key, path, bounds, value_test)


def _compile_datetime_range(key: str, path: Path, range_obj: models.DatetimeRange) -> FieldNode:
    bounds = _range_bounds(range_obj, _datetime_bound)
    lt, gt, gte, lte = (bounds[name] for name in _BOUNDS)

    def value_test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        micros = parse_timestamp(value)
        if micros is None:
            return False
        return (
            (lt is None or micros < lt)
            and (lte is None or micros <= lte)
            and (gt is None or micros > gt)
            and (gte is None or micros >= gte)
        )

    return _any_value_node("datetime_range", key, path, bounds, value_test)


# --------------------------------------------------------------------------------------------------
# geo


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{what} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidInput(f"{what} is out of range: {value!r}") from None


def _geo_point(point: models.GeoPoint, what: str) -> tuple[float, float]:
    """(lon, lat) of a GeoPoint."""
    return _number(point.lon, f"{what}.lon"), _number(point.lat, f"{what}.lat")


_GeoCompiled = tuple[dict[str, Any], Callable[[Any], bool], geo.PointsTest]


def _compile_bounding_box(box: models.GeoBoundingBox) -> _GeoCompiled:
    top_left = _geo_point(box.top_left, "geo_bounding_box.top_left")
    bottom_right = _geo_point(box.bottom_right, "geo_bounding_box.bottom_right")
    params = {"top_left": top_left, "bottom_right": bottom_right}
    corners = (top_left[0], top_left[1], bottom_right[0], bottom_right[1])
    return params, geo.bounding_box_predicate(*corners), geo.bounding_box_points_test(*corners)


def _compile_radius(radius_obj: models.GeoRadius) -> _GeoCompiled:
    center = _geo_point(radius_obj.center, "geo_radius.center")
    radius = _number(radius_obj.radius, "geo_radius.radius")
    params = {"center": center, "radius": radius}
    return (
        params,
        geo.radius_predicate(center[0], center[1], radius),
        geo.radius_points_test(center[0], center[1], radius),
    )


def _ring(line: models.GeoLineString, what: str) -> list[tuple[float, float]]:
    ring = []
    for position, point in enumerate(line.points):
        lon, lat = _geo_point(point, f"{what}.points[{position}]")
        ring.append((lat, lon))
    return ring


def _compile_polygon(polygon: models.GeoPolygon) -> _GeoCompiled:
    exterior = _ring(polygon.exterior, "geo_polygon.exterior")
    interiors = [_ring(line, f"geo_polygon.interiors[{i}]") for i, line in enumerate(polygon.interiors or ())]
    params = {"exterior": exterior, "interiors": interiors}
    return params, geo.polygon_predicate(exterior, interiors), geo.polygon_points_test(exterior, interiors)
