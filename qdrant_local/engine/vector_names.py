"""Adding and removing a named vector on an existing collection (``create_vector_name`` /
``delete_vector_name``), as qdrant-client 1.20's local mode does it.

Both work on the collection's configuration JSON and return the new one (or None when nothing
changes); the database logs it as an ``update_collection`` record and the collection adopts it
(``Collection.reconfigure``): a new vector starts absent on every existing point, a removed one is
dropped from every point. Replay of the record rebuilds the same state, so both survive a reopen.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from .config import (
    SPARSE_DECLARED,
    CollectionConfig,
    parse_dense_params,
    parse_sparse_params,
    plain_field,
    validate_vector_name,
)
from .payload import copy_payload

__all__ = ["with_vector_name", "without_vector_name"]


def with_vector_name(config: CollectionConfig, vector_name: str, name_config: Any) -> dict[str, Any] | None:
    """The configuration with ``vector_name`` added (``{"dense": {...}}`` or ``{"sparse": {...}}``, as
    ``models.convert.to_vector_name_config`` gives it); None when the same vector already exists."""
    dense, sparse = plain_field(name_config, "dense"), plain_field(name_config, "sparse")
    if dense is not None:
        return _with_dense(config, validate_vector_name(vector_name, "dense"), dense)
    if sparse is not None:
        return _with_sparse(config, validate_vector_name(vector_name, "sparse"), sparse)
    raise InvalidInput(f"Unsupported vector name config type: {type(name_config)}")


def without_vector_name(config: CollectionConfig, vector_name: str) -> dict[str, Any] | None:
    """The configuration without ``vector_name``; None when there is no such vector (as the server, a no-op)."""
    if vector_name not in config.vectors:
        return None
    if vector_name == "" and config.unnamed:
        raise InvalidInput("Cannot delete the unnamed vector when it is the only dense vector in the collection")
    raw = copy_payload(config.raw)
    if config.vectors[vector_name].kind == "sparse":
        del raw["sparse_vectors"][vector_name]
        raw[SPARSE_DECLARED] = True
    else:
        del raw["vectors"][vector_name]
    return raw


def _with_dense(config: CollectionConfig, vector_name: str, dense: Any) -> dict[str, Any] | None:
    # Only what local mode keeps of a DenseVectorConfig: size, distance and the multivector comparator.
    params = {
        "size": plain_field(dense, "size"),
        "distance": plain_field(dense, "distance"),
        "multivector_config": plain_field(dense, "multivector_config"),
    }
    spec = parse_dense_params({k: v for k, v in params.items() if v is not None}, vector_name)
    existing = config.vectors.get(vector_name)
    if existing is not None:
        if existing.kind == "sparse":
            raise InvalidInput(f"Vector {vector_name} already exists as a sparse vector")
        same = (existing.size, existing.distance, existing.params.get("multivector_config")) == (
            spec.size,
            spec.distance,
            spec.params.get("multivector_config"),
        )
        if not same:
            raise InvalidInput(f"Vector {vector_name} already exists with a different configuration")
        return None
    raw = copy_payload(config.raw)
    raw["vectors"][vector_name] = spec.params
    raw["unnamed"] = False  # a single unnamed vector becomes the name "" beside the new one
    return raw


def _with_sparse(config: CollectionConfig, vector_name: str, sparse: Any) -> dict[str, Any] | None:
    modifier = plain_field(sparse, "modifier")
    spec = parse_sparse_params({"modifier": modifier} if modifier is not None else {}, vector_name)
    existing = config.vectors.get(vector_name)
    if existing is not None:
        if existing.kind != "sparse":
            raise InvalidInput(f"Vector {vector_name} already exists as a dense vector")
        if existing.modifier != spec.modifier:
            raise InvalidInput(f"Sparse vector {vector_name} already exists with a different configuration")
        return None
    raw = copy_payload(config.raw)
    raw.setdefault("sparse_vectors", {})[vector_name] = spec.params
    raw[SPARSE_DECLARED] = True
    return raw
