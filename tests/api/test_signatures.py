"""qdrant_local.QdrantClient has qdrant_client.QdrantClient's signatures, and rejects unknown kwargs.

For every public method of ``qdrant_client.QdrantClient`` that qdrant_local implements (and at least
the collection, point and query methods in scope), ``inspect.signature`` must list the same
parameters, in the same order, of the same kind, with the same defaults (``**kwargs`` aside).
An unknown keyword argument raises TypeError naming it, before anything changes (qdrant-client's
local mode raises AssertionError: a deliberate deviation).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest
import qdrant_client

from ..differential.compare import Side, subject_side

COLLECTION_METHODS = [
    "create_collection",
    "recreate_collection",
    "delete_collection",
    "collection_exists",
    "get_collection",
    "get_collections",
    "update_collection",
    "update_collection_aliases",
    "get_aliases",
    "get_collection_aliases",
    "create_payload_index",
    "delete_payload_index",
]
POINT_METHODS = [
    "upsert",
    "retrieve",
    "delete",
    "set_payload",
    "overwrite_payload",
    "delete_payload",
    "clear_payload",
    "update_vectors",
    "delete_vectors",
    "batch_update_points",
    "scroll",
    "count",
    "facet",
    "upload_points",
    "upload_collection",
    "close",
]
QUERY_METHODS = [
    "query_points",
    "query_batch_points",
    "query_points_groups",
    "search_matrix_pairs",
    "search_matrix_offsets",
]
IN_SCOPE = COLLECTION_METHODS + POINT_METHODS + QUERY_METHODS


@pytest.fixture(scope="module")
def subject() -> Side:
    """The implementation under test (see differential/compare.py)."""
    return subject_side()


def _public_methods(cls: type) -> set[str]:
    return {n for n, v in inspect.getmembers(cls, callable) if not n.startswith("_")}


def implemented_methods() -> list[str]:
    """qdrant_client's public methods that the subject also has, plus everything in scope."""
    oracle = _public_methods(qdrant_client.QdrantClient)
    try:
        subject = _public_methods(subject_side().client_cls)
    except ImportError:  # pragma: no cover - before the client exists
        subject = set()
    return sorted(set(IN_SCOPE) | (oracle & subject))


def _parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(fn).parameters.values())[1:]  # drop self
    return [(p.name, p.kind, p.default) for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]


@pytest.mark.parametrize("method", implemented_methods())
def test_signature_matches(subject: Side, method: str) -> None:
    """Same parameter names, order, kinds and defaults as qdrant_client.QdrantClient."""
    assert hasattr(subject.client_cls, method), f"QdrantClient.{method} is missing"
    expected = _parameters(getattr(qdrant_client.QdrantClient, method))
    actual = _parameters(getattr(subject.client_cls, method))
    assert [p[0] for p in actual] == [p[0] for p in expected], "parameter names or order differ"
    for (name, e_kind, e_default), (_, a_kind, a_default) in zip(expected, actual):
        assert a_kind == e_kind, f"{name}: kind {a_kind} != {e_kind}"
        assert a_default == e_default, f"{name}: default {a_default!r} != {e_default!r}"


def test_constructor_signature_matches(subject: Side) -> None:
    """QdrantClient(...) takes the same parameters with the same defaults."""
    expected = _parameters(qdrant_client.QdrantClient.__init__)
    actual = _parameters(subject.client_cls.__init__)
    assert [(n, d) for n, _, d in actual] == [(n, d) for n, _, d in expected]


def _valid_calls(m: Any) -> dict[str, tuple[tuple[Any, ...], dict[str, Any]]]:
    """Valid arguments for every in-scope method, on a client holding collection "c" and point 1."""
    vector_params = m.VectorParams(size=2, distance=m.Distance.COSINE)
    return {
        "create_collection": (("d",), {"vectors_config": vector_params}),
        "recreate_collection": (("d",), {"vectors_config": vector_params}),
        "delete_collection": (("c",), {}),
        "collection_exists": (("c",), {}),
        "get_collection": (("c",), {}),
        "get_collections": ((), {}),
        "update_collection": (("c",), {"metadata": {"a": 1}}),
        "update_collection_aliases": (
            ([m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="c", alias_name="x"))],),
            {},
        ),
        "get_aliases": ((), {}),
        "get_collection_aliases": (("c",), {}),
        "create_payload_index": (("c", "city"), {"field_schema": m.PayloadSchemaType.KEYWORD}),
        "delete_payload_index": (("c", "city"), {}),
        "upsert": (("c", [m.PointStruct(id=2, vector=[1.0, 0.0])]), {}),
        "retrieve": (("c", [1]), {}),
        "delete": (("c", [1]), {}),
        "set_payload": (("c", {"a": 1}, [1]), {}),
        "overwrite_payload": (("c", {"a": 1}, [1]), {}),
        "delete_payload": (("c", ["a"], [1]), {}),
        "clear_payload": (("c", [1]), {}),
        "update_vectors": (("c", [m.PointVectors(id=1, vector=[0.0, 1.0])]), {}),
        "delete_vectors": (("c", [""], [1]), {}),
        "batch_update_points": (("c", [m.DeleteOperation(delete=m.PointIdsList(points=[1]))]), {}),
        "scroll": (("c",), {}),
        "count": (("c",), {}),
        "facet": (("c", "city"), {}),
        "upload_points": (("c", [m.PointStruct(id=3, vector=[1.0, 1.0])]), {}),
        "upload_collection": (("c", [[1.0, 0.0]]), {"ids": [4]}),
        "close": ((), {}),
        "query_points": (("c",), {"query": [1.0, 0.0]}),
        "query_batch_points": (("c", [m.QueryRequest(query=[1.0, 0.0])]), {}),
        "query_points_groups": (("c", "city"), {"query": [1.0, 0.0]}),
        "search_matrix_pairs": (("c",), {}),
        "search_matrix_offsets": (("c",), {}),
    }


def _fresh_client(subject: Side) -> Any:
    m = subject.models
    client = subject.client()
    client.create_collection("c", vectors_config=m.VectorParams(size=2, distance=m.Distance.COSINE))
    client.upsert("c", [m.PointStruct(id=1, vector=[1.0, 0.5], payload={"city": "Oslo", "a": 0})])
    return client


def _state(client: Any) -> Any:
    collections = sorted(c.name for c in client.get_collections().collections)
    aliases = sorted((a.alias_name, a.collection_name) for a in client.get_aliases().aliases)
    points = [(r.id, r.payload, r.vector) for r in client.scroll("c", limit=100, with_vectors=True)[0]]
    return collections, aliases, points


@pytest.mark.parametrize("method", IN_SCOPE)
def test_unknown_kwarg_raises_type_error(subject: Side, method: str) -> None:
    """``method(..., zz_unknown=1)`` raises TypeError naming the argument and changes nothing,
    while the same call without it succeeds."""
    if subject.name != "qdrant_local":
        pytest.skip("qdrant-client raises AssertionError here (the deviation under test)")
    args, kwargs = _valid_calls(subject.models)[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = _fresh_client(subject)
        try:
            before = _state(client)
            with pytest.raises(TypeError, match="zz_unknown"):
                getattr(client, method)(*args, zz_unknown=1, **kwargs)
            assert _state(client) == before, "the rejected call changed the store"
            getattr(client, method)(*args, **kwargs)  # the arguments themselves are valid
        finally:
            client.close()
