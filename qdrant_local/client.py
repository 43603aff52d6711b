"""QdrantClient: the drop-in, in-process replacement for ``qdrant_client.QdrantClient``.

Method names, parameters, defaults and results mirror qdrant-client 1.20. Parameters that only make
sense for a server (``ordering``, ``consistency``, ``shard_key_selector``, ``timeout``, ...) are
accepted and ignored. Every method validates its whole request before changing anything.
"""

from __future__ import annotations

import itertools
import warnings
import os
import uuid
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import models
from ._operations_input import apply_alias_operations, parse_update_operation
from .engine.collection import Collection
from .engine.config import CollectionConfig, to_json
from .engine.database import Database
from .engine.registry import open_folder, release
from .engine.filters import compile_filter
from .engine.gcpause import gc_paused
from .engine.payload import copy_payload, normalize_payload
from .errors import ClientClosed, InvalidInput, NotSupported, UnsupportedLocation
from .info import collection_info
from .query.api import QueryMixin

def _completed() -> models.UpdateResult:
    return models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED)


_new_record = models.Record.model_construct


def _record(parts: tuple[Any, ...]) -> models.Record:
    # Every field is given, so the checked constructor's work would be wasted on a page of thousands.
    return _new_record(
        id=parts[0], payload=parts[1], vector=parts[2], shard_key=None, order_value=parts[3] if len(parts) > 3 else None
    )


