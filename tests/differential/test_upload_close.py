"""upload_points, upload_collection, close() and the context manager, against the oracle."""

from __future__ import annotations

import json
import uuid
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .compare import (
    ORACLE,
    Pair,
    Side,
    assert_same,
    assert_same_error,
    assert_same_outcome,
    examples,
    plain,
    run,
)
from .specs import Call, Enum, build
from .strategies import (
    AVOID,
    COLLECTION_KINDS,
    CollectionKind,
    canonical_id,
    collection_kinds,
    named_vector,
    payloads,
    point_ids,
    point_lists,
    vector_structs,
)


@settings(max_examples=examples(40))
@given(
    kind=collection_kinds,
    points=st.data(),
    as_generator=st.booleans(),
    batch_size=st.integers(1, 70),
)
def test_upload_points(
    subject: Side, kind: CollectionKind, points: st.DataObject, as_generator: bool, batch_size: int
) -> None:
    """upload_points is one upsert whatever batch_size says; an empty iterable is a no-op."""
    pts = points.draw(point_lists(kind, min_size=0, max_size=8), label="points")
    with Pair(subject) as pair:
        pair.check("create_collection", "c", **kind.create_kwargs())
        for client, models in ((pair.oracle, ORACLE.models), (pair.subject, subject.models)):
            built = build(pts, models)
            source = (p for p in built) if as_generator else built
            client.upload_points("c", source, batch_size=batch_size, parallel=1, max_retries=1, wait=True)
        pair.assert_same_state("c")


def _upload_vectors(kind: CollectionKind, n: int) -> st.SearchStrategy[tuple[str, Any]]:
    """(form, vectors) for upload_collection: a list, a 2-d array, or a dict of 2-d arrays."""
    forms = [st.lists(vector_structs(kind, allow_empty=False), min_size=n, max_size=n).map(lambda v: ("list", v))]
    if kind.unnamed:
        forms.append(
            st.lists(named_vector(kind, ""), min_size=n, max_size=n).map(
                lambda v: ("ndarray", np.asarray(v, dtype=np.float32).reshape(n, kind.dense[""][0]))
            )
        )
    elif kind.dense and n > 0:
        names = list(kind.dense)

        @st.composite
        def columns(draw: st.DrawFn) -> tuple[str, Any]:
            chosen = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
            return "dict", {
                name: np.asarray([draw(named_vector(kind, name)) for _ in range(n)], dtype=np.float32)
                for name in chosen
            }

        forms.append(columns())
    return st.one_of(*forms)


@settings(max_examples=examples(40))
@given(kind=collection_kinds, data=st.data())
def test_upload_collection_with_ids(subject: Side, kind: CollectionKind, data: st.DataObject) -> None:
    """Vectors as a list, an ndarray or named ndarrays; payload and ids iterables (zip semantics)."""
    n = data.draw(st.integers(0, 6), label="n")
    form, vectors = data.draw(_upload_vectors(kind, n), label="vectors")
    ids = data.draw(st.lists(point_ids, min_size=n, max_size=n + 1, unique_by=canonical_id), label="ids")
    # a payload (or ids) iterable shorter than the vectors is an error (see test_regressions)
    short = 0 if "upload_short_iterables" in AVOID else 1
    payload = data.draw(st.none() | st.lists(payloads, min_size=max(0, n - short), max_size=n + 1), label="payload")
    with Pair(subject) as pair:
        pair.check("create_collection", "c", **kind.create_kwargs())
        outcomes = []
        for client, models in ((pair.oracle, ORACLE.models), (pair.subject, subject.models)):
            vec = build(vectors, models) if form == "list" else vectors
            outcomes.append(
                run(
                    lambda: client.upload_collection(
                        "c",
                        vec,
                        payload=None if payload is None else iter(payload),
                        ids=iter(ids),
                        batch_size=2,
                        parallel=1,
                    )
                )
            )
        assert_same_outcome(*outcomes, what="upload_collection")
        pair.assert_same_state("c")


