"""The collection part of the facade: create, delete, inspect and configure collections, aliases
and payload indexes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from .. import models
from ..engine.config import CollectionConfig, to_json, validate_collection_name
from ..engine.payload import normalize_payload, validate_key
from ..errors import InvalidInput
from ..models.convert import to_plain, to_vector_name_config
from .base import ClientBase, completed
from .info import collection_info
from .operations_input import alias_operations


class CollectionsApi(ClientBase):
    """Collections, aliases and payload indexes."""

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
        config = _collection_config(
            vectors_config,
            sparse_vectors_config,
            metadata=metadata,
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
        for name in ("self", "collection_name", "timeout"):
            arguments.pop(name)
        # Everything is validated before the old collection is deleted (issue 8 item 4).
        validate_collection_name(collection_name)
        config = _collection_config(**arguments)
        with self._database.lock:
            self.delete_collection(collection_name)
            self._database.create_collection(collection_name, config)
        return True

    def delete_collection(self, collection_name: str, timeout: int | None = None) -> bool:
        """Delete a collection and its aliases. Returns whether it existed."""
        return self._database.delete_collection(collection_name)

    def collection_exists(self, collection_name: str) -> bool:
        """Whether a collection (or an alias) with this name exists."""
        return self._database.exists(collection_name)

    def get_collection(self, collection_name: str) -> models.CollectionInfo:
        """Information about a collection: points_count, config and payload_schema."""
        database = self._database
        with database.lock.shared():
            return collection_info(database.collection(collection_name))

    def get_collections(self) -> models.CollectionsResponse:
        """Names of all collections."""
        names = self._database.collection_names()
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
        return self._database.update_collection(
            collection_name,
            vector_names=list(vectors_config or {}),
            sparse_vectors_config=sparse_vectors_config,
            metadata=metadata,
            echoed={
                "optimizers_config": optimizers_config,
                "hnsw_config": hnsw_config,
                "quantization_config": quantization_config,
                "strict_mode_config": strict_mode_config,
            },
        )

    def create_vector_name(
        self,
        collection_name: str,
        vector_name: str,
        vector_name_config: Any,
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Add a named dense (DenseVectorNameConfig) or sparse (SparseVectorNameConfig) vector to a
        collection; existing points do not have it until they are given one. Re-creating an identical
        vector is a no-op."""
        self._database.create_vector_name(collection_name, vector_name, to_vector_name_config(vector_name_config))
        return completed()

    def delete_vector_name(
        self,
        collection_name: str,
        vector_name: str,
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Remove a named vector from a collection and from every point (a missing name is a no-op)."""
        self._database.delete_vector_name(collection_name, vector_name)
        return completed()

    def _describe_collection(self, collection_name: str) -> dict[str, Any]:
        """The stored definition of a collection as JSON, read in one step: ``name``, ``config`` (the
        REST create-collection body), ``payload_schema`` and the ``aliases`` naming it (sorted).
        What ``transfer`` copies between clients; not part of qdrant-client's API."""
        database = self._database

        def read(collection: Any) -> dict[str, Any]:
            aliases = sorted(alias for alias, target in database.aliases.items() if target == collection.name)
            return {
                "name": collection.name,
                "config": collection.config.create_body(),
                "payload_schema": dict(collection.payload_schema),
                "aliases": aliases,
            }

        return self._read(collection_name, read)

    def update_collection_aliases(self, change_aliases_operations: Sequence[Any], timeout: int | None = None) -> bool:
        """Create, delete and rename aliases atomically."""
        self._database.change_aliases(alias_operations(change_aliases_operations))
        return True

    def get_aliases(self) -> models.CollectionsAliasesResponse:
        """Every alias and the collection it points to."""
        aliases = self._database.alias_map()
        return models.CollectionsAliasesResponse(
            aliases=[models.AliasDescription(alias_name=a, collection_name=c) for a, c in aliases.items()]
        )

    def get_collection_aliases(self, collection_name: str) -> models.CollectionsAliasesResponse:
        """The aliases of one collection."""
        aliases = self._database.alias_map()
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
        validate_key(field_name)
        self._database.set_payload_index(collection_name, field_name, to_json(schema), wait)
        return completed()

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
        return completed()


def _collection_config(
    vectors_config: Any, sparse_vectors_config: Any, metadata: Any, **other: Any
) -> CollectionConfig:
    """The validated configuration of a create (or recreate) request; raises before anything changes."""
    return CollectionConfig.from_request(
        to_plain(vectors_config),
        to_plain(sparse_vectors_config),
        metadata=normalize_payload(metadata) if metadata is not None else None,
        **other,
    )