class QdrantClient(QueryMixin):
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
        if self._shared:
            self._db = open_folder(os.fspath(path))
        elif read_only:
            from .storage.follower import LogFollower

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
        database, self._db = self._db, None
        if database is None:
            return
        if self._shared:
            release(database)
        else:
            database.close()

    def __enter__(self) -> QdrantClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing useful left to report
            pass

    @property
    def _database(self) -> Database:
        if self._db is None:  # __init__ failed part-way; nothing was opened
            raise ClientClosed()
        self._db.check_open()
        self._db.follow()  # a read_only client catches up with the writer; a no-op otherwise
        return self._db

    def _collection(self, collection_name: str) -> Collection:
        return self._database.collection(collection_name)

    def info(self) -> models.VersionInfo:
        """Version information, as qdrant-client's local mode reports it."""
        from . import __version__

        return models.VersionInfo(title="qdrant_local", version=__version__, commit=None)

    def compact(self) -> None:
        """Write a snapshot of the current state and start a fresh log (no-op in memory)."""
        self._database.compact()

    # -- collections -----------------------------------------------------------------------------

    def create_collection(
        self,
        collection_name: str,
        vectors_config: Any = None,
        sparse_vectors_config: Mapping[str, Any] | None = None,
        shard_number: int | None = None,
        sharding_method: Any = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        on_disk_payload: bool | None = None,
        hnsw_config: Any = None,
        optimizers_config: Any = None,
        wal_config: Any = None,
        quantization_config: Any = None,
        timeout: int | None = None,
        strict_mode_config: Any = None,
        metadata: dict[str, Any] | None = None,
        payload: Any = None,
        id_tracker: Any = None,
    ) -> bool:
        """Create an empty collection with the given vector configuration.

        Args:
            collection_name: Name of the collection to create.
            vectors_config: A single VectorParams (one unnamed vector) or a mapping of names to VectorParams.
            sparse_vectors_config: A mapping of names to SparseVectorParams.
            metadata: Arbitrary JSON metadata kept with the collection.
            The other parameters are accepted and echoed by get_collection; they change nothing in-process.

        Returns:
            True.
        """
        config = CollectionConfig.from_request(
            vectors_config,
            sparse_vectors_config,
            metadata=normalize_payload(metadata) if metadata is not None else None,
            shard_number=shard_number,
            sharding_method=sharding_method,
            replication_factor=replication_factor,
            write_consistency_factor=write_consistency_factor,
            on_disk_payload=on_disk_payload,
            hnsw_config=hnsw_config,
            optimizers_config=optimizers_config,
            wal_config=wal_config,
            quantization_config=quantization_config,
            strict_mode_config=strict_mode_config,
            payload=payload,
            id_tracker=id_tracker,
        )
        self._database.create_collection(collection_name, config)
        return True

    def recreate_collection(
        self,
        collection_name: str,
        vectors_config: Any = None,
        sparse_vectors_config: Mapping[str, Any] | None = None,
        shard_number: int | None = None,
        sharding_method: Any = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        on_disk_payload: bool | None = None,
        hnsw_config: Any = None,
        optimizers_config: Any = None,
        wal_config: Any = None,
        quantization_config: Any = None,
        timeout: int | None = None,
        strict_mode_config: Any = None,
        metadata: dict[str, Any] | None = None,
        payload: Any = None,
        id_tracker: Any = None,
    ) -> bool:
        """Delete the collection if it exists, then create it (deprecated in qdrant-client)."""
        warnings.warn(
            "`recreate_collection` method is deprecated and will be removed in the future."
            " Use `collection_exists` to check collection existence and `create_collection` instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        arguments = dict(locals())
        arguments.pop("self")
        with self._database.lock:
            self.delete_collection(collection_name)
            return self.create_collection(**arguments)

    def delete_collection(self, collection_name: str, timeout: int | None = None) -> bool:
        """Delete a collection and its aliases. Returns whether it existed."""
        return self._database.delete_collection(collection_name)

    def collection_exists(self, collection_name: str) -> bool:
        """Whether a collection (or an alias) with this name exists."""
        database = self._database
        with database.lock:
            return collection_name in database.collections or collection_name in database.aliases

    def get_collection(self, collection_name: str) -> models.CollectionInfo:
        """Information about a collection: points_count, config and payload_schema."""
        with self._database.lock:
            return collection_info(self._collection(collection_name))

    def get_collections(self) -> models.CollectionsResponse:
        """Names of all collections."""
        with self._database.lock:
            names = list(self._database.collections)
        return models.CollectionsResponse(collections=[models.CollectionDescription(name=n) for n in names])

    def update_collection(
        self,
        collection_name: str,
        optimizers_config: Any = None,
        collection_params: Any = None,
        vectors_config: Any = None,
        hnsw_config: Any = None,
        quantization_config: Any = None,
        timeout: int | None = None,
        sparse_vectors_config: Mapping[str, Any] | None = None,
        strict_mode_config: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        """Update metadata (merged) and sparse vector parameters; other settings are echoed only.

        Returns:
            True if anything was updated.
        """
        database = self._database
        with database.lock:
            collection = self._collection(collection_name)
            raw = copy_payload(collection.config.raw)  # to_json would drop metadata nulls
            for vector_name in vectors_config or {}:
                if collection.config.vectors.get(vector_name, None) is None or collection.config.vectors[
                    vector_name
                ].kind == "sparse":
                    raise InvalidInput(f"Wrong input: Not existing vector name error: {vector_name}")
            for vector_name in sparse_vectors_config or {}:
                spec = collection.config.vectors.get(vector_name)
                if spec is None or spec.kind != "sparse":
                    raise InvalidInput(f"Vector {vector_name} does not exist in the collection")
            updated = False
            if sparse_vectors_config is not None:
                for vector_name, params in sparse_vectors_config.items():
                    merged = dict(raw["sparse_vectors"].get(vector_name) or {})
                    merged.update(to_json(params) or {})
                    raw["sparse_vectors"][vector_name] = merged
                updated = True
            if metadata is not None:
                new_metadata = normalize_payload(metadata)
                if raw.get("metadata") is None:
                    # As local mode: with no metadata yet, the given one is stored as it is, nulls included.
                    raw["metadata"] = new_metadata
                else:
                    merged_metadata = dict(raw["metadata"])
                    for key, value in new_metadata.items():
                        if value is None:  # the server's merge: a null removes the key
                            merged_metadata.pop(key, None)
                        else:
                            merged_metadata[key] = value
                    raw["metadata"] = merged_metadata
                updated = True
            for key, value in (
                ("optimizers_config", optimizers_config),
                ("hnsw_config", hnsw_config),
                ("quantization_config", quantization_config),
                ("strict_mode_config", strict_mode_config),
            ):
                if value is not None:
                    raw[key] = to_json(value)
            if raw != collection.config.raw:
                database.update_config(collection.name, raw)
            return updated

    def update_collection_aliases(self, change_aliases_operations: Sequence[Any], timeout: int | None = None) -> bool:
        """Create, delete and rename aliases atomically."""
        database = self._database
        with database.lock:
            aliases = apply_alias_operations(change_aliases_operations, database.aliases, database.collections)
            database.set_aliases(aliases)
            return True

    def get_aliases(self) -> models.CollectionsAliasesResponse:
        """Every alias and the collection it points to."""
        with self._database.lock:
            aliases = dict(self._database.aliases)
        return models.CollectionsAliasesResponse(
            aliases=[models.AliasDescription(alias_name=a, collection_name=c) for a, c in aliases.items()]
        )

    def get_collection_aliases(self, collection_name: str) -> models.CollectionsAliasesResponse:
        """The aliases of one collection."""
        with self._database.lock:
            aliases = dict(self._database.aliases)
        return models.CollectionsAliasesResponse(
            aliases=[
                models.AliasDescription(alias_name=a, collection_name=c)
                for a, c in aliases.items()
                if c == collection_name
            ]
        )

    def create_payload_index(
        self,
        collection_name: str,
        field_name: str,
        field_schema: Any = None,
        field_type: Any = None,
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Create a payload index on a field; it is reported in get_collection().payload_schema."""
        schema = field_schema if field_schema is not None else field_type
        if schema is None:
            raise InvalidInput("field_schema must be specified")
        from .engine.payload import validate_key

        validate_key(field_name)
        self._database.set_payload_index(collection_name, field_name, to_json(schema), wait)
        return _completed()

    def delete_payload_index(
        self,
        collection_name: str,
        field_name: str,
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Drop a payload index."""
        self._database.set_payload_index(collection_name, field_name, None, wait)
        return _completed()

    # -- point writes ----------------------------------------------------------------------------

    def _write(self, collection_name: str, prepare: Callable[[Collection], Any], wait: bool) -> models.UpdateResult:
        self._database.write(collection_name, prepare, wait)
        return _completed()

    def upsert(
        self,
        collection_name: str,
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Insert or replace points.

        Args:
            collection_name: Name of the collection.
            points: A list of PointStruct (or point dicts) or a Batch.
            wait: With persistence, True returns after the record is fsync'd; False after it is written.
            update_filter: Existing points are only replaced if they match this filter.
            update_mode: UPSERT (default), INSERT_ONLY or UPDATE_ONLY.

        Returns:
            UpdateResult with status COMPLETED.
        """
        return self._write(collection_name, lambda c: c.prepare_upsert(points, update_filter, update_mode), wait)

    def delete(
        self,
        collection_name: str,
        points_selector: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Delete points by ids, PointIdsList, Filter or FilterSelector. Unknown ids are ignored."""
        return self._write(collection_name, lambda c: c.prepare_delete(points_selector), wait)

    def set_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: Any,
        key: str | None = None,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Merge ``payload`` into the selected points' payloads (at the json path ``key`` if given)."""
        return self._write(collection_name, lambda c: c.prepare_set_payload(payload, points, key), wait)

    def overwrite_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Replace the selected points' payloads with ``payload``."""
        return self._write(collection_name, lambda c: c.prepare_overwrite_payload(payload, points), wait)

    def delete_payload(
        self,
        collection_name: str,
        keys: Sequence[str],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Remove the given keys (json paths) from the selected points' payloads."""
        return self._write(collection_name, lambda c: c.prepare_delete_payload(keys, points), wait)

    def clear_payload(
        self,
        collection_name: str,
        points_selector: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Empty the selected points' payloads."""
        return self._write(collection_name, lambda c: c.prepare_clear_payload(points_selector), wait)

    def update_vectors(
        self,
        collection_name: str,
        points: Sequence[Any],
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Replace the given vectors of existing points (PointVectors); their other vectors stay."""
        return self._write(collection_name, lambda c: c.prepare_update_vectors(points, update_filter), wait)

    def delete_vectors(
        self,
        collection_name: str,
        vectors: Sequence[str],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Remove the named vectors from the selected points."""
        return self._write(collection_name, lambda c: c.prepare_delete_vectors(vectors, points), wait)

    def batch_update_points(
        self,
        collection_name: str,
        update_operations: Sequence[Any],
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> list[models.UpdateResult]:
        """Apply several operations in order, all or nothing.

        Deviation: local mode leaves the operations before a failing one applied; the whole batch
        is rejected here, as one request to the server is.
        """
        prepares = [parse_update_operation(op) for op in update_operations]
        self._database.write_batch(collection_name, prepares, wait)
        return [_completed() for _ in prepares]

    def upload_points(
        self,
        collection_name: str,
        points: Iterable[Any],
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = False,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
    ) -> None:
        """Upsert any iterable of points as one request (an empty one is a no-op)."""
        points = list(points)
        if points:
            self._write(collection_name, lambda c: c.prepare_upsert(points, update_filter, update_mode), True)

    def upload_collection(
        self,
        collection_name: str,
        vectors: Any,
        payload: Iterable[dict[Any, Any]] | None = None,
        ids: Iterable[Any] | None = None,
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = False,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
    ) -> None:
        """Upload vectors (a 2-D array, a list of vectors, or a dict of named 2-D arrays) with optional
        ids and payloads (any iterables, even endless ones). Without ids, points get uuid4 ids."""
        batch = _upload_batch(vectors, payload, ids)
        if batch is not None:
            self._write(collection_name, lambda c: c.prepare_upsert(batch, update_filter, update_mode), True)

    # -- point reads -----------------------------------------------------------------------------

    def retrieve(
        self,
        collection_name: str,
        ids: Sequence[Any],
        with_payload: Any = True,
        with_vectors: Any = False,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> list[models.Record]:
        """Points by id, in request order; missing ids are skipped, duplicates repeated."""
        with self._database.lock, gc_paused():
            found = self._collection(collection_name).retrieve(ids, with_payload, with_vectors)
            return [_record(parts) for parts in found]

    def scroll(
        self,
        collection_name: str,
        scroll_filter: Any = None,
        limit: int = 10,
        order_by: Any = None,
        offset: Any = None,
        with_payload: Any = True,
        with_vectors: Any = False,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> tuple[list[models.Record], Any]:
        """A page of points matching the filter, by id order (or by payload value with order_by).

        Returns:
            (records, next_page_offset): pass next_page_offset as ``offset`` for the next page;
            None when there are no more points (always None with order_by).
        """
        if limit is None or limit < 1:
            raise InvalidInput(f"limit value {limit} is invalid. Must be 1 or larger.")
        if order_by is not None and offset is not None:
            raise InvalidInput("Offset is not supported in conjunction with `order_by` scroll parameter")
        compiled = compile_filter(scroll_filter)
        with self._database.lock, gc_paused():
            collection = self._collection(collection_name)
            if order_by is not None:
                found = collection.scroll_by_value(compiled, limit, order_by, with_payload, with_vectors)
                return [_record(parts) for parts in found], None
            page, next_offset = collection.scroll_by_id(compiled, limit, offset, with_payload, with_vectors)
            return [_record(parts) for parts in page], next_offset

    def count(
        self,
        collection_name: str,
        count_filter: Any = None,
        exact: bool = True,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.CountResult:
        """Number of points matching the filter (always exact)."""
        compiled = compile_filter(count_filter)
        with self._database.lock:
            return models.CountResult(count=self._collection(collection_name).count(compiled))

    def facet(
        self,
        collection_name: str,
        key: str,
        facet_filter: Any = None,
        limit: int = 10,
        exact: bool = False,
        consistency: Any = None,
        timeout: int | None = None,
        shard_key_selector: Any = None,
    ) -> models.FacetResponse:
        """Counts of the distinct values of a payload key among matching points, most frequent first."""
        compiled = compile_filter(facet_filter)
        with self._database.lock:
            hits = self._collection(collection_name).facet(key, compiled, limit)
        return models.FacetResponse(hits=[models.FacetValueHit(value=v, count=c) for v, c in hits])

    # -- not supported in-process ----------------------------------------------------------------

    def create_snapshot(self, collection_name: str, wait: bool = True) -> Any:
        raise NotSupported("Snapshots are not supported in qdrant_local; the storage folder is its own backup.")

    def list_snapshots(self, collection_name: str) -> list[Any]:
        return []

    def create_shard_key(
        self,
        collection_name: str,
        shard_key: int | str,
        shards_number: int | None = None,
        replication_factor: int | None = None,
        placement: list[int] | None = None,
    ) -> bool:
        raise NotSupported("Sharding is not supported in qdrant_local.")


def _upload_batch(vectors: Any, payload: Iterable[Any] | None, ids: Iterable[Any] | None) -> dict[str, Any] | None:
    """A Batch-shaped dict for upload_collection, or None when there is nothing to upload."""
    columns, count = _vector_columns(vectors)
    if count == 0:
        return None
    id_source = ids if ids is not None else (str(uuid.uuid4()) for _ in itertools.count())
    point_ids = list(itertools.islice(id_source, count))
    payloads = list(itertools.islice(payload, count)) if payload is not None else None
    if len(point_ids) < count:
        raise InvalidInput("ids iterable is shorter than vectors iterable")
    if payloads is not None and len(payloads) < count:
        raise InvalidInput("payload iterable is shorter than vectors iterable")
    point_ids = [str(p) if isinstance(p, uuid.UUID) else p for p in point_ids]
    return {"ids": point_ids, "vectors": columns, "payloads": payloads}


def _vector_columns(vectors: Any) -> tuple[Any, int]:
    """upload_collection's vectors as Batch columns, and how many points they hold.

    A 2-D array or a list of vectors is the unnamed column; a dict of named 2-D arrays is a column
    per name; a list of named-vector dicts becomes a column per name (None where a point lacks it).
    """
    if isinstance(vectors, np.ndarray):
        return vectors, len(vectors)
    if isinstance(vectors, dict):
        arrays = {name: values if isinstance(values, np.ndarray) else list(values) for name, values in vectors.items()}
        counts = {len(values) for values in arrays.values()}
        if len(counts) > 1:
            raise InvalidInput("Each named vector should have the same number of vectors")
        return arrays, counts.pop() if counts else 0
    listed = list(vectors)
    if listed and all(isinstance(vector, dict) for vector in listed):
        names = dict.fromkeys(name for vector in listed for name in vector)
        return {name: [vector.get(name) for vector in listed] for name in names}, len(listed)
    return listed, len(listed)
