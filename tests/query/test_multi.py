"""MAX_SIM multivector scoring against qdrant-client's ``local/multi_distances.py``."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.local.multi_distances import calculate_multi_distance, calculate_multi_distance_core

from qdrant_local.engine.distance import COSINE, DOT, EUCLID, MANHATTAN
from qdrant_local.engine.multi import MultiIndex
from qdrant_local.query import multi

DISTANCES = {
    COSINE: qm.Distance.COSINE,
    DOT: qm.Distance.DOT,
    EUCLID: qm.Distance.EUCLID,
    MANHATTAN: qm.Distance.MANHATTAN,
}
DIM = 5


def stored(rng: np.random.Generator, distance: str) -> np.ndarray:
    matrix = rng.standard_normal((int(rng.integers(1, 5)), DIM)).astype(np.float32)
    if distance == COSINE:
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


@settings(max_examples=60, derandomize=True)
@given(
    distance=st.sampled_from(sorted(DISTANCES)),
    seed=st.integers(0, 2**32 - 1),
    writes=st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=200),
)
def test_index_scores_match_oracle(distance: str, seed: int, writes: list) -> None:
    rng = np.random.default_rng(seed)
    index = MultiIndex(DIM)
    current: dict[int, np.ndarray] = {}
    for slot, keep in writes:
        if keep:
            current[slot] = stored(rng, distance)
            index.set(slot, current[slot])
        else:
            current.pop(slot, None)
            index.remove(slot)
    index.compact() if rng.random() < 0.3 else None
    query = rng.standard_normal((int(rng.integers(1, 4)), DIM))
    slots = np.array(sorted(current) + [41], dtype=np.int64)  # 41 holds nothing
    expected_core = calculate_multi_distance_core(
        np.array(query.tolist()), [current[s].copy() for s in slots[:-1]], DISTANCES[distance]
    )

    prepared = multi.prepare_queries([query], distance)
    approx = index.approx_max_sim(prepared, slots, distance)[0]
    assert approx[-1] == -np.inf
    np.testing.assert_allclose(approx[:-1], expected_core, rtol=1e-4, atol=1e-4)

    exact = np.array([multi.exact_max_sim(query, index.matrix(s), distance) for s in slots[:-1]])
    np.testing.assert_allclose(exact, expected_core, rtol=1e-7, atol=1e-7)
    expected_display = calculate_multi_distance(
        np.array(query.tolist()), [current[s].copy() for s in slots[:-1]], DISTANCES[distance]
    )
    np.testing.assert_allclose(multi.display_from_core(exact, distance), expected_display, rtol=1e-7, atol=1e-7)
