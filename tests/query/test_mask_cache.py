"""Queries stay right while the collection changes between them: the state-keyed caches (filter
masks, Euclid row norms) must never serve a result from before a write."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client import models as qm

from qdrant_local import models as lm
from qdrant_local.engine.maskcache import freeze

from .oracle import assert_same_points, make_clients

steps = st.lists(
    st.one_of(
        st.tuples(st.just("set_payload"), st.integers(0, 29), st.integers(0, 2)),
        st.tuples(st.just("delete"), st.integers(0, 29), st.just(0)),
        st.tuples(st.just("upsert"), st.integers(0, 40), st.integers(0, 2)),
        st.tuples(st.just("delete_vectors"), st.integers(0, 29), st.just(0)),
        st.tuples(st.just("query"), st.integers(0, 2), st.booleans()),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(steps=steps, seed=st.integers(0, 1000), distance=st.sampled_from(["DOT", "EUCLID"]))
def test_repeated_filter_after_writes(steps: list, seed: int, distance: str) -> None:
    rng = np.random.default_rng(seed)
    oracle, subject = make_clients()
    try:
        for client, m in ((oracle, qm), (subject, lm)):
            client.create_collection(
                "c", vectors_config={"v": m.VectorParams(size=3, distance=getattr(m.Distance, distance))}
            )
            client.upsert(
                "c",
                [
                    m.PointStruct(id=i, vector={"v": [float(i % 5), 1.0 + i / 7, float(i % 3)]}, payload={"k": i % 3})
                    for i in range(30)
                ],
            )
        query = rng.normal(size=3).tolist()
        for action, point, value in steps:
            if action == "query":
                results = []
                for client, m in ((oracle, qm), (subject, lm)):
                    must = [m.FieldCondition(key="k", match=m.MatchValue(value=point))]
                    if value:
                        must.append(m.HasVectorCondition(has_vector="v"))
                    results.append(
                        client.query_points("c", query, using="v", query_filter=m.Filter(must=must), limit=3).points
                    )
                assert_same_points(results[0], results[1], limit=3)
                continue
            for client, m in ((oracle, qm), (subject, lm)):
                if action == "set_payload":
                    client.set_payload("c", {"k": value}, points=[point]) if point in _ids(client) else None
                elif action == "delete":
                    client.delete("c", [point])
                elif action == "upsert":
                    client.upsert(
                        "c",
                        [
                            m.PointStruct(
                                id=point, vector={"v": [1.0, float(value) + point / 3, 0.5]}, payload={"k": value}
                            )
                        ],
                    )
                elif action == "delete_vectors" and point in _ids(client):
                    client.delete_vectors("c", ["v"], [point])
    finally:
        oracle.close()
        subject.close()


def _ids(client) -> set:
    return {r.id for r in client.scroll("c", limit=1000)[0]}


def test_freeze_is_type_exact() -> None:
    assert freeze({"value": 1}) != freeze({"value": 1.0}) != freeze({"value": True})
    assert freeze(lm.MatchValue(value=1)) == freeze(lm.MatchValue(value=1))
    assert freeze(qm.MatchValue(value="a")) != freeze(qm.MatchValue(value="b"))
    assert freeze(np.arange(3)) != freeze(np.arange(4))


def test_euclid_after_rewriting_a_vector() -> None:
    """Rewriting a point's vector in place must refresh the cached row norms (Euclid)."""
    oracle, subject = make_clients()
    try:
        for client, m in ((oracle, qm), (subject, lm)):
            client.create_collection("e", vectors_config=m.VectorParams(size=3, distance=m.Distance.EUCLID))
            points = [m.PointStruct(id=0, vector=[10.0, 10.0, 10.0])]
            points += [m.PointStruct(id=i, vector=[3.0 + i, 0.0, 0.0]) for i in range(1, 200)]
            client.upsert("e", points)
        results = []
        for client, m in ((oracle, qm), (subject, lm)):
            client.query_points("e", [0.0, 0.0, 0.0], limit=1)  # norms cached for this state
            client.upsert("e", [m.PointStruct(id=0, vector=[0.1, 0.0, 0.0])])
            results.append(client.query_points("e", [0.0, 0.0, 0.0], limit=1).points)
        assert [p.id for p in results[1]] == [p.id for p in results[0]] == [0]
        assert_same_points(results[0], results[1], limit=1)
    finally:
        oracle.close()
        subject.close()


def test_scroll_count_and_facet_use_the_collection_cache() -> None:
    """The collection owns the cache: a repeated filter is served from it by scroll, count and
    facet alike, and a write makes every entry stale."""
    from qdrant_local import QdrantClient

    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=lm.VectorParams(size=2, distance=lm.Distance.DOT))
    client.upsert("c", [lm.PointStruct(id=i, vector=[1.0, 0.0], payload={"k": i % 3}) for i in range(20)])
    flt = lm.Filter(must=[lm.FieldCondition(key="k", match=lm.MatchValue(value=1))])
    cache = client._database.collection("c").mask_cache
    assert client.count("c", count_filter=flt).count == 7
    assert len(cache.entries) == 1
    assert [p.id for p in client.scroll("c", scroll_filter=flt, limit=3)[0]] == [1, 4, 7]
    assert [(h.value, h.count) for h in client.facet("c", "k", facet_filter=flt).hits] == [(1, 7)]
    assert len(cache.entries) == 1  # the same compiled-filter key each time
    client.set_payload("c", {"k": 1}, points=[0])
    assert client.count("c", count_filter=flt).count == 8
    assert [p.id for p in client.scroll("c", scroll_filter=flt, limit=3)[0]] == [0, 1, 4]


def test_selection_slots_follow_writes() -> None:
    """Collection.selection: the selective slots of a repeated filter come from the cache, equal the
    mask's positions, and change with the collection."""
    from qdrant_local import QdrantClient
    from qdrant_local.engine.filters import compile_filter
    from qdrant_local.models.convert import to_filter

    client = QdrantClient(":memory:")
    client.create_collection("s", vectors_config=lm.VectorParams(size=2, distance=lm.Distance.DOT))
    client.upsert("s", [lm.PointStruct(id=i, vector=[1.0, float(i)], payload={"k": i % 10}) for i in range(100)])
    compiled = compile_filter(to_filter({"must": [{"key": "k", "match": {"value": 3}}]}))
    collection = client._database.collection("s")
    for _ in range(2):  # computed, then cached
        mask, rows = collection.selection(compiled, "", max_rows=25)
        assert rows is not None and rows.tolist() == np.flatnonzero(mask).tolist() == list(range(3, 100, 10))
    assert collection.selection(compiled, "", max_rows=5)[1] is None  # 10 rows: above the cap
    client.set_payload("s", {"k": 4}, points=[3])
    mask, rows = collection.selection(compiled, "", max_rows=25)
    assert rows is not None and rows.tolist() == list(range(13, 100, 10))
    hits = client.query_points(
        "s",
        [0.0, 1.0],
        query_filter=lm.Filter(must=[lm.FieldCondition(key="k", match=lm.MatchValue(value=3))]),
        limit=3,
    )
    assert [p.id for p in hits.points] == [93, 83, 73]
    client.close()
