"""QdrantClient: the drop-in, in-process replacement for ``qdrant_client.QdrantClient``.

The class is composed of the facade's parts (:mod:`.collections`, :mod:`.points`, :mod:`.query`,
:mod:`.legacy`); this module adds construction and the lifecycle. Method names, parameters,
defaults and results mirror qdrant-client 1.20. Parameters that only make sense for a server
(``ordering``, ``consistency``, ``shard_key_selector``, ``timeout``, ...) are accepted and ignored.
Every method validates its whole request before changing anything.

:data:`PUBLIC_METHODS` names every public method, so wrappers (an async client, a server) can be
generated from one list instead of copying signatures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import models
from ..engine.database import EXIT_WAIT, Database
from ..engine.registry import open_folder, release
from ..errors import UnsupportedLocation
from ..transfer.client_methods import TransferMethods
from .collections import CollectionsApi
from .embedding_models import EmbeddingModelsApi
from .legacy import LegacyApi
from .points import PointsApi
from .query import QueryApi
from .server_only import ServerOnlyApi

__all__ = ["QdrantClient", "PUBLIC_METHODS"]

#: The qdrant-client release whose interface and local mode this package follows.
QDRANT_CLIENT_VERSION = "1.20.0"


class QdrantClient(CollectionsApi, PointsApi, QueryApi, LegacyApi, ServerOnlyApi, EmbeddingModelsApi, TransferMethods):
    """An embedded Qdrant: ``QdrantClient(":memory:")`` or ``QdrantClient(path="./db")``.

    Args:
        location: ``":memory:"`` for an in-memory store. Server URLs are not supported: use
            ``qdrant_client.QdrantClient`` for a server.
        path: a folder to persist to (created if missing). Clients on one folder in one process share
            one engine; another process cannot open the folder while they are open.
        read_only: (keyword, ours) with ``path``: follow the folder without taking its lock, while
            another process writes it; every call first catches up with the writer's committed
            writes, and writes raise ReadOnlyStorage. Any number of processes may do this.
        The other arguments exist for signature compatibility with qdrant-client; giving ``url``,
        ``host`` or ``api_key`` raises, since there is no server to talk to. Unknown keyword arguments
        are accepted and ignored, as qdrant-client's constructor does.
    """

    def __init__(
        self,
        location: str | None = None,
        url: str | None = None,
        port: int | None = 6333,
        grpc_port: int = 6334,
        prefer_grpc: bool = False,
        https: bool | None = None,
        api_key: str | None = None,
        prefix: str | None = None,
        timeout: int | None = None,
        host: str | None = None,
        path: str | None = None,
        force_disable_check_same_thread: bool = False,
        grpc_options: dict[str, Any] | None = None,
        auth_token_provider: Callable[[], str] | None = None,
        cloud_inference: bool = False,
        local_inference_batch_size: int | None = None,
        check_compatibility: bool = True,
        pool_size: int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        # As qdrant-client: every argument as given, unknown keyword arguments included.
        self._init_options = {k: v for k, v in locals().items() if k not in ("self", "__class__", "kwargs")}
        self._init_options.update(kwargs)
        self._db: Database | None = None
        read_only = bool(kwargs.pop("read_only", False))
        # Other unknown keyword arguments are accepted and ignored, as qdrant-client's constructor does.
        if read_only and path is None:
            raise UnsupportedLocation("read_only=True follows a folder written by another client: give path=...")
        if sum(x is not None for x in (location, url, host, path)) > 1:
            raise UnsupportedLocation("Only one of <location>, <url>, <host> or <path> should be specified.")
        if url is not None or host is not None or api_key is not None:
            raise UnsupportedLocation(
                "qdrant_local runs in-process and cannot connect to a Qdrant server; use "
                "qdrant_client.QdrantClient(url=...) for a server, or QdrantClient(path=...) to persist to a folder."
            )
        if location is not None and location != ":memory:":
            raise UnsupportedLocation(
                f"Unsupported location {location!r}: use ':memory:' for an in-memory store or path=... for a "
                "folder (a server URL needs qdrant_client.QdrantClient)."
            )
        if location is None and path is None:
            raise UnsupportedLocation(
                "Give location=':memory:' for an in-memory store or path=... to persist to a folder; "
                "qdrant_local cannot connect to a Qdrant server (use qdrant_client.QdrantClient for that)."
            )
        if cloud_inference:
            raise ValueError(
                "Cloud inference is not supported for local Qdrant, consider using FastEmbed or switch to Qdrant Cloud"
            )
        self._location = path if path is not None else ":memory:"
        # Every writing client on one folder in this process shares its engine (see engine.registry);
        # a read-only follower keeps its own.
        self._shared = path is not None and not read_only
        if path is not None and self._shared:
            self._db = open_folder(os.fspath(path))
        elif path is not None and read_only:
            from ..storage.follower import LogFollower

            follower = LogFollower(os.fspath(path))
            try:
                self._db = Database(follower)
            except BaseException:
                follower.close()
                raise
        else:
            self._db = Database()

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self, grpc_grace: float | None = None) -> None:
        """Close the client: fsync its acknowledged writes and let go of the folder (the last client of a
        folder in this process releases its lock). Other clients on the same folder stay open. Idempotent."""
        self._close(timeout=None)

    def _close(self, timeout: float | None) -> None:
        database, self._db = self._db, None
        if database is None:
            return
        if self._shared:
            release(database, timeout)
        else:
            database.close(timeout)

    def __enter__(self) -> QdrantClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            # Bounded: a read in progress on a daemon thread frozen at exit would hold the lock for ever.
            self._close(timeout=EXIT_WAIT)
        except Exception:  # interpreter shutdown: nothing useful left to report
            pass

    @property
    def init_options(self) -> dict[str, Any]:
        """The arguments the client was constructed with (unknown keyword arguments included)."""
        return self._init_options

    def info(self) -> models.VersionInfo:
        """Version information, exactly as qdrant-client 1.20's local mode reports it (frameworks read it)."""
        return models.VersionInfo(title="qdrant - vector search engine", version=QDRANT_CLIENT_VERSION, commit=None)

    def compact(self) -> None:
        """Write a snapshot of the current state and start a fresh log (no-op in memory)."""
        self._database.compact()


def _public_methods() -> tuple[str, ...]:
    names = [
        name
        for part in (CollectionsApi, PointsApi, QueryApi, LegacyApi, ServerOnlyApi, EmbeddingModelsApi)
        for name, value in vars(part).items()
        if not name.startswith("_") and callable(value)
    ]
    return ("info", "compact", "close", *names)


# Every public method of QdrantClient (plain synchronous methods; the facade keeps no state but ``_db``).
PUBLIC_METHODS: tuple[str, ...] = _public_methods()
