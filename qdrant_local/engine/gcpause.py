"""Pause the cyclic garbage collector while a request builds many small objects.

Building a scroll page or a search answer allocates thousands of dicts and records; each few
hundred allocations trigger a collection, and once in a while a full one walks every container the
process holds. With the caller's own data in memory (say 100,000 points as lists of floats) those
full collections cost far more than the request itself: a full scroll of 100k points ran 8x faster
with the collector paused. None of the objects we build form reference cycles, so nothing is lost by
letting the collector catch up after the request.

The pause nests and is shared by threads: the collector comes back on when the last paused request
ends, and only if it was on before the first one began.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_depth = 0
_was_enabled = False


class _Paused:
    """The context manager :func:`gc_paused` returns (a class: cheaper to enter than a generator)."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1

    def __exit__(self, *exc_info: object) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


_PAUSED = _Paused()


def gc_paused() -> _Paused:
    """Run the body with automatic garbage collection off (restored afterwards)."""
    return _PAUSED
