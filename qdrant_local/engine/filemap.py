"""Placing pages at a fixed address inside a reserved range: libc ``mmap`` with ``MAP_FIXED``.

Python's ``mmap`` module maps a file wherever the system likes; a matrix that grows in place inside
its reservation (engine/growth.py) needs a file's pages *at the start of that reservation*. These
helpers call libc's ``mmap`` through ctypes (Linux and macOS, 64-bit) to put, over part of a range the
process already owns:

* a file's pages, ``MAP_PRIVATE`` (copy-on-write: a write copies just the page it touches, the file
  never changes), so that reading a snapshot's matrix is the page cache's copy of it;
* fresh anonymous zero pages, to let go of a file's pages again.

The caller owns the range (an ``mmap.mmap`` object whose unmapping, when its last view goes, removes
whatever was placed inside). Where ctypes or libc's ``mmap`` is unavailable, ``available()`` is False
and callers read the file instead.
"""

from __future__ import annotations

import mmap
import sys
from typing import Any

__all__ = ["available", "place_anonymous", "place_file"]

_MAP_FIXED = 0x10  # the same on Linux and macOS
_MAP_NORESERVE = 0x4000 if sys.platform == "linux" else 0
_PROT = mmap.PROT_READ | mmap.PROT_WRITE
_SUPPORTED = sys.platform in ("linux", "darwin") and sys.maxsize > 2**32
_libc_mmap: Any = None


def available() -> bool:
    """Whether pages can be placed here (loads libc's ``mmap`` through ctypes on first use)."""
    return _function() is not None


def place_file(address: int, length: int, fd: int, offset: int) -> bool:
    """Map ``length`` bytes of file ``fd`` from ``offset`` (both page multiples) at ``address``,
    private and writable (copy-on-write). False if the system refused; the range may then be a hole
    (``MAP_FIXED`` can unmap before it fails), which the caller must fill with ``place_anonymous``."""
    flags = getattr(mmap, "MAP_PRIVATE", 0x02) | _MAP_FIXED
    return _place(address, length, flags, fd, offset)


def place_anonymous(address: int, length: int) -> bool:
    """Map ``length`` bytes of fresh zero pages at ``address`` (a page multiple), private and writable."""
    flags = getattr(mmap, "MAP_PRIVATE", 0x02) | getattr(mmap, "MAP_ANONYMOUS", 0x20) | _MAP_FIXED | _MAP_NORESERVE
    return _place(address, length, flags, -1, 0)


def _place(address: int, length: int, flags: int, fd: int, offset: int) -> bool:
    function = _function()
    if function is None:
        return False
    return bool(function(address, length, _PROT, flags, fd, offset) == address)


def _function() -> Any:
    global _libc_mmap
    if _libc_mmap is None:
        _libc_mmap = _load() if _SUPPORTED else False
    return _libc_mmap or None


def _load() -> Any:
    try:
        import ctypes  # imported on first use: `import qdrant_local` stays light
    except ImportError:
        return False
    try:
        function = ctypes.CDLL(None, use_errno=True).mmap
    except (OSError, AttributeError):
        return False
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    return function
