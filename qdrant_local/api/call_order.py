"""CallOrder: runs an async client's calls on worker threads, reads side by side, in call order.

A write starts once every call made before it has finished; a read once every write made before it
has finished, so reads made between two writes run in parallel (the engine lets them: see
engine/rwlock.py) and each still sees exactly the writes called before it. A call goes to the
thread pool only when what it follows is done, so until then it holds no thread and cancelling
its future means it never runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["CallOrder"]

#: Worker threads per client: how many reads may run at once.
WORKERS = 8


class CallOrder:
    """Submits calls to a thread pool with the ordering rules above."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qdrant_local")
        self._lock = threading.Lock()
        self._last_write: Future[Any] | None = None
        self._reads_since: list[Future[Any]] = []  # reads made after the last write

    def submit(self, reads: bool, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``call(*args, **kwargs)`` after the calls it must follow; ``reads``: it changes nothing."""
        future: Future[Any] = Future()
        with self._lock:
            before = [] if self._last_write is None else [self._last_write]
            if reads:
                self._reads_since = [f for f in self._reads_since if not f.done()]
                self._reads_since.append(future)
            else:
                before += self._reads_since
                self._last_write, self._reads_since = future, []
        self._start_after(
            [f for f in before if not f.done()], lambda: self._pool.submit(_run, future, call, args, kwargs)
        )
        return future

    @staticmethod
    def _start_after(pending: list[Future[Any]], start: Callable[[], Any]) -> None:
        if not pending:
            start()
            return
        remaining = [len(pending)]
        lock = threading.Lock()

        def one_done(_: Future[Any]) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                start()

        for f in pending:
            f.add_done_callback(one_done)

    def shutdown(self) -> None:
        """Stop the threads once every call made so far has run (without waiting for that here)."""
        self.submit(False, _nothing).add_done_callback(lambda _: self._pool.shutdown(wait=False))


def _nothing() -> None:
    pass


def _run(future: Future[Any], call: Callable[..., Any], args: Any, kwargs: Any) -> None:
    if not future.set_running_or_notify_cancel():
        return  # cancelled before it started: it never runs
    try:
        result = call(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
        future.set_exception(exc)
    else:
        future.set_result(result)
