"""Small writes keep the scroll order and the payload indexes up to date without rebuilding them.

Deleted slots stay in the scroll order (skipped by scrolls) and new integer ids are merged into
it; deleted points leave the payload indexes current. These tests check that what scroll, count
and filters return stays exactly right along random sequences of such writes, and that a delete
of more points than the index tolerates dirty does not rebuild it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local import QdrantClient, models
from qdrant_local.engine.paths import parse_path
from qdrant_local.ids import order_key

int_ids = st.integers(0, 40)
uuid_ids = st.sampled_from([f"00000000-0000-0000-0000-00000000000{k}" for k in range(5)])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), st.lists(int_ids, min_size=1, max_size=6)),
        st.tuples(st.just("upsert"), st.lists(st.one_of(int_ids, uuid_ids), min_size=1, max_size=3)),
        st.tuples(st.just("delete"), st.lists(st.one_of(int_ids, uuid_ids), min_size=1, max_size=8)),
        st.tuples(st.just("delete_filter"), st.integers(0, 3)),
        st.tuples(st.just("scroll"), st.integers(1, 7)),
    ),
    max_size=25,
)


def _client() -> QdrantClient:
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.create_payload_index("c", "g", "integer")
    return client


def _all_pages(client: QdrantClient, page: int) -> list[Any]:
    seen, offset = [], None
    while True:
        records, offset = client.scroll("c", limit=page, offset=offset, with_payload=False)
        seen += [record.id for record in records]
        if offset is None:
            return seen


@settings(max_examples=80, deadline=None)
@given(steps=steps)
def test_scroll_and_filters_follow_small_writes(steps: list[Any]) -> None:
    client = _client()
    model: dict[Any, int] = {}  # id -> group
    flt = lambda g: models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])
    for kind, arg in steps:
        if kind == "upsert":
            ids = list(dict.fromkeys(arg))
            client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.0], payload={"g": hash(i) % 4}) for i in ids])
            model.update({i: hash(i) % 4 for i in ids})
        elif kind == "delete":
            client.delete("c", models.PointIdsList(points=arg))
            for point_id in arg:
                model.pop(point_id, None)
        elif kind == "delete_filter":
            client.delete("c", models.FilterSelector(filter=flt(arg)))
            model = {i: g for i, g in model.items() if g != arg}
        else:
            assert _all_pages(client, arg) == sorted(model, key=order_key)
        for group in range(4):
            expected = sorted((i for i, g in model.items() if g == group), key=order_key)
            assert client.count("c", count_filter=flt(group)).count == len(expected)
            assert [r.id for r in client.scroll("c", scroll_filter=flt(group), limit=100)[0]] == expected
        assert client.get_collection("c").payload_schema["g"].points == len(model)
    assert _all_pages(client, 3) == sorted(model, key=order_key)


def test_large_delete_keeps_the_index_current() -> None:
    client = _client()
    n = 8000  # deleting 900 points: more than the index tolerates dirty, fewer than compaction needs
    client.upsert(
        "c", models.Batch(ids=list(range(n)), vectors=[[1.0, 0.0]] * n, payloads=[{"g": i % 10} for i in range(n)])
    )
    collection = client._database.collections["c"]
    flt = lambda g: models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])
    assert client.count("c", count_filter=flt(1)).count == n // 10
    index = collection.payload_indexes.index_for(parse_path("g"), collection.store)
    client.delete("c", models.FilterSelector(filter=flt(2)))
    client.delete("c", list(range(1, 1000, 10)))
    assert collection.store.tombstones() == 900
    assert collection.payload_indexes.index_for(parse_path("g"), collection.store) is index
    assert index.n_dirty == 0
    assert client.count("c", count_filter=flt(1)).count == n // 10 - 100
    assert client.get_collection("c").payload_schema["g"].points == n - 900
