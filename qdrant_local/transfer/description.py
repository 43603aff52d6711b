"""A collection's definition as plain JSON: its configuration, payload indexes and aliases.

``config`` is the body of Qdrant's REST ``PUT /collections/{name}`` (``vectors``, ``sparse_vectors``,
``metadata``, ``hnsw_config``, ...). A description is read from a qdrant_local client exactly (from its
stored configuration) or from any qdrant-client-compatible client (from ``get_collection``), and
recreated on either kind of client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.config import to_json

# create_collection keywords, by REST key, for the settings other than the vectors.
_SETTINGS = (
    "shard_number",
    "sharding_method",
    "replication_factor",
    "write_consistency_factor",
    "on_disk_payload",
    "hnsw_config",
    "optimizers_config",
    "wal_config",
    "quantization_config",
    "strict_mode_config",
    "metadata",
)


@dataclass
class CollectionDescription:
    """Everything but the points: enough to recreate the collection elsewhere."""

    name: str
    config: dict[str, Any]
    payload_schema: dict[str, Any] = field(default_factory=dict)  # field -> "keyword" or {"type": ..., params}
    aliases: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "config": self.config,
            "payload_schema": self.payload_schema,
            "aliases": self.aliases,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollectionDescription:
        return cls(
            data["name"], data["config"], dict(data.get("payload_schema") or {}), list(data.get("aliases") or [])
        )

    def vector_signature(self) -> dict[str, Any]:
        """Name -> (kind, size, distance): what must match for points to fit another collection."""
        vectors = self.config.get("vectors") or {}
        if _is_single(vectors):
            vectors = {"": vectors}
        signature: dict[str, Any] = {
            name: ("multi" if params.get("multivector_config") else "dense", params.get("size"), params.get("distance"))
            for name, params in vectors.items()
        }
        signature.update({name: ("sparse", None, None) for name in self.config.get("sparse_vectors") or {}})
        return signature


def is_qdrant_local(client: Any) -> bool:
    """Whether ``client`` is one of our clients (which take REST JSON and expose their engine)."""
    from ..api import QdrantClient

    return isinstance(client, QdrantClient)


def _is_single(vectors: Any) -> bool:
    return isinstance(vectors, dict) and "size" in vectors and "distance" in vectors


def describe_local(client: Any, name: str) -> CollectionDescription:
    """The exact stored definition of collection ``name`` of a qdrant_local client."""
    return CollectionDescription.from_json(client._describe_collection(name))


def describe_client(client: Any, name: str) -> CollectionDescription:
    """The definition of ``name`` as any qdrant-client-compatible client reports it (get_collection)."""
    info = client.get_collection(name)
    params = info.config.params
    config: dict[str, Any] = {"vectors": to_json(params.vectors) if params.vectors is not None else {}}
    if params.sparse_vectors:
        config["sparse_vectors"] = {n: to_json(p) or {} for n, p in params.sparse_vectors.items()}
    for key in ("shard_number", "sharding_method", "replication_factor", "write_consistency_factor", "on_disk_payload"):
        value = getattr(params, key, None)
        if value is not None:
            config[key] = to_json(value)
    for key, attribute in (
        ("hnsw_config", "hnsw_config"),
        ("optimizers_config", "optimizer_config"),
        ("wal_config", "wal_config"),
        ("quantization_config", "quantization_config"),
        ("strict_mode_config", "strict_mode_config"),
    ):
        value = getattr(info.config, attribute, None)
        if value is not None:
            config[key] = to_json(value)
    metadata = getattr(info.config, "metadata", None)
    if metadata is not None:
        config["metadata"] = metadata
    schema = {
        field_name: to_json(index.params) if index.params is not None else to_json(index.data_type)
        for field_name, index in (info.payload_schema or {}).items()
    }
    aliases = sorted(a.alias_name for a in client.get_collection_aliases(name).aliases)
    return CollectionDescription(name, config, schema, aliases)


def describe(client: Any, name: str) -> CollectionDescription:
    """describe_local for our clients (exact), describe_client for any other."""
    return describe_local(client, name) if is_qdrant_local(client) else describe_client(client, name)


def create_collection(client: Any, description: CollectionDescription) -> None:
    """Create the collection on ``client`` with the described configuration and payload indexes.

    The aliases are not created here (see :func:`create_aliases`): a copy adds them once the points
    are there, so an alias never names a half-copied collection.
    """
    config = description.config
    if is_qdrant_local(client):
        keywords = {key: config[key] for key in _SETTINGS if key in config}
        keywords.update({key: config[key] for key in ("payload", "id_tracker") if key in config})
        client.create_collection(
            description.name,
            vectors_config=config.get("vectors"),
            sparse_vectors_config=config.get("sparse_vectors"),
            **keywords,
        )
    else:
        client.create_collection(description.name, **_qdrant_client_keywords(config))
    for field_name, schema in description.payload_schema.items():
        client.create_payload_index(description.name, field_name, field_schema=_index_schema(client, schema), wait=True)


def _qdrant_client_keywords(config: dict[str, Any]) -> dict[str, Any]:
    """create_collection keywords for qdrant-client (its local mode wants models, not dicts)."""
    from qdrant_client import models

    vectors = config.get("vectors")
    if _is_single(vectors):
        vectors_config: Any = models.VectorParams.model_validate(vectors)
    else:
        vectors_config = {n: models.VectorParams.model_validate(p) for n, p in (vectors or {}).items()}
    sparse = config.get("sparse_vectors")
    keywords: dict[str, Any] = {
        "vectors_config": vectors_config,
        "sparse_vectors_config": (
            {n: models.SparseVectorParams.model_validate(p or {}) for n, p in sparse.items()} if sparse else None
        ),
    }
    for key, model in (
        ("hnsw_config", models.HnswConfigDiff),
        ("optimizers_config", models.OptimizersConfigDiff),
        ("wal_config", models.WalConfigDiff),
        ("strict_mode_config", models.StrictModeConfig),
    ):
        if config.get(key) is not None:
            known = model.model_fields
            keywords[key] = model.model_validate({k: v for k, v in config[key].items() if k in known})
    for key in ("shard_number", "replication_factor", "write_consistency_factor", "on_disk_payload", "metadata"):
        if config.get(key) is not None:
            keywords[key] = config[key]
    if config.get("quantization_config") is not None:
        from pydantic import TypeAdapter

        keywords["quantization_config"] = TypeAdapter(models.QuantizationConfig).validate_python(
            config["quantization_config"]
        )
    return keywords


def _index_schema(client: Any, schema: Any) -> Any:
    if is_qdrant_local(client) or isinstance(schema, str):
        return schema
    from pydantic import TypeAdapter
    from qdrant_client import models

    return TypeAdapter(models.PayloadSchemaParams).validate_python(schema)


def create_aliases(client: Any, description: CollectionDescription) -> None:
    """Point the described aliases at the collection (moving any that name another one)."""
    if not description.aliases:
        return
    current = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    operations: list[Any] = []
    for alias in description.aliases:
        if current.get(alias) == description.name:
            continue
        if alias in current:
            operations.append({"delete_alias": {"alias_name": alias}})
        operations.append({"create_alias": {"collection_name": description.name, "alias_name": alias}})
    if not operations:
        return
    if not is_qdrant_local(client):
        from qdrant_client import models

        operations = [
            models.DeleteAliasOperation.model_validate(op)
            if "delete_alias" in op
            else models.CreateAliasOperation.model_validate(op)
            for op in operations
        ]
    client.update_collection_aliases(change_aliases_operations=operations)
