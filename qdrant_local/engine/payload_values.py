"""Payload values as facets and scroll order_by read them (qdrant-client 1.20.0 local mode)."""

from __future__ import annotations

import datetime as _dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Union

from .datetimes import bound_to_microseconds, parse_timestamp
from .paths import Path, extract_values, parse_path

__all__ = ["FacetValue", "OrderValue", "facet_key", "facet_values", "facet_counts", "to_order_value", "order_values"]

FacetValue = Union[bool, int, str]
OrderValue = Union[int, float]

# A value's position here is its facet type tag: True/1 and False/0 are equal (and hash alike) in
# Python but are separate facet buckets, and the tag orders buckets of different types on ties.
_FACET_TYPES: tuple[type, ...] = (bool, int, str)


def _parse_uuid(text: str) -> str | None:
    """Canonical hyphenated form of a string uuid.UUID accepts in any spelling, else None."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def facet_key(value: FacetValue) -> tuple[int, FacetValue]:
    """The type-tagged key of a facet value: use it as the dict key and as the ascending sort key."""
    return (_FACET_TYPES.index(type(value)), value)


def facet_values(payload: dict[str, Any] | None, key: str | Path) -> list[FacetValue]:
    """The distinct str/int/bool values ``key`` selects in ``payload``, as local ``facet`` counts them.

    Floats, nulls, objects and nested arrays are ignored; ``True`` and ``1`` stay distinct; UUID
    strings are canonicalised. Each value appears once, in first-seen order.
    """
    if not isinstance(payload, dict):
        return []
    seen: dict[tuple[int, FacetValue], FacetValue] = {}
    for value in extract_values(payload, key):
        kind = type(value)
        if kind not in _FACET_TYPES:
            continue
        if kind is str:
            value = _parse_uuid(value) or value
        elif kind is int and len(str(value)) >= 32:
            # local mode tries every value as a UUID, and a 32-digit int parses as one (a str then)
            as_uuid = _parse_uuid(str(value))
            if as_uuid is not None:
                value, kind = as_uuid, str
        tagged = (_FACET_TYPES.index(kind), value)
        if tagged not in seen:
            seen[tagged] = value
    return list(seen.values())


def facet_counts(payloads: Iterable[dict[str, Any] | None], key: str, limit: int) -> list[tuple[FacetValue, int]]:
    """``(value, count)`` hits over ``payloads``, by count descending then value (local ``facet``)."""
    path = parse_path(key)
    hits: dict[tuple[int, FacetValue], int] = defaultdict(int)
    for payload in payloads:
        for value in facet_values(payload, path):
            hits[facet_key(value)] += 1
    ranked = sorted(hits.items(), key=lambda hit: (-hit[1], hit[0]))[:limit]
    return [(tagged[1], count) for tagged, count in ranked]


def to_order_value(value: Any) -> OrderValue | None:
    """The order_by value of a payload value or a ``start_from``; None when it has none.

    Mirrors ``order_by.to_order_value``: numbers are themselves (ints stay ints, bools have none),
    datetimes, dates and datetime strings are exact microseconds since the epoch (naive = UTC).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return bound_to_microseconds(value)
    if isinstance(value, str):
        return parse_timestamp(value)
    return None


def order_values(payload: dict[str, Any] | None, key: str | Path) -> list[OrderValue]:
    """The distinct order_by values of a point, in payload order (a point is listed once per value).

    Equal values of different types (``1`` and ``1.0``) count once, keeping the first, as local
    mode's ``(value, id)`` dedup does after its stable sort.
    """
    if not isinstance(payload, dict):
        return []
    values: dict[OrderValue, None] = {}
    for value in extract_values(payload, key):
        order_value = to_order_value(value)
        if order_value is not None and order_value not in values:
            values[order_value] = None
    return list(values)
