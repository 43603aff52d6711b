"""gc_paused: the collector is off inside, restored after, nesting and threads included."""

from __future__ import annotations

import gc
import threading

from qdrant_local.engine.gcpause import gc_paused


def test_pause_restores_an_enabled_collector_even_after_an_error() -> None:
    assert gc.isenabled()
    try:
        with gc_paused():
            assert not gc.isenabled()
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled(), "the inner pause must not re-enable while the outer one runs"
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.isenabled()


def test_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads_end_with_the_collector_on() -> None:
    inside = threading.Barrier(4)
    leave = threading.Event()

    def pause() -> None:
        with gc_paused():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=pause) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert not gc.isenabled()
    leave.set()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
