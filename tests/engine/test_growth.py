"""Growing the per-slot arrays: in place when possible, a copy when a view is alive; data kept."""

from __future__ import annotations

import numpy as np

from qdrant_local.engine.vectors import DenseVectors, next_capacity


def test_grow_in_place_keeps_rows_and_zero_fills() -> None:
    store = DenseVectors(4, "Dot")
    store.reserve(16)
    store.matrix[:] = 1.0
    before = id(store.matrix)
    store.reserve(100_000)
    assert id(store.matrix) == before  # resized, not copied
    assert store.matrix.shape == (100_000, 4)
    assert store.matrix[:16].sum() == 64.0 and not store.matrix[16:].any()
    assert not store.present.any()


def test_grow_with_a_live_view_copies_and_leaves_the_view_valid() -> None:
    store = DenseVectors(4, "Dot")
    store.reserve(16)
    store.matrix[:] = 2.0
    view = store.matrix[:3]
    store.reserve(50_000)
    assert view.sum() == 24.0  # the old buffer is still the view's
    assert store.matrix[:16].sum() == 128.0 and store.matrix.shape == (50_000, 4)


def test_capacity_doubles_then_grows_by_an_eighth() -> None:
    assert next_capacity(0, 1000) == 1024
    assert next_capacity(1 << 16, (1 << 16) + 1) == (1 << 16) + (1 << 13)
    big = next_capacity(0, 1_000_000)
    assert 1_000_000 <= big <= 1_000_000 * 1.125
    assert np.int64(big) > 0
