"""Growth of the engine's per-slot arrays: appending never copies per item.

Small arrays grow by doubling (``grown``: a new zeroed array, the used rows copied). Doubling a large
matrix would hold the old and the new copy at once, so a dense vector matrix of ``RESERVE_FROM``
bytes or more lives instead in a :class:`ReservedRows`: one anonymous mapping reserved once, as large
as the machine's memory, of which the matrix is a view of the first rows. Growing is then a larger
view of the same memory: nothing is copied, and pages become resident only when rows are written.
The mapping is marked ``MADV_HUGEPAGE``, as numpy marks its own large allocations, so that scans of a
grown matrix are as fast as of one numpy allocated (transparent huge pages: fewer TLB misses).
Where a reservation cannot be made (no ``mmap`` flags, strict overcommit), doubling is the fallback.
"""

from __future__ import annotations

import mmap
import os
import sys

import numpy as np

__all__ = ["RESERVE_FROM", "ReservedRows", "grown", "next_capacity"]

#: Matrices from this size on are grown inside a reservation; below it doubling copies little.
RESERVE_FROM = 32 << 20
#: Linux's MAP_NORESERVE (the mmap module exposes it from Python 3.13 on): no swap is set aside for the
#: reservation, so reserving more than is used costs nothing.
_MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000 if sys.platform == "linux" else 0)
_HUGE_PAGE = 2 << 20


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


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 64 << 30


class ReservedRows:
    """The memory of one growing matrix (rows of a fixed width and dtype), see the module docstring.

    ``resize(matrix, capacity)`` returns the matrix with ``capacity`` rows: a view of the reservation
    when it fits (rows past the old end are zero), otherwise a doubled numpy copy. Invariant: every
    byte of the reservation past the current view is zero, so growing never needs to clear memory.
    """

    def __init__(self, row_shape: tuple[int, ...], dtype: np.dtype | type) -> None:
        self.row_shape = row_shape
        self.dtype = np.dtype(dtype)
        self.row_bytes = int(np.prod(row_shape, dtype=np.int64)) * self.dtype.itemsize
        self._map: mmap.mmap | None = None
        self._address = 0
        self._failed = False

    @property
    def reserved_bytes(self) -> int:
        """Bytes of address space reserved (0 while the matrix is a plain numpy array)."""
        return 0 if self._map is None else len(self._map)

    def owns(self, matrix: np.ndarray) -> bool:
        """Whether ``matrix`` is a view of this reservation (rather than a numpy allocation)."""
        return self._map is not None and matrix.size > 0 and matrix.ctypes.data == self._address

    def resize(self, matrix: np.ndarray, capacity: int) -> np.ndarray:
        """``matrix`` with ``capacity`` rows (its first rows kept, the others zero)."""
        if capacity <= len(matrix):
            return matrix
        needed = capacity * self.row_bytes
        if self._map is not None and needed <= len(self._map) and (len(matrix) == 0 or self.owns(matrix)):
            return self._view(capacity)
        if needed < RESERVE_FROM or self._failed:
            return grown(matrix, capacity)
        if not self._reserve(max(needed, _physical_memory())):
            return grown(matrix, capacity)
        view = self._view(capacity)
        view[: len(matrix)] = matrix  # the one copy, from the last doubled array (or an old reservation)
        return view

    def shrink(self, matrix: np.ndarray, capacity: int, used: int) -> np.ndarray:
        """A view of this reservation (``owns(matrix)``) cut to ``capacity`` rows, the rows from ``used``
        on zeroed and the memory past them handed back to the system."""
        assert self._map is not None and self.owns(matrix)
        old_end = len(matrix) * self.row_bytes
        keep_end = used * self.row_bytes
        page_end = min(-(-keep_end // mmap.PAGESIZE) * mmap.PAGESIZE, old_end)
        zeros = np.frombuffer(self._map, dtype=np.uint8, count=page_end - keep_end, offset=keep_end)
        zeros[:] = 0
        if old_end > page_end:
            self._map.madvise(mmap.MADV_DONTNEED, page_end, old_end - page_end)
        return self._view(capacity)

    def _view(self, rows: int) -> np.ndarray:
        assert self._map is not None
        count = rows * (self.row_bytes // self.dtype.itemsize)
        return np.frombuffer(self._map, dtype=self.dtype, count=count).reshape(rows, *self.row_shape)

    def _reserve(self, size: int) -> bool:
        size = -(-size // _HUGE_PAGE) * _HUGE_PAGE
        flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0) | _MAP_NORESERVE
        try:
            if not _MAP_NORESERVE or not hasattr(mmap, "MAP_ANONYMOUS"):
                raise OSError("no anonymous reservation on this platform")
            reservation = mmap.mmap(-1, size, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except (OSError, ValueError, OverflowError):
            self._failed = True
            return False
        if hasattr(mmap, "MADV_HUGEPAGE"):
            try:
                reservation.madvise(mmap.MADV_HUGEPAGE)
            except OSError:
                pass  # transparent huge pages disabled: scans are slower, nothing else changes
        self._map = reservation  # an older reservation is unmapped once no view of it remains
        self._address = np.frombuffer(reservation, dtype=np.uint8, count=1).ctypes.data
        return True
