"""The distance names and qdrant-client's two Cosine normalisation rules, shared by every layer.

Stored vectors and queries are normalised differently, as qdrant-client does it: a stored row is
scaled to unit length only when its norm exceeds float32 epsilon (a zero or tiny vector is stored
as it came, as float32), while a query is divided by its norm, or by epsilon when the norm is zero
(keeping its dtype).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["COSINE", "DOT", "EUCLID", "MANHATTAN", "EPSILON", "normalize_rows", "normalize_query"]

COSINE, DOT, EUCLID, MANHATTAN = "Cosine", "Dot", "Euclid", "Manhattan"

# f32::EPSILON as qdrant-client spells it (``EPSILON = 1.1920929e-7``); as a float32 it is exactly
# np.finfo(np.float32).eps.
EPSILON = 1.1920929e-7


def normalize_rows(rows: np.ndarray) -> np.ndarray:
    """Stored vectors: scale each row to unit length, leaving rows with a norm at or below EPSILON
    as they are; float32."""
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    # x / 1 is x exactly, so dividing the small rows by 1 leaves them as they came: one new matrix.
    return np.asarray(rows / np.where(norms > EPSILON, norms, np.float32(1.0)), dtype=np.float32)


def normalize_query(query: np.ndarray) -> np.ndarray:
    """Queries (row-wise for a matrix): divide by the norm, or by EPSILON when the norm is zero."""
    if query.ndim == 1 and query.dtype == np.float64:
        # What np.linalg.norm(axis=-1) computes (the sum of squares by add.reduce, its square root),
        # without its dispatch: a float64 square root is the same in math and numpy.
        norm = math.sqrt(np.add.reduce(query * query))
        return query / (norm if norm != 0.0 else EPSILON)
    norm = np.linalg.norm(query, axis=-1, keepdims=query.ndim > 1)
    return query / np.where(norm != 0.0, norm, EPSILON)
