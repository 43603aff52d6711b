"""Turn qdrant_local's results into qdrant_client's own model instances.

Our models and enums carry qdrant_client's class and field names, so each one maps by name onto the class
in ``qdrant_client.http.models``. Results are built with pydantic's ``model_construct`` (no validation):
the engine already produced checked values, and validating every vector of a large page would cost more
than the search that produced it. Payloads are plain JSON values and are handed over as they are (the
engine returns copies).
"""

from __future__ import annotations

import enum
from typing import Any

from qdrant_client.http import models as rest

from ..models.base import Model

__all__ = ["to_qdrant_client"]

_SCALARS = (str, int, float, bool, type(None))
_OPAQUE_FIELDS = frozenset({"payload"})
_targets: dict[type, Any] = {}


def _target(cls: type) -> Any:
    target = _targets.get(cls)
    if target is None:
        target = getattr(rest, cls.__name__, None)
        if target is None:
            raise TypeError(f"qdrant_client has no model named {cls.__name__}")
        _targets[cls] = target
    return target


def to_qdrant_client(value: Any) -> Any:
    """Return ``value`` with every qdrant_local model and enum inside it replaced by qdrant_client's."""
    if isinstance(value, enum.Enum):  # before the scalars: our enums are str (or int) subclasses too
        return _target(type(value))(value.value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Model):
        return _model(value)
    if isinstance(value, list):
        return _list(value)
    if isinstance(value, tuple):
        return tuple(to_qdrant_client(item) for item in value)
    if isinstance(value, dict):
        return {key: to_qdrant_client(item) for key, item in value.items()}
    return value


def _model(value: Model) -> Any:
    fields = {
        name: item if name in _OPAQUE_FIELDS else to_qdrant_client(item) for name, item in value.__dict__.items()
    }
    return _target(type(value)).model_construct(**fields)


def _list(items: list[Any]) -> list[Any]:
    # A vector (or a multivector) is a list of numbers (of lists of numbers): nothing to convert inside.
    if items:
        first = items[0]
        if isinstance(first, list) and first:
            first = first[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return items
    return [to_qdrant_client(item) for item in items]
