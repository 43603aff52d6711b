"""Property: any sequence of operations, then close and reopen, shows exactly the same state; so does compaction.

Each drawn operation runs on two qdrant_local clients: one in memory (the reference) and one on a folder.
Both must give the same result or the same error, and after every ``reopen`` / ``compact`` step (and at the
end, after close + reopen, compact, close + reopen) the folder client must show exactly what the memory
client shows: collections and their order, info (config, metadata, payload schema, counts), aliases, every
point with payload and every vector (compared exactly, after float32 normalisation), scroll order and page
offsets, and payload-ordered scrolls (whose tie order is slot order).
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any, Callable

from hypothesis import event, given, settings
from hypothesis import strategies as st

from qdrant_local import QdrantClient, models

from .helpers import STRESS, open_client, visible_state

COLLECTION_NAMES = ("c0", "c1", "c2")
ALIAS_NAMES = ("a0", "a1")
POINT_IDS = (*range(12), 2**63 + 5, "8d2f6a4e-1c3b-4a5d-9e7f-0a1b2c3d4e5f", str(uuid.UUID(int=7)))
PAYLOAD_KEYS = ("n", "tag", "nested", "list", "text")

# Collection layouts: name -> (create_collection kwargs builder, dense sizes, sparse names, multi sizes).
LAYOUTS: dict[str, dict[str, Any]] = {
    "unnamed-cosine": {"dense": {"": (3, "Cosine")}, "sparse": {}, "multi": {}},
    "mixed": {
        "dense": {"d": (4, "Cosine"), "e": (2, "Euclid")},
        "sparse": {"s": None, "t": "idf"},
        "multi": {"m": (2, "Dot")},
    },
    "manhattan": {"dense": {"x": (2, "Manhattan")}, "sparse": {}, "multi": {}},
}


def create_kwargs(layout_name: str) -> dict[str, Any]:
    """create_collection keyword arguments for a layout (fresh model objects each call)."""
    layout = LAYOUTS[layout_name]
    if list(layout["dense"]) == [""]:
        size, distance = layout["dense"][""]
        return {"vectors_config": models.VectorParams(size=size, distance=distance)}
    vectors: dict[str, Any] = {n: models.VectorParams(size=s, distance=d) for n, (s, d) in layout["dense"].items()}
    for name, (size, distance) in layout["multi"].items():
        vectors[name] = models.VectorParams(
            size=size, distance=distance, multivector_config=models.MultiVectorConfig(comparator="max_sim")
        )
    sparse = {
        name: models.SparseVectorParams(modifier=models.Modifier.IDF if modifier else None)
        for name, modifier in layout["sparse"].items()
    }
    return {"vectors_config": vectors, "sparse_vectors_config": sparse or None}


# ------------------------------------------------------------------------------------------ values

floats32 = st.floats(-8, 8, width=32, allow_nan=False, allow_infinity=False)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["Oslo", "Rome", "", "ü∂ 🚀", "2024-01-02T03:04:05Z"]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(("a", "b", "ключ", "")), inner, max_size=3)
    ),
    max_leaves=6,
)
payloads = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(PAYLOAD_KEYS),
        json_values,
        max_size=4,
    ),
    # "n" often a small number, so ordered scrolls have ties
    st.fixed_dictionaries({"n": st.one_of(st.integers(0, 3), st.sampled_from([0.5, 1.5]))}, optional={"tag": scalars}),
)
point_ids = st.sampled_from(POINT_IDS)


@st.composite
def vector_for(draw: st.DrawFn, layout_name: str, name: str) -> Any:
    """A vector for ``name`` in a collection of the given layout (zero vectors included)."""
    layout = LAYOUTS[layout_name]
    if name in layout["dense"]:
        size = layout["dense"][name][0]
        return draw(st.one_of(st.lists(floats32, min_size=size, max_size=size), st.just([0.0] * size)))
    if name in layout["multi"]:
        size = layout["multi"][name][0]
        return draw(st.lists(st.lists(floats32, min_size=size, max_size=size), min_size=1, max_size=3))
    indices = draw(st.lists(st.integers(0, 40), min_size=0, max_size=4, unique=True))
    values = draw(st.lists(floats32, min_size=len(indices), max_size=len(indices)))
    return models.SparseVector(indices=indices, values=values)


@st.composite
def point_vector(draw: st.DrawFn, layout_name: str, partial: bool = False) -> Any:
    """The ``vector`` field of a point: a plain list for the unnamed layout, else a dict of some names."""
    layout = LAYOUTS[layout_name]
    if list(layout["dense"]) == [""]:
        return draw(vector_for(layout_name, ""))
    names = [*layout["dense"], *layout["sparse"], *layout["multi"]]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, min_size=1 if partial else 0))
    return {name: draw(vector_for(layout_name, name)) for name in chosen}


def filters() -> st.SearchStrategy[Any]:
    """A few filters that select varying subsets (payload values, ids, emptiness)."""
    return st.sampled_from(
        [
            models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gte=1))]),
            models.Filter(must=[models.FieldCondition(key="tag", match=models.MatchValue(value="Oslo"))]),
            models.Filter(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="n"))]),
            models.Filter(should=[models.HasIdCondition(has_id=[0, 3, 5, 2**63 + 5])]),
            models.Filter(must=[models.IsNullCondition(is_null=models.PayloadField(key="tag"))]),
        ]
    )


def id_choices(existing: list[Any]) -> st.SearchStrategy[Any]:
    """Point ids: mostly ones that exist (writes naming a missing id fail), sometimes any from the pool."""
    if not existing:
        return point_ids
    return st.one_of(st.sampled_from(existing), st.sampled_from(existing), st.sampled_from(existing), point_ids)


def selectors(draw: st.DrawFn, existing: list[Any]) -> Any:
    """A points selector: a list of ids, a PointIdsList, a Filter or a FilterSelector."""
    kind = draw(st.sampled_from(["ids", "idlist", "filter", "filterselector"]))
    if kind == "ids":
        return draw(st.lists(id_choices(existing), min_size=1, max_size=4))
    if kind == "idlist":
        return models.PointIdsList(points=draw(st.lists(id_choices(existing), min_size=1, max_size=4)))
    if kind == "filter":
        return draw(filters())
    return models.FilterSelector(filter=draw(filters()))


# -------------------------------------------------------------------------------------- operations

Request = Callable[[QdrantClient], Any]


@st.composite
def requests(draw: st.DrawFn, layouts: dict[str, str], existing: dict[str, list[Any]]) -> tuple[str, Request]:
    """One request as (description, function of a client), drawn knowing the current collections.

    ``existing`` maps them to the point ids they hold. A create request's function carries ``creates = (name, layout)`` so the test can track layouts.

    ``layouts`` maps existing collection names and aliases to their layout; the request may still fail
    (a missing point, an alias clash): both clients must then fail the same way.
    """
    names = list(layouts)
    # Mostly target an existing collection or alias; one request in ten names any (maybe missing) one.
    if names and draw(st.integers(0, 9)):
        target = draw(st.sampled_from(names))
    else:
        target = draw(st.sampled_from(COLLECTION_NAMES + ALIAS_NAMES))
    layout = layouts.get(target) or (layouts[names[0]] if names else "unnamed-cosine")
    existing = existing.get(target, [])
    wait = draw(st.booleans())
    kind = draw(
        st.sampled_from(
            [
                "create",
                "delete_collection",
                "recreate",
                "update_metadata",
                "aliases",
                "payload_index",
                "upsert",
                "upsert",
                "upsert",
                "upsert_batch",
                "delete",
                "set_payload",
                "overwrite_payload",
                "delete_payload",
                "clear_payload",
                "update_vectors",
                "delete_vectors",
                "batch",
                "upload",
            ]
        )
    )

    if kind in ("create", "recreate"):
        name = draw(st.sampled_from(COLLECTION_NAMES))
        layout_name = draw(st.sampled_from(list(LAYOUTS)))
        metadata = draw(st.one_of(st.none(), st.dictionaries(st.sampled_from(("owner", "v")), scalars, max_size=2)))
        method = "create_collection" if kind == "create" else "recreate_collection"

        def create(c: QdrantClient) -> Any:
            return getattr(c, method)(name, metadata=metadata, **create_kwargs(layout_name))

        create.creates = (name, layout_name)  # type: ignore[attr-defined]
        return f"{method}({name!r}, {layout_name}, metadata={metadata!r})", create
    if kind == "delete_collection":
        return f"delete_collection({target!r})", lambda c: c.delete_collection(target)
    if kind == "update_metadata":
        metadata = draw(st.dictionaries(st.sampled_from(("owner", "v", "w")), scalars, min_size=1, max_size=2))
        return f"update_collection({target!r}, metadata={metadata!r})", lambda c: c.update_collection(
            target, metadata=metadata
        )
    if kind == "aliases":
        ops_spec = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["create", "delete", "rename"]),
                    st.sampled_from(ALIAS_NAMES),
                    st.sampled_from(COLLECTION_NAMES + ALIAS_NAMES),
                ),
                min_size=1,
                max_size=3,
            )
        )

        def change_aliases(c: QdrantClient) -> Any:
            operations: list[Any] = []
            for op, alias, other in ops_spec:
                if op == "create":
                    operations.append(
                        models.CreateAliasOperation(
                            create_alias=models.CreateAlias(collection_name=other, alias_name=alias)
                        )
                    )
                elif op == "delete":
                    operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
                else:
                    operations.append(
                        models.RenameAliasOperation(
                            rename_alias=models.RenameAlias(old_alias_name=alias, new_alias_name=other)
                        )
                    )
            return c.update_collection_aliases(operations)

        return f"update_collection_aliases({ops_spec!r})", change_aliases
    if kind == "payload_index":
        field_name = draw(st.sampled_from(PAYLOAD_KEYS))
        if draw(st.booleans()):
            schema = draw(st.sampled_from(["keyword", "integer", "float", "bool", "text", "datetime"]))
            return f"create_payload_index({target!r}, {field_name!r}, {schema!r})", lambda c: c.create_payload_index(
                target, field_name, schema, wait=wait
            )
        return f"delete_payload_index({target!r}, {field_name!r})", lambda c: c.delete_payload_index(
            target, field_name, wait=wait
        )
    if kind == "upsert":
        specs = draw(
            st.lists(
                st.tuples(point_ids, point_vector(layout), payloads), min_size=1, max_size=5, unique_by=lambda t: t[0]
            )
        )
        return f"upsert({target!r}, {specs!r}, wait={wait})", lambda c: c.upsert(
            target, [models.PointStruct(id=i, vector=v, payload=p) for i, v, p in specs], wait=wait
        )
    if kind == "upsert_batch" or kind == "upload":
        ids = draw(st.lists(point_ids, min_size=1, max_size=5, unique=True))
        dense = LAYOUTS[layout]["dense"]
        vector_name = next(iter(dense))
        size = dense[vector_name][0]
        rows = draw(st.lists(st.lists(floats32, min_size=size, max_size=size), min_size=len(ids), max_size=len(ids)))
        batch_payloads = draw(st.lists(payloads, min_size=len(ids), max_size=len(ids)))
        vectors: Any = rows if vector_name == "" else {vector_name: rows}
        if kind == "upload":
            return f"upload_collection({target!r}, {vectors!r}, ids={ids!r})", lambda c: c.upload_collection(
                target, vectors, payload=batch_payloads, ids=ids
            )
        return f"upsert({target!r}, Batch({ids!r}, {vectors!r}), wait={wait})", lambda c: c.upsert(
            target, models.Batch(ids=ids, vectors=vectors, payloads=batch_payloads), wait=wait
        )
    if kind == "delete":
        selector = selectors(draw, existing)
        return f"delete({target!r}, {selector!r}, wait={wait})", lambda c: c.delete(target, selector, wait=wait)
    if kind == "set_payload":
        payload = draw(st.dictionaries(st.sampled_from(PAYLOAD_KEYS), json_values, min_size=1, max_size=2))
        key = draw(st.sampled_from([None, None, "nested", "nested.a", "list[0]"]))
        selector = selectors(draw, existing)
        return f"set_payload({target!r}, {payload!r}, {selector!r}, key={key!r})", lambda c: c.set_payload(
            target, payload, selector, key=key, wait=wait
        )
    if kind == "overwrite_payload":
        payload = draw(st.dictionaries(st.sampled_from(PAYLOAD_KEYS), json_values, max_size=2))
        selector = selectors(draw, existing)
        return f"overwrite_payload({target!r}, {payload!r}, {selector!r})", lambda c: c.overwrite_payload(
            target, payload, selector, wait=wait
        )
    if kind == "delete_payload":
        keys = draw(st.lists(st.sampled_from([*PAYLOAD_KEYS, "nested.a", "list[]"]), min_size=1, max_size=2))
        selector = selectors(draw, existing)
        return f"delete_payload({target!r}, {keys!r}, {selector!r})", lambda c: c.delete_payload(
            target, keys, selector, wait=wait
        )
    if kind == "clear_payload":
        selector = selectors(draw, existing)
        return f"clear_payload({target!r}, {selector!r})", lambda c: c.clear_payload(target, selector, wait=wait)
    if kind == "update_vectors":
        specs = draw(
            st.lists(
                st.tuples(id_choices(existing), point_vector(layout, partial=True)),
                min_size=1,
                max_size=3,
                unique_by=lambda t: t[0],
            )
        )
        return f"update_vectors({target!r}, {specs!r})", lambda c: c.update_vectors(
            target, [models.PointVectors(id=i, vector=v) for i, v in specs], wait=wait
        )
    if kind == "delete_vectors":
        all_names = [*LAYOUTS[layout]["dense"], *LAYOUTS[layout]["sparse"], *LAYOUTS[layout]["multi"]]
        vector_names = draw(st.lists(st.sampled_from(all_names), min_size=1, max_size=2, unique=True))
        selector = selectors(draw, existing)
        return f"delete_vectors({target!r}, {vector_names!r}, {selector!r})", lambda c: c.delete_vectors(
            target, vector_names, selector, wait=wait
        )
    # batch_update_points: a few operations, all applied or none
    upserts = draw(st.lists(st.tuples(point_ids, point_vector(layout), payloads), min_size=1, max_size=3))
    deleted = draw(st.lists(id_choices(existing), min_size=1, max_size=2))
    set_to = draw(st.dictionaries(st.sampled_from(PAYLOAD_KEYS), scalars, min_size=1, max_size=1))
    set_ids = draw(st.lists(id_choices(existing), min_size=1, max_size=2))

    def batch(c: QdrantClient) -> Any:
        return c.batch_update_points(
            target,
            [
                models.UpsertOperation(
                    upsert=models.PointsList(
                        points=[models.PointStruct(id=i, vector=v, payload=p) for i, v, p in upserts]
                    )
                ),
                models.DeleteOperation(delete=models.PointIdsList(points=deleted)),
                models.SetPayloadOperation(set_payload=models.SetPayload(payload=set_to, points=set_ids)),
            ],
            wait=wait,
        )

    return f"batch_update_points({target!r}, {upserts!r}, delete={deleted!r}, set={set_to!r} on {set_ids!r})", batch


def outcome(request: Request, client: QdrantClient) -> tuple[str, Any]:
    """("ok", result) or ("error", (exception type name, message))."""
    try:
        result = request(client)
    except Exception as exc:  # the error itself is what is compared
        return "error", (type(exc).__name__, str(exc))
    return "ok", result.model_dump(mode="json") if hasattr(result, "model_dump") else repr(result)


def point_ids_of(client: QdrantClient, name: str) -> list[Any]:
    """The ids of every point of a collection."""
    return [record.id for record in client.scroll(name, limit=1000, with_payload=False)[0]]


def current_layouts(memory: QdrantClient, layouts: dict[str, str]) -> dict[str, str]:
    """Layouts of the collections that exist now (drops deleted ones; aliases resolved by the caller)."""
    existing = {c.name for c in memory.get_collections().collections}
    return {name: layout for name, layout in layouts.items() if name in existing}


@settings(max_examples=1000 if STRESS else 40)
@given(data=st.data())
def test_any_sequence_survives_reopen_and_compaction(tmp_path_factory: Any, data: st.DataObject) -> None:
    path: Path = tmp_path_factory.mktemp("db")
    memory = QdrantClient(":memory:")
    disk = open_client(path)
    layouts: dict[str, str] = {}
    try:
        first_layout = data.draw(st.sampled_from(list(LAYOUTS)), label="first layout")
        for client in (memory, disk):
            client.create_collection("c0", **create_kwargs(first_layout))
        layouts["c0"] = first_layout
        for _ in range(data.draw(st.integers(1, 30), label="steps")):
            step = data.draw(st.sampled_from(["request"] * 8 + ["reopen", "compact"]), label="step")
            if step == "reopen":
                disk.close()
                disk = open_client(path)
                assert visible_state(disk) == visible_state(memory), "state changed by close + reopen"
                continue
            if step == "compact":
                disk.compact()
                assert visible_state(disk) == visible_state(memory), "state changed by compact()"
                continue
            alias_targets = {a.alias_name: a.collection_name for a in memory.get_aliases().aliases}
            visible = {**layouts, **{a: layouts[c] for a, c in alias_targets.items() if c in layouts}}
            existing = {name: point_ids_of(memory, name) for name in visible}
            description, request = data.draw(requests(visible, existing), label="request")
            expected = outcome(request, memory)
            got = outcome(request, disk)
            assert got == expected, f"{description}: folder client gave {got}, memory client {expected}"
            event(
                f"{description.split('(')[0]}: {expected[0]} {str(expected[1])[:90] if expected[0] == 'error' else ''}"
            )
            creates = getattr(request, "creates", None)
            if expected[0] == "ok" and creates is not None:
                layouts[creates[0]] = creates[1]
            layouts = current_layouts(memory, layouts)

        expected_state = visible_state(memory)
        assert visible_state(disk) == expected_state
        disk.close()
        disk = open_client(path)
        assert visible_state(disk) == expected_state, "state changed by close + reopen"
        disk.compact()
        assert visible_state(disk) == expected_state, "state changed by compact()"
        disk.close()
        disk = open_client(path)
        assert visible_state(disk) == expected_state, "state changed by reopening a compacted folder"
    finally:
        disk.close()
        memory.close()


# ------------------------------------------------------------ one payload written to many points

SHARED_IDS = tuple(range(6))
# Nested values, so that a later keyed write or nested delete on one point would show on every point that
# shared the object.
shared_values = st.recursive(
    st.one_of(st.integers(0, 3), st.sampled_from(["y", "z"])),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(("y", "z")), inner, min_size=1, max_size=2),
    ),
    max_leaves=5,
)
shared_payloads = st.dictionaries(st.sampled_from(("k", "n")), shared_values, min_size=1, max_size=2)
NESTED_KEYS = ("k", "k[0]", "k[0].y", "k[].y", "k.y", "k.y[0]", "k[]", "n", "n.z")


@st.composite
def many_points_selector(draw: st.DrawFn) -> Any:
    """Several points: by ids, or by a filter that matches several of them."""
    if draw(st.booleans()):
        return models.PointIdsList(
            points=draw(st.lists(st.sampled_from(SHARED_IDS), min_size=2, max_size=5, unique=True))
        )
    # "g" is written once per point at setup and never touched by the batches
    return models.FilterSelector(
        filter=models.Filter(
            must=[models.FieldCondition(key="g", match=models.MatchValue(value=draw(st.integers(0, 1))))]
        )
    )


@st.composite
def follow_up(draw: st.DrawFn) -> Any:
    """A write that changes some of the points in place: keyed set, nested delete, overwrite, merge."""
    points = draw(st.lists(st.sampled_from(SHARED_IDS), min_size=1, max_size=3, unique=True))
    kind = draw(st.sampled_from(["set_key", "set", "delete", "overwrite"]))
    if kind == "set_key":
        return models.SetPayloadOperation(
            set_payload=models.SetPayload(
                payload=draw(shared_payloads), points=points, key=draw(st.sampled_from(NESTED_KEYS))
            )
        )
    if kind == "set":
        return models.SetPayloadOperation(set_payload=models.SetPayload(payload=draw(shared_payloads), points=points))
    if kind == "delete":
        keys = draw(st.lists(st.sampled_from(NESTED_KEYS), min_size=1, max_size=2))
        return models.DeletePayloadOperation(delete_payload=models.DeletePayload(keys=keys, points=points))
    return models.OverwritePayloadOperation(
        overwrite_payload=models.SetPayload(payload=draw(shared_payloads), points=points)
    )


@st.composite
def shared_payload_batch(draw: st.DrawFn) -> list[Any]:
    """One payload written to many points (upsert of one object, set, overwrite; by ids or by filter), then
    in-place changes to some of them, all in one batch_update_points."""
    first_kind = draw(st.sampled_from(["upsert", "set", "set_key", "overwrite"]))
    payload = draw(shared_payloads)
    if first_kind == "upsert":
        ids = draw(st.lists(st.sampled_from(SHARED_IDS), min_size=2, max_size=4, unique=True))
        # the very same dict object for every point, as a caller building PointStructs in a loop would
        first: Any = models.UpsertOperation(
            upsert=models.PointsList(
                points=[models.PointStruct(id=i, vector=[1.0, 0.0], payload={**payload, "g": i % 2}) for i in ids]
            )
        )
    else:
        selector = draw(many_points_selector())
        target = (
            {"points": selector.points} if isinstance(selector, models.PointIdsList) else {"filter": selector.filter}
        )
        if first_kind == "overwrite":
            first = models.OverwritePayloadOperation(overwrite_payload=models.SetPayload(payload=payload, **target))
        else:
            key = draw(st.sampled_from(NESTED_KEYS)) if first_kind == "set_key" else None
            first = models.SetPayloadOperation(set_payload=models.SetPayload(payload=payload, key=key, **target))
    return [first, *draw(st.lists(follow_up(), min_size=1, max_size=3))]


def payload_state(client: QdrantClient) -> list[Any]:
    return [(r.id, r.payload) for r in client.scroll("c", limit=100, with_payload=True)[0]]


def assert_no_shared_payload_objects(client: QdrantClient) -> None:
    """No dict or list inside one point's payload is also inside another point's (or twice in one)."""
    store = client._db.collections["c"].store  # type: ignore[union-attr]
    seen: dict[int, Any] = {}
    # Payloads are stored encoded and decoded per read: keep every read alive, so no id is reused.
    held = {slot: store.payloads[slot] for slot in range(store.n_slots) if store.live[slot]}
    for slot, payload in held.items():
        stack = [payload]
        while stack:
            value = stack.pop()
            if isinstance(value, (dict, list)):
                assert id(value) not in seen, (
                    f"point {store.point_ids[slot]} shares a payload object with {seen[id(value)]}"
                )
                seen[id(value)] = store.point_ids[slot]
                stack.extend(value.values() if isinstance(value, dict) else value)


@settings(max_examples=500 if STRESS else 60)
@given(batches=st.lists(shared_payload_batch(), min_size=1, max_size=5))
def test_one_payload_written_to_many_points_replays_exactly(tmp_path_factory: Any, batches: list[list[Any]]) -> None:
    path: Path = tmp_path_factory.mktemp("db")
    memory = QdrantClient(":memory:")
    disk = open_client(path)
    try:
        for client in (memory, disk):
            client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
            client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.0], payload={"g": i % 2}) for i in SHARED_IDS])
        for batch in batches:
            request = functools.partial(QdrantClient.batch_update_points, collection_name="c", update_operations=batch)
            assert outcome(request, disk) == outcome(request, memory)
            live = payload_state(memory)
            assert payload_state(disk) == live
            assert_no_shared_payload_objects(memory)
            assert_no_shared_payload_objects(disk)
            disk.close()
            disk = open_client(path)
            assert payload_state(disk) == live, f"reopen changed the state after {batch!r}"
            assert_no_shared_payload_objects(disk)
    finally:
        disk.close()
        memory.close()


def test_nested_delete_on_one_of_two_overwritten_points_survives_reopen(tmp_path: Path) -> None:
    """The issue's case: after reopen point 3 kept ``y`` (it used to lose it with point 4)."""
    with QdrantClient(path=str(tmp_path)) as client:
        client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
        client.upsert("c", [models.PointStruct(id=i, vector=[1.0, 0.0]) for i in (3, 4)])
        client.batch_update_points(
            "c",
            [
                models.OverwritePayloadOperation(
                    overwrite_payload=models.SetPayload(payload={"k": [{"y": 1, "z": 2}]}, points=[3, 4])
                ),
                models.DeletePayloadOperation(delete_payload=models.DeletePayload(keys=["k[0].y"], points=[4])),
            ],
        )
        live = payload_state(client)
    assert live == [(3, {"k": [{"y": 1, "z": 2}]}), (4, {"k": [{"z": 2}]})]
    with QdrantClient(path=str(tmp_path)) as client:
        assert payload_state(client) == live
