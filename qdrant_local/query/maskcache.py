"""A small cache of filter masks, so a filter repeated across queries is evaluated once.

Applications tend to query with the same few filters (a tenant, a category) over and over, and a
payload filter costs a pass over the payloads while the search itself is one matrix product. The
mask of a filter depends only on the filter and the collection's state, so it is cached per
collection under ``store.version`` (bumped by every write, delete, rollback and compaction): any
change makes the entry unreachable.

Filters are keyed by a structural freeze of the request value (our models, qdrant_client's models,
dicts, lists, numpy arrays); anything else is simply not cached.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np

__all__ = ["MaskCache", "freeze"]

# Entries per collection: each holds one bool per slot (100 KB at 100,000 points).
CAPACITY = 16


class _Unfreezable(Exception):
    pass


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
        raise _Unfreezable(type(value).__name__)
    return (type(value).__name__, tuple((name, freeze(getattr(value, name, None))) for name in names))


class MaskCache:
    """Filter masks of one collection, valid for one ``store.version``."""

    _by_collection: weakref.WeakKeyDictionary[Any, MaskCache] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.version: Any = None
        self.entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    @classmethod
    def of(cls, collection: Any) -> MaskCache:
        cache = cls._by_collection.get(collection)
        if cache is None:
            cache = cls._by_collection[collection] = cls()
        return cache

    def mask(self, version: Hashable, raw_filter: Any, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The mask of ``raw_filter`` (a fresh array the caller may modify)."""
        try:
            key = freeze(raw_filter)
        except _Unfreezable:
            return compute()
        if version != self.version:
            self.version = version
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
