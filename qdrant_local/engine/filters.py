"""Filters: compile a Filter (our model, a qdrant_client model or a REST dict) into a node tree.

:func:`compile_filter` validates the whole tree up front (key paths, operand types, point ids,
``min_should.min_count``, slice bounds, unknown shapes), so a write can be rejected before it
touches any point. :func:`filter_mask` then evaluates it over a :class:`FilterTarget` as numpy
masks; see :mod:`.conditions` for the nodes and their semantics, which are qdrant-client 1.20.0
local mode's (``local/payload_filters.py``).

A condition is discriminated by the fields it carries (``key`` -> FieldCondition, ``has_id``,
``has_vector``, ``is_empty``, ``is_null``, ``nested``, ``slice``, else a nested Filter), so model
objects of either library and plain dicts all work. A clause may hold one condition or a list.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, Iterable

import numpy as np

from .._access import field
from ..errors import InvalidInput
from ..ids import normalize_id
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
from .maskcache import Unfreezable, freeze
from .paths import Path, parse_path

__all__ = [
    "CompiledFilter",
    "FilterTarget",
    "compile_condition",
    "compile_filter",
    "filter_mask",
]

_FILTER_FIELDS = ("must", "should", "must_not", "min_should")
_FIELD_CONDITION_FIELDS = (
    "key",
    "match",
    "range",
    "geo_bounding_box",
    "geo_radius",
    "geo_polygon",
    "values_count",
    "is_empty",
    "is_null",
)
_MATCH_FIELDS = ("value", "any", "except", "text", "text_any", "phrase", "prefix", "substring")
_BOUNDS = ("lt", "gt", "gte", "lte")
_MISSING = object()


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


def compile_filter(filter_obj: Any) -> CompiledFilter | None:
    """Validate and compile a filter; None for None. Raises InvalidInput (or a subclass) if invalid.

    ``min_count < 1`` raises local mode's ``"min_count value 0 is invalid. Must be 1 or larger."``;
    a bad key path ``InvalidPath("Invalid path")``; a bad id in ``has_id`` ``InvalidPointId``.
    A bare condition (not wrapped in a Filter) is accepted as ``Filter(must=[condition])``.
    """
    if filter_obj is None:
        return None
    check_filter_depth(filter_obj)
    node = compile_condition(filter_obj)
    if not isinstance(node, FilterNode):
        node = FilterNode([node], None, [], None)
    try:
        key: Hashable | None = freeze(filter_obj)
    except Unfreezable:
        key = None
    return CompiledFilter(node, key)


def filter_mask(compiled: CompiledFilter | None, target: FilterTarget, candidates: np.ndarray) -> np.ndarray:
    """bool[n_slots]: the candidate slots whose point matches; a new array, a subset of ``candidates``.

    ``candidates`` is normally the live-slot mask; only candidate slots are looked at.
    """
    if compiled is None or compiled.root.is_trivial:
        return np.array(candidates, dtype=bool, copy=True)
    return compiled.root.evaluate(target, np.asarray(candidates, dtype=bool))


#: The deepest nesting of filters (and nested conditions) accepted: the server's JSON parser stops at 128.
MAX_FILTER_DEPTH = 128


def check_filter_depth(filter_obj: Any) -> None:
    """Raise InvalidInput when filters nest deeper than MAX_FILTER_DEPTH (walked without recursion, so a
    filter nested 10,000 deep is a clear error, not a RecursionError)."""
    stack = [(filter_obj, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, (str, bytes, int, float, list, tuple)) or obj is None or _has(obj, "key"):
            continue  # a field condition (or garbage compile_condition reports): no deeper level
        if depth > MAX_FILTER_DEPTH:
            raise InvalidInput(f"Filter is nested deeper than {MAX_FILTER_DEPTH} levels")
        nested = field(obj, "nested", None)
        if nested is not None and not isinstance(nested, (str, bytes, int, float, list, tuple)):
            stack.append((field(nested, "filter", None), depth + 1))
            continue
        for clause in ("must", "should", "must_not"):
            value = field(obj, clause, None)
            children = value if isinstance(value, (list, tuple)) else [value]
            stack.extend((child, depth + 1) for child in children if child is not None)
        min_should = field(obj, "min_should", None)
        if min_should is not None and not isinstance(min_should, (str, bytes, int, float, list, tuple)):
            conditions = field(min_should, "conditions", None)
            if isinstance(conditions, (list, tuple)):
                stack.extend((child, depth + 1) for child in conditions)


# --------------------------------------------------------------------------------------------------
# Conditions


def _has(obj: Any, name: str) -> bool:
    return field(obj, name, _MISSING) is not _MISSING


def _check_fields(obj: Any, allowed: Iterable[str], what: str) -> None:
    """Dicts only (models cannot carry unknown fields): reject keys the REST schema does not have."""
    if isinstance(obj, dict):
        allowed_set = set(allowed)
        if "except" in allowed_set:
            allowed_set.add("except_")
        unknown = [key for key in obj if key not in allowed_set]
        if unknown:
            raise InvalidInput(f"Unknown field(s) {unknown} in {what}: {obj!r}")


def _as_list(value: Any, what: str) -> list[Any]:
    """A clause's conditions: one condition or a list of them."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, (str, bytes, int, float)):
        raise InvalidInput(f"{what} must be a condition or a list of conditions, got {value!r}")
    return [value]


