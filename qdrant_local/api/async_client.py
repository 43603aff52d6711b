"""AsyncQdrantClient: ``qdrant_client.AsyncQdrantClient``'s interface over the sync facade, off the event loop.

The class is built from :class:`qdrant_local.QdrantClient` when this module is imported: every public
method of the sync client becomes a coroutine method with the same name, signature and docstring that
runs the sync method on the client's worker thread. Nothing is written twice, so the two clients cannot
drift apart. The exceptions follow qdrant-client's async class: ``upload_points`` and
``upload_collection`` are plain methods there (they return when the upload is done), ``migrate`` raises
``NotImplementedError``, ``get_embedding_size`` and the properties answer directly, and the
``list_*_models`` class methods are coroutines.

Execution: each client runs its calls on worker threads (api/call_order.py): a write after every
call made before it, a read after every write made before it, so reads between two writes run in
parallel. The event loop never waits for the engine (a heartbeat keeps ticking through a
100,000-point upsert), and concurrent coroutines see the engine's own guarantees: each write is
atomic, writes apply in call order, and a read sees exactly the writes called before it.
A call whose task is cancelled before the worker starts it never runs; one already running completes
(as a request already sent to a server does).

Clients on one folder share its engine, whichever kind they are (see ``engine.registry``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..errors import NotSupported
from .call_order import CallOrder
from .client import QdrantClient
from .server_only import ASYNC_LOCAL_CLASS, no_raw_client

__all__ = ["AsyncQdrantClient"]

#: Plain (not coroutine) methods of qdrant_client.AsyncQdrantClient that do work: run on the worker, waited for.
_BLOCKING = frozenset({"upload_points", "upload_collection"})
#: Plain methods that need no engine: answered directly.
_DIRECT = frozenset({"get_embedding_size"})
#: Methods that change nothing: they run in parallel with each other (every other method is a write).
_READS = frozenset(
    {
        "collection_exists",
        "count",
        "discover",
        "discover_batch",
        "facet",
        "get_aliases",
        "get_collection",
        "get_collection_aliases",
        "get_collections",
        "query_batch_points",
        "query_points",
        "query_points_groups",
        "recommend",
        "recommend_batch",
        "recommend_groups",
        "retrieve",
        "scroll",
        "search",
        "search_batch",
        "search_groups",
        "search_matrix_offsets",
        "search_matrix_pairs",
    }
)
#: Written by hand below.
_OWN = frozenset({"close", "migrate", "http", "grpc_collections", "grpc_points"})


class AsyncQdrantClient:
    """An embedded Qdrant for asyncio: ``AsyncQdrantClient(":memory:")`` or ``AsyncQdrantClient(path="./db")``.

    Takes the same arguments as :class:`qdrant_local.QdrantClient` (unknown keyword arguments are
    accepted and ignored) and has every method of ``qdrant_client.AsyncQdrantClient``.
    """

    _client: QdrantClient
    _worker: CallOrder | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._worker = None
        self._client = QdrantClient(*args, **kwargs)
        self._worker = CallOrder()

    async def _run(self, call: Callable[..., Any], *args: Any, reads: bool = False, **kwargs: Any) -> Any:
        """Run ``call`` on a worker thread, after every call (``reads``: every write) made before it."""
        worker = self._worker
        if worker is None:  # closed: the sync client answers (almost always ClientClosed) at once
            return call(*args, **kwargs)
        return await asyncio.wrap_future(worker.submit(reads, call, *args, **kwargs))

    def _run_blocking(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        worker = self._worker
        if worker is None:
            return call(*args, **kwargs)
        return worker.submit(False, call, *args, **kwargs).result()

    async def close(self, grpc_grace: float | None = None, **kwargs: Any) -> None:
        """Close the client once the calls made before have run; later calls raise ClientClosed. Idempotent."""
        if self._worker is None:
            return
        await self._run(self._client.close)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown()

    def migrate(
        self,
        dest_client: Any,
        collection_names: list[str] | None = None,
        batch_size: int = 100,
        recreate_on_collision: bool = False,
    ) -> None:
        """Not available on the async client, as in qdrant-client: use ``QdrantClient.migrate``."""
        raise NotSupported(
            "migrate is not available on AsyncQdrantClient (as in qdrant-client); use QdrantClient.migrate"
        )

    @property
    def http(self) -> Any:
        """qdrant-client's REST client: there is none in-process."""
        raise no_raw_client("REST", ASYNC_LOCAL_CLASS)

    @property
    def grpc_collections(self) -> Any:
        """qdrant-client's gRPC collections stub: there is none in-process."""
        raise no_raw_client("gRPC", ASYNC_LOCAL_CLASS)

    @property
    def grpc_points(self) -> Any:
        """qdrant-client's gRPC points stub: there is none in-process."""
        raise no_raw_client("gRPC", ASYNC_LOCAL_CLASS)

    async def __aenter__(self) -> AsyncQdrantClient:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _coroutine_method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    reads = name in _READS

    async def method(self: AsyncQdrantClient, *args: Any, **kwargs: Any) -> Any:
        return await self._run(getattr(self._client, name), *args, reads=reads, **kwargs)

    return _like(method, function)


def _blocking_method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: AsyncQdrantClient, *args: Any, **kwargs: Any) -> Any:
        return self._run_blocking(getattr(self._client, name), *args, **kwargs)

    return _like(method, function)


def _direct_method(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: AsyncQdrantClient, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._client, name)(*args, **kwargs)

    return _like(method, function)


def _coroutine_classmethod(name: str, function: Callable[..., Any]) -> classmethod:
    async def method(cls: type, *args: Any, **kwargs: Any) -> Any:
        return getattr(QdrantClient, name)(*args, **kwargs)

    return classmethod(_like(method, function))


def _delegated_property(name: str, prop: property) -> property:
    def getter(self: AsyncQdrantClient) -> Any:
        return getattr(self._client, name)

    return property(functools.update_wrapper(getter, prop.fget) if prop.fget else getter, doc=prop.__doc__)


def _like(method: Callable[..., Any], function: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` named, documented and signed as the sync client's ``function``."""
    functools.update_wrapper(method, function)
    method.__qualname__ = f"AsyncQdrantClient.{function.__name__}"
    method.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    del method.__wrapped__  # type: ignore[attr-defined]  # inspect must see a coroutine, not the sync function
    return method


def _build() -> None:
    """Give AsyncQdrantClient every public name of QdrantClient (see the module docstring)."""
    for name in dir(QdrantClient):
        if name.startswith("_") or name in _OWN:
            continue
        member = inspect.getattr_static(QdrantClient, name)
        if isinstance(member, property):
            attribute: Any = _delegated_property(name, member)
        elif isinstance(member, classmethod):
            attribute = _coroutine_classmethod(name, member.__func__)
        elif isinstance(member, staticmethod) or not callable(member):
            attribute = member
        elif name in _BLOCKING:
            attribute = _blocking_method(name, member)
        elif name in _DIRECT:
            attribute = _direct_method(name, member)
        else:
            attribute = _coroutine_method(name, member)
        setattr(AsyncQdrantClient, name, attribute)
    AsyncQdrantClient.__init__.__signature__ = inspect.signature(QdrantClient.__init__)  # type: ignore[attr-defined]


_build()
