"""Dense rows of a write: Python lists to float32, the finiteness check and Cosine normalisation.

Converting Python floats is most of the cost of upserting list vectors. ``struct`` packs a row of
floats in one C call (about 5 ns a float), where ``np.fromiter`` and ``np.array`` convert element by
element through numpy's scalar machinery (11-13 ns a float). The packed bytes are the float32 rows
(the same C cast from double as numpy's, so the same bits). Whatever ``struct`` refuses (a string,
an int beyond float32's range) returns None, and the caller converts the way it always did, so
accepted values and errors stay the same.

Large requests (a ``Batch`` of 10,000 rows) are checked and normalised a block of rows at a time,
in place when the matrix is the request's own: no full-size temporaries besides the matrix itself.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from itertools import starmap
from typing import Any

import numpy as np

from ..errors import InvalidVector
from .distance import EPSILON

__all__ = ["check_finite", "float32_rows", "normalized_rows"]

#: Rows converted, checked or normalised per step (1.5 MiB of float32 at dim 384).
BLOCK_ROWS = 1024

_packers: dict[int, Callable[..., bytes]] = {}


def _packer(dim: int) -> Callable[..., bytes]:
    pack = _packers.get(dim)
    if pack is None:
        pack = _packers[dim] = struct.Struct(f"={dim}f").pack
    return pack


def float32_rows(rows: Sequence[Sequence[Any]], dim: int) -> np.ndarray | None:
    """``rows`` (lists of ``dim`` numbers each) as a new writable ``(len(rows), dim)`` float32 matrix;
    None when a value does not pack (the caller then converts another way)."""
    pack = _packer(dim)
    count = len(rows)
    try:
        if count <= BLOCK_ROWS:
            return np.frombuffer(bytearray().join(starmap(pack, rows)), dtype=np.float32).reshape(count, dim)
        matrix = np.empty((count, dim), dtype=np.float32)
        for start in range(0, count, BLOCK_ROWS):
            packed = b"".join(starmap(pack, rows[start : start + BLOCK_ROWS]))
            matrix[start : start + BLOCK_ROWS] = np.frombuffer(packed, dtype=np.float32).reshape(-1, dim)
        return matrix
    except (struct.error, OverflowError, TypeError, ValueError):
        return None


def check_finite(array: np.ndarray) -> None:
    """Raise InvalidVector when a value is NaN or infinite (NaN reported first); a matrix is
    checked a block of rows at a time."""
    blocks = [array] if array.ndim < 2 else (array[s : s + BLOCK_ROWS] for s in range(0, len(array), BLOCK_ROWS))
    if all(np.isfinite(block).all() for block in blocks):
        return
    if np.isnan(array).any():
        raise InvalidVector("Vector contains NaN values")
    # Deviation: local mode accepts infinity (and turns a Cosine vector into NaNs); the server
    # rejects non-finite values, and so do we.
    raise InvalidVector("Vector contains infinite values")


def normalized_rows(rows: np.ndarray, owned: bool) -> np.ndarray:
    """``distance.normalize_rows`` of a float32 matrix, bit for bit: each row scaled to unit length
    unless its norm is at or below EPSILON. ``owned``: the matrix is the request's own and is
    scaled in place; otherwise a new matrix is returned."""
    result = rows if owned else np.empty_like(rows)
    one = np.float32(1.0)
    for start in range(0, len(rows), BLOCK_ROWS):
        block = rows[start : start + BLOCK_ROWS]
        norms = np.linalg.norm(block, axis=-1, keepdims=True)
        np.divide(block, np.where(norms > EPSILON, norms, one), out=result[start : start + BLOCK_ROWS])
    return result
