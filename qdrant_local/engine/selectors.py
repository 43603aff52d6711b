"""Points selectors: which points a write or a read names.

The client facade converts a selector (ids, ``PointIdsList``, ``Filter``, ``FilterSelector`` or their
REST shapes) with ``models.convert.to_selector`` into a list of ids or our ``Filter``. Parsing here
validates the ids or compiles the filter without reading state; resolving turns it into the canonical
ids it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import models
from ..errors import InvalidInput
from ..ids import PointId, normalize_ids
from .filters import CompiledFilter, compile_filter


@dataclass
class Selector:
    """Either explicit ids or a compiled filter."""

    point_ids: list[PointId] | None = None
    filter: CompiledFilter | None = None


def parse_selector(selector: list[Any] | models.Filter) -> Selector:
    """Validate a converted points selector; raises on a malformed id or filter."""
    if isinstance(selector, list):
        return Selector(point_ids=normalize_ids(selector))
    if isinstance(selector, models.Filter):
        return Selector(filter=compile_filter(selector))
    raise InvalidInput(f"Unsupported selector type: {type(selector).__name__}")
