"""The accepted input forms give identical results for every point operation.

A request may be built from qdrant_local's own models, from qdrant_client's models, or written as
a REST-shaped dict (``{"id": 1, "vector": [...], "payload": {...}}``, ``{"must": [...]}``,
``{"points": [1, 2]}``, ``{"upsert": {"points": [...]}}``, ...), and dense vectors may be numpy
arrays. One generated operation sequence is sent in every form to its own qdrant_local client and,
as qdrant_client models, to the oracle: every form must get the oracle's results.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ..differential.compare import (
    ORACLE,
    Side,
    assert_same_outcome,
    default_comparison,
    examples,
    run,
    subject_side,
)
from ..differential.specs import Call, build, json_unambiguous, to_rest, with_numpy_vectors
from ..differential.strategies import (
    AVOID,
    CollectionKind,
    batches,
    collection_kinds,
    filters,
    order_bys,
    point_ids,
    point_lists,
    respelled,
    selectors,
    set_payload_values,
    vector_structs,
    with_payloads,
    with_vectors_options,
    write_keys,
)
from ..differential.test_operations import FACET_KEYS, UPDATE_MODES, batch_operations

FORMS = ["models", "qdrant_client", "dict", "numpy", "numpy_dict"]


@pytest.fixture(scope="module")
def subject() -> Side:
    """The implementation under test (see differential/compare.py)."""
    return subject_side()


def converter(form: str, subject: Side) -> Callable[[Any], Any]:
    """How a spec becomes an argument in the given input form."""
    if form == "models":
        return lambda spec: build(spec, subject.models)
    if form == "qdrant_client":
        return lambda spec: build(spec, ORACLE.models)
    if form == "dict":
        return to_rest
    if form == "numpy":
        return lambda spec: build(with_numpy_vectors(spec), subject.models)
    if form == "numpy_dict":
        return lambda spec: to_rest(with_numpy_vectors(spec))
    raise ValueError(form)


def _selector(spec: Any) -> Any:
    # A bare filter dict cannot be told apart from a selector dict ({"filter": ...}), so the
    # REST forms always wrap filters in a FilterSelector; the other forms get the same request.
    if isinstance(spec, Call) and spec.name == "Filter":
        return Call("FilterSelector", filter=spec)
    return spec


@st.composite
def operations(draw: st.DrawFn, kind: CollectionKind, existing: list[Any]) -> tuple[str, list[Any], dict[str, Any]]:
    """One point operation (method, args, kwargs) in spec form, naming only existing points."""
    names = kind.vector_names
    flt = filters(depth=1, vector_names=names)
    sel = selectors(existing, vector_names=names).map(_selector)
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
                "batch_update_points",
                "scroll",
                "scroll_order_by",
                "count",
                "retrieve",
                "facet",
                "upload_points",
            ]
        )
    )
    if op == "upsert":
        kwargs: dict[str, Any] = {}
        if draw(st.booleans()):
            kwargs = {"update_mode": draw(st.sampled_from(UPDATE_MODES)), "update_filter": draw(st.none() | flt)}
        return "upsert", [draw(point_lists(kind))], kwargs
    if op == "upsert_batch":
        return "upsert", [draw(batches(kind))], {}
    if op == "upload_points":
        return "upload_points", [draw(point_lists(kind))], {}
    if op == "delete":
        return "delete", [_selector(draw(selectors(existing + [draw(point_ids)], vector_names=names)))], {}
    if op == "set_payload":
        return "set_payload", [draw(set_payload_values), draw(sel)], {"key": draw(st.none() | write_keys)}
    if op == "overwrite_payload":
        return "overwrite_payload", [draw(set_payload_values), draw(sel)], {}
    if op == "delete_payload":
        return "delete_payload", [draw(st.lists(write_keys, min_size=1, max_size=3)), draw(sel)], {}
    if op == "clear_payload":
        return "clear_payload", [draw(sel)], {}
    if op == "update_vectors" and existing:
        ids = draw(st.lists(st.sampled_from(existing), min_size=1, max_size=3, unique=True))
        pts = [
            Call("PointVectors", id=draw(respelled(i)), vector=draw(vector_structs(kind, allow_empty=False)))
            for i in ids
        ]
        return "update_vectors", [pts], {"update_filter": draw(st.none() | flt)}
    if op == "delete_vectors":
        vnames = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        return "delete_vectors", [vnames, draw(sel)], {}
    if op == "batch_update_points":
        return "batch_update_points", [draw(batch_operations(kind, existing))], {}
    if op == "scroll":
        return (
            "scroll",
            [],
            {
                "scroll_filter": draw(st.none() | flt),
                "limit": draw(st.integers(1, 10)),
                "offset": draw(st.none() | point_ids),
                "with_payload": draw(with_payloads),
                "with_vectors": draw(with_vectors_options(kind)),
            },
        )
    if op == "scroll_order_by":
        # A single-valued key: ties are then broken the same way in every form.
        return "scroll", [], {"order_by": draw(order_bys()), "scroll_filter": draw(st.none() | flt), "limit": 100}
    if op == "count":
        return "count", [], {"count_filter": draw(st.none() | flt)}
    if op == "retrieve":
        pool = st.sampled_from(existing).flatmap(respelled) | point_ids if existing else point_ids
        return (
            "retrieve",
            [draw(st.lists(pool, max_size=5))],
            {
                "with_payload": draw(with_payloads),
                "with_vectors": draw(with_vectors_options(kind)),
            },
        )
    return (
        "facet",
        [draw(st.sampled_from(FACET_KEYS))],
        {"facet_filter": draw(st.none() | flt), "limit": draw(st.integers(1, 10))},
    )


def _existing(oracle: Any) -> list[Any]:
    return [r.id for r in oracle.scroll("c", limit=1_000_000, with_payload=False)[0]]


@settings(max_examples=examples(30))
@given(kind=collection_kinds, data=st.data())
def test_forms_agree_with_the_oracle(subject: Side, kind: CollectionKind, data: st.DataObject) -> None:
    """Each form, on its own client, gets the oracle's result at every step of a sequence."""
    if subject.name != "qdrant_local":
        pytest.skip("only qdrant_local accepts dicts and numpy vectors")
    oracle = ORACLE.client()
    clients = {form: subject.client() for form in FORMS}
    try:
        create = kind.create_kwargs()
        oracle.create_collection("c", **build(create, ORACLE.models))
        for form, client in clients.items():
            convert = converter(form, subject)
            if "vectors_config_dict_unnamed" in AVOID and kind.unnamed and "dict" in form:
                convert = converter("models", subject)  # see test_regressions
            client.create_collection("c", **{k: convert(v) for k, v in create.items()})
        for step in range(data.draw(st.integers(1, 8), label="steps")):
            method, args, kwargs = data.draw(operations(kind, _existing(oracle)), label=f"step {step}")
            # An empty DatetimeRange() has the JSON of an empty numeric Range: the dict form cannot say it.
            assume(json_unambiguous([args, kwargs]))
            expected = run(
                lambda: getattr(oracle, method)("c", *build(args, ORACLE.models), **build(kwargs, ORACLE.models))
            )
            compare = default_comparison(method)
            if method == "scroll" and "order_by" in kwargs:
                compare = _order_by_compare
            for form, client in clients.items():
                convert = converter(form, subject)
                actual = run(
                    lambda: getattr(client, method)(
                        "c", *[convert(a) for a in args], **{k: convert(v) for k, v in kwargs.items()}
                    )
                )
                assert_same_outcome(expected, actual, compare, what=f"{method} in the {form!r} form")
        for form, client in clients.items():
            for name in ("scroll", "count", "get_collection"):
                kwargs = {"limit": 1_000_000, "with_vectors": True} if name == "scroll" else {}
                expected = run(lambda: getattr(oracle, name)("c", **kwargs))
                actual = run(lambda: getattr(client, name)("c", **kwargs))
                assert_same_outcome(expected, actual, default_comparison(name), what=f"final {name} ({form})")
    finally:
        oracle.close()
        for client in clients.values():
            client.close()