def compile_condition(condition: Any) -> ConditionNode:
    """Compile one condition (or a nested Filter) into a node; raises InvalidInput when invalid."""
    if isinstance(condition, (str, bytes, int, float, list, tuple)) or condition is None:
        raise InvalidInput(f"Unknown condition: {condition!r}")
    if _has(condition, "key"):
        return _compile_field_condition(condition)
    if _has(condition, "has_id"):
        _check_fields(condition, ("has_id",), "has_id condition")
        return _compile_has_id(field(condition, "has_id"))
    if _has(condition, "has_vector"):
        _check_fields(condition, ("has_vector",), "has_vector condition")
        name = field(condition, "has_vector")
        if not isinstance(name, str):
            raise InvalidInput(f"has_vector must be a vector name, got {name!r}")
        return HasVectorNode(name)
    for kind in ("is_empty", "is_null"):
        if _has(condition, kind):
            _check_fields(condition, (kind,), f"{kind} condition")
            payload_field = field(condition, kind)
            _check_fields(payload_field, ("key",), f"{kind} condition")
            key = field(payload_field, "key")
            return _whole_field_node(kind, key, _parse_key(key), True)
    if _has(condition, "nested"):
        _check_fields(condition, ("nested",), "nested condition")
        return _compile_nested(field(condition, "nested"))
    if _has(condition, "slice"):
        _check_fields(condition, ("slice",), "slice condition")
        return _compile_slice(field(condition, "slice"))
    if _looks_like_filter(condition):
        return _compile_filter_node(condition)
    raise InvalidInput(f"Unknown condition: {condition!r}")


def _looks_like_filter(obj: Any) -> bool:
    if isinstance(obj, dict):
        return all(key in _FILTER_FIELDS for key in obj)
    return all(hasattr(obj, name) for name in _FILTER_FIELDS)


def _compile_filter_node(filter_obj: Any) -> FilterNode:
    _check_fields(filter_obj, _FILTER_FIELDS, "filter")
    clauses: dict[str, list[ConditionNode] | None] = {}
    for clause in ("must", "should", "must_not"):
        value = field(filter_obj, clause)
        clauses[clause] = None if value is None else [compile_condition(c) for c in _as_list(value, clause)]
    min_should = None
    min_should_obj = field(filter_obj, "min_should")
    if min_should_obj is not None:
        _check_fields(min_should_obj, ("conditions", "min_count"), "min_should")
        min_count = field(min_should_obj, "min_count")
        if isinstance(min_count, bool) or not isinstance(min_count, int):
            raise InvalidInput(f"min_should.min_count must be an integer, got {min_count!r}")
        if min_count < 1:
            raise InvalidInput(f"min_count value {min_count} is invalid. Must be 1 or larger.")
        conditions = _as_list(field(min_should_obj, "conditions", []), "min_should.conditions")
        min_should = ([compile_condition(c) for c in conditions], min_count)
    return FilterNode(clauses["must"] or [], clauses["should"], clauses["must_not"] or [], min_should)


