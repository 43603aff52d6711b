"""Growth of the engine's per-slot arrays: appending never copies per item.

Small arrays grow by doubling (``grown``: a new zeroed array, the used rows copied). Doubling a large
matrix would hold the old and the new copy at once, so a dense vector matrix of ``RESERVE_FROM``
bytes or more lives instead in a :class:`ReservedRows`: one anonymous mapping reserved once, as large
as the machine's memory, of which the matrix is a view of the first rows. Growing is then a larger
view of the same memory: nothing is copied, and pages become resident only when rows are written.
The mapping is marked ``MADV_HUGEPAGE``, as numpy marks its own large allocations, so that scans of a
grown matrix are as fast as of one numpy allocated (transparent huge pages: fewer TLB misses).
Where a reservation cannot be made (no ``mmap`` flags, strict overcommit), doubling is the fallback.

A reservation's first rows can be a file's pages (``map_file``: a snapshot's aligned dense column,
mapped copy-on-write by engine/filemap.py): opening a snapshot then costs no copy and no fresh memory,
the page cache's copy of the file *is* the matrix, a write copies only the page it touches, and rows
appended past the file's pages land in the reservation's anonymous pages as before. Nothing unmaps
those pages while a view of the matrix is alive: the reservation (an ``mmap`` object) is unmapped as a
whole when its last view goes.
"""

from __future__ import annotations

import mmap
import os
import sys

import numpy as np

from . import filemap

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


def _pages(size: int) -> int:
    """``size`` rounded up to whole pages."""
    return -(-size // mmap.PAGESIZE) * mmap.PAGESIZE


def _read_exactly(fd: int, target: np.ndarray, offset: int) -> None:
    """Fill ``target`` (a uint8 array) with the file's bytes from ``offset``."""
    view = target.data
    while view.nbytes:
        got = os.preadv(fd, [view], offset)
        if got <= 0:
            raise OSError(f"file ended {view.nbytes} bytes early while reading a matrix")
        view, offset = view[got:], offset + got


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
        self._file_end = 0  # bytes at the start of the reservation that are a file's pages (map_file)

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

    @property
    def file_bytes(self) -> int:
        """Bytes at the start of the reservation that are a file's pages (0: none, see ``map_file``)."""
        return self._file_end

    def shrink(self, matrix: np.ndarray, capacity: int, used: int) -> np.ndarray:
        """A view of this reservation (``owns(matrix)``) cut to ``capacity`` rows, the rows from ``used``
        on zeroed and the memory past them handed back to the system (a file's pages past them too)."""
        assert self._map is not None and self.owns(matrix)
        old_end = len(matrix) * self.row_bytes
        keep_end = used * self.row_bytes
        page_end = _pages(keep_end)
        self._bytes(keep_end, min(page_end, old_end))[:] = 0
        if self._file_end > page_end:
            # (MADV_DONTNEED would bring a file's pages back, not zeros.) The rows there are past ``used``.
            self._place_anonymous(page_end, self._file_end)
            self._file_end = page_end
        if old_end > page_end:
            self._map.madvise(mmap.MADV_DONTNEED, page_end, old_end - page_end)
        return self._view(capacity)

    def map_file(self, matrix: np.ndarray, fd: int, offset: int, length: int, used: int) -> memoryview | None:
        """Make the reservation's first ``length`` bytes the bytes ``[offset, offset + length)`` of file
        ``fd``, copy-on-write, and return a view of them; None (nothing changed) when ``matrix`` is not
        this reservation's, the extent is not made of whole pages, or pages cannot be placed here.

        The file is taken to hold the matrix's first ``used`` bytes (rows about to be loaded, or rows
        it already holds: a snapshot just written from them); the matrix's bytes past them, up to
        ``length`` and up to the end of an earlier file's pages, are kept as they are.
        """
        if (
            self._map is None
            or not self.owns(matrix)
            or not 0 < length <= len(self._map)
            or offset % mmap.PAGESIZE
            or length % mmap.PAGESIZE
            or not filemap.available()
        ):
            return None
        tail = self._bytes(used, length)
        kept = bytes(tail) if tail.any() else None
        del tail
        if not filemap.place_file(self._address, length, fd, offset):
            # MAP_FIXED may have unmapped the range before failing: make it memory again, with the file's bytes.
            self._place_anonymous(0, length)
            _read_exactly(fd, self._bytes(0, length), offset)
        elif self._file_end > length:
            self._place_anonymous(length, self._file_end, keep=True)  # rows past ``used``: let go of the old file
        self._file_end = length
        if kept is not None:
            self._bytes(used, length)[:] = np.frombuffer(kept, dtype=np.uint8)
        return memoryview(self._map)[:length]

    def _place_anonymous(self, start: int, end: int, keep: bool = False) -> None:
        """Fresh anonymous pages over ``[start, end)`` (page multiples), holding the same bytes if ``keep``."""
        region = self._bytes(start, end)
        kept = region.copy() if keep and region.any() else None
        del region
        if not filemap.place_anonymous(self._address + start, end - start):
            raise MemoryError(f"could not map {end - start} bytes of anonymous memory in a matrix reservation")
        if kept is not None:
            self._bytes(start, end)[:] = kept

    def _bytes(self, start: int, end: int) -> np.ndarray:
        assert self._map is not None
        return np.frombuffer(self._map, dtype=np.uint8, count=max(end - start, 0), offset=start)

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
        self._file_end = 0
        self._address = np.frombuffer(reservation, dtype=np.uint8, count=1).ctypes.data
        return True