def _order_by_compare(expected: Any, actual: Any) -> None:
    from ..differential.compare import plain, record_plain
    from ..differential.test_operations import assert_same_order_by_scroll

    ties: dict[Any, set[Any]] = {}
    for r in expected[0]:
        ties.setdefault(repr(plain(r.order_value)), set()).add(repr(record_plain(r)["id"]))
    assert_same_order_by_scroll(expected, actual, ties)


# ------------------------------------------------------------------------------------------------
# Hand-written REST bodies: the shapes users copy from the Qdrant docs
# ------------------------------------------------------------------------------------------------


def _pair_clients(subject: Side) -> tuple[Any, Any]:
    oracle, client = ORACLE.client(), subject.client()
    oracle.create_collection(
        "c", vectors_config=ORACLE.models.VectorParams(size=2, distance=ORACLE.models.Distance.DOT)
    )
    if "vectors_config_dict_unnamed" in AVOID:  # see test_regressions
        client.create_collection("c", vectors_config=subject.models.VectorParams(size=2, distance="Dot"))
    else:
        client.create_collection("c", vectors_config={"size": 2, "distance": "Dot"})
    return oracle, client


REST_CASES: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    # (id, method, args for qdrant_local as dicts, kwargs); the oracle gets the same via pydantic
    (
        "upsert_points",
        "upsert",
        [
            [
                {"id": 1, "vector": [1.0, 0.5], "payload": {"city": "Oslo"}},
                {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [0.0, 1.0]},
            ]
        ],
        {},
    ),
    ("upsert_batch", "upsert", [{"ids": [7, 8], "vectors": [[1.0, 1.0], [2.0, 0.0]], "payloads": [{"n": 1}, {}]}], {}),
    ("scroll_filter", "scroll", [], {"scroll_filter": {"must": [{"key": "city", "match": {"value": "Oslo"}}]}}),
    (
        "scroll_should_has_id",
        "scroll",
        [],
        {"scroll_filter": {"should": [{"has_id": [2, 3]}, {"is_empty": {"key": "city"}}]}},
    ),
    (
        "scroll_nested",
        "scroll",
        [],
        {
            "scroll_filter": {
                "must": {"nested": {"key": "arr", "filter": {"must": [{"key": "x", "match": {"value": 1}}]}}}
            }
        },
    ),
    (
        "scroll_min_should",
        "scroll",
        [],
        {
            "scroll_filter": {
                "min_should": {
                    "conditions": [
                        {"key": "n", "range": {"gte": 1}},
                        {"key": "city", "match": {"any": ["Oslo", "Paris"]}},
                    ],
                    "min_count": 1,
                }
            }
        },
    ),
    ("scroll_except", "scroll", [], {"scroll_filter": {"must": [{"key": "city", "match": {"except": ["Oslo"]}}]}}),
    ("scroll_include", "scroll", [], {"with_payload": {"include": ["city"]}, "with_vectors": True}),
    ("scroll_exclude", "scroll", [], {"with_payload": {"exclude": ["city"]}}),
    ("scroll_order_by", "scroll", [], {"order_by": {"key": "n", "direction": "desc"}}),
    ("count_filter", "count", [], {"count_filter": {"must_not": [{"is_null": {"key": "n"}}]}}),
    ("facet_filter", "facet", ["city"], {"facet_filter": {"must": [{"key": "n", "values_count": {"gte": 1}}]}}),
    ("delete_points", "delete", [{"points": [1, 2]}], {}),
    ("delete_filter", "delete", [{"filter": {"must": [{"key": "city", "match": {"value": "Paris"}}]}}], {}),
    ("set_payload_points", "set_payload", [{"k": [1, 2]}, {"points": [3]}], {"key": "obj"}),
    ("set_payload_filter", "set_payload", [{"k": True}, {"filter": {"must": [{"has_id": [4]}]}}], {}),
    ("overwrite_payload", "overwrite_payload", [{"only": 1}, [3]], {}),
    ("delete_payload", "delete_payload", [["city", "obj.k"], {"filter": {}}], {}),
    ("clear_payload", "clear_payload", [{"points": [4]}], {}),
    ("update_vectors", "update_vectors", [[{"id": 3, "vector": [9.0, 9.0]}]], {}),
    ("delete_vectors", "delete_vectors", [[""], {"points": [3]}], {}),
    (
        "batch",
        "batch_update_points",
        [
            [
                {"upsert": {"points": [{"id": 20, "vector": [1.0, 2.0], "payload": {"a": 1}}]}},
                {"upsert": {"batch": {"ids": [21], "vectors": [[0.0, 1.0]]}}},
                {"set_payload": {"payload": {"b": 2}, "points": [20, 21]}},
                {"overwrite_payload": {"payload": {"c": 3}, "filter": {"must": [{"has_id": [21]}]}}},
                {"delete_payload": {"keys": ["a"], "points": [20]}},
                {"clear_payload": {"points": [21]}},
                {"update_vectors": {"points": [{"id": 20, "vector": [5.0, 5.0]}]}},
                {"delete_vectors": {"points": [21], "vector": [""]}},
                {"delete": {"points": [20]}},
            ]
        ],
        {},
    ),
]


