"""The database's reader-writer lock (engine/rwlock.py): reads share, writes exclude, reentrancy,
no upgrade deadlock, writers are not starved. Threads meet at barriers and events; no timings."""

from __future__ import annotations

import threading

import pytest

from qdrant_local.engine.rwlock import ReadWriteLock

WAIT = 30  # seconds before a barrier or event gives up: a failure detector, never a measurement


def _run(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_readers_are_inside_together() -> None:
    lock = ReadWriteLock()
    barrier = threading.Barrier(3)

    def read() -> None:
        with lock.shared():
            barrier.wait(WAIT)  # breaks unless all three are inside at once

    threads = [_run(read) for _ in range(3)]
    for thread in threads:
        thread.join(WAIT)
    assert not barrier.broken


def test_a_writer_excludes_readers_and_writers() -> None:
    lock = ReadWriteLock()
    with lock.shared():
        assert not _try_write_elsewhere(lock)  # a reader inside: no writer
    assert _try_write_elsewhere(lock)
    seen_writer: list[object] = []
    entered = threading.Event()

    def reader() -> None:
        with lock.shared():
            seen_writer.append(lock._writer)  # who held the write lock while this read was inside
            entered.set()

    with lock:
        assert not _try_write_elsewhere(lock)
        thread = _run(reader)
        _wait_until(lambda: thread.is_alive())
    assert entered.wait(WAIT)
    thread.join(WAIT)
    assert seen_writer == [None]


def _enter_shared_then_set(lock: ReadWriteLock, entered: threading.Event) -> None:
    with lock.shared():
        entered.set()


def _try_write_elsewhere(lock: ReadWriteLock) -> bool:
    result: list[bool] = []

    def attempt() -> None:
        got = lock.acquire(blocking=False)
        result.append(got)
        if got:
            lock.release()

    _run(attempt).join(WAIT)
    return result[0]


def test_reentrancy() -> None:
    lock = ReadWriteLock()
    with lock:
        with lock:  # a write inside a write
            with lock.shared():  # a write path that reads
                assert lock.held()
        assert not _try_write_elsewhere(lock)
    with lock.shared():
        with lock.shared():  # a read inside a read
            assert lock.held()
        assert lock.held()
    assert not lock.held()
    assert _try_write_elsewhere(lock)


def test_a_reader_asking_to_write_is_refused_not_deadlocked() -> None:
    lock = ReadWriteLock()
    with lock.shared():
        with pytest.raises(RuntimeError, match="reader asked for the write lock"):
            lock.acquire()
    assert _try_write_elsewhere(lock)


def test_a_waiting_writer_holds_new_readers_back_but_not_reentering_ones() -> None:
    lock = ReadWriteLock()
    inside = threading.Event()
    leave = threading.Event()
    reentered = threading.Event()

    def long_reader() -> None:
        with lock.shared():
            inside.set()
            leave.wait(WAIT)
            with lock.shared():  # a writer is waiting now: re-entering must not deadlock
                reentered.set()

    reader = _run(long_reader)
    assert inside.wait(WAIT)
    wrote = threading.Event()

    def writer() -> None:
        with lock:
            wrote.set()

    writer_thread = _run(writer)
    _wait_until(lambda: lock._writers_waiting == 1)
    late_entered = threading.Event()
    late = _run(lambda: _enter_shared_then_set(lock, late_entered))
    leave.set()
    assert reentered.wait(WAIT)
    assert wrote.wait(WAIT)
    assert late_entered.wait(WAIT)
    for thread in (reader, writer_thread, late):
        thread.join(WAIT)


def test_a_writer_that_gives_up_lets_held_back_readers_in() -> None:
    lock = ReadWriteLock()
    inside = threading.Event()
    leave = threading.Event()

    def long_reader() -> None:
        with lock.shared():
            inside.set()
            leave.wait(WAIT)

    reader = _run(long_reader)
    assert inside.wait(WAIT)
    gave_up = threading.Event()
    late_entered = threading.Event()

    def impatient_writer() -> None:
        if not lock.acquire(timeout=0.5):
            gave_up.set()

    writer = _run(impatient_writer)
    _wait_until(lambda: lock._writers_waiting == 1)
    late = _run(lambda: _enter_shared_then_set(lock, late_entered))
    assert gave_up.wait(WAIT)
    assert late_entered.wait(WAIT)  # while the first reader is still inside
    leave.set()
    for thread in (reader, writer, late):
        thread.join(WAIT)


def _wait_until(condition: object) -> None:
    event = threading.Event()
    for _ in range(WAIT * 1000):
        if condition():  # type: ignore[operator]
            return
        event.wait(0.001)
    raise AssertionError("condition never became true")
