"""Uniform read access to request arguments in their three accepted forms.

An argument may be one of our models, a ``qdrant_client`` (pydantic) model, or a REST-shaped dict.
All three expose the same field names, so every parser reads fields through :func:`field` and never
cares which form it got. qdrant_client is never imported: its models are duck-typed.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()

# Python keywords that pydantic (and our models) spell with a trailing underscore.
_KEYWORD_FIELDS = {"except": "except_"}


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Return ``obj[name]`` for a dict, ``obj.name`` for a model, ``default`` when absent or None."""
    if isinstance(obj, dict):
        value = obj.get(name, _MISSING)
        if value is _MISSING and name in _KEYWORD_FIELDS:
            value = obj.get(_KEYWORD_FIELDS[name], _MISSING)
    else:
        value = getattr(obj, _KEYWORD_FIELDS.get(name, name), _MISSING)
        if value is _MISSING and name in _KEYWORD_FIELDS:
            value = getattr(obj, name, _MISSING)
    if value is _MISSING or value is None:
        return default
    return value


def has_field(obj: Any, name: str) -> bool:
    """True when ``obj`` carries a non-None value for ``name``."""
    return field(obj, name, _MISSING) is not _MISSING


def enum_value(value: Any) -> Any:
    """The plain value of an enum member (ours or qdrant_client's), or the value itself."""
    return getattr(value, "value", value)
