"""RRF and DBSF against qdrant-client's ``hybrid/fusion.py`` (scores and tie order)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http.models import ScoredPoint
from qdrant_client.hybrid.fusion import distribution_based_score_fusion, reciprocal_rank_fusion

from qdrant_local.query import fusion

# Few ids and few distinct scores, so duplicates across sources and exact ties are common.
response_st = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0, -2.0])),
    max_size=10,
    unique_by=lambda pair: pair[0],
)


def to_points(responses: list) -> list[list[ScoredPoint]]:
    return [[ScoredPoint(id=i, version=0, score=s) for i, s in response] for response in responses]


@settings(max_examples=150, derandomize=True)
@given(
    responses=st.lists(response_st, max_size=4),
    limit=st.integers(1, 20),
    k=st.none() | st.integers(1, 100),
    weighted=st.booleans(),
    data=st.data(),
)
def test_rrf(responses: list, limit: int, k: int | None, weighted: bool, data: st.DataObject) -> None:
    weights = (
        data.draw(st.lists(st.floats(-1, 3), min_size=len(responses), max_size=len(responses))) if weighted else None
    )
    expected = reciprocal_rank_fusion(to_points(responses), limit=limit, ranking_constant_k=k, weights=weights)
    got = fusion.reciprocal_rank_fusion(responses, limit=limit, k=k, weights=weights)
    assert got == [(p.id, p.score) for p in expected]


@settings(max_examples=150, derandomize=True)
@given(responses=st.lists(response_st, max_size=4), limit=st.integers(1, 20))
def test_dbsf(responses: list, limit: int) -> None:
    expected = distribution_based_score_fusion(to_points(responses), limit=limit)
    got = fusion.distribution_based_score_fusion(responses, limit=limit)
    assert got == [(p.id, p.score) for p in expected]
