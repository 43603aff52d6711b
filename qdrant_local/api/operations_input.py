"""batch_update_points operations and alias operations, converted into our models
(``models.convert_operations``), as the engine's prepare functions and alias tuples."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import models
from ..engine import operations as ops
from ..engine.collection import Collection
from ..engine.database import AliasOperation
from ..models.convert import to_filter, to_selector
from ..models.convert_operations import to_alias_operation, to_update_operation

Prepare = Callable[[Collection], ops.PointOperation]


def parse_update_operation(operation: Any) -> Prepare:
    """One batch operation (UpsertOperation, {"upsert": ...}, ...) as a prepare function; raises for
    one that cannot be read, before any operation of the batch is prepared."""
    return _prepare(to_update_operation(operation))


def _selector(body: Any) -> Any:
    """The points selector of a converted SetPayload / DeletePayload / DeleteVectors body, converted
    when the engine prepares the operation."""
    return list(body.points) if body.points is not None else {"filter": body.filter}


def _prepare(operation: Any) -> Prepare:
    kind = type(operation)
    if kind is models.UpsertOperation:
        body = operation.upsert
        data = body.points if type(body) is models.PointsList else body.batch
        update_filter, update_mode = body.update_filter, body.update_mode
        return lambda c: c.prepare_upsert(data, to_filter(update_filter), update_mode)
    if kind is models.DeleteOperation:
        selector = operation.delete
        return lambda c: c.prepare_delete(to_selector(selector))
    if kind is models.SetPayloadOperation or kind is models.OverwritePayloadOperation:
        overwrite = kind is models.OverwritePayloadOperation
        body = operation.overwrite_payload if overwrite else operation.set_payload
        payload, selector, key = body.payload, _selector(body), body.key
        if overwrite:
            return lambda c: c.prepare_overwrite_payload(payload, to_selector(selector))
        return lambda c: c.prepare_set_payload(payload, to_selector(selector), key)
    if kind is models.DeletePayloadOperation:
        keys, selector = operation.delete_payload.keys, _selector(operation.delete_payload)
        return lambda c: c.prepare_delete_payload(keys, to_selector(selector))
    if kind is models.ClearPayloadOperation:
        selector = operation.clear_payload
        return lambda c: c.prepare_clear_payload(to_selector(selector))
    if kind is models.UpdateVectorsOperation:
        points, update_filter = operation.update_vectors.points, operation.update_vectors.update_filter
        return lambda c: c.prepare_update_vectors(points, to_filter(update_filter))
    body = operation.delete_vectors
    names, selector = body.vector, _selector(body)
    return lambda c: c.prepare_delete_vectors(names, to_selector(selector))


def alias_operations(operations: Iterable[Any]) -> Iterator[AliasOperation]:
    """Each alias operation (CreateAliasOperation, {"create_alias": ...}, ...) as the engine's tuple;
    lazily, so an unknown one is reported where the engine's loop reaches it."""
    for operation in operations:
        converted = to_alias_operation(operation)
        kind = type(converted)
        if kind is models.CreateAliasOperation:
            create = converted.create_alias
            yield ("create", create.collection_name, create.alias_name)
        elif kind is models.DeleteAliasOperation:
            yield ("delete", converted.delete_alias.alias_name)
        else:
            rename = converted.rename_alias
            yield ("rename", rename.old_alias_name, rename.new_alias_name)
