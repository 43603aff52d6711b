"""Payload indexes: an indexed collection answers every filter exactly as an unindexed one.

The main property runs the same random writes on two clients, one with payload indexes and one
without, and after every write compares count, scroll and delete-by-filter for random filters on
indexed and unindexed keys; the final state is also checked point by point against qdrant-client's
own ``check_filter``. Each filter is asked twice per version, so both the scanning fallback (first
query after a write) and the index (second query) are compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.local.payload_filters import check_filter

from qdrant_local import QdrantClient, models
from qdrant_local.engine import index as index_module
from qdrant_local.engine.conditions import PlainTarget
from qdrant_local.engine.filters import CompiledFilter
from qdrant_local.engine.filters import compile_filter as compile_converted
from qdrant_local.engine.paths import extract_values, parse_path
from qdrant_local.models.convert import to_filter

from .strategies import WORDS, floats, ints, payloads

# Index keys: plain keys, a key with a dot, arrays of scalars and of objects, an array element.
INDEXED = ["a", "n", '"x.y"', "arr[]", "arr[].a", "b[0]"]
UNINDEXED = ["c", "s"]
SCHEMAS = ["keyword", "integer", "float", "bool", "datetime", "uuid"]
IDS = list(range(8))


def compile_filter(filter_obj: Any) -> CompiledFilter | None:
    """Convert (as the client facade does), then compile."""
    return compile_converted(to_filter(filter_obj))


def _client(indexed: bool) -> QdrantClient:
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.COSINE))
    if indexed:
        for position, key in enumerate(INDEXED):
            client.create_payload_index("c", key, SCHEMAS[position % len(SCHEMAS)])
    return client


match_values = st.one_of(st.booleans(), ints, st.sampled_from(WORDS))
bounds = st.one_of(st.none(), ints, floats)


# Bounds pydantic's DatetimeRange accepts (so check_filter can judge them), landing on payload values.
DATETIME_BOUNDS = [
    "2024-01-02T03:04:05Z",
    "2024-01-02",
    "2024-01-02T03:04",
    "2024-01-02T02:04:05.123456Z",
    "2024-01-02T03:04:05+01:00",
    "2023-12-31T23:59:59Z",
    "2024-01-01T00:00:00+05:00",
]
datetime_bounds = st.one_of(st.none(), st.sampled_from(DATETIME_BOUNDS))
TEXT_QUERIES = ["hello", "Hello world", "foo bar", "world hello", "foo_bar", "a", "", "_", "oslo 1", "wor"]
lats = st.sampled_from([-90, -45.5, -1, 0, 0.5, 1, 10, 45, 89.9, 90])
lons = st.sampled_from([-180, -179.5, -90, -1, 0, 1, 10.25, 90, 179.5, 180])
geo_point_dicts = st.builds(lambda lat, lon: {"lat": lat, "lon": lon}, lats, lons)


@st.composite
def geo_conditions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["geo_bounding_box", "geo_radius", "geo_polygon"]))
    if kind == "geo_bounding_box":
        return {kind: {"top_left": draw(geo_point_dicts), "bottom_right": draw(geo_point_dicts)}}
    if kind == "geo_radius":
        radius = draw(st.sampled_from([0.0, 1000.0, 150_000.0, 2_000_000.0, 10_000_000.0, 30_000_000.0, -5.0]))
        return {kind: {"center": draw(geo_point_dicts), "radius": radius}}
    ring = draw(st.lists(geo_point_dicts, min_size=3, max_size=5))
    return {kind: {"exterior": {"points": [*ring, ring[0]]}}}


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(INDEXED + UNINDEXED))
    kind = draw(st.sampled_from(["value", "any", "except", "range", "datetime", "text", "geo"]))
    if kind == "datetime":
        rng = {name: draw(datetime_bounds) for name in ("lt", "gt", "gte", "lte")}
        return {
            "key": key,
            "range": {name: bound for name, bound in rng.items() if bound is not None} or {"gte": "1970-01-01"},
        }
    if kind == "text":
        text_kind = draw(st.sampled_from(["text", "text_any", "phrase", "prefix", "substring"]))
        return {"key": key, "match": {text_kind: draw(st.sampled_from(TEXT_QUERIES))}}
    if kind == "geo":
        return {"key": key, **draw(geo_conditions())}
    if kind == "value":
        return {"key": key, "match": {"value": draw(match_values)}}
    if kind in ("any", "except"):
        items = draw(st.one_of(st.lists(ints, max_size=3), st.lists(st.sampled_from(WORDS), max_size=3)))
        return {"key": key, "match": {kind: items}}
    rng = {name: draw(bounds) for name in ("lt", "gt", "gte", "lte")}
    return {"key": key, "range": {name: bound for name, bound in rng.items() if bound is not None}}


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for clause in draw(st.lists(st.sampled_from(["must", "should", "must_not"]), min_size=1, max_size=2, unique=True)):
        result[clause] = draw(st.lists(conditions(), min_size=1, max_size=2))
    return result


id_lists = st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)
writes = st.one_of(
    st.tuples(st.just("upsert"), st.sampled_from(IDS), payloads),
    st.tuples(st.just("set"), id_lists, payloads),
    st.tuples(st.just("overwrite"), id_lists, payloads),
    st.tuples(
        st.just("delete_payload"), id_lists, st.lists(st.sampled_from(["a", "n", "arr", "b", "x.y"]), min_size=1)
    ),
    st.tuples(st.just("clear"), id_lists),
    st.tuples(st.just("delete"), id_lists),
    st.tuples(st.just("delete_filter"), filters()),
)


def _apply(client: QdrantClient, write: tuple[Any, ...]) -> None:
    kind = write[0]
    existing = {record.id for record in client.scroll("c", limit=100)[0]}
    if kind == "upsert":
        client.upsert("c", [{"id": write[1], "vector": [1.0, 0.5], "payload": write[2]}])
    elif kind == "delete":
        client.delete("c", write[1])
    elif kind == "delete_filter":
        client.delete("c", {"filter": write[1]})
    else:
        ids = [point_id for point_id in write[1] if point_id in existing]
        if not ids:
            return
        if kind == "set":
            client.set_payload("c", write[2], ids)
        elif kind == "overwrite":
            client.overwrite_payload("c", write[2], ids)
        elif kind == "delete_payload":
            client.delete_payload("c", write[2], ids)
        else:
            client.clear_payload("c", ids)


def _ids(client: QdrantClient, flt: dict[str, Any]) -> list[Any]:
    return [record.id for record in client.scroll("c", scroll_filter=flt, limit=100)[0]]


@settings(max_examples=60)
@given(
    initial=st.lists(payloads, min_size=1, max_size=len(IDS)),
    steps=st.lists(writes, max_size=5),
    queries=st.lists(filters(), min_size=1, max_size=4),
)
def test_indexed_results_equal_unindexed(
    initial: list[dict[str, Any]], steps: list[Any], queries: list[dict[str, Any]]
) -> None:
    indexed, plain = _client(True), _client(False)
    points = [{"id": point_id, "vector": [1.0, 0.5], "payload": payload} for point_id, payload in zip(IDS, initial)]
    for client in (indexed, plain):
        client.upsert("c", points)
    for step in [None, *steps]:
        if step is not None:
            for client in (indexed, plain):
                _apply(client, step)
        for flt in queries:
            expected = _ids(plain, flt)
            # twice: the first query after a write scans, the second is answered by the index
            assert _ids(indexed, flt) == expected, flt
            assert _ids(indexed, flt) == expected, flt
            assert indexed.count("c", count_filter=flt).count == len(expected), flt
        # get_collection's per-field point counts come from the indexes (fresh or with dirty slots)
        records = plain.scroll("c", limit=100, with_payload=True)[0]
        for _ in range(2):
            schema = indexed.get_collection("c").payload_schema
            for key in INDEXED:
                holding = sum(1 for record in records if extract_values(record.payload or {}, key))
                assert schema[key].points == holding, key
    # The final state against qdrant-client's own filter semantics.
    records = plain.scroll("c", limit=100, with_payload=True)[0]
    for flt in queries:
        model = qm.Filter.model_validate(flt)
        expected = [r.id for r in records if check_filter(model, r.payload or {}, r.id, {"": True})]
        assert _ids(indexed, flt) == expected, flt


def test_index_is_used_and_follows_writes(monkeypatch: Any) -> None:
    answered: list[str] = []
    original = index_module.PayloadIndex.answer

    def spy(self: index_module.PayloadIndex, node: Any, candidates: np.ndarray, *rest: Any) -> np.ndarray | None:
        result = original(self, node, candidates, *rest)
        if result is not None:
            answered.append(node.kind)
        return result

    monkeypatch.setattr(index_module.PayloadIndex, "answer", spy)
    client = _client(True)
    payload_values = [1, 1.0, True, "1", [1, 2], [True], {"a": 1}, None, 2**53 + 1, 2.5]
    client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"a": v}} for i, v in enumerate(payload_values)])

    def count(condition: dict[str, Any]) -> int:
        flt = {"must": [{"key": "a", **condition}]}
        client.count("c", count_filter=flt)  # may scan (first query at this version)
        return client.count("c", count_filter=flt).count

    # Strict typing: 1 matches the int 1 and arrays holding it, never 1.0 or True or "1".
    assert count({"match": {"value": 1}}) == 2
    assert count({"match": {"value": True}}) == 2
    assert count({"match": {"value": "1"}}) == 1
    assert count({"match": {"any": [1, 2]}}) == 2
    # Numbers only (not bools): 1, 1.0, [1,2], 2**53+1, 2.5
    assert count({"range": {"gte": 1}}) == 5
    assert count({"range": {"gt": 2.0**53}}) == 1
    assert set(answered) == {"match_value", "match_any", "range"}
    # The index follows writes.
    client.set_payload("c", {"a": 1}, [3])
    assert count({"match": {"value": 1}}) == 3
    client.delete("c", [0])
    assert count({"match": {"value": 1}}) == 2
    client.upsert("c", [{"id": 1, "vector": [1.0, 0.5], "payload": {"a": 1}}])
    assert count({"match": {"value": 1}}) == 3
    # Dropping the index falls back to scanning, same answers.
    answered.clear()
    client.delete_payload_index("c", "a")
    assert count({"match": {"value": 1}}) == 3
    assert answered == []


def test_reported_writes_keep_the_index_unreported_ones_make_it_stale() -> None:
    client = _client(True)
    client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"a": i % 3}} for i in range(30)])
    collection = client._database.collections["c"]  # type: ignore[attr-defined]
    store = collection.store
    node = compile_filter({"key": "a", "match": {"value": 1}}).root.must[0]  # type: ignore[union-attr]
    indexes = collection.payload_indexes

    def answer() -> np.ndarray | None:
        return indexes.answer(node, store, store.live_mask.copy())

    first = answer()  # never built: built now
    assert first is not None and int(first.sum()) == 10
    # Writes through the collection keep it current, the touched slots re-checked.
    client.set_payload("c", {"a": 1}, [0])
    client.delete("c", [1])
    client.upsert("c", [{"id": 100, "vector": [1.0, 0.5], "payload": {"a": [0, 1]}}])
    client.batch_update_points("c", [{"set_payload": {"payload": {"a": 1}, "points": [3]}}])
    current = answer()
    assert current is not None and int(current.sum()) == 12
    assert indexes.index_for(parse_path("a"), store).n_dirty > 0  # type: ignore[union-attr]
    # A change the collection did not report: the first query scans, the next one rebuilds.
    store.payloads[store.slot_of[2]] = {"a": 1}
    store.touch()
    assert answer() is None
    rebuilt = answer()
    assert rebuilt is not None and int(rebuilt.sum()) == 13
    assert indexes.index_for(parse_path("a"), store).n_dirty == 0  # type: ignore[union-attr]
    assert indexes.index_for(parse_path("zzz"), store) is None


def test_many_dirty_slots_trigger_a_rebuild() -> None:
    client = _client(True)
    client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"a": 0}} for i in range(200)])
    flt = {"must": [{"key": "a", "match": {"value": 1}}]}
    assert client.count("c", count_filter=flt).count == 0
    client.set_payload("c", {"a": 1}, list(range(100)))  # more than _max_dirty(200) slots
    assert client.count("c", count_filter=flt).count == 100
    collection = client._database.collections["c"]  # type: ignore[attr-defined]
    assert collection.payload_indexes.index_for(parse_path("a"), collection.store).n_dirty == 0


NUMBER_POOL = [-1, 0, 0.0, -0.0, 1, 1.0, 1.5, 2, 3, True, False, 2**53 + 1, float(2**53), "1", None]


@settings(max_examples=300)
@given(
    values=st.lists(
        st.one_of(st.sampled_from(NUMBER_POOL), st.lists(st.sampled_from(NUMBER_POOL), max_size=3)), max_size=12
    ),
    condition=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                name: st.sampled_from([-1, 0, 0.5, 1, 1.5, 2, 2**53, 2**53 + 1]) for name in ("lt", "gt", "gte", "lte")
            },
        ).map(lambda rng: {"range": rng}),
        st.sampled_from([v for v in NUMBER_POOL if type(v) in (bool, int, str)]).map(lambda v: {"match": {"value": v}}),
        st.lists(st.sampled_from([-1, 0, 1, 2, 3, 2**53 + 1]), max_size=3).map(lambda v: {"match": {"any": v}}),
    ),
)
def test_index_answer_equals_scan_at_bounds(values: list[Any], condition: dict[str, Any]) -> None:
    """The index's answer for one node equals the node's own scan, with bounds landing on values."""
    client = _client(True)
    if values:
        client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"n": v}} for i, v in enumerate(values)])
    client.delete("c", [0])  # a free slot among the live ones
    collection = client._database.collections["c"]  # type: ignore[attr-defined]
    store = collection.store
    node = compile_filter({"key": "n", **condition}).root.must[0]  # type: ignore[union-attr]
    candidates = store.live_mask.copy()
    index = collection.payload_indexes.index_for(parse_path("n"), store)
    assert index is not None
    answered = index.answer(node, candidates)
    assert answered is not None
    assert answered.tolist() == node.evaluate(store, candidates).tolist()


VALUE_POOL = [
    None,
    1,
    2.5,
    True,
    "hello world",
    "Hello, foo_bar world",
    "world hello hello",
    "foo bar",
    "oslo 1",
    "2024-01-02T03:04:05Z",
    "2024-01-02 03:04:05",
    "2024-01-02",
    "2023-12-31T23:59:59z",
    "2024-01-02T03:04:05+01",
    "2024-13-02",
    {"lat": 0, "lon": 0},
    {"lat": 0.5, "lon": 10.25},
    {"lat": 89.9, "lon": -179.5},
    {"lat": -45.5, "lon": 179.5},
    {"lat": 10, "lon": 180},
    {"lat": 1, "lon": 1, "extra": "x"},
    {"lat": "1", "lon": 1},
    {"a": 1},
    [1, "x"],
]
pool_values = st.one_of(st.sampled_from(VALUE_POOL), st.lists(st.sampled_from(VALUE_POOL), max_size=3))
new_kind_conditions = st.one_of(
    conditions().filter(
        lambda c: (
            c.get("match", {}).keys() & {"except", "text", "text_any", "phrase", "prefix", "substring"}
            or "geo_bounding_box" in c
            or "geo_radius" in c
            or "geo_polygon" in c
            or any(isinstance(b, str) for b in c.get("range", {}).values())
        )
    ),
    st.lists(st.sampled_from([1, 2, 3]), max_size=3).map(lambda v: {"match": {"except": v}}),
    st.lists(st.sampled_from(["hello world", "foo bar", "x"]), max_size=3).map(lambda v: {"match": {"except": v}}),
)


@settings(max_examples=300)
@given(
    values=st.lists(pool_values, min_size=1, max_size=12),
    later=st.lists(pool_values, max_size=3),
    condition=new_kind_conditions,
)
def test_new_kinds_answer_equals_scan_and_check_filter(
    values: list[Any], later: list[Any], condition: dict[str, Any]
) -> None:
    """match_except, datetime ranges, text and geo: the index's answer equals the scan and local mode,
    when freshly built and with dirty slots after writes."""
    condition = {key: value for key, value in condition.items() if key != "key"}
    client = _client(True)
    client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"n": v}} for i, v in enumerate(values)])
    client.delete("c", [0])  # a free slot among the live ones
    collection = client._database.collections["c"]  # type: ignore[attr-defined]
    store = collection.store
    node = compile_filter({"key": "n", **condition}).root.must[0]  # type: ignore[union-attr]
    model = qm.Filter.model_validate({"must": [{"key": "n", **condition}]})
    for step in range(2):
        index = collection.payload_indexes.index_for(parse_path("n"), store)
        if index is None:  # first query after an unreported change: scans
            index = collection.payload_indexes.index_for(parse_path("n"), store)
        assert index is not None
        candidates = store.live_mask.copy()
        answered = index.answer(node, candidates, store.payloads)
        assert answered is not None
        assert answered.tolist() == node.evaluate(store, candidates).tolist(), (step, condition)
        expected = [
            slot
            for slot in np.flatnonzero(candidates).tolist()
            if check_filter(model, store.payloads[slot] or {}, store.point_ids[slot], {"": True})
        ]
        assert np.flatnonzero(answered).tolist() == expected, (step, condition)
        # Writes the collection reports: the touched slots become dirty and are re-checked.
        for offset, value in enumerate(later):
            client.upsert("c", [{"id": 1 + offset, "vector": [1.0, 0.5], "payload": {"n": value}}])
        client.upsert("c", [{"id": 100, "vector": [1.0, 0.5], "payload": {"n": later or None}}])


class _Text(str):
    """A str subclass: the postings hold exact types only, so its slot must be re-checked."""


def test_subclass_values_are_rechecked() -> None:
    payloads = [{"n": _Text("hello world")}, {"n": "hello"}, {"n": _Text("2024-01-02")}, {"n": 1}]
    live = np.ones(len(payloads), dtype=bool)
    index = index_module.PayloadIndex(parse_path("n"), payloads, live, len(payloads), 0)
    for condition in (
        {"match": {"text": "hello"}},
        {"match": {"prefix": "2024"}},
        {"range": {"gte": "2024-01-01"}},
        {"match": {"except": ["hello"]}},
        {"match": {"value": "hello"}},
    ):
        node = compile_filter({"key": "n", **condition}).root.must[0]  # type: ignore[union-attr]
        target = type("T", (PlainTarget,), {"n_slots": len(payloads), "payloads": payloads})()
        expected = node.evaluate(target, live.copy())  # type: ignore[arg-type]
        assert index.answer(node, live.copy(), payloads).tolist() == expected.tolist(), condition


def test_geo_pruning_keeps_every_match() -> None:
    """Dense random geo points (some on box edges, poles, the anti-meridian) against many random
    boxes, circles and polygons: the pruned-then-verified answer equals the scan exactly."""
    rng = np.random.default_rng(7)
    lat = np.concatenate([rng.uniform(-90, 90, 3000), rng.integers(-90, 91, 300), [90, -90, 0, 0]])
    lon = np.concatenate([rng.uniform(-180, 180, 3000), rng.integers(-180, 181, 300), [0, 0, 180, -180]])
    payloads: list[Any] = [{"n": {"lat": float(a), "lon": float(b)}} for a, b in zip(lat, lon)]
    # ints float64 cannot hold exactly take the per-value test; mixed int / float coordinates
    payloads += [
        {"n": {"lat": 2**60, "lon": 0}},
        {"n": {"lat": 0, "lon": 2**53 + 1}},
        {"n": [{"lat": 10, "lon": -(2**60)}, {"lat": 1, "lon": 2.5}]},
    ]
    live = np.ones(len(payloads), dtype=bool)
    index = index_module.PayloadIndex(parse_path("n"), payloads, live, len(payloads), 0)
    target = type("T", (PlainTarget,), {"n_slots": len(payloads), "payloads": payloads})()

    def point() -> dict[str, float]:
        # integers half of the time, so bounds land exactly on payload values
        if rng.random() < 0.5:
            return {"lat": int(rng.integers(-90, 91)), "lon": int(rng.integers(-180, 181))}
        return {"lat": float(rng.uniform(-90, 90)), "lon": float(rng.uniform(-180, 180))}

    checked = 0
    for _ in range(300):
        kind = rng.integers(3)
        if kind == 0:
            condition = {"geo_bounding_box": {"top_left": point(), "bottom_right": point()}}
        elif kind == 1:
            radius = float(10 ** rng.uniform(3, 7.3))
            condition = {"geo_radius": {"center": point(), "radius": radius}}
        else:
            ring = [point() for _ in range(int(rng.integers(3, 7)))]
            condition = {"geo_polygon": {"exterior": {"points": [*ring, ring[0]]}}}
        node = compile_filter({"key": "n", **condition}).root.must[0]  # type: ignore[union-attr]
        expected = node.evaluate(target, live.copy())  # type: ignore[arg-type]
        answered = index.answer(node, live.copy(), payloads)
        assert answered.tolist() == expected.tolist(), condition  # type: ignore[union-attr]
        checked += int(expected.sum())
    assert checked > 1000  # the conditions do select points


def test_indexed_must_conditions_run_first(monkeypatch: Any) -> None:
    """In a must list, a scanning condition only sees the slots the indexed ones let through."""
    from qdrant_local.engine import conditions as conditions_module

    client = _client(True)
    client.upsert("c", [{"id": i, "vector": [1.0, 0.5], "payload": {"a": i % 10, "c": i % 3}} for i in range(100)])
    seen: list[tuple[str, int]] = []
    original = conditions_module.FieldNode.evaluate

    def spy(self: Any, target: Any, candidates: np.ndarray) -> np.ndarray:
        seen.append((self.key, int(candidates.sum())))
        return original(self, target, candidates)

    monkeypatch.setattr(conditions_module.FieldNode, "evaluate", spy)
    flt = {"must": [{"key": "c", "match": {"value": 1}}, {"key": "a", "match": {"value": 3}}]}
    client.count("c", count_filter=flt)  # first query at this version: the index is built on the next
    client._database.collection("c").mask_cache.entries.clear()  # so the repeat is evaluated, not cached
    seen.clear()
    expected = sum(1 for i in range(100) if i % 10 == 3 and i % 3 == 1)
    assert client.count("c", count_filter=flt).count == expected
    assert seen == [("a", 100), ("c", 10)]


def test_formula_conditions_use_the_indexes(monkeypatch: Any) -> None:
    """A formula's filter conditions (query planner) go through the payload indexes, same scores."""
    answered: list[str] = []
    original = index_module.PayloadIndex.answer

    def spy(self: index_module.PayloadIndex, node: Any, candidates: np.ndarray, *rest: Any) -> np.ndarray | None:
        result = original(self, node, candidates, *rest)
        if result is not None:
            answered.append(node.kind)
        return result

    monkeypatch.setattr(index_module.PayloadIndex, "answer", spy)
    points = [{"id": i, "vector": [1.0, i / 10], "payload": {"a": i % 4, "arr": [f"w{i % 3}", "x"]}} for i in range(40)]
    formula = {
        "formula": {"sum": ["$score", {"key": "a", "match": {"value": 1}}, {"key": "arr[]", "match": {"text": "w2"}}]}
    }
    results = []
    for client in (_client(True), _client(False)):
        client.upsert("c", points)
        client.count("c", count_filter={"must": [{"key": "a", "match": {"value": 1}}]})  # builds on the next query
        client.count("c", count_filter={"must": [{"key": "arr[]", "match": {"text": "w2"}}]})
        answered.clear()
        response = client.query_points("c", prefetch={"query": [1.0, 0.0], "limit": 30}, query=formula, limit=10)
        results.append([(point.id, point.score) for point in response.points])
        if len(results) == 1:
            assert {"match_value", "text"} <= set(answered)
    assert results[0] == results[1]
