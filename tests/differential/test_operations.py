"""Operation sequences: a state machine drives every point write on the oracle and the subject.

After each step the whole collection (scroll with payloads and vectors, count, points_count) must
agree; read rules (scroll pages, order_by, count, retrieve, facet) run in between with generated
arguments.

Writes that name a point id only name existing points: naming a missing one is a deliberate
deviation (qdrant_local fails before changing anything). That deviation has its own rule here,
which runs on the subject alone and checks the subject still equals the untouched oracle.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from .compare import (
    Pair,
    assert_same,
    examples,
    plain,
    record_plain,
    subject_side,
)
from .specs import Call, Enum, build
from .strategies import (
    INDEX_KEYS,
    CollectionKind,
    batches,
    canonical_id,
    collection_kinds,
    filters,
    order_bys,
    payload_schemas,
    point_ids,
    point_lists,
    respelled,
    selectors,
    set_payload_values,
    upsert_points,
    vector_structs,
    with_payloads,
    with_vectors_options,
    write_keys,
)

COLLECTION = "c"
FACET_KEYS = ["city", "n", "tags", "flag", "obj.x", "arr[].y", "u", "text", "missing", "f"]
UPDATE_MODES = [Enum("UpdateMode", m) for m in ("UPSERT", "INSERT_ONLY", "UPDATE_ONLY")]


def assert_same_order_by_scroll(expected: Any, actual: Any, tie_sets: dict[Any, set[Any]]) -> None:
    """An order_by page: same order values; ids may differ only in order among equal values.

    Local mode breaks ties by the position a point was first inserted at, an artifact of its
    storage; the server does not promise a tie order either. ``tie_sets`` maps each order value
    to every id holding it, so the last (possibly cut) group is checked too.
    """
    e_records, a_records = expected[0], actual[0]
    e_plain = [record_plain(r) for r in e_records]
    a_plain = [record_plain(r) for r in a_records]
    assert_same([r["order_value"] for r in e_plain], [r["order_value"] for r in a_plain], what="order_value sequence")
    assert_same(plain(expected[1]), plain(actual[1]), what="order_by next_page_offset")
    by_id = {(repr(r["order_value"]), repr(r["id"])): r for r in e_plain}
    for r in a_plain:
        allowed = tie_sets.get(repr(r["order_value"]), set())
        assert repr(r["id"]) in allowed, f"id {r['id']} does not hold order value {r['order_value']}"
    assert len({(repr(r["order_value"]), repr(r["id"])) for r in a_plain}) == len(a_plain), "duplicate rows"
    full_groups = [repr(r["order_value"]) for r in e_plain]
    last = full_groups[-1] if full_groups else None
    for value in set(full_groups) - {last}:
        e_ids = sorted(repr(r["id"]) for r in e_plain if repr(r["order_value"]) == value)
        a_ids = sorted(repr(r["id"]) for r in a_plain if repr(r["order_value"]) == value)
        assert e_ids == a_ids, f"ids with order value {value}: oracle {e_ids}, subject {a_ids}"
    for r in a_plain:
        match = by_id.get((repr(r["order_value"]), repr(r["id"])))
        if match is not None:
            assert_same(match["payload"], r["payload"], what=f"order_by record {r['id']} payload")
            assert_same(match["vector"], r["vector"], tol=1e-5, what=f"order_by record {r['id']} vector")


class PointOperations(RuleBasedStateMachine):
    """Every write and read of points, applied to the oracle and the subject alike."""

    def __init__(self) -> None:
        super().__init__()
        self.subject_side = subject_side()
        self.pair = Pair(self.subject_side)
        self.kind: CollectionKind | None = None

    # ---------------------------------------------------------------- helpers

    def existing_ids(self) -> list[Any]:
        """Canonical ids of the points the collection holds (asked of the oracle)."""
        records, _ = self.pair.oracle.scroll(COLLECTION, limit=1_000_000, with_payload=False)
        return [r.id for r in records]

    def _vector_names(self) -> list[str]:
        assert self.kind is not None
        return self.kind.vector_names

    def _filter(self) -> st.SearchStrategy[Call]:
        return filters(depth=1, vector_names=self._vector_names())

    def _maybe_filter(self) -> st.SearchStrategy[Call | None]:
        return st.none() | self._filter()

    def _ids_to_read(self, data: st.DataObject) -> list[Any]:
        existing = self.existing_ids()
        pool = st.one_of(point_ids, st.sampled_from(existing).flatmap(respelled)) if existing else point_ids
        return data.draw(st.lists(pool, max_size=6), label="ids")

    # ---------------------------------------------------------------- setup

    @initialize(kind=collection_kinds, data=st.data())
    def create_collection(self, kind: CollectionKind, data: st.DataObject) -> None:
        self.kind = kind
        self.pair.check("create_collection", COLLECTION, **kind.create_kwargs())
        # Start from a populated collection: with an empty one, most writes select nothing.
        points = data.draw(point_lists(kind, min_size=0, max_size=12), label="seed points")
        if points:
            self.pair.check("upsert", COLLECTION, points)

    # ---------------------------------------------------------------- writes

    @rule(data=st.data())
    def upsert(self, data: st.DataObject) -> None:
        assert self.kind is not None
        points = data.draw(upsert_points(self.kind), label="points")
        extra: dict[str, Any] = {}
        if data.draw(st.integers(0, 3), label="with update options") == 0:
            extra["update_mode"] = data.draw(st.none() | st.sampled_from(UPDATE_MODES), label="update_mode")
            extra["update_filter"] = data.draw(self._maybe_filter(), label="update_filter")
        self.pair.check("upsert", COLLECTION, points, **extra)

    @rule(data=st.data())
    def upsert_batch(self, data: st.DataObject) -> None:
        assert self.kind is not None
        self.pair.check("upsert", COLLECTION, data.draw(batches(self.kind), label="batch"))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        # deleting ids that do not exist is a silent no-op, so any id may be named
        existing = self.existing_ids() + data.draw(st.lists(point_ids, max_size=2), label="absent")
        selector = data.draw(selectors(existing, vector_names=self._vector_names()), label="selector")
        self.pair.check("delete", COLLECTION, selector)

    @rule(data=st.data())
    def set_payload(self, data: st.DataObject) -> None:
        selector = data.draw(selectors(self.existing_ids(), vector_names=self._vector_names()), label="points")
        payload = data.draw(set_payload_values, label="payload")
        key = data.draw(st.none() | write_keys, label="key")
        self.pair.check("set_payload", COLLECTION, payload, selector, key=key)

    @rule(data=st.data())
    def overwrite_payload(self, data: st.DataObject) -> None:
        selector = data.draw(selectors(self.existing_ids(), vector_names=self._vector_names()), label="points")
        payload = data.draw(set_payload_values, label="payload")
        self.pair.check("overwrite_payload", COLLECTION, payload, selector)

    @rule(data=st.data())
    def delete_payload(self, data: st.DataObject) -> None:
        selector = data.draw(selectors(self.existing_ids(), vector_names=self._vector_names()), label="points")
        keys = data.draw(st.lists(write_keys, min_size=1, max_size=3), label="keys")
        self.pair.check("delete_payload", COLLECTION, keys, selector)

    @rule(data=st.data())
    def clear_payload(self, data: st.DataObject) -> None:
        selector = data.draw(selectors(self.existing_ids(), vector_names=self._vector_names()), label="points")
        self.pair.check("clear_payload", COLLECTION, selector)

    @precondition(lambda self: bool(self.existing_ids()))
    @rule(data=st.data())
    def update_vectors(self, data: st.DataObject) -> None:
        assert self.kind is not None
        ids = data.draw(
            st.lists(st.sampled_from(self.existing_ids()), min_size=1, max_size=4, unique=True), label="ids"
        )
        points = [
            Call(
                "PointVectors",
                id=data.draw(respelled(pid)),
                vector=data.draw(vector_structs(self.kind, allow_empty=False)),
            )
            for pid in ids
        ]
        update_filter = data.draw(st.none() | st.none() | self._filter(), label="update_filter")
        self.pair.check("update_vectors", COLLECTION, points, update_filter=update_filter)

    @rule(data=st.data())
    def delete_vectors(self, data: st.DataObject) -> None:
        names = data.draw(
            st.lists(st.sampled_from(self._vector_names()), min_size=1, max_size=3, unique=True), label="names"
        )
        selector = data.draw(selectors(self.existing_ids(), vector_names=self._vector_names()), label="points")
        self.pair.check("delete_vectors", COLLECTION, names, selector)

    @rule(data=st.data())
    def batch_update_points(self, data: st.DataObject) -> None:
        ops = data.draw(batch_operations(self.kind, self.existing_ids()), label="operations")
        self.pair.check("batch_update_points", COLLECTION, ops)

    @rule(data=st.data())
    def rejected_write(self, data: st.DataObject) -> None:
        """A request with one bad part fails as a whole, with local mode's error, changing nothing.

        The bad part comes after good ones (points, operations), so a request applied part-way
        shows in the invariant.
        """
        assert self.kind is not None
        kind = self.kind
        existing = self.existing_ids()
        good = data.draw(point_lists(kind, max_size=3), label="good points")
        bad_kind = data.draw(
            st.sampled_from(
                [
                    "wrong_dim",
                    "unknown_name",
                    "nan",
                    "bad_key",
                    "empty_ids",
                    "bad_filter",
                    "bad_delete_key",
                    "empty_vector_names",
                    "unknown_vector_delete",
                    "bad_id",
                ]
            ),
            label="bad kind",
        )
        first = kind.vector_names[0]
        if bad_kind in ("wrong_dim", "nan", "unknown_name", "bad_id"):
            if bad_kind == "unknown_name":
                vector: Any = {"zz": [1.0]}
            elif first in kind.sparse:
                vector = {first: Call("SparseVector", indices=[1, 1], values=[1.0, 2.0])}
            else:
                size = (kind.dense.get(first) or kind.multi[first])[0]
                row = [float("nan")] * size if bad_kind == "nan" else [1.0] * (size + 1)
                if bad_kind == "bad_id":
                    row = [1.0] * size
                value = [row] if first in kind.multi else row
                vector = value if kind.unnamed else {first: value}
            bad_point = Call("PointStruct", id="not-a-uuid" if bad_kind == "bad_id" else 10**9, vector=vector)
            self.pair.check("upsert", COLLECTION, [*good, bad_point])
        elif bad_kind == "bad_key":
            self.pair.check("set_payload", COLLECTION, {"x": 1}, data.draw(selectors(existing)), key="a..b")
        elif bad_kind == "bad_delete_key":
            self.pair.check("delete_payload", COLLECTION, ["city", "a[x]"], data.draw(selectors(existing)))
        elif bad_kind == "empty_ids":
            method = data.draw(st.sampled_from(["delete", "clear_payload", "set_payload"]))
            args = [[]] if method != "set_payload" else [{"x": 1}, []]
            self.pair.check(method, COLLECTION, *args)
        elif bad_kind == "bad_filter":
            flt = Call(
                "Filter", min_should=Call("MinShould", conditions=[Call("HasIdCondition", has_id=[1])], min_count=0)
            )
            method = data.draw(st.sampled_from(["delete", "count", "scroll", "set_payload"]))
            if method == "delete":
                self.pair.check("delete", COLLECTION, Call("FilterSelector", filter=flt))
            elif method == "count":
                self.pair.check("count", COLLECTION, count_filter=flt)
            elif method == "scroll":
                self.pair.check("scroll", COLLECTION, scroll_filter=flt)
            else:
                self.pair.check("set_payload", COLLECTION, {"x": 1}, flt)
        elif bad_kind == "empty_vector_names":
            self.pair.check("delete_vectors", COLLECTION, [], data.draw(selectors(existing)))
        else:
            self.pair.check("delete_vectors", COLLECTION, [first, "zz"], data.draw(selectors(existing)))

    @rule(field=st.sampled_from(INDEX_KEYS), schema=payload_schemas, drop=st.integers(0, 3))
    def payload_index(self, field: str, schema: Any, drop: int) -> None:
        """Payload indexes do nothing in local mode: later filters must give the same results."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.pair.check("create_payload_index", COLLECTION, field, field_schema=schema)
            if drop == 0:
                self.pair.check("delete_payload_index", COLLECTION, field)

    # ---------------------------------------------------------------- the missing-id deviation

    @precondition(lambda self: self.subject_side.name == "qdrant_local")
    @rule(data=st.data())
    def write_naming_a_missing_point(self, data: st.DataObject) -> None:
        """Subject only: the write fails with ``No point with id X found`` and changes nothing.

        The oracle does not run this request, so the invariant then checks the subject still
        equals the untouched oracle (local mode would have applied the other points).
        """
        assert self.kind is not None
        existing = self.existing_ids()
        missing = data.draw(point_ids.filter(lambda p: canonical_id(p) not in existing), label="missing")
        ids = data.draw(st.lists(st.sampled_from(existing), max_size=3, unique=True), label="ids") if existing else []
        ids.insert(data.draw(st.integers(0, len(ids)), label="position"), missing)
        method, args = data.draw(
            st.sampled_from(
                [
                    "set_payload",
                    "overwrite_payload",
                    "delete_payload",
                    "clear_payload",
                    "update_vectors",
                    "delete_vectors",
                    "batch_update_points",
                ]
            ).flatmap(lambda m: _missing_point_request(m, self.kind, ids, existing)),
            label="request",
        )
        client = self.pair.subject
        with pytest.raises(KeyError) as caught:
            getattr(client, method)(COLLECTION, *build(args, self.subject_side.models))
        assert str(caught.value) == f"No point with id {canonical_id(missing)} found", str(caught.value)

    # ---------------------------------------------------------------- reads

    @rule(data=st.data())
    def scroll(self, data: st.DataObject) -> None:
        assert self.kind is not None
        existing = self.existing_ids()
        offsets = st.none() | point_ids
        if existing:
            offsets = offsets | st.sampled_from(existing).flatmap(respelled)
        self.pair.check(
            "scroll",
            COLLECTION,
            scroll_filter=data.draw(self._maybe_filter(), label="filter"),
            limit=data.draw(st.integers(1, 12), label="limit"),
            offset=data.draw(offsets, label="offset"),
            with_payload=data.draw(with_payloads, label="with_payload"),
            with_vectors=data.draw(with_vectors_options(self.kind), label="with_vectors"),
        )

    @rule(data=st.data())
    def scroll_all_pages(self, data: st.DataObject) -> None:
        """Following next_page_offset visits the same pages on both sides."""
        flt = data.draw(self._maybe_filter(), label="filter")
        limit = data.draw(st.integers(1, 5), label="limit")
        offset = None
        for _ in range(100):
            outcome = self.pair.check("scroll", COLLECTION, scroll_filter=flt, limit=limit, offset=offset)
            offset = outcome.unwrap()[1]
            if offset is None:
                break

    @rule(data=st.data())
    def scroll_order_by(self, data: st.DataObject) -> None:
        assert self.kind is not None
        order_by = data.draw(order_bys(), label="order_by")
        flt = data.draw(self._maybe_filter(), label="filter")
        key = order_by if isinstance(order_by, str) else order_by.kwargs["key"]
        full = self.pair.oracle.scroll(COLLECTION, limit=1_000_000, order_by=key, with_payload=False)[0]
        tie_sets: dict[Any, set[Any]] = {}
        for r in full:
            tie_sets.setdefault(repr(plain(r.order_value)), set()).add(repr(r.id))
        self.pair.check(
            "scroll",
            COLLECTION,
            scroll_filter=flt,
            limit=data.draw(st.integers(1, 12), label="limit"),
            order_by=order_by,
            with_payload=data.draw(with_payloads, label="with_payload"),
            with_vectors=data.draw(with_vectors_options(self.kind), label="with_vectors"),
            compare=lambda e, a: assert_same_order_by_scroll(e, a, tie_sets),
        )

    @rule(data=st.data())
    def count(self, data: st.DataObject) -> None:
        self.pair.check("count", COLLECTION, count_filter=data.draw(self._maybe_filter(), label="filter"))

    @rule(data=st.data())
    def retrieve(self, data: st.DataObject) -> None:
        assert self.kind is not None
        self.pair.check(
            "retrieve",
            COLLECTION,
            self._ids_to_read(data),
            with_payload=data.draw(with_payloads, label="with_payload"),
            with_vectors=data.draw(with_vectors_options(self.kind), label="with_vectors"),
        )

    @rule(data=st.data())
    def facet(self, data: st.DataObject) -> None:
        self.pair.check(
            "facet",
            COLLECTION,
            data.draw(st.sampled_from(FACET_KEYS), label="key"),
            facet_filter=data.draw(self._maybe_filter(), label="filter"),
            limit=data.draw(st.integers(1, 10), label="limit"),
        )

    # ---------------------------------------------------------------- invariant

    @invariant()
    def same_state(self) -> None:
        if self.kind is not None:
            self.pair.assert_same_state(COLLECTION)

    def teardown(self) -> None:
        self.pair.close()


