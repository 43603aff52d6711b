"""Collection configuration: parsed from create_collection's arguments, kept as plain JSON.

The JSON form is what the log stores and what a reopen rebuilds from; ``get_collection`` turns it
back into models. Names and sizes are validated with qdrant-client's messages.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from ..errors import InvalidInput
from ..models import _generated as _models
from .modelcheck import check_json, check_model_json
from .payload import copy_payload, normalize_payload
from .vectors import distance_name

_FIELD_SCHEMA = str(_models.CreateFieldIndex.__annotations__["field_schema"])

MAX_VECTOR_SIZE = 65536
#: Key of the configuration JSON: sparse vectors were configured, so get_collection shows ``{}``
#: rather than None when there are none (as local mode does after ``sparse_vectors_config={}`` or
#: after the last sparse vector is deleted).
SPARSE_DECLARED = "sparse_declared"
MAX_VECTOR_NAME_BYTES = 200
_FORBIDDEN_NAME_CHARS = '<>:"/\\|?*\0\x1f'


def validate_collection_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidInput(f"Collection name must be a string, got {type(name).__name__}")
    for char in _FORBIDDEN_NAME_CHARS:
        if char in name:
            raise InvalidInput(f"Collection name cannot contain {char!r} char")
    if name in ("", ".", ".."):
        raise InvalidInput(f"Collection name cannot be {name!r}")
    validate_text(name, "Collection name")
    if len(name) > 255:
        raise InvalidInput("Collection name must be at most 255 characters long")
    return name


def validate_text(text: str, what: str) -> str:
    """Reject strings that cannot be stored as UTF-8 (lone surrogates), as JSON and our log cannot."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{what} {text!r} is not valid unicode") from None
    return text


def validate_vector_name(vector_name: Any, kind: str) -> str:
    if not isinstance(vector_name, str):
        raise InvalidInput(f"Invalid {kind} vector name `{vector_name}`: must be a string")
    if len(vector_name.encode()) > MAX_VECTOR_NAME_BYTES:
        raise InvalidInput(f"Invalid {kind} vector name `{vector_name}`: must be at most 200 bytes long")
    for char in _FORBIDDEN_NAME_CHARS:
        if char in vector_name:
            raise InvalidInput(f"Invalid {kind} vector name `{vector_name}`: cannot contain {char!r} char")
    if vector_name in (".", ".."):
        raise InvalidInput(f"Invalid {kind} vector name `{vector_name}`")
    validate_text(vector_name, f"Invalid {kind} vector name")
    if kind == "sparse" and vector_name == "":
        raise InvalidInput("Sparse vector name cannot be empty")
    return vector_name


def validate_index_schema(schema: Any) -> None:
    """Raise InvalidInput unless ``schema`` (JSON) is a payload index schema the server accepts: a
    PayloadSchemaType name or one of the *IndexParams objects."""
    if schema is None:
        raise InvalidInput("field_schema must be specified")
    check_json(_FIELD_SCHEMA, schema, "payload index schema")


def to_json(value: Any) -> Any:
    """A model (ours or qdrant_client's), enum or dict as plain JSON values."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "model_dump"):
        return to_json(value.model_dump(by_alias=True, exclude_none=True))
    raise InvalidInput(f"Cannot use {type(value).__name__} in a collection configuration")


@dataclass
class VectorSpec:
    """One vector name's parameters."""

    kind: str  # "dense", "multi" or "sparse"
    size: int = 0
    distance: str = ""
    modifier: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)  # as given, for get_collection


def plain_field(params: Any, name: str) -> Any:
    """``params[name]`` of a plain-JSON configuration object; None when absent or not an object."""
    return params.get(name) if isinstance(params, dict) else None


def parse_dense_params(params: Any, vector_name: str) -> VectorSpec:
    """One dense vector's parameters, as plain JSON (``models.convert.to_plain`` at the facade)."""
    size = plain_field(params, "size")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_VECTOR_SIZE:
        raise InvalidInput(f"Vector size {size} is invalid. Must be from 1 to {MAX_VECTOR_SIZE}.")
    distance = distance_name(plain_field(params, "distance"))
    raw = to_json(params)
    raw["distance"] = distance
    multivector = plain_field(params, "multivector_config")
    if multivector is not None:
        comparator = plain_field(multivector, "comparator")
        comparator = "max_sim" if comparator is None else comparator
        if comparator != "max_sim":
            raise InvalidInput(f"Unsupported multivector comparator: {comparator}")
        return VectorSpec("multi", size=size, distance=distance, params=raw)
    return VectorSpec("dense", size=size, distance=distance, params=raw)


def parse_sparse_params(params: Any, vector_name: str) -> VectorSpec:
    modifier = plain_field(params, "modifier")
    return VectorSpec("sparse", modifier=modifier, params=to_json(params) if params is not None else {})


