"""Turn qdrant_local's results into qdrant_client's own model instances.

Our models and enums carry qdrant_client's class and field names, so each one maps by name onto the class
in ``qdrant_client.http.models``. Results are built without validation, the way pydantic's
``model_construct`` builds them (but about ten times faster, which a page of thousands of records
needs): the engine already produced checked values, and validating every vector of a large page costs
more than the search that produced it. Payloads are plain JSON values and are handed over as they are
(the engine returns copies).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from qdrant_client.http import models as rest

from ..models.base import Model

__all__ = ["to_qdrant_client"]

_SCALARS = (str, int, float, bool, type(None))
_PLAIN = frozenset(_SCALARS)
_converters: dict[type, Callable[[Any], Any]] = {}
_OPAQUE_FIELDS = frozenset({"payload"})
_targets: dict[type, Any] = {}
_IMMUTABLE = (*_SCALARS, enum.Enum)
_fields: dict[type, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _target(cls: type) -> Any:
    target = _targets.get(cls)
    if target is None:
        target = getattr(rest, cls.__name__, None)
        if target is None:
            raise TypeError(f"qdrant_client has no model named {cls.__name__}")
        _targets[cls] = target
    return target


def _field_plan(target: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The target model's field names, and the immutable defaults (safe to share) of those that have one."""
    plan = _fields.get(target)
    if plan is None:
        names = tuple(target.model_fields)
        defaults = {
            name: info.default
            for name, info in target.model_fields.items()
            if not info.is_required() and info.default_factory is None and isinstance(info.default, _IMMUTABLE)
        }
        plan = _fields[target] = (names, defaults)
    return plan


def to_qdrant_client(value: Any) -> Any:
    """Return ``value`` with every qdrant_local model and enum inside it replaced by qdrant_client's."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _converters.get(kind)
    if convert is None:
        convert = _converters[kind] = _converter_for(kind)
    return convert(value)


def _converter_for(kind: type) -> Callable[[Any], Any]:
    if issubclass(kind, enum.Enum):  # before the scalars: our enums are str (or int) subclasses too
        target = _target(kind)
        return lambda value: target(value.value)
    if issubclass(kind, Model):
        return _model
    if issubclass(kind, list):
        return _list
    if issubclass(kind, tuple):
        return lambda value: tuple(to_qdrant_client(item) for item in value)
    if issubclass(kind, dict):
        return lambda value: {key: to_qdrant_client(item) for key, item in value.items()}
    return lambda value: value


def _model(value: Model) -> Any:
    target = _target(type(value))
    names, defaults = _field_plan(target)
    ours = value.__dict__
    fields: dict[str, Any] = {}
    for name in names:
        if name in ours:
            item = ours[name]
            fields[name] = item if name in _OPAQUE_FIELDS else to_qdrant_client(item)
        elif name in defaults:
            fields[name] = defaults[name]
    if len(fields) < len(names):  # a field only qdrant_client has, without a shareable default
        return target.model_construct(**fields)
    instance = target.__new__(target)  # what model_construct does, without its per-field bookkeeping
    object.__setattr__(instance, "__dict__", fields)
    object.__setattr__(instance, "__pydantic_fields_set__", set(fields))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def _list(items: list[Any]) -> list[Any]:
    # A vector (or a multivector) is a list of numbers (of lists of numbers): nothing to convert inside.
    if items:
        first = items[0]
        if isinstance(first, list) and first:
            first = first[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return items
    return [to_qdrant_client(item) for item in items]
