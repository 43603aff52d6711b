"""get_collection's answer: a CollectionInfo built from a collection's configuration and state."""

from __future__ import annotations

from typing import Any

from .. import models
from ..engine.collection import Collection
from ..engine.config import SPARSE_DECLARED
from ..engine.paths import extract_values
from ..models.build import build

_DEFAULT_HNSW = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0}
_DEFAULT_WAL = {"wal_capacity_mb": 32, "wal_segments_ahead": 0}
_DEFAULT_OPTIMIZER = {
    "deleted_threshold": 0.2,
    "vacuum_min_vector_number": 1000,
    "default_segment_number": 0,
    "indexing_threshold": 20000,
    "flush_interval_sec": 5,
    "max_optimization_threads": 1,
}


def _vectors_config(collection: Collection) -> Any:
    raw = collection.config.raw
    dense = {name: build(models.VectorParams, params) for name, params in (raw.get("vectors") or {}).items()}
    if raw.get("unnamed"):
        return dense.get("")
    return dense


def _sparse_config(collection: Collection) -> Any:
    sparse = collection.config.raw.get("sparse_vectors") or {}
    if not sparse:
        return {} if collection.config.raw.get(SPARSE_DECLARED) else None
    return {name: build(models.SparseVectorParams, params) for name, params in sparse.items()}


def _payload_schema(collection: Collection) -> dict[str, Any]:
    schema = {}
    store = collection.store
    for field_name, raw_schema in collection.payload_schema.items():
        if isinstance(raw_schema, str):
            data_type, params = raw_schema, None
        else:
            data_type = raw_schema.get("type", "keyword")
            params = _index_params(data_type, raw_schema)
        # The field's payload index knows this count without scanning every payload.
        points = collection.payload_indexes.count_with_values(field_name, store)
        if points is None:
            points = sum(1 for payload in store.payloads if payload is not None and extract_values(payload, field_name))
        schema[field_name] = models.PayloadIndexInfo(
            data_type=models.PayloadSchemaType(data_type), params=params, points=points
        )
    return schema


def _index_params(data_type: str, raw_schema: dict[str, Any]) -> Any:
    name = {
        "keyword": "KeywordIndexParams",
        "integer": "IntegerIndexParams",
        "float": "FloatIndexParams",
        "geo": "GeoIndexParams",
        "text": "TextIndexParams",
        "bool": "BoolIndexParams",
        "datetime": "DatetimeIndexParams",
        "uuid": "UuidIndexParams",
    }.get(data_type)
    cls = getattr(models, name, None) if name else None
    return build(cls, raw_schema) if cls is not None else raw_schema


def collection_info(collection: Collection) -> models.CollectionInfo:
    raw = collection.config.raw
    params = models.CollectionParams(
        vectors=_vectors_config(collection),
        shard_number=raw.get("shard_number"),
        sharding_method=raw.get("sharding_method"),
        replication_factor=raw.get("replication_factor"),
        write_consistency_factor=raw.get("write_consistency_factor"),
        on_disk_payload=raw.get("on_disk_payload"),
        sparse_vectors=_sparse_config(collection),
    )
    config = models.CollectionConfig(
        params=params,
        hnsw_config=build(models.HnswConfig, {**_DEFAULT_HNSW, **(raw.get("hnsw_config") or {})}),
        optimizer_config=build(models.OptimizersConfig, {**_DEFAULT_OPTIMIZER, **(raw.get("optimizers_config") or {})}),
        wal_config=build(models.WalConfig, {**_DEFAULT_WAL, **(raw.get("wal_config") or {})}),
        quantization_config=_quantization(raw.get("quantization_config")),
        strict_mode_config=build(models.StrictModeConfigOutput, raw["strict_mode_config"])
        if raw.get("strict_mode_config")
        else None,
        metadata=raw.get("metadata"),
    )
    indexes = collection.vector_indexes.values()  # HNSW indexes (the ann extra), else none
    building = any(index.busy for index in indexes)
    return models.CollectionInfo(
        # As the server: yellow while an index is being built (searches stay exact meanwhile).
        status=models.CollectionStatus.YELLOW if building else models.CollectionStatus.GREEN,
        optimizer_status=models.OptimizersStatusOneOf.OK,
        indexed_vectors_count=sum(index.indexed_count for index in indexes),
        points_count=len(collection.store),
        segments_count=1,
        config=config,
        payload_schema=_payload_schema(collection),
    )


def _quantization(raw: Any) -> Any:
    if not raw:
        return None
    for cls in (models.ScalarQuantization, models.ProductQuantization, models.BinaryQuantization):
        key = cls._field_names[0]
        if key in raw:
            return build(cls, raw)
    return raw
