"""A small cache of filter masks, so a filter repeated across reads is evaluated once.

Applications tend to query with the same few filters (a tenant, a category) over and over, and a
payload filter costs a pass over the payloads while the search itself is one matrix product. The
mask of a filter depends only on the filter and the collection's state, so each collection owns one
cache, valid for one state (``store.version`` is bumped by every write, delete, rollback and
compaction): any change makes the entries unreachable. Scroll, count, facet, the query API and the
selectors of writes all read masks through it (``Collection.mask``).

A compiled filter carries its key (:attr:`CompiledFilter.key`), a structural freeze of the filter
it was compiled from (our models, qdrant_client's models, dicts, lists, numpy arrays); a filter
holding anything else has no key and is simply not cached.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np

__all__ = ["MaskCache", "Unfreezable", "freeze"]

# Entries per collection: each holds one bool per slot (100 KB at 100,000 points).
CAPACITY = 16


class Unfreezable(Exception):
    """A value :func:`freeze` cannot key faithfully."""


def freeze(value: Any) -> Hashable:
    """A hashable, type-exact key for a filter value; raises for what it cannot read faithfully."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    if isinstance(value, enum.Enum):
        return ("enum", freeze(value.value))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(freeze(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    if isinstance(value, uuid.UUID):
        return ("uuid", str(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return (type(value).__name__, value.isoformat())
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return freeze(value.item())
    names = getattr(type(value), "_field_names", None)  # our models
    if names is None:
        fields = getattr(type(value), "model_fields", None)  # pydantic models
        names = tuple(fields) if fields is not None else None
    if names is None:
        raise Unfreezable(type(value).__name__)
    return (type(value).__name__, tuple((name, freeze(getattr(value, name, None))) for name in names))


class MaskCache:
    """Filter masks of one collection, valid for one state of it."""

    def __init__(self) -> None:
        self.state: Hashable = None
        self.entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def mask(self, state: Hashable, key: Hashable | None, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The mask of the filter keyed ``key`` in ``state`` (a fresh array the caller may modify)."""
        if key is None:
            return compute()
        if state != self.state:
            self.state = state
            self.entries.clear()
        cached = self.entries.get(key)
        if cached is None:
            cached = compute()
            self.entries[key] = cached
            if len(self.entries) > CAPACITY:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(key)
        return cached.copy()
