"""Filters, points selectors and the request arguments the engine reads, converted once into our forms.

Besides filters and selectors (below): ``with_payload`` and ``order_by`` (our models, at the facade),
search params and text queries (our models, at the facade through ``convert_query``), and collection
and vector-name configuration (plain JSON, at the facade). Queries, prefetch trees, formulas and
batch requests are converted by ``convert_query``, the legacy search requests by ``convert_legacy``,
batch and alias operations by ``convert_operations``. Point batches and vectors are not converted:
``engine.points_input`` and ``engine.vectors.sparse_parts`` read them in place (the bulk path).

A filter argument may be one of our models, a qdrant_client (pydantic) model or a REST-shaped dict, or
a mix of them at any depth. :func:`to_filter` reads whichever form it got and returns a tree of our
models only, in one canonical shape: every clause a list (or None), every condition one of our
condition classes, every match, range, geo shape and payload field one of our models, a bare condition
wrapped as ``Filter(must=[condition])``. Below the facade, filter compilation and planning read plain
attributes and never see another form.

The converter checks the *shape* of the input, with the messages filter compilation always gave:
unknown fields of a dict, a condition it cannot recognise, a clause that is neither a condition nor a
list, a match without (or, for a dict, with several) operands, nesting deeper than the server accepts.
Operand *values* (key paths, ids, numbers, datetimes, types of match operands) are checked by
``engine.filters.compile_filter``, which reads the converted tree. Our models and qdrant_client's are
told apart by class name; both carry the same field names, so one reader (``_access.field``) serves
all three forms here (and in ``convert_query``, the query API's converters), and nowhere below the facade.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

from .._access import enum_value, field
from ..errors import InvalidInput
from . import _generated as m

__all__ = [
    "MAX_FILTER_DEPTH",
    "Unfreezable",
    "check_filter_depth",
    "freeze",
    "to_condition",
    "to_filter",
    "to_order_by",
    "to_plain",
    "to_search_params",
    "to_selector",
    "to_text_query",
    "to_vector_name_config",
    "to_with_payload",
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
_MATCH_CLASSES: dict[str, Any] = {
    "value": m.MatchValue,
    "any": m.MatchAny,
    "except": m.MatchExcept,
    "text": m.MatchText,
    "text_any": m.MatchTextAny,
    "phrase": m.MatchPhrase,
    "prefix": m.MatchPrefix,
    "substring": m.MatchSubstring,
}
_MATCH_FIELDS = tuple(_MATCH_CLASSES)
_BOUNDS = ("lt", "gt", "gte", "lte")
_SCALARS = (str, bytes, int, float, list, tuple)
_MISSING = object()
_construct = m.Filter.model_construct  # every field given: no keyword checks

#: The deepest nesting of filters (and nested conditions) accepted: the server's JSON parser stops at 128.
MAX_FILTER_DEPTH = 128


#: Converted filters by the structural key of their input: applications repeat the same few filters,
#: and a hit costs one walk of the input (``freeze``) instead of a conversion. Only filters that
#: converted without error are kept; the returned objects are shared and never modified.
_CONVERTED: dict[Hashable, m.Filter] = {}
_CONVERTED_CAPACITY = 256


def to_filter(filter_obj: Any) -> m.Filter | None:
    """The filter as our ``Filter`` model in canonical shape; None for None. Raises InvalidInput when
    its shape is invalid. A bare condition becomes ``Filter(must=[condition])``. The result is shared
    with other calls given an equal filter: treat it as read-only."""
    if filter_obj is None:
        return None
    try:
        key: Hashable | None = freeze(filter_obj)
    except (Unfreezable, RecursionError):
        key = None
    if key is not None:
        cached = _CONVERTED.get(key)
        if cached is not None:
            return cached
    check_filter_depth(filter_obj)
    converted = _condition(filter_obj)
    if type(converted) is not m.Filter:
        converted = _filter([converted], None, None, None)
    if key is not None:
        if len(_CONVERTED) >= _CONVERTED_CAPACITY:
            _CONVERTED.clear()
        _CONVERTED[key] = converted
    return converted


def to_condition(condition: Any) -> Any:
    """One condition (or a nested filter) as our model (a formula's condition expression)."""
    check_filter_depth(condition)
    return _condition(condition)


def to_selector(selector: Any) -> list[Any] | m.Filter:
    """A points selector (ids, ``PointIdsList``, ``Filter``, ``FilterSelector`` or their REST shapes):
    the list of ids it names, or its filter as our model. Ids are checked by the engine."""
    if isinstance(selector, (list, tuple)):
        if len(selector) == 0:
            raise InvalidInput("Empty update request")
        return list(selector)
    if selector is None:
        raise InvalidInput("Points selector must not be None")
    points = field(selector, "points")
    if points is not None:
        return to_selector(list(points))
    filter_obj = field(selector, "filter")
    if filter_obj is None and _is_filter(selector):
        filter_obj = selector
    converted = to_filter(filter_obj)
    if converted is not None:
        return converted
    raise InvalidInput(f"Unsupported selector type: {type(selector).__name__}")


def _is_filter(obj: Any) -> bool:
    if isinstance(obj, dict):
        return any(key in obj for key in _FILTER_FIELDS) or not obj
    return type(obj).__name__ == "Filter" or all(hasattr(obj, key) for key in _FILTER_FIELDS)


def check_filter_depth(filter_obj: Any) -> None:
    """Raise InvalidInput when filters nest deeper than MAX_FILTER_DEPTH (walked without recursion, so a
    filter nested 10,000 deep is a clear error, not a RecursionError)."""
    stack = [(filter_obj, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, _SCALARS) or obj is None or _has(obj, "key"):
            continue  # a field condition (or garbage _condition reports): no deeper level
        if depth > MAX_FILTER_DEPTH:
            raise InvalidInput(f"Filter is nested deeper than {MAX_FILTER_DEPTH} levels")
        nested = field(obj, "nested", None)
        if nested is not None and not isinstance(nested, _SCALARS):
            stack.append((field(nested, "filter", None), depth + 1))
            continue
        for clause in ("must", "should", "must_not"):
            value = field(obj, clause, None)
            children = value if isinstance(value, (list, tuple)) else [value]
            stack.extend((child, depth + 1) for child in children if child is not None)
        min_should = field(obj, "min_should", None)
        if min_should is not None and not isinstance(min_should, _SCALARS):
            conditions = field(min_should, "conditions", None)
            if isinstance(conditions, (list, tuple)):
                stack.extend((child, depth + 1) for child in conditions)


# --------------------------------------------------------------------------------------------------
# Request arguments read by the engine


_PAYLOAD_SELECTORS = (m.PayloadSelectorInclude, m.PayloadSelectorExclude)


def to_with_payload(with_payload: Any) -> Any:
    """A ``with_payload`` argument in our form: None, a bool, a list (or tuple) of keys, or our
    ``PayloadSelectorInclude`` / ``PayloadSelectorExclude``; any other iterable as a list. Anything
    else is returned as given, for ``engine.projection`` to reject with its message."""
    if with_payload is None or isinstance(with_payload, (bool, str, list, tuple, *_PAYLOAD_SELECTORS)):
        return with_payload
    exclude = field(with_payload, "exclude")
    if exclude is not None:
        return m.PayloadSelectorExclude.model_construct(exclude=exclude)
    include = field(with_payload, "include")
    if include is not None:
        return m.PayloadSelectorInclude.model_construct(include=include)
    if not isinstance(with_payload, Mapping) and isinstance(with_payload, Iterable):
        return list(with_payload)  # local mode takes list(with_payload): any iterable of keys
    return with_payload


def to_order_by(order_by: Any) -> Any:
    """An ``order_by`` argument as a key (str, as given) or our ``OrderBy`` with the direction's plain
    value ("asc" when not given); None for None. Values are checked by the engine."""
    if order_by is None or isinstance(order_by, str):
        return order_by
    return m.OrderBy.model_construct(
        key=field(order_by, "key"),
        direction=enum_value(field(order_by, "direction", "asc")) or "asc",
        start_from=field(order_by, "start_from"),
    )


def to_search_params(search_params: Any) -> m.SearchParams | None:
    """``search_params`` (or a prefetch's ``params``) as our ``SearchParams``; None for None. Its fields
    are taken as given (``quantization`` and ``acorn`` in their own form), unknown dict keys ignored,
    as before; ``idf`` is a plain value (an enum's, or a str) or our ``IdfCorpusParams`` (its corpus
    filter as given: ``to_filter`` converts it where it is used)."""
    if search_params is None:
        return None
    if type(search_params) is m.SearchParams and type(search_params.idf) in _PLAIN_IDF:
        return search_params
    return m.SearchParams.model_construct(
        hnsw_ef=field(search_params, "hnsw_ef"),
        exact=field(search_params, "exact", False),
        quantization=field(search_params, "quantization"),
        indexed_only=field(search_params, "indexed_only", False),
        acorn=field(search_params, "acorn"),
        idf=_idf(field(search_params, "idf")),
    )


_PLAIN_IDF = (type(None), str, m.IdfCorpusParams)


def _idf(idf: Any) -> Any:
    if idf is None:
        return None
    plain = enum_value(idf)
    if isinstance(plain, str):
        return plain
    return m.IdfCorpusParams.model_construct(corpus=field(idf, "corpus"))


def to_text_query(query: Any) -> m.TextQuery:
    """A text query (our ``TextQuery`` or its REST dict) as our model: ``text`` a str as given, or a
    ``TextQueryInput`` whose ``scoring.bm25`` carries ``k`` and ``b`` as given (None when absent)."""
    text = field(query, "text")
    if isinstance(text, str):
        return m.TextQuery.model_construct(text=text)
    scoring = field(text, "scoring")
    bm25 = field(scoring, "bm25") if scoring is not None else None
    params = None if bm25 is None else m.Bm25Params.model_construct(k=field(bm25, "k"), b=field(bm25, "b"))
    converted_scoring = None if scoring is None else m.Bm25Scoring.model_construct(bm25=params)
    return m.TextQuery.model_construct(
        text=m.TextQueryInput.model_construct(query=field(text, "query"), scoring=converted_scoring)
    )


def to_plain(value: Any) -> Any:
    """A configuration argument (``vectors_config``, ``sparse_vectors_config``, their params) as plain
    values: models (ours or qdrant_client's) as dicts of their set fields (by alias), enums as their
    values, through dicts and lists; any other value as given, for the engine to check."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if hasattr(value, "model_dump"):
        return to_plain(value.model_dump(by_alias=True, exclude_none=True))
    return value


def to_vector_name_config(name_config: Any) -> Any:
    """A ``DenseVectorNameConfig`` / ``SparseVectorNameConfig`` (any form) as ``{"dense": {...}}`` or
    ``{"sparse": {...}}`` of plain values; anything else as given (the engine rejects it, naming its type)."""
    dense, sparse = field(name_config, "dense"), field(name_config, "sparse")
    if dense is not None:
        return {"dense": to_plain(dense)}
    if sparse is not None:
        return {"sparse": to_plain(sparse)}
    return name_config


# --------------------------------------------------------------------------------------------------
# Reading any form


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


def _filter(must: Any, should: Any, must_not: Any, min_should: Any) -> m.Filter:
    return _construct(should=should, min_should=min_should, must=must, must_not=must_not)


# --------------------------------------------------------------------------------------------------
# Conditions


def _condition(condition: Any) -> Any:
    if isinstance(condition, _SCALARS) or condition is None:
        raise InvalidInput(f"Unknown condition: {condition!r}")
    if _has(condition, "key"):
        return _field_condition(condition)
    if _has(condition, "has_id"):
        _check_fields(condition, ("has_id",), "has_id condition")
        return m.HasIdCondition(has_id=field(condition, "has_id"))
    if _has(condition, "has_vector"):
        _check_fields(condition, ("has_vector",), "has_vector condition")
        return m.HasVectorCondition(has_vector=field(condition, "has_vector"))
    if _has(condition, "is_empty"):
        return m.IsEmptyCondition(is_empty=_payload_field(condition, "is_empty"))
    if _has(condition, "is_null"):
        return m.IsNullCondition(is_null=_payload_field(condition, "is_null"))
    if _has(condition, "nested"):
        _check_fields(condition, ("nested",), "nested condition")
        return m.NestedCondition(nested=_nested(field(condition, "nested")))
    if _has(condition, "slice"):
        _check_fields(condition, ("slice",), "slice condition")
        slice_obj = field(condition, "slice")
        _check_fields(slice_obj, ("total", "index"), "slice")
        return m.SliceCondition(slice=m.Slice(total=field(slice_obj, "total"), index=field(slice_obj, "index")))
    if _looks_like_filter(condition):
        return _filter_of(condition)
    raise InvalidInput(f"Unknown condition: {condition!r}")


def _looks_like_filter(obj: Any) -> bool:
    if isinstance(obj, dict):
        return all(key in _FILTER_FIELDS for key in obj)
    return all(hasattr(obj, name) for name in _FILTER_FIELDS)


def _filter_of(filter_obj: Any) -> m.Filter:
    _check_fields(filter_obj, _FILTER_FIELDS, "filter")
    clauses: dict[str, list[Any] | None] = {}
    for clause in ("must", "should", "must_not"):
        value = field(filter_obj, clause)
        clauses[clause] = None if value is None else [_condition(c) for c in _as_list(value, clause)]
    min_should = None
    min_should_obj = field(filter_obj, "min_should")
    if min_should_obj is not None:
        _check_fields(min_should_obj, ("conditions", "min_count"), "min_should")
        conditions = _as_list(field(min_should_obj, "conditions", []), "min_should.conditions")
        min_count = field(min_should_obj, "min_count")  # checked by the compiler
        min_should = m.MinShould(conditions=[_condition(c) for c in conditions], min_count=min_count)
    return _filter(clauses["must"], clauses["should"], clauses["must_not"], min_should)


def _payload_field(condition: Any, kind: str) -> m.PayloadField:
    _check_fields(condition, (kind,), f"{kind} condition")
    payload_field = field(condition, kind)
    _check_fields(payload_field, ("key",), f"{kind} condition")
    return m.PayloadField(key=field(payload_field, "key"))


def _nested(nested: Any) -> m.Nested:
    _check_fields(nested, ("key", "filter"), "nested")
    inner = field(nested, "filter")
    if inner is None:
        raise InvalidInput("nested condition needs a filter")
    converted = _condition(inner)
    if type(converted) is not m.Filter:
        converted = _filter([converted], None, None, None)
    return m.Nested(key=field(nested, "key"), filter=converted)


# --------------------------------------------------------------------------------------------------
# Field conditions


def _field_condition(condition: Any) -> m.FieldCondition:
    _check_fields(condition, _FIELD_CONDITION_FIELDS, "field condition")
    converted = m.FieldCondition(key=field(condition, "key"))
    # The first condition present wins, in local mode's order; the others are never read.
    for kind, convert in _FIELD_CONDITION_KINDS:
        value = field(condition, kind)
        if value is not None:
            setattr(converted, kind, convert(value))
            break
    return converted


def _bounds(cls: Any, obj: Any, what: str) -> Any:
    _check_fields(obj, _BOUNDS, what)
    return cls(lt=field(obj, "lt"), gt=field(obj, "gt"), gte=field(obj, "gte"), lte=field(obj, "lte"))


def _match(match: Any) -> Any:
    present = [name for name in _MATCH_FIELDS if _has(match, name)]
    if isinstance(match, dict):
        _check_fields(match, _MATCH_FIELDS, "match")
        if len(present) != 1:
            raise InvalidInput(f"match must have exactly one of {list(_MATCH_FIELDS)}, got {match!r}")
    if not present:
        raise InvalidInput(f"Unknown match condition: {match!r}")
    kind = present[0]
    return _MATCH_CLASSES[kind](**{kind: field(match, kind)})


def _range(range_obj: Any) -> m.Range | m.DatetimeRange:
    _check_fields(range_obj, _BOUNDS, "range")
    cls = m.DatetimeRange if _is_datetime_range(range_obj) else m.Range
    return _bounds(cls, range_obj, "range")


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


def _geo_point(point: Any, what: str) -> m.GeoPoint:
    if point is None:
        raise InvalidInput(f"{what} is required")
    _check_fields(point, ("lat", "lon"), what)
    return m.GeoPoint(lon=field(point, "lon"), lat=field(point, "lat"))


def _bounding_box(box: Any) -> m.GeoBoundingBox:
    _check_fields(box, ("top_left", "bottom_right"), "geo_bounding_box")
    return m.GeoBoundingBox(
        top_left=_geo_point(field(box, "top_left"), "geo_bounding_box.top_left"),
        bottom_right=_geo_point(field(box, "bottom_right"), "geo_bounding_box.bottom_right"),
    )


def _radius(radius_obj: Any) -> m.GeoRadius:
    _check_fields(radius_obj, ("center", "radius"), "geo_radius")
    return m.GeoRadius(
        center=_geo_point(field(radius_obj, "center"), "geo_radius.center"), radius=field(radius_obj, "radius")
    )


def _ring(line: Any, what: str) -> m.GeoLineString:
    _check_fields(line, ("points",), what)
    points = field(line, "points")
    if not isinstance(points, (list, tuple)) or not points:
        # local mode would crash evaluating an empty ring; the server needs at least 4 points
        raise InvalidInput(f"{what} must have points")
    return m.GeoLineString(points=[_geo_point(point, f"{what}.points[{i}]") for i, point in enumerate(points)])


def _polygon(polygon: Any) -> m.GeoPolygon:
    _check_fields(polygon, ("exterior", "interiors"), "geo_polygon")
    exterior = _ring(field(polygon, "exterior"), "geo_polygon.exterior")
    interiors_obj = field(polygon, "interiors", [])
    if not isinstance(interiors_obj, (list, tuple)):
        raise InvalidInput(f"geo_polygon.interiors must be a list, got {interiors_obj!r}")
    interiors = [_ring(line, f"geo_polygon.interiors[{i}]") for i, line in enumerate(interiors_obj)]
    return m.GeoPolygon(exterior=exterior, interiors=interiors)


def _flag(value: Any) -> Any:
    return value  # is_empty / is_null of a FieldCondition: a bool, checked by the compiler


_FIELD_CONDITION_KINDS: tuple[tuple[str, Any], ...] = (
    ("values_count", lambda obj: _bounds(m.ValuesCount, obj, "values_count")),
    ("is_empty", _flag),
    ("is_null", _flag),
    ("match", _match),
    ("range", _range),
    ("geo_bounding_box", _bounding_box),
    ("geo_radius", _radius),
    ("geo_polygon", _polygon),
)


# --------------------------------------------------------------------------------------------------
# Structural keys


class Unfreezable(Exception):
    """A value :func:`freeze` cannot key faithfully."""


_EXACT_SCALARS = frozenset((type(None), bool, int, float, str))


def freeze(value: Any) -> Hashable:
    """A hashable, type-exact key for a filter value in any form; raises for what it cannot read
    faithfully. Equal keys mean equal inputs of the same form, hence equal conversions."""
    kind = type(value)
    if kind in _EXACT_SCALARS:  # the common cases first, by exact type
        return (kind.__name__, value)
    if kind is list or kind is tuple:
        return ("list", tuple([freeze(item) for item in value]))
    names = getattr(kind, "_field_names", None)  # our models
    if names is not None:
        return (kind.__name__, tuple([(name, freeze(getattr(value, name, None))) for name in names]))
    if kind is dict:
        return ("dict", tuple(sorted([(str(k), freeze(v)) for k, v in value.items()])))
    if isinstance(value, (bool, int, float, str)):
        return (kind.__name__, value)
    if isinstance(value, enum.Enum):
        return ("enum", freeze(value.value))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(freeze(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, uuid.UUID):
        return ("uuid", str(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return (kind.__name__, value.isoformat())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return freeze(value.item())
    fields = getattr(kind, "model_fields", None)  # pydantic models
    if fields is None:
        raise Unfreezable(kind.__name__)
    return (kind.__name__, tuple((name, freeze(getattr(value, name, None))) for name in fields))
