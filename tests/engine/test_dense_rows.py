"""Dense rows of a write (engine/dense_rows.py): the struct conversion and the blockwise checks give
exactly what the element-by-element conversion and the whole-matrix normalisation gave."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local.engine import dense_rows
from qdrant_local.engine.dense_rows import check_finite, float32_rows, normalized_rows
from qdrant_local.engine.distance import normalize_rows
from qdrant_local.engine.vectors import DenseVectors
from qdrant_local.errors import InvalidVector


def _reference(rows: list[list[Any]], dim: int) -> np.ndarray:
    """The element-by-element conversion the struct pack replaces."""
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float32, count=len(rows) * dim)
    return flat.reshape(len(rows), dim)


_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),  # beyond float32's range too: refused, see below
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-45, 3.4028234663852886e38]),
)


@settings(max_examples=300)
@given(st.integers(1, 5).flatmap(lambda dim: st.lists(st.lists(_values, min_size=dim, max_size=dim), min_size=1)))
def test_struct_rows_are_the_elementwise_conversion(rows: list[list[Any]]) -> None:
    dim = len(rows[0])
    converted = float32_rows(rows, dim)
    with np.errstate(over="ignore"):
        expected = _reference(rows, dim)
    if converted is None:  # struct refuses what would overflow float32; the caller converts as before
        assert not np.isfinite(expected).all()
        return
    assert converted.dtype == np.float32 and converted.flags.writeable
    assert converted.tobytes() == expected.tobytes()


def test_blocks_of_rows_are_joined_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense_rows, "BLOCK_ROWS", 3)
    rows = np.random.default_rng(1).standard_normal((10, 4)).tolist()
    assert float32_rows(rows, 4).tobytes() == _reference(rows, 4).tobytes()  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["0.5", 2**2000, None, [1.0], 1e300])
def test_what_struct_refuses_is_left_to_the_caller(value: Any) -> None:
    assert float32_rows([[0.5, value]], 2) is None


def test_refused_rows_convert_as_before() -> None:
    """Text numbers were accepted by numpy's conversion: they still are; a huge float is infinite."""
    store = DenseVectors(2, "Dot")
    assert store.prepare([["0.5", 2], [1.0, 3]], "").tolist() == [[0.5, 2.0], [1.0, 3.0]]
    with pytest.raises(InvalidVector, match="Vector contains infinite values"):
        store.prepare([[1e300, 1.0]], "")


@pytest.mark.parametrize("block", [1, 3, 1024])
@pytest.mark.parametrize("owned", [True, False])
def test_normalized_rows_bit_for_bit(monkeypatch: pytest.MonkeyPatch, block: int, owned: bool) -> None:
    monkeypatch.setattr(dense_rows, "BLOCK_ROWS", block)
    rng = np.random.default_rng(2)
    rows = (rng.standard_normal((50, 7)) * 10.0 ** rng.integers(-15, 15, size=(50, 1))).astype(np.float32)
    rows[3] = 0.0
    rows[4] = 1e-9  # norm below EPSILON: as it came
    expected = normalize_rows(rows)
    given_rows = rows.copy()
    result = normalized_rows(given_rows, owned)
    assert result.tobytes() == expected.tobytes()
    assert (result is given_rows) == owned
    if not owned:
        assert given_rows.tobytes() == rows.tobytes()


def test_check_finite_reports_nan_first_in_any_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dense_rows, "BLOCK_ROWS", 2)
    rows = np.ones((6, 3), dtype=np.float32)
    rows[1, 0] = np.inf
    rows[5, 2] = np.nan
    with pytest.raises(InvalidVector, match="Vector contains NaN values"):
        check_finite(rows)
    rows[5, 2] = 1.0
    with pytest.raises(InvalidVector, match="Vector contains infinite values"):
        check_finite(rows)
    check_finite(np.ones((0, 3), dtype=np.float32))
    check_finite(np.ones(3, dtype=np.float32))
