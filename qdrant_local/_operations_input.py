"""Parsing of batch_update_points operations and alias operations in all three input forms."""

from __future__ import annotations

from typing import Any, Callable

from ._access import field
from .engine import operations as ops
from .engine.collection import Collection
from .engine.config import validate_text
from .errors import InvalidInput

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
        return lambda c: c.prepare_upsert(data, update_filter, update_mode)
    if kind == "delete":
        return lambda c: c.prepare_delete(body)
    if kind in ("set_payload", "overwrite_payload"):
        payload, selector, key = field(body, "payload"), _selector_of(body), field(body, "key")
        if kind == "overwrite_payload":
            return lambda c: c.prepare_overwrite_payload(payload, selector)
        return lambda c: c.prepare_set_payload(payload, selector, key)
    if kind == "delete_payload":
        keys, selector = field(body, "keys", []), _selector_of(body)
        return lambda c: c.prepare_delete_payload(keys, selector)
    if kind == "clear_payload":
        return lambda c: c.prepare_clear_payload(body)
    if kind == "update_vectors":
        points, update_filter = field(body, "points", []), field(body, "update_filter")
        return lambda c: c.prepare_update_vectors(points, update_filter)
    names, selector = field(body, "vector", []), _selector_of(body)
    return lambda c: c.prepare_delete_vectors(names, selector)


def apply_alias_operations(
    operations: Any, aliases: dict[str, str], collections: dict[str, Any]
) -> dict[str, str]:
    """The alias map after the operations, computed on a copy; raises without changing anything."""
    result = dict(aliases)
    for operation in operations:
        create = field(operation, "create_alias")
        delete = field(operation, "delete_alias")
        rename = field(operation, "rename_alias")
        if create is not None:
            collection_name, alias_name = field(create, "collection_name"), field(create, "alias_name")
            if collection_name not in collections:
                raise InvalidInput(f"Collection {collection_name} not found")
            if alias_name in collections:
                raise InvalidInput(f"Collection {alias_name} already exists")
            validate_text(alias_name, "Alias name")
            result[alias_name] = collection_name
        elif delete is not None:
            result.pop(field(delete, "alias_name"), None)
        elif rename is not None:
            old_name, new_name = field(rename, "old_alias_name"), field(rename, "new_alias_name")
            if new_name in collections:
                raise InvalidInput(f"Collection {new_name} already exists")
            validate_text(new_name, "Alias name")
            if old_name not in result:
                raise InvalidInput(f"Alias {old_name} does not exist")
            result[new_name] = result.pop(old_name)
        else:
            raise InvalidInput(f"Unknown operation: {operation!r}")
    return result
