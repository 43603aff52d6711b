"""Parsing of batch_update_points operations and alias operations in all three input forms."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .._access import field
from ..engine import operations as ops
from ..engine.collection import Collection
from ..engine.database import AliasOperation
from ..errors import InvalidInput
from ..models.convert import to_filter, to_selector

Prepare = Callable[[Collection], ops.PointOperation]

_KINDS = (
    "upsert",
    "delete",
    "set_payload",
    "overwrite_payload",
    "delete_payload",
    "clear_payload",
    "update_vectors",
    "delete_vectors",
)


def _selector_of(body: Any) -> Any:
    """The points selector inside SetPayload / DeletePayload / DeleteVectors bodies."""
    points = field(body, "points")
    if points is not None:
        return list(points)
    selected = field(body, "filter")
    if selected is None:
        raise InvalidInput("Either points or filter must be specified")
    return {"filter": selected}


def parse_update_operation(operation: Any) -> Prepare:
    """One batch operation (UpsertOperation, {"upsert": ...}, ...) as a prepare function."""
    kind = next((k for k in _KINDS if field(operation, k) is not None), None)
    if kind is None:
        raise InvalidInput(f"Unknown update operation: {operation!r}")
    body = field(operation, kind)
    if kind == "upsert":
        points = field(body, "points")
        data = points if points is not None else field(body, "batch")
        if data is None:
            raise InvalidInput("Upsert operation must carry points or a batch")
        update_filter, update_mode = field(body, "update_filter"), field(body, "update_mode")
        return lambda c: c.prepare_upsert(data, to_filter(update_filter), update_mode)
    if kind == "delete":
        return lambda c: c.prepare_delete(to_selector(body))
    if kind in ("set_payload", "overwrite_payload"):
        payload, selector, key = field(body, "payload"), _selector_of(body), field(body, "key")
        if kind == "overwrite_payload":
            return lambda c: c.prepare_overwrite_payload(payload, to_selector(selector))
        return lambda c: c.prepare_set_payload(payload, to_selector(selector), key)
    if kind == "delete_payload":
        keys, selector = field(body, "keys", []), _selector_of(body)
        return lambda c: c.prepare_delete_payload(keys, to_selector(selector))
    if kind == "clear_payload":
        return lambda c: c.prepare_clear_payload(to_selector(body))
    if kind == "update_vectors":
        points, update_filter = field(body, "points", []), field(body, "update_filter")
        return lambda c: c.prepare_update_vectors(points, to_filter(update_filter))
    names, selector = field(body, "vector", []), _selector_of(body)
    return lambda c: c.prepare_delete_vectors(names, to_selector(selector))


def alias_operations(operations: Iterable[Any]) -> Iterator[AliasOperation]:
    """Each alias operation (CreateAliasOperation, {"create_alias": ...}, ...) as the engine's tuple;
    lazily, so an unknown one is reported where the engine's loop reaches it."""
    for operation in operations:
        create = field(operation, "create_alias")
        delete = field(operation, "delete_alias")
        rename = field(operation, "rename_alias")
        if create is not None:
            yield ("create", field(create, "collection_name"), field(create, "alias_name"))
        elif delete is not None:
            yield ("delete", field(delete, "alias_name"))
        elif rename is not None:
            yield ("rename", field(rename, "old_alias_name"), field(rename, "new_alias_name"))
        else:
            raise InvalidInput(f"Unknown operation: {operation!r}")
