"""Every public name of qdrant_client.QdrantClient and AsyncQdrantClient 1.20 exists on ours, alike.

For both classes: the same kind (method, coroutine method, class method, property, constant), the
same parameters in the same order with the same kinds and defaults (``**kwargs`` aside: our methods
reject unknown keyword arguments, a deliberate deviation; the constructors take ``**kwargs`` as
qdrant-client's do), and constants of equal value. The members that make no sense in-process
(cluster, shard keys, shard snapshots, peers, raw REST/gRPC clients), the model catalogue,
``init_options``, ``DEFAULT_BATCH_SIZE`` and ``info()`` answer or raise exactly what local mode does.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
import qdrant_client

import qdrant_local

#: Names allowed to be missing (none left: snapshots, full snapshots and migrate exist).
PENDING: set[str] = set()

PAIRS = [
    pytest.param(qdrant_client.QdrantClient, qdrant_local.QdrantClient, id="QdrantClient"),
    pytest.param(qdrant_client.AsyncQdrantClient, qdrant_local.AsyncQdrantClient, id="AsyncQdrantClient"),
]


def public_names(cls: type) -> list[str]:
    return sorted(name for name in dir(cls) if not name.startswith("_"))


def kind(cls: type, name: str) -> str:
    static = inspect.getattr_static(cls, name)
    if isinstance(static, property):
        return "property"
    if isinstance(static, classmethod):
        return "async classmethod" if inspect.iscoroutinefunction(static.__func__) else "classmethod"
    if isinstance(static, staticmethod):
        return "staticmethod"
    if callable(static):
        return "coroutine method" if inspect.iscoroutinefunction(static) else "method"
    return "constant"


def parameters(function: Any, *, keep_var_keyword: bool = False) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(function)
    return [
        (p.name, p.kind, p.default)
        for p in list(signature.parameters.values())[1:]  # self / cls
        if keep_var_keyword or p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


def members(theirs: type) -> list[str]:
    return public_names(theirs)


@pytest.mark.parametrize(("theirs", "ours"), PAIRS)
def test_every_public_name_exists(theirs: type, ours: type) -> None:
    missing = [name for name in public_names(theirs) if not hasattr(ours, name) and name not in PENDING]
    assert not missing, f"{ours.__name__} lacks {missing}"


@pytest.mark.parametrize(("theirs", "ours"), PAIRS)
def test_same_kind_parameters_defaults_and_values(theirs: type, ours: type) -> None:
    differences = {}
    for name in public_names(theirs):
        if not hasattr(ours, name):
            continue  # reported by test_every_public_name_exists
        if kind(ours, name) != kind(theirs, name):
            differences[name] = f"{kind(ours, name)} instead of {kind(theirs, name)}"
            continue
        static_theirs, static_ours = inspect.getattr_static(theirs, name), inspect.getattr_static(ours, name)
        if kind(theirs, name) == "constant":
            if static_ours != static_theirs:
                differences[name] = f"{static_ours!r} instead of {static_theirs!r}"
        elif kind(theirs, name) != "property":
            expected = parameters(
                getattr(theirs, name) if "classmethod" not in kind(theirs, name) else static_theirs.__func__
            )
            actual = parameters(getattr(ours, name) if "classmethod" not in kind(ours, name) else static_ours.__func__)
            if expected != actual:
                differences[name] = f"{actual} instead of {expected}"
    assert not differences, differences


@pytest.mark.parametrize(("theirs", "ours"), PAIRS)
def test_constructor_parameters_and_defaults(theirs: type, ours: type) -> None:
    expected = parameters(theirs.__init__, keep_var_keyword=True)
    assert parameters(ours.__init__, keep_var_keyword=True) == expected


# ------------------------------------------------------------------ what local mode answers or raises

CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "cluster_collection_update": (("c", None), {}),
    "cluster_status": ((), {}),
    "cluster_telemetry": ((), {}),
    "collection_cluster_info": (("c",), {}),
    "recover_current_peer": ((), {}),
    "remove_peer": ((1,), {}),
    "get_optimizations": (("c",), {}),
    "create_shard_key": (("c", "k"), {}),
    "delete_shard_key": (("c", "k"), {}),
    "list_shard_keys": (("c",), {}),
    "create_shard_snapshot": (("c", 0), {}),
    "delete_shard_snapshot": (("c", 0, "s"), {}),
    "list_shard_snapshots": (("c", 0), {}),
    "recover_shard_snapshot": (("c", 0, "file:///nowhere"), {}),
    "list_text_models": ((), {}),
    "list_image_models": ((), {}),
    "list_sparse_models": ((), {}),
    "list_late_interaction_text_models": ((), {}),
    "list_late_interaction_multimodal_models": ((), {}),
    "get_embedding_size": (("BAAI/bge-small-en-v1.5",), {}),
    "info": ((), {}),
}
PROPERTIES = ["http", "grpc_collections", "grpc_points", "init_options"]
SYNC_IN_ASYNC = {"get_embedding_size"}  # plain methods on qdrant_client.AsyncQdrantClient too


def outcome(produce: Any) -> tuple[str, Any]:
    try:
        value = produce()
        if inspect.isawaitable(value):
            value = asyncio.run(_await(value))
    except Exception as exc:  # noqa: BLE001 - the outcome itself is compared
        return "raised", (type(exc), str(exc))
    return "returned", value.model_dump() if hasattr(value, "model_dump") else value


async def _await(value: Any) -> Any:
    return await value


def same(ours: tuple[str, Any], theirs: tuple[str, Any]) -> bool:
    if ours[0] != theirs[0]:
        return False
    if ours[0] == "returned":
        return ours[1] == theirs[1]
    (our_type, our_message), (their_type, their_message) = ours[1], theirs[1]
    return issubclass(our_type, their_type) and our_message == their_message


def clients(async_: bool) -> tuple[Any, Any]:
    if async_:
        return qdrant_local.AsyncQdrantClient(":memory:", metadata={"k": 1}), qdrant_client.AsyncQdrantClient(
            ":memory:", metadata={"k": 1}
        )
    return qdrant_local.QdrantClient(":memory:", metadata={"k": 1}), qdrant_client.QdrantClient(
        ":memory:", metadata={"k": 1}
    )


@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", sorted(CALLS) + PROPERTIES)
def test_answers_or_raises_like_local_mode(name: str, async_: bool) -> None:
    ours, theirs = clients(async_)
    if name in PROPERTIES:
        results = [outcome(lambda client=client: getattr(client, name)) for client in (ours, theirs)]
    else:
        args, kwargs = CALLS[name]
        results = [outcome(lambda client=client: getattr(client, name)(*args, **kwargs)) for client in (ours, theirs)]
    assert same(*results), results
    if async_ and name in CALLS and name not in SYNC_IN_ASYNC:
        assert inspect.iscoroutinefunction(getattr(ours, name))


def test_default_batch_size_matches() -> None:
    assert qdrant_local.QdrantClient.DEFAULT_BATCH_SIZE == qdrant_client.QdrantClient.DEFAULT_BATCH_SIZE
    assert qdrant_local.AsyncQdrantClient.DEFAULT_BATCH_SIZE == qdrant_client.AsyncQdrantClient.DEFAULT_BATCH_SIZE


def test_async_migrate_raises_not_implemented_like_qdrant_client() -> None:
    client = qdrant_local.AsyncQdrantClient(":memory:")
    with pytest.raises(NotImplementedError):
        client.migrate(client)
    asyncio.run(client.close())