@settings(max_examples=examples(20))
@given(kind=st.sampled_from([COLLECTION_KINDS["single_dot"], COLLECTION_KINDS["named"]]), data=st.data())
def test_upload_collection_generates_uuid_ids(subject: Side, kind: CollectionKind, data: st.DataObject) -> None:
    """Without ids every point gets a fresh UUID: same points up to their ids."""
    n = data.draw(st.integers(1, 5), label="n")
    vectors = data.draw(st.lists(vector_structs(kind, allow_empty=False), min_size=n, max_size=n), label="vectors")
    payload = data.draw(st.lists(payloads, min_size=n, max_size=n), label="payload")
    with Pair(subject) as pair:
        pair.check("create_collection", "c", **kind.create_kwargs())
        contents = []
        for client, models in ((pair.oracle, ORACLE.models), (pair.subject, subject.models)):
            client.upload_collection("c", build(vectors, models), payload=payload)
            records = client.scroll("c", limit=100, with_vectors=True)[0]
            for r in records:
                assert str(uuid.UUID(str(r.id))) == r.id, f"{r.id!r} is not a canonical UUID"
            contents.append(
                sorted(
                    ((json.dumps(plain(r.payload), sort_keys=True), plain(r.vector)) for r in records),
                    key=lambda pv: (pv[0], json.dumps(pv[1], sort_keys=True)),
                )
            )
            assert len({r.id for r in records}) == n
        expected, actual = contents
        assert_same([p for p, _ in expected], [p for p, _ in actual], what="payloads")
        assert_same([v for _, v in expected], [v for _, v in actual], tol=1e-5, what="vectors")


# Every collection and point method, with valid arguments, to call on a closed client.
CLOSED_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("get_collections", (), {}),
    ("get_collection", ("c",), {}),
    ("collection_exists", ("c",), {}),
    (
        "create_collection",
        ("d",),
        {"vectors_config": Call("VectorParams", size=2, distance=Enum("Distance", "COSINE"))},
    ),
    ("delete_collection", ("c",), {}),
    ("get_aliases", (), {}),
    ("get_collection_aliases", ("c",), {}),
    ("upsert", ("c", [Call("PointStruct", id=1, vector=[1.0, 2.0])]), {}),
    ("retrieve", ("c", [1]), {}),
    ("scroll", ("c",), {}),
    ("count", ("c",), {}),
    ("facet", ("c", "city"), {}),
    ("delete", ("c", [1]), {}),
    ("set_payload", ("c", {"a": 1}, [1]), {}),
    ("overwrite_payload", ("c", {"a": 1}, [1]), {}),
    ("delete_payload", ("c", ["a"], [1]), {}),
    ("clear_payload", ("c", [1]), {}),
    ("update_vectors", ("c", [Call("PointVectors", id=1, vector=[1.0, 2.0])]), {}),
    ("delete_vectors", ("c", [""], [1]), {}),
    ("batch_update_points", ("c", [Call("DeleteOperation", delete=Call("PointIdsList", points=[1]))]), {}),
]


@pytest.mark.parametrize("method,args,kwargs", CLOSED_CALLS, ids=[c[0] for c in CLOSED_CALLS])
def test_calls_after_close(subject: Side, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """After close() every call raises the same RuntimeError as local mode; close() twice is fine."""
    with Pair(subject) as pair:
        pair.check("create_collection", "c", vectors_config=Call("VectorParams", size=2, distance=_cosine()))
        pair.check("upsert", "c", [Call("PointStruct", id=1, vector=[1.0, 2.0])])
        pair.oracle.close()
        pair.subject.close()
        pair.check(method, *args, **kwargs)
        pair.subject.close()


def _cosine() -> Enum:
    return Enum("Distance", "COSINE")


def test_context_manager_closes(subject: Side) -> None:
    """``with QdrantClient(":memory:") as client:`` closes the client on exit (qdrant_local only:
    qdrant-client has no context manager), and calls afterwards fail like after close()."""
    if subject.name != "qdrant_local":
        pytest.skip("qdrant_client.QdrantClient is not a context manager")
    with subject.client() as client:
        client.create_collection(
            "c", vectors_config=build(Call("VectorParams", size=2, distance=_cosine()), subject.models)
        )
        assert client.collection_exists("c")
    oracle = ORACLE.client()
    oracle.close()
    expected, actual = run(lambda: oracle.get_collections()), run(lambda: client.get_collections())
    assert expected.error is not None and actual.error is not None, (expected, actual)
    assert_same_error(expected.error, actual.error)


def test_context_manager_closes_on_error(subject: Side) -> None:
    """An exception inside the with block still closes the client, and propagates."""
    if subject.name != "qdrant_local":
        pytest.skip("qdrant_client.QdrantClient is not a context manager")
    with pytest.raises(ZeroDivisionError):
        with subject.client() as client:
            1 / 0
    with pytest.raises(RuntimeError):
        client.get_collections()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.close()  # closing again is harmless