def _compile_has_id(ids: Any) -> HasIdNode:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise InvalidInput(f"has_id must be a list of point ids, got {ids!r}")
    # Deviation: local mode lets a malformed id simply match nothing; the server rejects the request.
    return HasIdNode(frozenset(normalize_id(point_id) for point_id in ids))


def _compile_slice(slice_obj: Any) -> SliceNode:
    _check_fields(slice_obj, ("total", "index"), "slice")
    total, index = field(slice_obj, "total"), field(slice_obj, "index")
    for name, value in (("total", total), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"Slice {name} must be an integer, got {value!r}")
    if total < 1:
        raise InvalidInput(f"Slice total must be >= 1, got {total}")
    if not 0 <= index < total:
        raise InvalidInput(f"Slice index must be in [0;{total - 1}], got {index}")
    return SliceNode(total, index)


def _compile_nested(nested: Any) -> NestedNode:
    _check_fields(nested, ("key", "filter"), "nested")
    key = field(nested, "key")
    inner = field(nested, "filter")
    if inner is None:
        raise InvalidInput("nested condition needs a filter")
    # `data` and `data[]` are the same nested key (payload_filters.nested_filter_values).
    stripped = key[: -len("[]")] if isinstance(key, str) and len(key) > 2 and key.endswith("[]") else key
    path = _parse_key(stripped)
    node = compile_condition(inner)
    if not isinstance(node, FilterNode):
        node = FilterNode([node], None, [], None)
    return NestedNode(key, path, node)


def _parse_key(key: Any) -> Path:
    if not isinstance(key, str):
        raise InvalidInput(f"Condition key must be a string, got {key!r}")
    return parse_path(key)


# --------------------------------------------------------------------------------------------------
# Field conditions


def _compile_field_condition(condition: Any) -> ConditionNode:
    _check_fields(condition, _FIELD_CONDITION_FIELDS, "field condition")
    key = field(condition, "key")
    path = _parse_key(key)
    # The first condition present wins, in local mode's order.
    values_count = field(condition, "values_count")
    if values_count is not None:
        return _compile_values_count(key, path, values_count)
    for kind in ("is_empty", "is_null"):
        flag = field(condition, kind)
        if flag is not None:
            if not isinstance(flag, bool):
                raise InvalidInput(f"{kind} must be a bool, got {flag!r}")
            return _whole_field_node(kind, key, path, flag)
    match = field(condition, "match")
    if match is not None:
        return _compile_match(key, path, match)
    range_obj = field(condition, "range")
    if range_obj is not None:
        return _compile_range(key, path, range_obj)
    for kind, compile_geo in (
        ("geo_bounding_box", _compile_bounding_box),
        ("geo_radius", _compile_radius),
        ("geo_polygon", _compile_polygon),
    ):
        geo_obj = field(condition, kind)
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


def _compile_values_count(key: str, path: Path, values_count: Any) -> FieldNode:
    _check_fields(values_count, _BOUNDS, "values_count")
    bounds = {name: _integer_bound(field(values_count, name), name) for name in _BOUNDS}
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
    present = [name for name in _MATCH_FIELDS if _has(match, name)]
    if isinstance(match, dict):
        _check_fields(match, _MATCH_FIELDS, "match")
        if len(present) != 1:
            raise InvalidInput(f"match must have exactly one of {list(_MATCH_FIELDS)}, got {match!r}")
    if not present:
        raise InvalidInput(f"Unknown match condition: {match!r}")
    kind = present[0]
    operand = field(match, kind)
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


