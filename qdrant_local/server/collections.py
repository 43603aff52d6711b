"""Collection endpoints: list, create, get, update, delete, exists, aliases, payload indexes."""

from __future__ import annotations

from typing import Any

from .calls import Call, acknowledged
from .endpoint import Endpoint

__all__ = ["ENDPOINTS"]

_CREATE = {
    "vectors": "vectors_config",
    "sparse_vectors": "sparse_vectors_config",
    "shard_number": "shard_number",
    "sharding_method": "sharding_method",
    "replication_factor": "replication_factor",
    "write_consistency_factor": "write_consistency_factor",
    "on_disk_payload": "on_disk_payload",
    "hnsw_config": "hnsw_config",
    "optimizers_config": "optimizers_config",
    "wal_config": "wal_config",
    "quantization_config": "quantization_config",
    "strict_mode_config": "strict_mode_config",
    "metadata": "metadata",
}

_UPDATE = {
    "vectors": "vectors_config",
    "sparse_vectors": "sparse_vectors_config",
    "optimizers_config": "optimizers_config",
    "params": "collection_params",
    "hnsw_config": "hnsw_config",
    "quantization_config": "quantization_config",
    "strict_mode_config": "strict_mode_config",
    "metadata": "metadata",
}


def list_collections(client: Any, call: Call) -> Any:
    return client.get_collections()


def get_collection(client: Any, call: Call) -> Any:
    return client.get_collection(call.collection)


def create_collection(client: Any, call: Call) -> Any:
    return client.create_collection(call.collection, **call.arguments(_CREATE))


def update_collection(client: Any, call: Call) -> Any:
    return client.update_collection(call.collection, **call.arguments(_UPDATE))


def delete_collection(client: Any, call: Call) -> Any:
    return client.delete_collection(call.collection)


def collection_exists(client: Any, call: Call) -> Any:
    return {"exists": client.collection_exists(call.collection)}


def update_aliases(client: Any, call: Call) -> Any:
    return client.update_collection_aliases(call.required("actions"))


def list_aliases(client: Any, call: Call) -> Any:
    return client.get_aliases()


def collection_aliases(client: Any, call: Call) -> Any:
    return client.get_collection_aliases(call.collection)


def create_index(client: Any, call: Call) -> Any:
    field_name = call.required("field_name")
    schema = call.object().get("field_schema")
    return acknowledged(client.create_payload_index(call.collection, field_name, schema, wait=call.wait), call)


def delete_index(client: Any, call: Call) -> Any:
    return acknowledged(client.delete_payload_index(call.collection, call.path["field_name"], wait=call.wait), call)


_C = "/collections/{collection_name}"

ENDPOINTS = [
    Endpoint("GET", "/collections", list_collections, quick=True),
    Endpoint("POST", "/collections/aliases", update_aliases, writes=True),
    Endpoint("GET", "/aliases", list_aliases, quick=True),
    Endpoint("GET", _C, get_collection, quick=True),
    Endpoint("PUT", _C, create_collection, writes=True),
    Endpoint("PATCH", _C, update_collection, writes=True),
    Endpoint("DELETE", _C, delete_collection, writes=True),
    Endpoint("GET", _C + "/exists", collection_exists, quick=True),
    Endpoint("GET", _C + "/aliases", collection_aliases, quick=True),
    Endpoint("PUT", _C + "/index", create_index, writes=True),
    Endpoint("DELETE", _C + "/index/{field_name}", delete_index, writes=True),
]