# ------------------------------------------------------------------------------------------------
# Batches
# ------------------------------------------------------------------------------------------------


def _id_or_filter_selector(draw: st.DrawFn, alive: list[Any], vector_names: list[str]) -> tuple[str, Any]:
    """("points", ids) naming only ``alive`` ids, or ("filter", Filter)."""
    if alive and draw(st.integers(0, 2)):
        ids = draw(st.lists(st.sampled_from(alive).flatmap(respelled), min_size=1, max_size=3))
        return "points", ids
    return "filter", draw(filters(depth=1, vector_names=vector_names))


@st.composite
def batch_operations(draw: st.DrawFn, kind: CollectionKind | None, existing: list[Any]) -> list[Call]:
    """1..4 batch operations of any of the eight kinds, none of which names a missing point.

    ``alive`` tracks the ids certainly present at each step: upserts add theirs, deletes by id
    remove theirs, and a delete by filter makes every id uncertain.
    """
    assert kind is not None
    alive = list(existing)
    names = kind.vector_names
    ops: list[Call] = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(
            st.sampled_from(
                [
                    "upsert",
                    "upsert_batch",
                    "delete",
                    "set_payload",
                    "overwrite_payload",
                    "delete_payload",
                    "clear_payload",
                    "update_vectors",
                    "delete_vectors",
                ]
            )
        )
        if op in ("upsert", "upsert_batch"):
            mode = draw(st.none() | st.sampled_from(UPDATE_MODES)) if draw(st.integers(0, 3)) == 0 else None
            if op == "upsert":
                pts = draw(point_lists(kind, max_size=4))
                body = Call("PointsList", points=pts, update_mode=mode)
                new_ids = [canonical_id(p.kwargs["id"]) for p in pts]
            else:
                batch = draw(batches(kind))
                body = Call("PointsBatch", batch=batch, update_mode=mode)
                new_ids = [canonical_id(i) for i in batch.kwargs["ids"]]
            ops.append(Call("UpsertOperation", upsert=body))
            if mode != Enum("UpdateMode", "UPDATE_ONLY"):
                alive = alive + [i for i in new_ids if i not in alive]
        elif op == "delete":
            how, sel = _id_or_filter_selector(draw, alive, names)
            if how == "points":
                ops.append(Call("DeleteOperation", delete=Call("PointIdsList", points=sel)))
                gone = {canonical_id(i) for i in sel}
                alive = [i for i in alive if i not in gone]
            else:
                ops.append(Call("DeleteOperation", delete=Call("FilterSelector", filter=sel)))
                alive = []
        elif op in ("set_payload", "overwrite_payload"):
            how, sel = _id_or_filter_selector(draw, alive, names)
            key = draw(st.none() | write_keys) if op == "set_payload" else None
            body = Call("SetPayload", payload=draw(set_payload_values), key=key, **{how: sel})
            name = "SetPayloadOperation" if op == "set_payload" else "OverwritePayloadOperation"
            ops.append(Call(name, **{op: body}))
        elif op == "delete_payload":
            how, sel = _id_or_filter_selector(draw, alive, names)
            keys = draw(st.lists(write_keys, min_size=1, max_size=3))
            ops.append(Call("DeletePayloadOperation", delete_payload=Call("DeletePayload", keys=keys, **{how: sel})))
        elif op == "clear_payload":
            how, sel = _id_or_filter_selector(draw, alive, names)
            selector = Call("PointIdsList", points=sel) if how == "points" else Call("FilterSelector", filter=sel)
            ops.append(Call("ClearPayloadOperation", clear_payload=selector))
        elif op == "update_vectors":
            if not alive:
                continue
            ids = draw(st.lists(st.sampled_from(alive), min_size=1, max_size=3, unique=True))
            pts = [
                Call("PointVectors", id=draw(respelled(i)), vector=draw(vector_structs(kind, allow_empty=False)))
                for i in ids
            ]
            ops.append(Call("UpdateVectorsOperation", update_vectors=Call("UpdateVectors", points=pts)))
        else:
            how, sel = _id_or_filter_selector(draw, alive, names)
            vnames = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
            ops.append(
                Call("DeleteVectorsOperation", delete_vectors=Call("DeleteVectors", vector=vnames, **{how: sel}))
            )
    return ops or [Call("DeleteOperation", delete=Call("PointIdsList", points=[10**15 + 7]))]


