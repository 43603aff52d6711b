"""The pre-1.14 search API (removed from qdrant-client 1.20) against the oracle's query API.

Each legacy call must return what the equivalent query_points / query_batch_points /
query_points_groups request returns in qdrant-client, and warn once that it is deprecated.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from qdrant_client import models as qm

from qdrant_local import models as lm
from qdrant_local.api import legacy
from qdrant_local.models.query import (
    ContextExamplePair,
    DiscoverRequest,
    NamedSparseVector,
    NamedVector,
    RecommendRequest,
    SearchRequest,
)

from .oracle import Twin, assert_same_points, dense_twin, make_clients, named_twin


@pytest.fixture(scope="module")
def twins() -> dict[str, Twin]:
    oracle, subject = make_clients()
    built = {"dense": dense_twin((oracle, subject), "Euclid", seed=3), "named": named_twin((oracle, subject), seed=4)}
    yield built
    oracle.close()
    subject.close()


def vec(seed: int, dim: int) -> list[float]:
    return np.random.default_rng(seed).normal(size=dim).round(5).tolist()


def quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return call()


@pytest.mark.parametrize(
    "query_vector, using, query",
    [
        (vec(1, 8), None, vec(1, 8)),
        (np.asarray(vec(2, 8)), None, vec(2, 8)),
    ],
)
def test_search_unnamed(twins, query_vector, using, query) -> None:
    twin = twins["dense"]
    f = {"must": [{"key": "g", "match": {"value": 2}}]}
    expected = twin.oracle.query_points(
        twin.name, query, query_filter=qm.Filter(**f), limit=7, offset=1, score_threshold=4.0
    ).points
    actual = quiet(
        lambda: twin.subject.search(twin.name, query_vector, query_filter=f, limit=7, offset=1, score_threshold=4.0)
    )
    assert_same_points(expected, actual, limit=7, offset=1)


@pytest.mark.parametrize(
    "form",
    ["tuple", "named", "dict", "sparse_named", "sparse_dict"],
)
def test_search_named(twins, form) -> None:
    twin = twins["named"]
    if form.startswith("sparse"):
        sparse = {"indices": [1, 5, 9, 13], "values": [0.5, -1.0, 2.0, 0.25]}
        query_vector = (
            NamedSparseVector(name="s", vector=lm.SparseVector(**sparse))
            if form == "sparse_named"
            else {"name": "s", "vector": sparse}
        )
        expected = twin.oracle.query_points(
            twin.name, qm.SparseVector(**sparse), using="s", limit=5, with_vectors=["s"]
        ).points
    else:
        vector = vec(3, 6)
        query_vector = {
            "tuple": ("a", vector),
            "named": NamedVector(name="a", vector=vector),
            "dict": {"name": "a", "vector": vector},
        }[form]
        expected = twin.oracle.query_points(twin.name, vector, using="a", limit=5, with_vectors=["s"]).points
    actual = quiet(lambda: twin.subject.search(twin.name, query_vector, limit=5, with_vectors=["s"]))
    assert_same_points(expected, actual, limit=5)


def test_search_batch(twins) -> None:
    twin = twins["named"]
    requests = [
        SearchRequest(vector=NamedVector(name="b", vector=vec(4, 4)), limit=3, with_payload=True),
        SearchRequest(
            vector=NamedVector(name="a", vector=vec(5, 6)),
            limit=4,
            offset=2,
            filter=lm.Filter(must=[lm.FieldCondition(key="tag", match=lm.MatchValue(value="red"))]),
        ),
    ]
    expected = twin.oracle.query_batch_points(
        twin.name,
        [
            qm.QueryRequest(query=vec(4, 4), using="b", limit=3, with_payload=True),
            qm.QueryRequest(
                query=vec(5, 6),
                using="a",
                limit=4,
                offset=2,
                filter=qm.Filter(must=[qm.FieldCondition(key="tag", match=qm.MatchValue(value="red"))]),
            ),
        ],
    )
    actual = quiet(lambda: twin.subject.search_batch(twin.name, requests))
    for e, a, limit, offset in zip(expected, actual, (3, 4), (0, 2)):
        assert_same_points(e.points, a, limit=limit, offset=offset)
        assert all(p.payload is None for p in a[1:]) or limit == 3  # no payload unless asked, as in local mode


def test_search_groups(twins) -> None:
    twin = twins["dense"]
    expected = twin.oracle.query_points_groups(twin.name, "tag", query=vec(6, 8), limit=3, group_size=1)
    actual = quiet(lambda: twin.subject.search_groups(twin.name, vec(6, 8), "tag", limit=3))
    assert [g.id for g in expected.groups] == [g.id for g in actual.groups]
    for e, a in zip(expected.groups, actual.groups):
        assert_same_points(e.hits, a.hits, limit=1)


@pytest.mark.parametrize("strategy", [None, "average_vector", "best_score", "sum_scores"])
def test_recommend(twins, strategy) -> None:
    twin = twins["dense"]
    positive, negative = [twin.ids[3], vec(7, 8)], [twin.ids[10]]
    query = qm.RecommendQuery(recommend=qm.RecommendInput(positive=positive, negative=negative, strategy=strategy))
    expected = twin.oracle.query_points(twin.name, query, limit=6, offset=1).points
    actual = quiet(
        lambda: twin.subject.recommend(
            twin.name, positive=positive, negative=negative, strategy=strategy, limit=6, offset=1
        )
    )
    assert_same_points(expected, actual, limit=6, offset=1)


def test_recommend_batch_and_groups(twins) -> None:
    twin = twins["named"]
    positive = [twin.ids[1], twin.ids[2]]
    expected = twin.oracle.query_points(
        twin.name,
        qm.RecommendQuery(recommend=qm.RecommendInput(positive=positive, strategy="best_score")),
        using="b",
        limit=5,
    ).points
    actual = quiet(
        lambda: twin.subject.recommend_batch(
            twin.name,
            [RecommendRequest(positive=positive, strategy="best_score", using="b", limit=5, with_payload=True)],
        )
    )
    assert_same_points(expected, actual[0], limit=5)
    expected_groups = twin.oracle.query_points_groups(
        twin.name,
        "g",
        qm.RecommendQuery(recommend=qm.RecommendInput(positive=positive)),
        using="a",
        limit=3,
        group_size=2,
    )
    actual_groups = quiet(
        lambda: twin.subject.recommend_groups(twin.name, "g", positive=positive, using="a", limit=3, group_size=2)
    )
    assert [g.id for g in expected_groups.groups] == [g.id for g in actual_groups.groups]


def test_discover_and_context(twins) -> None:
    twin = twins["dense"]
    pairs = [
        ContextExamplePair(positive=twin.ids[0], negative=twin.ids[5]),
        ContextExamplePair(positive=vec(8, 8), negative=twin.ids[6]),
    ]
    oracle_pairs = [qm.ContextPair(positive=p.positive, negative=p.negative) for p in pairs]
    expected = twin.oracle.query_points(
        twin.name, qm.DiscoverQuery(discover=qm.DiscoverInput(target=twin.ids[9], context=oracle_pairs)), limit=5
    ).points
    actual = quiet(lambda: twin.subject.discover(twin.name, target=twin.ids[9], context=pairs, limit=5))
    assert_same_points(expected, actual, limit=5)
    expected = twin.oracle.query_points(twin.name, qm.ContextQuery(context=oracle_pairs), limit=5).points
    actual = quiet(
        lambda: twin.subject.discover_batch(twin.name, [DiscoverRequest(context=pairs, limit=5, with_payload=True)])
    )[0]
    assert_same_points(expected, actual, limit=5)
    with pytest.raises(ValueError, match="No target or context given"):
        quiet(lambda: twin.subject.discover(twin.name))


def test_each_method_warns_once(twins) -> None:
    twin = twins["dense"]
    legacy._warned.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twin.subject.search(twin.name, vec(9, 8), limit=1)
        twin.subject.search(twin.name, vec(9, 8), limit=1)
        twin.subject.recommend(twin.name, positive=[twin.ids[0]], limit=1)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert messages == [
        "`search` method is deprecated and will be removed in the future. Use `query_points` instead.",
        "`recommend` method is deprecated and will be removed in the future. Use `query_points` instead.",
    ]
