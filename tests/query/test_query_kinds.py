"""Every query kind against qdrant-client's local mode, on random collections.

Five collections, identical on both sides: an unnamed dense vector for each of the four distances
(with rewritten vectors and payloads, deleted points, a duplicated vector), and one with named dense
vectors, multivectors and sparse vectors (one with the IDF modifier), where points lack some vectors.
Hypothesis draws query requests (every query kind, prefetch trees, filters, thresholds, offsets,
payload and vector selectors); both sides must return the same points with the same scores, in the
same order, or fail with the same error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..differential.specs import Call, Enum
from .oracle import (
    DENSE_DIM,
    DISTANCES,
    NAMED_DENSE,
    NAMED_MULTI,
    SPARSE_DIMS,
    Twin,
    assert_same_outcome,
    assert_same_points,
    call_both,
    dense_twin,
    make_clients,
    named_twin,
)

SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def twins() -> dict[str, Twin]:
    oracle, subject = make_clients()
    built = {d: dense_twin((oracle, subject), d, seed=11 + i) for i, d in enumerate(DISTANCES)}
    built["named"] = named_twin((oracle, subject), seed=5)
    yield built
    oracle.close()
    subject.close()


# -- building blocks ------------------------------------------------------------------------------

seeds = st.integers(0, 2**31)


def dense(seed: int, dim: int) -> list[float]:
    return np.random.default_rng(seed).normal(size=dim).round(5).tolist()


def multi(seed: int, dim: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(int(rng.integers(1, 4)), dim)).round(5).tolist()


def sparse(seed: int) -> Call:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 7))
    indices = [int(i) for i in rng.choice(SPARSE_DIMS, size=size, replace=False)]
    return Call("SparseVector", indices=indices, values=rng.normal(size=size).round(4).tolist())


def point_ids(twin: Twin) -> st.SearchStrategy[Any]:
    """Mostly live ids, sometimes a deleted or unknown one (an error on both sides)."""
    live = st.sampled_from(twin.ids)
    return st.one_of(live, live, live, live, st.sampled_from([*twin.deleted[:2], 10**9]))


conditions = st.one_of(
    st.integers(0, 5).map(lambda g: Call("FieldCondition", key="g", match=Call("MatchValue", value=g))),
    st.sampled_from(["red", "green", "blue"]).map(
        lambda t: Call("FieldCondition", key="tag", match=Call("MatchValue", value=t))
    ),
    st.lists(st.sampled_from(["red", "green", "blue"]), min_size=1, max_size=2).map(
        lambda ts: Call("FieldCondition", key="tag", match=Call("MatchAny", any=ts))
    ),
    st.tuples(st.floats(-2, 1), st.floats(0, 2)).map(
        lambda b: Call("FieldCondition", key="x", range=Call("Range", gte=b[0], lt=b[0] + b[1]))
    ),
    st.lists(st.integers(0, 240), min_size=5, max_size=80).map(lambda ids: Call("HasIdCondition", has_id=ids)),
    st.just(Call("IsEmptyCondition", is_empty=Call("PayloadField", key="x"))),
    st.just(Call("FieldCondition", key="arr", values_count=Call("ValuesCount", gte=1))),
)

filters = st.one_of(
    st.none(),
    st.none(),
    st.builds(
        lambda must, should, must_not: Call("Filter", must=must, should=should, must_not=must_not),
        st.none() | st.lists(conditions, max_size=2),
        st.none() | st.lists(conditions, min_size=1, max_size=2),
        st.none() | st.lists(conditions, max_size=1),
    ),
)

with_payloads = st.sampled_from([True, False, ["g"], ["tag", "x"]])
limits = st.integers(1, 15)
offsets = st.none() | st.integers(0, 4)


def example(twin: Twin, kind: str, using: str | None) -> st.SearchStrategy[Any]:
    """A recommend / discover example: a point id or a raw vector of the searched kind."""
    if kind == "dense":
        dim = DENSE_DIM if not twin.named else NAMED_DENSE[using][0]  # type: ignore[index]
        raw = seeds.map(lambda s: dense(s, dim))
    elif kind == "multi":
        raw = seeds.map(lambda s: multi(s, NAMED_MULTI[using][0]))  # type: ignore[index]
    else:
        raw = seeds.map(sparse)
    return st.one_of(st.sampled_from(twin.ids), raw)


@st.composite
def vector_query(draw: st.DrawFn, twin: Twin, kind: str, using: str | None) -> Any:
    """A nearest query in one of its forms: bare vector, numpy array, point id, NearestQuery (+MMR)."""
    item = draw(st.one_of(example(twin, kind, using), point_ids(twin)))
    form = draw(st.sampled_from(["bare", "bare", "nearest", "mmr", "numpy"]))
    if form == "numpy" and isinstance(item, list):
        return np.asarray(item)
    if form == "nearest":
        return Call("NearestQuery", nearest=item)
    if form == "mmr":
        mmr = Call(
            "Mmr", diversity=draw(st.none() | st.floats(0, 1)), candidates_limit=draw(st.none() | st.integers(1, 40))
        )
        return Call("NearestQuery", nearest=item, mmr=mmr)
    return item


@st.composite
def example_query(draw: st.DrawFn, twin: Twin, kind: str, using: str | None, ties: bool = True) -> Any:
    """Recommend (three strategies), discover or context (not when ``ties`` is False: context
    scores are mostly exactly 0.0, whose order local mode leaves to numpy's unstable sort)."""
    ex = example(twin, kind, using)
    kinds = ["recommend", "discover", "context"] if ties else ["recommend", "discover"]
    if kind == "dense":
        kinds.append("feedback")  # local mode only runs relevance feedback on dense vectors
    which = draw(st.sampled_from(kinds))
    if which == "feedback":
        items = draw(st.lists(st.tuples(ex, st.floats(-1, 1)), max_size=3))
        return Call(
            "RelevanceFeedbackQuery",
            relevance_feedback=Call(
                "RelevanceFeedbackInput",
                target=draw(ex),
                feedback=[Call("FeedbackItem", example=e, score=score) for e, score in items],
                strategy=Call(
                    "NaiveFeedbackStrategy",
                    naive=Call(
                        "NaiveFeedbackStrategyParams",
                        a=draw(st.floats(0.1, 2)),
                        b=draw(st.sampled_from([-0.5, 0.0, 0.5, 1.0, 1.7])),
                        c=draw(st.floats(0.1, 2)),
                    ),
                ),
            ),
        )
    if which == "recommend":
        strategy = draw(st.none() | st.sampled_from(["AVERAGE_VECTOR", "BEST_SCORE", "SUM_SCORES"]))
        return Call(
            "RecommendQuery",
            recommend=Call(
                "RecommendInput",
                positive=draw(st.lists(ex, min_size=draw(st.sampled_from([0, 1, 1, 1, 1])), max_size=3)),
                negative=draw(st.lists(ex, max_size=2)),
                strategy=Enum("RecommendStrategy", strategy) if strategy else None,
            ),
        )
    # positive != negative: for an identical pair local mode compares a vector with itself after
    # re-normalising the stored matrix in place in between, so its ranks flip at random.
    pair = (
        st.tuples(ex, ex)
        .filter(lambda p: p[0] != p[1])
        .map(lambda p: Call("ContextPair", positive=p[0], negative=p[1]))
    )
    pairs = draw(st.lists(pair, min_size=0 if which == "discover" else 1, max_size=3))
    if which == "context":
        return Call("ContextQuery", context=pairs)
    return Call("DiscoverQuery", discover=Call("DiscoverInput", target=draw(ex), context=pairs))


def vector_kinds(twin: Twin, ties: bool = True) -> st.SearchStrategy[tuple[str, str | None]]:
    if not twin.named:
        return st.just(("dense", None))
    kinds = [("dense", "a"), ("dense", "b"), ("multi", "m"), ("sparse", "s"), ("sparse", "t")]
    # MAX_SIM under Manhattan ties whole regions: every document row inside the box spanned by
    # two query rows gets the same sum of L1 distances.
    return st.sampled_from(kinds + [("multi", "me")] if ties else kinds)


@st.composite
def leaf_query(draw: st.DrawFn, twin: Twin, ties: bool = True) -> tuple[Any, str | None]:
    kind, using = draw(vector_kinds(twin, ties))
    if kind == "sparse" and not ties:
        # Every point sharing no index with an example scores exactly the same (0.5 for discovery).
        return draw(vector_query(twin, kind, using)), using
    query = draw(st.one_of(vector_query(twin, kind, using), example_query(twin, kind, using, ties)))
    return query, using


@st.composite
def prefetches(draw: st.DrawFn, twin: Twin, depth: int = 1) -> Any:
    # Prefetch results feed ranks (fusion) and candidate sets: their order must be deterministic.
    query, using = draw(leaf_query(twin, ties=False))
    inner = None
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        inner = draw(st.lists(prefetches(twin, depth - 1), min_size=1, max_size=2))
        query, using = draw(leaf_query(twin, ties=False))
    return Call(
        "Prefetch",
        query=query,
        using=using,
        prefetch=inner,
        filter=draw(filters),
        limit=draw(st.none() | st.integers(1, 25)),
        score_threshold=None,
    )


formulas = st.sampled_from(
    [
        Call("SumExpression", sum=["$score", Call("MultExpression", mult=[0.25, "x"])]),
        Call(
            "SumExpression",
            sum=["$score[0]", "$score[1]", Call("FieldCondition", key="tag", match=Call("MatchValue", value="red"))],
        ),
        Call(
            "MultExpression",
            mult=["$score", Call("ExpDecayExpression", exp_decay=Call("DecayParamsExpression", x="x", scale=2.0))],
        ),
        Call("MaxExpression", max=["$score[0]", "$score[1]"]),
    ]
)


@st.composite
def requests(draw: st.DrawFn, twin: Twin, ties: bool = True) -> dict[str, Any]:
    """A query_points request (spec kwargs); without ``ties``, only queries whose full ranking is
    deterministic in local mode (groups depend on the order of every point)."""
    shape = draw(st.sampled_from(["leaf", "leaf", "leaf", "fusion", "rrf", "formula", "rescore", "order_by", "scroll"]))
    request: dict[str, Any] = {
        "query_filter": draw(filters),
        "limit": draw(limits),
        "offset": draw(offsets),
        "with_payload": draw(with_payloads),
        "with_vectors": draw(st.booleans()),
    }
    if shape == "leaf":
        request["query"], request["using"] = draw(leaf_query(twin, ties))
        if draw(st.integers(0, 3)) == 0:
            request["score_threshold"] = draw(st.floats(-3, 6))
        if not twin.named and draw(st.integers(0, 4)) == 0:
            # Ids then name points of another collection (same dimension), never excluded.
            request["lookup_from"] = Call(
                "LookupLocation", collection=draw(st.sampled_from(["dense_dot", "dense_euclid"]))
            )
    elif shape in ("fusion", "rrf", "formula", "rescore"):
        request["prefetch"] = draw(st.lists(prefetches(twin), min_size=1, max_size=3))
        if shape == "fusion":
            request["query"] = Call("FusionQuery", fusion=Enum("Fusion", draw(st.sampled_from(["RRF", "DBSF"]))))
        elif shape == "rrf":
            weights = draw(
                st.none()
                | st.lists(st.floats(0, 2), min_size=len(request["prefetch"]), max_size=len(request["prefetch"]))
            )
            request["query"] = Call(
                "RrfQuery", rrf=Call("Rrf", k=draw(st.none() | st.integers(1, 60)), weights=weights)
            )
        elif shape == "formula":
            request["query"] = Call("FormulaQuery", formula=draw(formulas), defaults={"x": 0.0})
        else:
            request["query"], request["using"] = draw(leaf_query(twin, ties))
    if draw(st.integers(0, 4)) == 0:
        # idf narrows the IDF corpus of sparse "s"; the index parameters change nothing.
        request["search_params"] = Call(
            "SearchParams",
            hnsw_ef=draw(st.none() | st.just(128)),
            exact=draw(st.none() | st.booleans()),
            idf=draw(
                st.none() | filters.filter(lambda f: f is not None).map(lambda f: Call("IdfCorpusParams", corpus=f))
            ),
        )
    if shape == "order_by":
        key = draw(st.sampled_from(["x", "g"]))
        direction = draw(st.none() | st.sampled_from(["ASC", "DESC"]))
        request["query"] = Call(
            "OrderByQuery",
            order_by=Call("OrderBy", key=key, direction=Enum("Direction", direction) if direction else None),
        )
    return request


def _exact(request: dict[str, Any]) -> bool:
    """Results whose order is fully determined (no scores): scroll and order_by."""
    query = request.get("query")
    return query is None or (isinstance(query, Call) and query.name == "OrderByQuery")


def check(twin: Twin, request: dict[str, Any], form: str = "models") -> None:
    expected, actual = call_both(twin, "query_points", form=form, **request)
    assert_same_outcome(
        expected,
        actual,
        lambda e, a: assert_same_points(
            e.points,
            a.points,
            limit=request.get("limit"),
            exact_order=_exact(request),
            offset=request.get("offset") or 0,
        ),
    )


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("distance", DISTANCES)
@SETTINGS
@given(data=st.data())
def test_query_points_dense(twins: dict[str, Twin], distance: str, data: st.DataObject) -> None:
    twin = twins[distance]
    check(twin, data.draw(requests(twin)))


@settings(SETTINGS, max_examples=150)
@given(data=st.data())
def test_query_points_named_sparse_multi(twins: dict[str, Twin], data: st.DataObject) -> None:
    twin = twins["named"]
    check(twin, data.draw(requests(twin)))


@settings(SETTINGS, max_examples=40)
@given(data=st.data(), distance=st.sampled_from([*DISTANCES, "named"]))
def test_query_points_rest_dicts(twins: dict[str, Twin], data: st.DataObject, distance: str) -> None:
    """The subject gets the request as REST-shaped dicts; the oracle as its own models."""
    twin = twins[distance]
    check(twin, data.draw(requests(twin)), form="rest")


@settings(SETTINGS, max_examples=40)
@given(data=st.data(), name=st.sampled_from([*DISTANCES, "named"]))
def test_query_batch_points(twins: dict[str, Twin], data: st.DataObject, name: str) -> None:
    twin = twins[name]
    batch = data.draw(st.lists(requests(twin), min_size=1, max_size=5))
    specs = []
    for request in batch:
        spec = {
            "query": request.get("query"),
            "using": request.get("using"),
            "prefetch": request.get("prefetch"),
            "filter": request.get("query_filter"),
            "limit": request["limit"],
            "offset": request.get("offset"),
            "with_payload": request["with_payload"],
            "with_vector": request["with_vectors"],
            "score_threshold": request.get("score_threshold"),
            "lookup_from": request.get("lookup_from"),
            "params": request.get("search_params"),
        }
        specs.append(Call("QueryRequest", **spec))
    expected, actual = call_both(twin, "query_batch_points", requests=specs)

    def compare(e: Any, a: Any) -> None:
        assert len(e) == len(a)
        for request, re_, ra in zip(batch, e, a):
            assert_same_points(
                re_.points,
                ra.points,
                limit=request["limit"],
                exact_order=_exact(request),
                offset=request.get("offset") or 0,
            )

    assert_same_outcome(expected, actual, compare)


def _same_groups(e: Any, a: Any, group_size: int) -> None:
    eg, ag = e.groups, a.groups
    assert [g.id for g in eg] == [g.id for g in ag], f"group ids {[g.id for g in eg]} != {[g.id for g in ag]}"
    for ge, ga in zip(eg, ag):
        assert_same_points(ge.hits, ga.hits, limit=group_size)
        if ge.lookup is None:
            assert ga.lookup is None
        else:
            assert ga.lookup is not None and ge.lookup.id == ga.lookup.id and ge.lookup.payload == ga.lookup.payload


@settings(SETTINGS, max_examples=50)
@given(data=st.data(), name=st.sampled_from([*DISTANCES, "named"]))
def test_query_points_groups(twins: dict[str, Twin], data: st.DataObject, name: str) -> None:
    twin = twins[name]
    request = data.draw(requests(twin, ties=False))
    request.pop("offset", None)
    group_size = data.draw(st.integers(1, 4))
    request.update(
        group_by=data.draw(st.sampled_from(["g", "tag", "arr"])),
        group_size=group_size,
        with_lookup=data.draw(
            st.none()
            | st.just(twins["Dot"].name)
            | st.just(Call("WithLookup", collection=twins["Dot"].name, with_payload=["tag"]))
        ),
    )
    expected, actual = call_both(twin, "query_points_groups", **request)
    assert_same_outcome(expected, actual, lambda e, a: _same_groups(e, a, group_size))


@pytest.mark.parametrize("name", [*DISTANCES, "named"])
@settings(SETTINGS, max_examples=10)
@given(limit=st.integers(1, 4), data=st.data())
def test_search_matrix(twins: dict[str, Twin], name: str, limit: int, data: st.DataObject) -> None:
    """With a sample larger than the matching points, sampling is not random and results must agree."""
    twin = twins[name]
    using = data.draw(st.sampled_from(["a", "b", "m", "s"])) if twin.named else None
    query_filter = Call(
        "Filter", must=[Call("FieldCondition", key="g", match=Call("MatchValue", value=data.draw(st.integers(0, 4))))]
    )
    for method in ("search_matrix_pairs", "search_matrix_offsets"):
        expected, actual = call_both(twin, method, query_filter=query_filter, limit=limit, sample=1000, using=using)

        def compare(e: Any, a: Any) -> None:
            if method == "search_matrix_offsets":
                assert e.ids == a.ids and e.offsets_row == a.offsets_row
                assert np.allclose(e.scores, a.scores, rtol=1e-5, atol=1e-5)
                rows_e = _rows(e.offsets_row, e.offsets_col, e.scores)
                rows_a = _rows(a.offsets_row, a.offsets_col, a.scores)
                for row_e, row_a in zip(rows_e, rows_a):
                    _same_row(row_e, row_a, limit)
            else:
                assert [(p.a) for p in e.pairs] == [(p.a) for p in a.pairs]
                assert np.allclose([p.score for p in e.pairs], [p.score for p in a.pairs], rtol=1e-5, atol=1e-5)

        assert_same_outcome(expected, actual, compare)


def _rows(rows: list[int], cols: list[int], scores: list[float]) -> list[list[tuple[int, float]]]:
    out: dict[int, list[tuple[int, float]]] = {}
    for r, c, s in zip(rows, cols, scores):
        out.setdefault(r, []).append((c, s))
    return [out[r] for r in sorted(out)]


def _same_row(e: list[tuple[int, float]], a: list[tuple[int, float]], limit: int) -> None:
    assert [round(s, 5) for _, s in e] == [round(s, 5) for _, s in a] or np.allclose(
        [s for _, s in e], [s for _, s in a], atol=1e-5
    )
    if len({round(s, 5) for _, s in e}) == len(e) and len(e) < limit:
        assert [c for c, _ in e] == [c for c, _ in a]


@settings(SETTINGS, max_examples=30)
@given(data=st.data(), name=st.sampled_from([*DISTANCES, "named"]))
def test_sample_query(twins: dict[str, Twin], data: st.DataObject, name: str) -> None:
    """Random samples cannot be compared point by point: same size, every point matches the filter."""
    twin = twins[name]
    query_filter = data.draw(filters)
    limit = data.draw(limits)
    expected, actual = call_both(
        twin,
        "query_points",
        query=Call("SampleQuery", sample=Enum("Sample", "RANDOM")),
        query_filter=query_filter,
        limit=limit,
    )
    matching, _ = call_both(twin, "scroll", scroll_filter=query_filter, limit=10**6, with_payload=False)

    def compare(e: Any, a: Any) -> None:
        assert len(e.points) == len(a.points)
        allowed = {str(r.id) for r in matching.value[0]}
        assert {str(p.id) for p in a.points} <= allowed
        assert len({str(p.id) for p in a.points}) == len(a.points)
        assert all(p.score == 1.0 for p in a.points)

    assert_same_outcome(expected, actual, compare)