def _missing_point_request(
    method: str, kind: CollectionKind | None, ids: list[Any], existing: list[Any]
) -> st.SearchStrategy[tuple[str, list[Any]]]:
    """(method, positional args after the collection name) of a write naming ``ids``."""
    assert kind is not None

    @st.composite
    def build_request(draw: st.DrawFn) -> tuple[str, list[Any]]:
        selector = ids if draw(st.booleans()) else Call("PointIdsList", points=ids)
        if method == "set_payload":
            return method, [draw(set_payload_values), selector]
        if method == "overwrite_payload":
            return method, [draw(set_payload_values), selector]
        if method == "delete_payload":
            return method, [draw(st.lists(write_keys, min_size=1, max_size=2)), selector]
        if method == "clear_payload":
            return method, [selector]
        if method == "update_vectors":
            pts = [Call("PointVectors", id=i, vector=draw(vector_structs(kind, allow_empty=False))) for i in ids]
            return method, [pts]
        if method == "delete_vectors":
            return method, [[draw(st.sampled_from(kind.vector_names))], selector]
        # a batch whose valid operations come first: all-or-nothing means none of them sticks
        # The failing operation names only the missing point, and no earlier one may create it,
        # so the expected message is known. The batch is cut before its first upsert of the
        # missing point (not that upsert dropped): a later operation may name a point only that
        # upsert created, and would then fail first.
        missing = [i for i in ids if canonical_id(i) not in existing][0]
        drawn = draw(batch_operations(kind, existing))
        creators = [n for n, op in enumerate(drawn) if _creates(op, missing)]
        ops = drawn[: creators[0]] if creators else drawn
        ops.append(Call("ClearPayloadOperation", clear_payload=Call("PointIdsList", points=[missing])))
        return method, [ops]

    return build_request()


def _creates(op: Call, point_id: Any) -> bool:
    """Whether a batch operation upserts ``point_id``."""
    if op.name != "UpsertOperation":
        return False
    body = op.kwargs["upsert"]
    ids = (
        body.kwargs["batch"].kwargs["ids"]
        if body.name == "PointsBatch"
        else [p.kwargs["id"] for p in body.kwargs["points"]]
    )
    return canonical_id(point_id) in {canonical_id(i) for i in ids}


PointOperations.TestCase.settings = settings(
    max_examples=examples(50),
    stateful_step_count=15,
)
TestPointOperations = PointOperations.TestCase


@pytest.mark.slow
def test_point_operations_long() -> None:
    """Longer operation sequences; bounded by default, 400 examples with QDRANT_LOCAL_STRESS=1."""
    from hypothesis.stateful import run_state_machine_as_test

    budget = 400 if os.environ.get("QDRANT_LOCAL_STRESS") else 8
    run_state_machine_as_test(PointOperations, settings=settings(max_examples=budget, stateful_step_count=60))
