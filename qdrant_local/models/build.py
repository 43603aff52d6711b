"""Build model objects from plain JSON values, guided by the generated field annotations.

Used where we return configuration that we keep as JSON (``get_collection`` after a reopen): the
REST dict ``{"size": 3, "distance": "Cosine"}`` becomes ``VectorParams(size=3, distance=Distance.COSINE)``.
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache
from typing import Any

from . import _generated
from .base import Model

_NAME = re.compile(r"[A-Za-z_]\w*")
_BUILTIN = {"int", "str", "float", "bool", "None", "Any", "Optional", "Union", "List", "Dict", "Literal"}


@lru_cache(maxsize=None)
def _candidates(annotation: str) -> tuple[type, ...]:
    names = [n for n in _NAME.findall(annotation) if n not in _BUILTIN]
    return tuple(getattr(_generated, n) for n in names if isinstance(getattr(_generated, n, None), type))


def build(cls: type[Model], data: Any) -> Any:
    """Turn ``data`` (a dict in REST shape) into an instance of ``cls``; other values pass through."""
    if not isinstance(data, dict):
        return data
    kwargs = {}
    annotations = _annotations(cls)
    for key, value in data.items():
        name = cls._by_keyword.get(key)
        if name is None:
            continue
        kwargs[name] = _convert(annotations.get(name, "Any"), value)
    return cls(**kwargs)


def _annotations(cls: type) -> dict[str, str]:
    merged: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "__annotations__", {}))
    return {k: str(v) for k, v in merged.items()}


def _convert(annotation: str, value: Any) -> Any:
    candidates = _candidates(annotation)
    if isinstance(value, list) and annotation.startswith(("List[", "Optional[List[")):
        inner = annotation[annotation.index("List[") + 5 : -1]
        return [_convert(inner, item) for item in value]
    if isinstance(value, dict):
        if annotation.startswith(("Dict[", "Optional[Dict[")):
            inner = annotation.split(",", 1)[1].rsplit("]", 1)[0] if "," in annotation else "Any"
            return {k: _convert(inner.strip(), v) for k, v in value.items()}
        models = [c for c in candidates if issubclass(c, Model)]
        for model in models:
            if set(value) <= set(model._by_keyword) and all(
                k in value for k, d in model._defaults.items() if d is _required_marker()
            ):
                return build(model, value)
        return value
    if isinstance(value, str):
        for candidate in candidates:
            if issubclass(candidate, enum.Enum):
                try:
                    return candidate(value)
                except ValueError:
                    continue
    return value


def _required_marker() -> Any:
    from .base import _REQUIRED

    return _REQUIRED
