"""Where a request's handler runs: on the event loop when the server is idle, else in a worker thread.

A worker thread lets reads run side by side (numpy's products release the GIL, so concurrent
searches use both cores) and keeps the event loop free for I/O while a handler works. Handing a
request to a thread and back costs two thread wake-ups, which is most of the server's own latency
for a single client (and several times more on a loaded machine). So a cheap read that arrives while
no other request is in flight runs directly on the event loop; as soon as requests overlap, every
one of them goes to the thread pool again. Writes always run in a thread (they fsync).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["Dispatcher"]

T = TypeVar("T")


class Dispatcher:
    """Counts the requests in flight and runs each handler inline or in Starlette's thread pool."""

    def __init__(self) -> None:
        self.in_flight = 0

    def arrived(self) -> None:
        """A request started (call before awaiting its body, so that overlapping requests are seen)."""
        self.in_flight += 1

    def finished(self) -> None:
        self.in_flight -= 1

    async def run(self, inline: bool, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``: on the event loop if ``inline`` and no other request is in flight."""
        if inline:
            # Requests whose bytes arrived together start in this same loop iteration: one yield lets
            # them register before deciding, so a burst of requests goes to the thread pool.
            await asyncio.sleep(0)
            if self.in_flight == 1:
                return function(*args)
        return await run_in_threadpool(function, *args)
