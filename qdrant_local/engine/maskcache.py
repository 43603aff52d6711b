"""A small cache of filter masks, so a filter repeated across reads is evaluated once.

Applications tend to query with the same few filters (a tenant, a category) over and over, and a
payload filter costs a pass over the payloads while the search itself is one matrix product. The
mask of a filter depends only on the filter and the collection's state, so each collection owns one
cache, valid for one state (``store.version`` is bumped by every write, delete, rollback and
compaction): any change makes the entries unreachable. Scroll, count, facet, the query API and the
selectors of writes all read masks through it (``Collection.mask``).

A compiled filter carries its key (:attr:`CompiledFilter.key`), a structural freeze
(:func:`models.convert.freeze`) of the converted filter it was compiled from; a filter holding a value
that cannot be frozen has no key and is simply not cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np

from ..models.convert import Unfreezable, freeze

__all__ = ["MaskCache", "Unfreezable", "freeze"]

# Entries per collection: a filter's mask holds one bool per slot (100 KB at 100,000 points); a
# search's selection adds its mask and, for a selective filter, its slots (Collection.selection).
CAPACITY = 32


class MaskCache:
    """Filter masks of one collection, valid for one state of it.

    Reads run in parallel (engine/rwlock.py), so the entries are guarded by a lock of their own; a
    mask is computed outside it (two readers may both compute the same one; both answers are right).
    """

    def __init__(self) -> None:
        self.state: Hashable = None
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def mask(self, state: Hashable, key: Hashable | None, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The mask of the filter keyed ``key`` in ``state`` (a fresh array the caller may modify)."""
        if key is None:
            return compute()
        return self.shared(state, key, compute).copy()  # entries are replaced, never changed in place

    def shared(self, state: Hashable, key: Hashable | None, compute: Callable[[], Any]) -> Any:
        """The value keyed ``key`` in ``state`` itself, not a copy: the caller must not change it
        (``compute`` should hand out read-only arrays)."""
        if key is None:
            return compute()
        with self._lock:
            if state != self.state:
                self.state = state
                self.entries.clear()
            cached = self.entries.get(key)
            if cached is not None:
                self.entries.move_to_end(key)
        if cached is None:
            cached = compute()
            with self._lock:
                if state == self.state:
                    self.entries[key] = cached
                    if len(self.entries) > CAPACITY:
                        self.entries.popitem(last=False)
        return cached
