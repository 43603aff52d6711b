"""qdrant_local as the engine of qdrant-client's local mode.

``qdrant_client.QdrantClient(":memory:" | path=...)`` keeps a ``QdrantLocal`` in ``self._client`` and
forwards every call to it (``AsyncQdrantClient`` likewise with ``AsyncQdrantLocal``). The classes here take
that place: they subclass qdrant-client's own engines (so every ``isinstance`` check in qdrant-client and in
frameworks still holds), forward each call to a :class:`qdrant_local.QdrantClient` and return
qdrant_client's model instances. Calls our engine has no counterpart for keep qdrant-client's behaviour
(the cluster, snapshot and shard calls raise as in local mode).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from qdrant_client.client_base import QdrantBase
from qdrant_client.local.async_qdrant_local import AsyncQdrantLocal
from qdrant_client.local.qdrant_local import QdrantLocal

from ..engine.gcpause import gc_paused
from .convert import to_qdrant_client

__all__ = ["AsyncLocalEngine", "LocalEngine"]


def _open(client_class: Any, location: str) -> Any:
    return client_class(location) if location == ":memory:" else client_class(path=location)


def _forwarded_names() -> list[str]:
    from ..api import QdrantClient

    return sorted(
        name
        for name in vars(QdrantBase)
        if not name.startswith("_") and name != "close" and hasattr(QdrantClient, name)
    )


def _accepted_keywords(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Local mode's engine takes ``**kwargs`` and ignores what it does not know; so do we."""
    from ..api import QdrantClient

    parameters = inspect.signature(getattr(QdrantClient, name)).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return lambda kwargs: kwargs
    known = frozenset(parameters)
    return lambda kwargs: {key: value for key, value in kwargs.items() if key in known}


class LocalEngine(QdrantLocal):
    """Stands in for ``QdrantLocal``: the same constructor, our engine underneath."""

    def __init__(self, location: str, force_disable_check_same_thread: bool = False) -> None:
        QdrantBase.__init__(self)
        self.location = location
        self.persistent = location != ":memory:"
        self.force_disable_check_same_thread = force_disable_check_same_thread
        self._closed = False
        from ..api import QdrantClient

        self.engine = _open(QdrantClient, location)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, **kwargs: Any) -> None:
        self._closed = True
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()


class AsyncLocalEngine(AsyncQdrantLocal):
    """Stands in for ``AsyncQdrantLocal`` over our :class:`qdrant_local.AsyncQdrantClient`: calls (and the
    conversion of their results) run on that client's worker thread in call order; the loop never waits."""

    def __init__(self, location: str, force_disable_check_same_thread: bool = False) -> None:
        self.location = location
        self.persistent = location != ":memory:"
        self.force_disable_check_same_thread = force_disable_check_same_thread
        self._closed = False
        from ..api.async_client import AsyncQdrantClient

        self.engine = _open(AsyncQdrantClient, location)

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self, **kwargs: Any) -> None:
        self._closed = True
        engine = getattr(self, "engine", None)
        if engine is not None:
            await engine.close()


def _sync_method(name: str) -> Callable[..., Any]:
    accepted = _accepted_keywords(name)

    def method(self: LocalEngine, *args: Any, **kwargs: Any) -> Any:
        return _call(self.engine, name, args, accepted(kwargs))

    method.__name__ = method.__qualname__ = name
    return method


def _async_method(name: str) -> Callable[..., Any]:
    accepted = _accepted_keywords(name)

    async def method(self: AsyncLocalEngine, *args: Any, **kwargs: Any) -> Any:
        engine = self.engine
        return await engine._run(_call, engine._client, name, args, accepted(kwargs))

    method.__name__ = method.__qualname__ = name
    return method


def _blocking_method(name: str) -> Callable[..., Any]:
    """qdrant-client's async local mode keeps upload_points / upload_collection synchronous; so do we."""
    accepted = _accepted_keywords(name)

    def method(self: AsyncLocalEngine, *args: Any, **kwargs: Any) -> Any:
        engine = self.engine
        return engine._run_blocking(_call, engine._client, name, args, accepted(kwargs))

    method.__name__ = method.__qualname__ = name
    return method


def _call(engine: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = getattr(engine, name)(*args, **kwargs)
    with gc_paused():  # a page of results is thousands of new objects, none in a cycle
        return to_qdrant_client(result)


def _attach() -> None:
    for name in _forwarded_names():
        setattr(LocalEngine, name, _sync_method(name))
        is_async = inspect.iscoroutinefunction(getattr(AsyncQdrantLocal, name))
        setattr(AsyncLocalEngine, name, _async_method(name) if is_async else _blocking_method(name))


_attach()
