"""ReadWriteLock: reads share the database, writes have it to themselves, one at a time.

``with lock:`` (and ``acquire`` / ``release``) is the exclusive, reentrant write lock, so code
written for the ``threading.RLock`` it replaces keeps its meaning. ``with lock.shared():`` is a
read: any number of threads hold it at once, and none while a writer does.

Reentrancy: a thread that holds the write lock may take it again or read (a write path that reads
passes straight through); a thread that reads may read again. A reader never asks for the write
lock: with another reader inside, both would wait for ever, so the attempt raises RuntimeError
instead (the code is arranged so that it never happens: a read that would change shared state
guards that state with a small lock of its own).

Fairness: a waiting writer stops new readers from entering (but not a reader re-entering, which
would deadlock), so a stream of reads cannot starve writes.
"""

from __future__ import annotations

import threading
from types import TracebackType

__all__ = ["ReadWriteLock"]


class ReadWriteLock:
    """A writer-preferring reader-writer lock; the write side is reentrant."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._readers = 0  # threads inside the shared section
        self._read_depth: dict[int, int] = {}  # thread id -> nested shared() depth
        self._writer: int | None = None
        self._write_depth = 0
        self._writers_waiting = 0

    # -- the exclusive side: threading.RLock's interface ----------------------------------------

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = threading.get_ident()
        if self._writer == me:
            self._write_depth += 1
            return True
        if self._read_depth.get(me):
            raise RuntimeError("a reader asked for the write lock (it would wait for itself)")
        with self._state:
            self._writers_waiting += 1
            try:
                free = self._state.wait_for(
                    lambda: self._writer is None and self._readers == 0,
                    (timeout if timeout >= 0 else None) if blocking else 0,
                )
            finally:
                self._writers_waiting -= 1
            if not free:
                self._state.notify_all()  # readers held back for this writer may go on
                return False
            self._writer = me
            self._write_depth = 1
            return True

    def release(self) -> None:
        if self._writer != threading.get_ident():
            raise RuntimeError("release of a write lock this thread does not hold")
        self._write_depth -= 1
        if self._write_depth == 0:
            with self._state:
                self._writer = None
                self._state.notify_all()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    # -- the shared side -------------------------------------------------------------------------

    def shared(self) -> _Shared:
        """A context manager: a read, sharing the lock with other reads."""
        return _Shared(self)

    def held(self) -> bool:
        """Whether the calling thread is inside, reading or writing."""
        me = threading.get_ident()
        return self._writer == me or bool(self._read_depth.get(me))

    def _enter_shared(self) -> None:
        me = threading.get_ident()
        if self._writer == me:
            self._write_depth += 1  # a read inside a write: part of the write
            return
        depth = self._read_depth.get(me, 0)
        if depth:
            self._read_depth[me] = depth + 1
            return
        with self._state:
            if self._writer is not None or self._writers_waiting:
                self._state.wait_for(lambda: self._writer is None and not self._writers_waiting)
            self._readers += 1
        self._read_depth[me] = 1

    def _exit_shared(self) -> None:
        me = threading.get_ident()
        if self._writer == me:
            self.release()
            return
        depth = self._read_depth[me] - 1
        if depth:
            self._read_depth[me] = depth
            return
        del self._read_depth[me]
        with self._state:
            self._readers -= 1
            # Only writers wait for the readers to leave (readers wait only while a writer is
            # inside or waiting), so with none waiting there is no one to wake.
            if self._readers == 0 and self._writers_waiting:
                self._state.notify_all()


class _Shared:
    __slots__ = ("_lock",)

    def __init__(self, lock: ReadWriteLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock._enter_shared()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._lock._exit_shared()
