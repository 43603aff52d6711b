"""scroll(order_by=...) served by a payload index gives exactly what the scanning path gives.

Two qdrant_local clients take the same writes, one with a payload index on the ordered key and one
without; after every write both answer the same order_by scrolls (ascending and descending, with
and without ``start_from`` and filters), ids, order values and their types included. The scanning
path is the one the differential suites compare with qdrant-client.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qdrant_local import QdrantClient, models
from qdrant_local.engine.order_column import OrderColumn

IDS = list(range(12))
# Mostly single numbers or datetimes (the column's case), sometimes what makes it fall back.
order_scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -1.5, 2.0, 2**53 + 1, 1e300, 0.0, -0.0]),
    st.sampled_from(["2024-01-02T03:04:05Z", "2024-01-02", "2023-12-31T23:59:59z", "not a date", "x"]),
    st.booleans(),
    st.none(),
)
field_values = st.one_of(order_scalars, order_scalars, order_scalars, st.lists(order_scalars, max_size=3))
payloads = st.fixed_dictionaries({"g": st.integers(0, 2)}, optional={"v": field_values})
writes = st.one_of(
    st.tuples(st.just("upsert"), st.sampled_from(IDS), payloads),
    st.tuples(st.just("set"), st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True), payloads),
    st.tuples(st.just("delete"), st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)),
)
starts = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([0.5, -1.25, "2024-01-02", 2**60]))


def _client(indexed: bool, schema: str) -> QdrantClient:
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    if indexed:
        client.create_payload_index("c", "v", schema)
        client.create_payload_index("c", "g", "integer")
    return client


def _apply(client: QdrantClient, write: tuple[Any, ...]) -> None:
    if write[0] == "upsert":
        client.upsert("c", [models.PointStruct(id=write[1], vector=[1.0, 0.5], payload=write[2])])
    elif write[0] == "delete":
        client.delete("c", write[1])
    else:
        existing = {record.id for record in client.retrieve("c", write[1])}
        ids = [point_id for point_id in write[1] if point_id in existing]
        if ids:
            client.set_payload("c", write[2], ids)


def _page(
    client: QdrantClient, direction: str, start: Any, limit: int, group: int | None
) -> list[tuple[Any, Any, str]]:
    flt = (
        None
        if group is None
        else models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=group))])
    )
    order = models.OrderBy(key="v", direction=direction, start_from=start)
    records, _ = client.scroll("c", scroll_filter=flt, limit=limit, order_by=order)
    return [(r.id, r.order_value, type(r.order_value).__name__) for r in records]


@settings(max_examples=80, deadline=None)
@given(
    schema=st.sampled_from(["float", "integer", "datetime"]),
    initial=st.lists(payloads, min_size=1, max_size=len(IDS)),
    steps=st.lists(writes, max_size=4),
    queries=st.lists(
        st.tuples(st.sampled_from(["asc", "desc"]), starts, st.integers(1, 6), st.one_of(st.none(), st.integers(0, 2))),
        min_size=1,
        max_size=4,
    ),
)
def test_indexed_order_by_equals_scanning(
    schema: str, initial: list[Any], steps: list[Any], queries: list[Any]
) -> None:
    indexed, plain = _client(True, schema), _client(False, schema)
    points = [models.PointStruct(id=i, vector=[1.0, 0.5], payload=p) for i, p in zip(IDS, initial)]
    for client in (indexed, plain):
        client.upsert("c", points)
    for step in [None, *steps]:
        if step is not None:
            for client in (indexed, plain):
                _apply(client, step)
        for direction, start, limit, group in queries:
            expected = _page(plain, direction, start, limit, group)
            # twice: the first query after a write may scan, the second uses the index
            assert _page(indexed, direction, start, limit, group) == expected
            assert _page(indexed, direction, start, limit, group) == expected


def test_column_serves_plain_numbers_and_ties_keep_insertion_order() -> None:
    client = _client(True, "float")
    values = [3, 1.5, 3, 2, 1.5, 3, None, "2024-01-02"]
    client.upsert(
        "c", [models.PointStruct(id=10 - i, vector=[1.0, 0.5], payload={"v": v, "g": 0}) for i, v in enumerate(values)]
    )
    collection = client._database.collections["c"]
    from qdrant_local.engine.paths import parse_path

    index = collection.payload_indexes.index_for(parse_path("v"), collection.store)
    assert isinstance(index.order_column(), OrderColumn)
    assert _page(client, "asc", None, 4, None) == [(9, 1.5, "float"), (6, 1.5, "float"), (7, 2, "int"), (10, 3, "int")]
    top = _page(client, "desc", None, 5, None)
    assert top[:3] == [(3, 1704153600000000, "int"), (10, 3, "int"), (8, 3, "int")]
    assert _page(client, "desc", 2.5, 2, None) == [(7, 2, "int"), (9, 1.5, "float")]


def test_multi_valued_field_falls_back_to_scanning() -> None:
    client = _client(True, "float")
    client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.5], payload={"v": [i, -i]}) for i in range(4)])
    collection = client._database.collections["c"]
    from qdrant_local.engine.paths import parse_path

    index = collection.payload_indexes.index_for(parse_path("v"), collection.store)
    assert index.order_column() is None
    assert [r.id for r in client.scroll("c", limit=4, order_by="v")[0]] == [3, 2, 1, 0]


def test_signed_zeros_keep_their_sign() -> None:
    indexed, plain = _client(True, "float"), _client(False, "float")
    points = [
        models.PointStruct(id=i, vector=[1.0, 0.5], payload={"v": v, "g": 0})
        for i, v in enumerate([-0.0, 0.0, 1.5, 0.0])
    ]
    for client in (indexed, plain):
        client.upsert("c", points)
    for direction in ("asc", "desc"):
        expected = [(p[0], repr(p[1])) for p in _page(plain, direction, None, 4, None)]
        for _ in range(2):
            assert [(p[0], repr(p[1])) for p in _page(indexed, direction, None, 4, None)] == expected
