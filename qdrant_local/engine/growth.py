"""Growth by doubling, for every per-slot array of the engine: appending never copies per item."""

from __future__ import annotations

import numpy as np

__all__ = ["next_capacity", "grown"]


def next_capacity(current: int, needed: int, minimum: int = 16) -> int:
    """The capacity to grow to: ``current`` (at least ``minimum``) doubled until it holds ``needed``."""
    capacity = max(current, minimum)
    while capacity < needed:
        capacity *= 2
    return capacity


def grown(array: np.ndarray, capacity: int, used: int | None = None) -> np.ndarray:
    """A zeroed array of ``capacity`` rows holding the first ``used`` rows (default: all) of ``array``."""
    result = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    kept = len(array) if used is None else used
    result[:kept] = array[:kept]
    return result
