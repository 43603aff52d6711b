"""The operations of ``batch_update_points`` and ``update_collection_aliases`` converted into our models.

Each operation may be our model, a qdrant_client model or a REST-shaped dict (``UpsertOperation`` or
``{"upsert": ...}``, ...). The converters read whichever form they got and return our operation
models, so that the facade (``api.operations_input``) reads plain attributes. They make the checks
the facade always made while reading an operation (an unknown kind, an upsert without points or
batch, a payload or vectors operation without points or filter), with the same messages. Point
batches are kept as given (``engine.points_input`` reads them in place: the bulk path), and so are
filters and points selectors: ``models.convert.to_filter`` / ``to_selector`` convert them when the
engine prepares the operation, so their errors come in the batch's order.
"""

from __future__ import annotations

from typing import Any

from .._access import field
from ..errors import InvalidInput
from . import _generated as m

__all__ = ["to_alias_operation", "to_update_operation"]

_UPDATE_KINDS = (
    "upsert",
    "delete",
    "set_payload",
    "overwrite_payload",
    "delete_payload",
    "clear_payload",
    "update_vectors",
    "delete_vectors",
)


def to_update_operation(operation: Any) -> Any:
    """One ``batch_update_points`` operation as our ``UpsertOperation``, ``DeleteOperation``, ...
    ``DeleteVectorsOperation``; raises InvalidInput for one it cannot read."""
    kind = next((k for k in _UPDATE_KINDS if field(operation, k) is not None), None)
    if kind is None:
        raise InvalidInput(f"Unknown update operation: {operation!r}")
    return _UPDATE_CONVERTERS[kind](field(operation, kind))


def _upsert(body: Any) -> m.UpsertOperation:
    points = field(body, "points")
    batch = field(body, "batch") if points is None else None
    if points is None and batch is None:
        raise InvalidInput("Upsert operation must carry points or a batch")
    update_filter, update_mode = field(body, "update_filter"), field(body, "update_mode")
    common = {"shard_key": None, "update_filter": update_filter, "update_mode": update_mode}
    if points is not None:
        return m.UpsertOperation.model_construct(upsert=m.PointsList.model_construct(points=points, **common))
    return m.UpsertOperation.model_construct(upsert=m.PointsBatch.model_construct(batch=batch, **common))


def _selected(body: Any) -> dict[str, Any]:
    """The points (a list) or the filter (as given) a SetPayload / DeletePayload / DeleteVectors
    body selects."""
    points = field(body, "points")
    if points is not None:
        return {"points": list(points), "filter": None}
    selected = field(body, "filter")
    if selected is None:
        raise InvalidInput("Either points or filter must be specified")
    return {"points": None, "filter": selected}


def _set_payload(body: Any) -> m.SetPayloadOperation:
    return m.SetPayloadOperation.model_construct(set_payload=_set_payload_body(body))


def _overwrite_payload(body: Any) -> m.OverwritePayloadOperation:
    return m.OverwritePayloadOperation.model_construct(overwrite_payload=_set_payload_body(body))


def _set_payload_body(body: Any) -> m.SetPayload:
    payload, selected, key = field(body, "payload"), _selected(body), field(body, "key")
    return m.SetPayload.model_construct(payload=payload, shard_key=None, key=key, **selected)


def _delete_payload(body: Any) -> m.DeletePayloadOperation:
    keys, selected = field(body, "keys", []), _selected(body)
    return m.DeletePayloadOperation.model_construct(
        delete_payload=m.DeletePayload.model_construct(keys=keys, shard_key=None, **selected)
    )


def _update_vectors(body: Any) -> m.UpdateVectorsOperation:
    points, update_filter = field(body, "points", []), field(body, "update_filter")
    return m.UpdateVectorsOperation.model_construct(
        update_vectors=m.UpdateVectors.model_construct(points=points, shard_key=None, update_filter=update_filter)
    )


def _delete_vectors(body: Any) -> m.DeleteVectorsOperation:
    names, selected = field(body, "vector", []), _selected(body)
    return m.DeleteVectorsOperation.model_construct(
        delete_vectors=m.DeleteVectors.model_construct(vector=names, shard_key=None, **selected)
    )


_UPDATE_CONVERTERS: dict[str, Any] = {
    "upsert": _upsert,
    "delete": lambda body: m.DeleteOperation.model_construct(delete=body),  # a selector, as given
    "set_payload": _set_payload,
    "overwrite_payload": _overwrite_payload,
    "delete_payload": _delete_payload,
    "clear_payload": lambda body: m.ClearPayloadOperation.model_construct(clear_payload=body),
    "update_vectors": _update_vectors,
    "delete_vectors": _delete_vectors,
}


def to_alias_operation(operation: Any) -> Any:
    """One alias operation as our ``CreateAliasOperation``, ``DeleteAliasOperation`` or
    ``RenameAliasOperation`` (names as given); raises InvalidInput for another."""
    create = field(operation, "create_alias")
    delete = field(operation, "delete_alias")
    rename = field(operation, "rename_alias")
    if create is not None:
        return m.CreateAliasOperation.model_construct(
            create_alias=m.CreateAlias.model_construct(
                collection_name=field(create, "collection_name"), alias_name=field(create, "alias_name")
            )
        )
    if delete is not None:
        return m.DeleteAliasOperation.model_construct(
            delete_alias=m.DeleteAlias.model_construct(alias_name=field(delete, "alias_name"))
        )
    if rename is not None:
        return m.RenameAliasOperation.model_construct(
            rename_alias=m.RenameAlias.model_construct(
                old_alias_name=field(rename, "old_alias_name"), new_alias_name=field(rename, "new_alias_name")
            )
        )
    raise InvalidInput(f"Unknown operation: {operation!r}")