def _to_oracle(method: str, position: str, value: Any) -> Any:
    """Parse a REST body into the qdrant_client model the oracle's method takes there."""
    m = ORACLE.models
    if position in ("scroll_filter", "count_filter", "facet_filter") and isinstance(value, dict):
        return m.Filter.model_validate(value)
    if position == "order_by" and isinstance(value, dict):
        return m.OrderBy.model_validate(value)
    if position == "with_payload" and isinstance(value, dict):
        return (m.PayloadSelectorInclude if "include" in value else m.PayloadSelectorExclude).model_validate(value)
    if method == "upsert" and position == "0":
        return (
            m.Batch.model_validate(value)
            if isinstance(value, dict)
            else [m.PointStruct.model_validate(p) for p in value]
        )
    if (
        method in ("delete", "clear_payload")
        and position == "0"
        or (method in ("set_payload", "overwrite_payload") and position == "1")
        or (method == "delete_payload" and position == "1")
        or (method == "delete_vectors" and position == "1")
    ):
        if isinstance(value, dict):
            return m.PointIdsList.model_validate(value) if "points" in value else m.FilterSelector.model_validate(value)
        return value
    if method == "update_vectors" and position == "0":
        return [m.PointVectors.model_validate(p) for p in value]
    if method == "batch_update_points" and position == "0":
        return [_batch_op(op) for op in value]
    return value