def _is_single_vector_params(vectors_config: Any) -> bool:
    """A VectorParams (model or REST dict ``{"size": 4, "distance": "Dot"}``) rather than a mapping of names."""
    if vectors_config is None:
        return False
    if not isinstance(vectors_config, dict):
        return True
    return "size" in vectors_config and "distance" in vectors_config and not isinstance(vectors_config["size"], dict)


@dataclass
class CollectionConfig:
    """Everything create_collection was given, as JSON, plus the parsed vector specs."""

    vectors: dict[str, VectorSpec]
    unnamed: bool  # vectors_config was a single VectorParams (name "")
    raw: dict[str, Any]

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self.raw.get("metadata")

    @classmethod
    def from_request(cls, vectors_config: Any, sparse_vectors_config: Any, **other: Any) -> CollectionConfig:
        vectors: dict[str, VectorSpec] = {}
        unnamed = False
        if _is_single_vector_params(vectors_config):
            vectors[""] = parse_dense_params(vectors_config, "")
            unnamed = True
        elif vectors_config:
            for name, params in vectors_config.items():
                vectors[validate_vector_name(name, "dense")] = parse_dense_params(params, name)
        for name in sparse_vectors_config or {}:
            validate_vector_name(name, "sparse")
        for name, params in (sparse_vectors_config or {}).items():
            if name in vectors:
                raise InvalidInput(f"Vector name {name} is used for both dense and sparse vectors")
            vectors[str(name)] = parse_sparse_params(params, str(name))
        raw: dict[str, Any] = {
            "vectors": {name: spec.params for name, spec in vectors.items() if spec.kind != "sparse"},
            "unnamed": unnamed,
            "sparse_vectors": {name: spec.params for name, spec in vectors.items() if spec.kind == "sparse"},
        }
        if sparse_vectors_config is not None:
            raw[SPARSE_DECLARED] = True
        echoed = {key: to_json(value) for key, value in other.items() if value is not None and key != "metadata"}
        # Checked before anything is logged: a wrong shape would break get_collection for ever (issue 8 item 5).
        check_model_json(_models.CreateCollection, echoed, "collection config")
        raw.update(echoed)
        if other.get("metadata") is not None:
            raw["metadata"] = other["metadata"]  # already normalised JSON, where a null is a value to keep
        return cls(vectors=vectors, unnamed=unnamed, raw=raw)

    def create_body(self) -> dict[str, Any]:
        """The body of Qdrant's REST ``PUT /collections/{name}`` that recreates this configuration
        (``vectors`` a single params object when the vector is unnamed, ``sparse_vectors``, then
        every other setting as given); a copy."""
        raw = copy.deepcopy(self.raw)
        vectors = raw.pop("vectors")
        unnamed = raw.pop("unnamed", False)
        sparse = raw.pop("sparse_vectors", None)
        body: dict[str, Any] = {"vectors": vectors.get("") if unnamed else vectors}
        if sparse:
            body["sparse_vectors"] = sparse
        body.update(raw)
        return body

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CollectionConfig:
        unnamed = bool(raw.get("unnamed"))
        dense = raw.get("vectors") or {}
        sparse = raw.get("sparse_vectors") or {}
        vectors: dict[str, VectorSpec] = {name: parse_dense_params(p, name) for name, p in dense.items()}
        vectors.update({name: parse_sparse_params(p, name) for name, p in sparse.items()})
        return cls(vectors=vectors, unnamed=unnamed, raw=raw)

    def updated(
        self,
        vector_names: Iterable[str],
        sparse_vectors_config: Mapping[str, Any] | None,
        metadata: Any,
        echoed: Mapping[str, Any],
    ) -> tuple[dict[str, Any], bool]:
        """update_collection: the new configuration JSON, and whether anything was updated.

        Metadata is merged the server's way (a null removes a key); sparse parameters are merged
        per name; ``echoed`` settings (optimizers, hnsw, quantization, strict mode) replace the old
        ones and change nothing in-process. Raises, changing nothing, for an unknown vector name.
        """
        raw = copy_payload(self.raw)  # to_json would drop metadata nulls
        for vector_name in vector_names:
            spec = self.vectors.get(vector_name)
            if spec is None or spec.kind == "sparse":
                raise InvalidInput(f"Wrong input: Not existing vector name error: {vector_name}")
        for vector_name in sparse_vectors_config or {}:
            spec = self.vectors.get(vector_name)
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
            raw["metadata"] = _merged_metadata(raw.get("metadata"), normalize_payload(metadata))
            updated = True
        settings = {key: to_json(value) for key, value in echoed.items() if value is not None}
        check_model_json(_models.UpdateCollection, settings, "collection config")
        raw.update(settings)
        return raw, updated


def _merged_metadata(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if old is None:
        # As local mode: with no metadata yet, the given one is stored as it is, nulls included.
        return new
    merged = dict(old)
    for key, value in new.items():
        if value is None:  # the server's merge: a null removes the key
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