def _is_datetime_range(range_obj: Any) -> bool:
    if type(range_obj).__name__ == "DatetimeRange":
        return True
    if type(range_obj).__name__ == "Range":
        return False
    for name in _BOUNDS:
        bound = field(range_obj, name)
        if bound is not None and not isinstance(bound, (int, float)):
            return True
    return False


def _range_bounds(range_obj: Any, convert: Callable[[str, Any], Any]) -> dict[str, Any]:
    """lt, gt, gte, lte of a range, each converted (None when absent); ``convert(name, bound)`` raises
    InvalidInput for a bound it cannot read."""
    bounds: dict[str, Any] = {}
    for name in _BOUNDS:
        bound = field(range_obj, name)
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


def _compile_range(key: str, path: Path, range_obj: Any) -> FieldNode:
    _check_fields(range_obj, _BOUNDS, "range")
    if _is_datetime_range(range_obj):
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


def _compile_datetime_range(key: str, path: Path, range_obj: Any) -> FieldNode:
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


def _geo_point(point: Any, what: str) -> tuple[float, float]:
    """(lon, lat) of a GeoPoint."""
    if point is None:
        raise InvalidInput(f"{what} is required")
    _check_fields(point, ("lat", "lon"), what)
    return _number(field(point, "lon"), f"{what}.lon"), _number(field(point, "lat"), f"{what}.lat")


_GeoCompiled = tuple[dict[str, Any], Callable[[Any], bool], geo.PointsTest]


def _compile_bounding_box(box: Any) -> _GeoCompiled:
    _check_fields(box, ("top_left", "bottom_right"), "geo_bounding_box")
    top_left = _geo_point(field(box, "top_left"), "geo_bounding_box.top_left")
    bottom_right = _geo_point(field(box, "bottom_right"), "geo_bounding_box.bottom_right")
    params = {"top_left": top_left, "bottom_right": bottom_right}
    corners = (top_left[0], top_left[1], bottom_right[0], bottom_right[1])
    return params, geo.bounding_box_predicate(*corners), geo.bounding_box_points_test(*corners)


def _compile_radius(radius_obj: Any) -> _GeoCompiled:
    _check_fields(radius_obj, ("center", "radius"), "geo_radius")
    center = _geo_point(field(radius_obj, "center"), "geo_radius.center")
    radius = _number(field(radius_obj, "radius"), "geo_radius.radius")
    params = {"center": center, "radius": radius}
    return (
        params,
        geo.radius_predicate(center[0], center[1], radius),
        geo.radius_points_test(center[0], center[1], radius),
    )


def _ring(line: Any, what: str) -> list[tuple[float, float]]:
    _check_fields(line, ("points",), what)
    points = field(line, "points")
    if not isinstance(points, (list, tuple)) or not points:
        # local mode would crash evaluating an empty ring; the server needs at least 4 points
        raise InvalidInput(f"{what} must have points")
    ring = []
    for position, point in enumerate(points):
        lon, lat = _geo_point(point, f"{what}.points[{position}]")
        ring.append((lat, lon))
    return ring


def _compile_polygon(polygon: Any) -> _GeoCompiled:
    _check_fields(polygon, ("exterior", "interiors"), "geo_polygon")
    exterior = _ring(field(polygon, "exterior"), "geo_polygon.exterior")
    interiors_obj = field(polygon, "interiors", [])
    if not isinstance(interiors_obj, (list, tuple)):
        raise InvalidInput(f"geo_polygon.interiors must be a list, got {interiors_obj!r}")
    interiors = [_ring(line, f"geo_polygon.interiors[{i}]") for i, line in enumerate(interiors_obj)]
    params = {"exterior": exterior, "interiors": interiors}
    return params, geo.polygon_predicate(exterior, interiors), geo.polygon_points_test(exterior, interiors)
