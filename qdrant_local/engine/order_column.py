"""scroll(order_by=...) from a payload index: the field's order values as one sorted column.

An :class:`OrderColumn` holds, for the points of one index build, each point's order value (a
number as it is, a datetime string as exact integer microseconds, the scanning path's
``to_order_value``) as float64, sorted by (value, slot): slot order is insertion order, which is
how the scanning path (a stable sort) breaks ties. A page is then a binary search for
``start_from`` plus the page itself, walked in chunks through the filter mask.

It is only built when float64 orders the field exactly as Python would: every point holds at
most one order value, no NaN, no integer (or microsecond stamp) beyond 2**53 and no value the
postings do not hold (objects, nested arrays, str / int / float subclasses). Otherwise
:func:`build_order_column` returns None and the caller scans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .datetimes import parse_timestamp

__all__ = ["OrderColumn", "build_order_column"]

_EXACT = 2**53


class OrderColumn:
    """Sorted (value, slot) pairs of one indexed field, plus whether each value is an int."""

    def __init__(self, values: np.ndarray, slots: np.ndarray, is_int: np.ndarray) -> None:
        self.values = values
        self.slots = slots
        self.is_int = is_int

    def top(self, allowed: np.ndarray, limit: int, start: Any, descending: bool) -> list[tuple[int, int | float]]:
        """The first ``limit`` (slot, value) pairs in order whose slot is ``allowed``, from ``start`` on.

        Ascending: value, then slot. Descending: value descending, then slot ascending (ties keep
        insertion order, as the scanning path's stable sort does).
        """
        values, slots = self.values, self.slots
        if descending:
            lower, upper = 0, len(values) if start is None else int(np.searchsorted(values, start, side="right"))
            positions = self._walk(allowed, limit, upper, -1, lower)
            if len(positions) >= limit:
                # The last value's ties may reach further down the column: take its whole run.
                tie_start = int(np.searchsorted(values, values[positions[limit - 1]], side="left"))
                run = np.arange(tie_start, int(positions[-1]))
                positions = np.concatenate([positions, run[allowed[slots[run]]]])
            chosen = positions[np.lexsort((slots[positions], -values[positions]))][:limit]
        else:
            lower = 0 if start is None else int(np.searchsorted(values, start, side="left"))
            chosen = self._walk(allowed, limit, lower, 1, len(values))[:limit]
        return [
            (int(s), int(v) if i else float(v))
            for s, v, i in zip(slots[chosen].tolist(), values[chosen].tolist(), self.is_int[chosen].tolist())
        ]

    def _walk(self, allowed: np.ndarray, limit: int, begin: int, step: int, end: int) -> np.ndarray:
        """Column positions with an allowed slot, from ``begin`` towards ``end`` (``step`` +1 / -1),
        in chunks that double, until ``limit`` are found or the range ends."""
        found: list[np.ndarray] = []
        total, chunk, position = 0, max(2 * limit, 256), begin
        while total < limit and (position < end if step > 0 else position > end):
            if step > 0:
                window = np.arange(position, min(position + chunk, end))
                position = min(position + chunk, end)
            else:
                window = np.arange(position - 1, max(position - chunk, end) - 1, -1)
                position = max(position - chunk, end)
            window = window[allowed[self.slots[window]]]
            found.append(window)
            total += len(window)
            chunk *= 2
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def build_order_column(
    key_id: dict[tuple[type, Any], int],
    posting_slots: np.ndarray,
    offsets: np.ndarray,
    float_key: int | None,
    float_values: np.ndarray,
    has_others: bool,
) -> OrderColumn | None:
    """The order column of an index's postings (``posting_slots[offsets[k]:offsets[k + 1]]`` hold key
    ``k``; the float bucket ``float_key`` holds ``float_values`` in posting order), or None when
    float64 cannot order the field exactly (see the module docstring)."""
    if has_others:
        return None
    n_keys = len(offsets) - 1
    key_values = np.zeros(n_keys, dtype=np.float64)
    key_has = np.zeros(n_keys, dtype=bool)
    key_int = np.zeros(n_keys, dtype=bool)
    for (kind, value), ident in key_id.items():
        order_value = _order_value(kind, value)
        if order_value is None:
            continue
        if not -_EXACT <= order_value <= _EXACT:
            return None  # an int (or a microsecond stamp) float64 would round
        key_values[ident] = order_value
        key_has[ident] = True
        key_int[ident] = True  # ints and microsecond stamps
    posting_keys = np.repeat(np.arange(n_keys, dtype=np.int64), np.diff(offsets))
    values = key_values[posting_keys]
    if float_key is not None:
        if np.isnan(float_values).any():
            return None
        key_has[float_key] = True
        values[offsets[float_key] : offsets[float_key + 1]] = float_values  # each posting its own value
    keep = key_has[posting_keys]
    slots = posting_slots[keep]
    if len(np.unique(slots)) != len(slots):
        return None  # some point holds several order values: the scanning path lists it once per value
    values = values[keep]
    is_int = key_int[posting_keys[keep]]
    order = np.lexsort((slots, values))
    return OrderColumn(values[order], slots[order], is_int[order])


_ORDER_OF: dict[type, Callable[[Any], Any]] = {
    bool: lambda value: None,
    int: lambda value: value,
    str: parse_timestamp,
}


def _order_value(kind: type, value: Any) -> int | float | None:
    """``to_order_value`` of an exact-typed posting key (bool, int or str; floats are bucketed)."""
    return _ORDER_OF[kind](value)