def _batch_op(op: dict[str, Any]) -> Any:
    m = ORACLE.models
    ((name, body),) = op.items()
    cls = {
        "upsert": m.UpsertOperation,
        "delete": m.DeleteOperation,
        "set_payload": m.SetPayloadOperation,
        "overwrite_payload": m.OverwritePayloadOperation,
        "delete_payload": m.DeletePayloadOperation,
        "clear_payload": m.ClearPayloadOperation,
        "update_vectors": m.UpdateVectorsOperation,
        "delete_vectors": m.DeleteVectorsOperation,
    }[name]
    return cls.model_validate(op)


SEED = [
    {"id": 1, "vector": [1.0, 0.0], "payload": {"city": "Oslo", "n": 1, "arr": [{"x": 1}]}},
    {"id": 2, "vector": [0.0, 1.0], "payload": {"city": "Paris", "n": [1, 2]}},
    {"id": 3, "vector": [1.0, 1.0], "payload": {"city": None, "obj": {"k": 1}}},
    {"id": 4, "vector": [2.0, 1.0], "payload": {"arr": [{"x": 2}, {"x": 1}]}},
]


@pytest.mark.parametrize("case", REST_CASES, ids=[c[0] for c in REST_CASES])
def test_rest_shaped_dicts(subject: Side, case: tuple[str, str, list[Any], dict[str, Any]]) -> None:
    """Requests written as the REST docs show them give the oracle's (pydantic-parsed) results."""
    if subject.name != "qdrant_local":
        pytest.skip("only qdrant_local accepts dicts")
    _, method, args, kwargs = case
    oracle, client = _pair_clients(subject)
    try:
        oracle.upsert("c", [ORACLE.models.PointStruct.model_validate(p) for p in SEED])
        client.upsert("c", SEED)
        expected = run(
            lambda: getattr(oracle, method)(
                "c",
                *[_to_oracle(method, str(i), a) for i, a in enumerate(args)],
                **{k: _to_oracle(method, k, v) for k, v in kwargs.items()},
            )
        )
        actual = run(lambda: getattr(client, method)("c", *args, **kwargs))
        assert_same_outcome(expected, actual, default_comparison(method), what=method)
        for name in ("scroll", "count"):
            kw = {"limit": 100, "with_vectors": True} if name == "scroll" else {}
            assert_same_outcome(
                run(lambda: getattr(oracle, name)("c", **kw)),
                run(lambda: getattr(client, name)("c", **kw)),
                default_comparison(name),
                what=f"state after {method}",
            )
    finally:
        oracle.close()
        client.close()


