"""Where handlers run: a quick read alone runs on the event loop; overlapping requests and writes go to
worker threads (so concurrent searches use both cores and the loop keeps doing I/O)."""

from __future__ import annotations

import asyncio
import threading

from qdrant_local.server.dispatch import Dispatcher


def _thread_name() -> str:
    return threading.current_thread().name


async def _request(dispatcher: Dispatcher, quick: bool) -> str:
    dispatcher.arrived()
    try:
        return await dispatcher.run(quick, _thread_name)
    finally:
        dispatcher.finished()


def test_a_quick_read_alone_runs_on_the_event_loop() -> None:
    dispatcher = Dispatcher()
    assert asyncio.run(_request(dispatcher, quick=True)) == threading.current_thread().name
    assert dispatcher.in_flight == 0


def test_a_write_always_runs_in_a_worker_thread() -> None:
    dispatcher = Dispatcher()
    assert asyncio.run(_request(dispatcher, quick=False)) != threading.current_thread().name


def test_overlapping_quick_reads_run_in_worker_threads() -> None:
    async def burst() -> list[str]:
        dispatcher = Dispatcher()
        names = await asyncio.gather(*(_request(dispatcher, quick=True) for _ in range(4)))
        assert dispatcher.in_flight == 0
        return list(names)

    names = asyncio.run(burst())
    assert threading.current_thread().name not in names


def test_a_failing_handler_leaves_the_count_balanced() -> None:
    async def failing() -> None:
        dispatcher = Dispatcher()
        dispatcher.arrived()
        try:
            await dispatcher.run(True, lambda: 1 / 0)
        except ZeroDivisionError:
            pass
        finally:
            dispatcher.finished()
        assert dispatcher.in_flight == 0
        assert await _request(dispatcher, quick=True) == threading.current_thread().name

    asyncio.run(failing())
