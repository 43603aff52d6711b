"""Bad query input: the same builtin error as qdrant-client's local mode, with
its message - or, where local mode leaks a raw numpy message, a clear one of our own."""

from __future__ import annotations

import pytest
from qdrant_client import models as qm

from qdrant_local import errors
from qdrant_local import models as lm

from .oracle import make_clients

MESSAGES_OURS_ONLY = {"wrong dimension"}


@pytest.fixture(scope="module")
def clients():
    oracle, subject = make_clients()
    for client, m in ((oracle, qm), (subject, lm)):
        client.create_collection("c", vectors_config=m.VectorParams(size=3, distance=m.Distance.COSINE))
        client.create_collection(
            "n",
            vectors_config={"d": m.VectorParams(size=2, distance=m.Distance.DOT)},
            sparse_vectors_config={"s": m.SparseVectorParams()},
        )
        client.upsert("c", [m.PointStruct(id=i, vector=[1.0, float(i), 0.5], payload={"k": i}) for i in range(5)])
        client.upsert("n", [m.PointStruct(id=1, vector={"d": [1.0, 2.0]}), m.PointStruct(id=2, vector={})])
    yield oracle, subject
    oracle.close()
    subject.close()


def both(clients, call):
    outcomes = []
    for client, m in zip(clients, (qm, lm)):
        try:
            call(client, m)
        except Exception as exc:  # noqa: BLE001
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


CASES = {
    "nan": lambda c, m: c.query_points("c", [1.0, float("nan"), 0.0]),
    "unknown using": lambda c, m: c.query_points("c", [1.0, 0.0, 0.0], using="zz"),
    "missing point id": lambda c, m: c.query_points("c", 999),
    "missing uuid point": lambda c, m: c.query_points("c", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    "point lacks the vector": lambda c, m: c.query_points("n", 2, using="d"),
    "unknown vector of a point": lambda c, m: c.query_points("n", 1, using="zz"),
    "limit 0": lambda c, m: c.query_points("c", [1.0, 0.0, 0.0], limit=0),
    "negative offset": lambda c, m: c.query_points("c", [1.0, 0.0, 0.0], offset=-1),
    "fusion without prefetch": lambda c, m: c.query_points("c", m.FusionQuery(fusion=m.Fusion.RRF)),
    "rrf without prefetch": lambda c, m: c.query_points("c", m.RrfQuery(rrf=m.Rrf())),
    "formula without prefetch": lambda c, m: c.query_points("c", m.FormulaQuery(formula="$score")),
    "fusion with using": lambda c, m: c.query_points(
        "c", m.FusionQuery(fusion=m.Fusion.RRF), using="d", prefetch=[m.Prefetch(query=[1.0, 0.0, 0.0])]
    ),
    "prefetch without query": lambda c, m: c.query_points("c", prefetch=[m.Prefetch(query=[1.0, 0.0, 0.0])]),
    "threshold without query": lambda c, m: c.query_points("c", score_threshold=0.5),
    "threshold with order_by": lambda c, m: c.query_points("c", m.OrderByQuery(order_by="k"), score_threshold=0.5),
    "rrf k 0": lambda c, m: c.query_points(
        "c", m.RrfQuery(rrf=m.Rrf(k=0)), prefetch=[m.Prefetch(query=[1.0, 0.0, 0.0])]
    ),
    "prefetch limit 0": lambda c, m: c.query_points(
        "c", [1.0, 0.0, 0.0], prefetch=[m.Prefetch(query=[1.0, 0.0, 0.0], limit=0)]
    ),
    "mmr candidates over max": lambda c, m: c.query_points(
        "c", m.NearestQuery(nearest=[1.0, 0.0, 0.0], mmr=m.Mmr(candidates_limit=20000))
    ),
    "mmr diversity out of range": lambda c, m: c.query_points(
        "c", m.NearestQuery(nearest=[1.0, 0.0, 0.0], mmr=m.Mmr(diversity=1.5))
    ),
    "recommend nothing": lambda c, m: c.query_points("c", m.RecommendQuery(recommend=m.RecommendInput())),
    "best_score nothing": lambda c, m: c.query_points(
        "c", m.RecommendQuery(recommend=m.RecommendInput(strategy=m.RecommendStrategy.BEST_SCORE))
    ),
    "recommend nan": lambda c, m: c.query_points(
        "c",
        m.RecommendQuery(
            recommend=m.RecommendInput(positive=[[float("nan"), 0.0, 1.0]], strategy=m.RecommendStrategy.BEST_SCORE)
        ),
    ),
    "sparse query on dense name": lambda c, m: c.query_points(
        "n", m.SparseVector(indices=[1], values=[1.0]), using="d"
    ),
    "dense query on sparse name": lambda c, m: c.query_points("n", [1.0, 2.0], using="s"),
    "multivector query on dense name": lambda c, m: c.query_points("c", [[1.0, 0.0, 0.0]]),
    "sparse duplicate indices": lambda c, m: c.query_points(
        "n", m.SparseVector(indices=[1, 1], values=[1.0, 2.0]), using="s"
    ),
    "with_payload str": lambda c, m: c.query_points("c", [1.0, 0.0, 0.0], with_payload="k"),
    "missing collection": lambda c, m: c.query_points("zz", [1.0, 0.0, 0.0]),
    "groups size 0": lambda c, m: c.query_points_groups("c", "k", [1.0, 0.0, 0.0], group_size=0),
    "matrix sample 1": lambda c, m: c.search_matrix_pairs("c", sample=1),
    "matrix limit 0": lambda c, m: c.search_matrix_offsets("c", limit=0),
    "bad filter path": lambda c, m: c.query_points(
        "c", [1.0, 0.0, 0.0], query_filter=m.Filter(must=[m.FieldCondition(key="a..b", match=m.MatchValue(value=1))])
    ),
    "wrong dimension": lambda c, m: c.query_points("c", [1.0, 0.0]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_query_input(clients, case: str) -> None:
    expected, actual = both(clients, CASES[case])
    assert expected is not None, f"local mode accepted {case}"
    assert actual is not None, f"qdrant_local accepted {case}; local mode raised {expected!r}"
    assert isinstance(actual, errors.QdrantLocalError), f"{actual!r} is not one of our errors"
    expected_base = next(c for c in type(expected).__mro__ if c.__module__ == "builtins")
    assert isinstance(actual, expected_base), f"{actual!r} is not a {expected_base.__name__} like {expected!r}"
    if case in MESSAGES_OURS_ONLY:
        assert "expected dim: 3, got 2" in str(actual)
    else:
        assert str(actual) == str(expected)