def test_collection_api_dicts(subject: Side) -> None:
    """create_collection / update_collection / aliases / payload index take dicts and plain enums."""
    if subject.name != "qdrant_local":
        pytest.skip("only qdrant_local accepts dicts")
    m = ORACLE.models
    oracle, client = ORACLE.client(), subject.client()
    try:
        oracle.create_collection(
            "c",
            vectors_config={
                "a": m.VectorParams(size=2, distance=m.Distance.COSINE),
                "m": m.VectorParams(
                    size=2,
                    distance=m.Distance.DOT,
                    multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
                ),
            },
            sparse_vectors_config={"s": m.SparseVectorParams()},
            metadata={"team": "x"},
        )
        client.create_collection(
            "c",
            vectors_config={
                "a": {"size": 2, "distance": "Cosine"},
                "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
            },
            sparse_vectors_config={"s": {}},
            metadata={"team": "x"},
        )
        oracle.update_collection(
            "c", sparse_vectors_config={"s": m.SparseVectorParams(modifier=m.Modifier.IDF)}, metadata={"v": 2}
        )
        client.update_collection("c", sparse_vectors_config={"s": {"modifier": "idf"}}, metadata={"v": 2})
        ops = [
            {"create_alias": {"collection_name": "c", "alias_name": "x"}},
            {"create_alias": {"collection_name": "c", "alias_name": "y"}},
            {"rename_alias": {"old_alias_name": "y", "new_alias_name": "z"}},
            {"delete_alias": {"alias_name": "x"}},
        ]
        oracle.update_collection_aliases(
            [
                m.CreateAliasOperation.model_validate(ops[0]),
                m.CreateAliasOperation.model_validate(ops[1]),
                m.RenameAliasOperation.model_validate(ops[2]),
                m.DeleteAliasOperation.model_validate(ops[3]),
            ]
        )
        client.update_collection_aliases(ops)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            assert_same_outcome(
                run(lambda: oracle.create_payload_index("c", "city", field_schema=m.PayloadSchemaType.KEYWORD)),
                run(lambda: client.create_payload_index("c", "city", field_schema="keyword")),
            )
            assert_same_outcome(
                run(
                    lambda: oracle.create_payload_index(
                        "c", "n", field_schema=m.IntegerIndexParams(type=m.IntegerIndexType.INTEGER, lookup=True)
                    )
                ),
                run(lambda: client.create_payload_index("c", "n", field_schema={"type": "integer", "lookup": True})),
            )
        for name, args in (("get_collection", ("c",)), ("get_aliases", ()), ("get_collection_aliases", ("c",))):
            assert_same_outcome(
                run(lambda: getattr(oracle, name)(*args)),
                run(lambda: getattr(client, name)(*args)),
                default_comparison(name),
                what=name,
            )
        point = {
            "id": 1,
            "vector": {"a": [1.0, 0.0], "m": [[1.0, 0.0], [0.0, 1.0]], "s": {"indices": [3, 1], "values": [0.5, 0.25]}},
        }
        oracle.upsert("z", [m.PointStruct.model_validate(point)])
        client.upsert("z", [point])
        assert_same_outcome(
            run(lambda: oracle.scroll("c", with_vectors=True)),
            run(lambda: client.scroll("c", with_vectors=True)),
            default_comparison("scroll"),
        )
    finally:
        oracle.close()
        client.close()


