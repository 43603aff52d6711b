"""Points selectors: which points a write or a read names.

A selector is a list of ids, ``PointIdsList``, ``Filter`` or ``FilterSelector`` (or their REST shapes
``{"points": [...]}`` / ``{"filter": {...}}``). Parsing validates ids and the filter without reading
state; resolving turns it into the canonical ids it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._access import field
from ..errors import InvalidInput
from ..ids import PointId, normalize_id
from .filters import CompiledFilter, compile_filter

_FILTER_KEYS = ("must", "should", "must_not", "min_should")


@dataclass
class Selector:
    """Either explicit ids or a compiled filter."""

    point_ids: list[PointId] | None = None
    filter: CompiledFilter | None = None


def is_filter(obj: Any) -> bool:
    if isinstance(obj, dict):
        return any(key in obj for key in _FILTER_KEYS) or not obj
    return type(obj).__name__ == "Filter" or all(hasattr(obj, key) for key in _FILTER_KEYS)


def parse_selector(selector: Any) -> Selector:
    """Validate a points selector; raises on a malformed one (an empty id list too, as local mode)."""
    if isinstance(selector, (list, tuple)):
        if len(selector) == 0:
            raise InvalidInput("Empty update request")
        return Selector(point_ids=[normalize_id(p) for p in selector])
    if selector is None:
        raise InvalidInput("Points selector must not be None")
    points = field(selector, "points")
    if points is not None:
        return parse_selector(list(points))
    filter_obj = field(selector, "filter")
    if filter_obj is not None:
        return Selector(filter=compile_filter(filter_obj))
    if is_filter(selector):
        return Selector(filter=compile_filter(selector))
    raise InvalidInput(f"Unsupported selector type: {type(selector).__name__}")