def test_numpy_vectors_everywhere(subject: Side) -> None:
    """Dense vectors and multivectors as numpy arrays (float32, float64, int) in every write."""
    if subject.name != "qdrant_local":
        pytest.skip("only qdrant_local accepts numpy vectors in models")
    import numpy as np

    m = ORACLE.models
    lm = subject.models
    oracle, client = ORACLE.client(), subject.client()
    try:
        oracle.create_collection(
            "c",
            vectors_config={
                "d": m.VectorParams(size=3, distance=m.Distance.EUCLID),
                "m": m.VectorParams(
                    size=2,
                    distance=m.Distance.COSINE,
                    multivector_config=m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM),
                ),
            },
        )
        client.create_collection(
            "c",
            vectors_config={
                "d": lm.VectorParams(size=3, distance=lm.Distance.EUCLID),
                "m": lm.VectorParams(
                    size=2,
                    distance=lm.Distance.COSINE,
                    multivector_config=lm.MultiVectorConfig(comparator=lm.MultiVectorComparator.MAX_SIM),
                ),
            },
        )
        d = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [3.0, 3.0, 3.0]]
        mv = [[[1.0, 0.0], [0.0, 2.0]], [[3.0, 4.0]], [[1.0, 1.0], [2.0, 2.0], [0.0, 1.0]]]
        oracle.upsert("c", [m.PointStruct(id=i, vector={"d": d[i], "m": mv[i]}) for i in range(3)])
        client.upsert(
            "c",
            [
                lm.PointStruct(
                    id=0, vector={"d": np.asarray(d[0], dtype=np.float32), "m": np.asarray(mv[0], dtype=np.float32)}
                ),
                {"id": 1, "vector": {"d": np.asarray(d[1], dtype=np.float64), "m": np.asarray(mv[1])}},
                lm.PointStruct(
                    id=np.int64(2), vector={"d": np.asarray(d[2], dtype=np.int32), "m": [np.asarray(r) for r in mv[2]]}
                ),
            ],
        )
        oracle.update_vectors("c", [m.PointVectors(id=1, vector={"d": [7.0, 8.0, 9.0]})])
        client.update_vectors("c", [lm.PointVectors(id=1, vector={"d": np.arange(7, 10, dtype=np.float32)})])
        oracle.upsert("c", m.Batch(ids=[5, 6], vectors={"d": [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]}))
        client.upsert("c", lm.Batch(ids=[5, 6], vectors={"d": np.asarray([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])}))
        assert_same_outcome(
            run(lambda: oracle.scroll("c", with_vectors=True)),
            run(lambda: client.scroll("c", with_vectors=True)),
            default_comparison("scroll"),
        )
    finally:
        oracle.close()
        client.close()
