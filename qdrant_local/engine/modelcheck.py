"""Check plain JSON against the generated models' field annotations, as the server's JSON parser would.

Configuration we only echo (optimizers, HNSW, WAL, quantization, strict mode, payload index parameters)
is kept as JSON and turned back into models by ``get_collection``. Our models do not validate, so a
value of the wrong shape would be stored, logged, and break ``get_collection`` for ever, also after
reopen. :func:`check_json` refuses it up front with an :class:`InvalidInput` naming the field.

Annotations are the strings the generator wrote (``Optional[int]``, ``Union[A, B, None]``,
``Dict[str, X]``, ``List[X]``, enum and model class names); names this checker does not know pass.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from ..errors import InvalidInput
from ..models import _generated
from ..models.base import Model

__all__ = ["check_json", "check_model_json"]

_NONE = ("None", "NoneType")


def check_model_json(cls: type[Model], data: Any, what: str) -> None:
    """Raise InvalidInput unless ``data`` is a JSON object that ``cls`` accepts."""
    problem = _model_problem(cls, data)
    if problem is not None:
        raise InvalidInput(f"Format error in {what}: {problem}")


def check_json(annotation: str, value: Any, what: str) -> None:
    """Raise InvalidInput unless ``value`` matches the annotation string."""
    problem = _problem(annotation, value)
    if problem is not None:
        raise InvalidInput(f"Format error in {what}: {problem}")


def _model_problem(cls: type[Model], data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"expected an object ({cls.__name__}), got {_shown(data)}"
    annotations = _annotations(cls)
    for key, value in data.items():
        name = cls._by_keyword.get(key)
        if name is None:
            return f"unknown field {key!r} of {cls.__name__}"
        problem = _problem(annotations.get(name, "Any"), value)
        if problem is not None:
            return f"{key}: {problem}"
    for name in cls._field_names:
        if name not in annotations or _is_optional(annotations[name]) or name in cls._defaults:
            continue
        if name not in data and not any(cls._by_keyword.get(k) == name for k in data):
            return f"missing field {name!r} of {cls.__name__}"
    return None


def _problem(annotation: str, value: Any) -> str | None:
    annotation = annotation.strip()
    if annotation.startswith("Optional[") and annotation.endswith("]"):
        return None if value is None else _problem(annotation[9:-1], value)
    if annotation.startswith("Union[") and annotation.endswith("]"):
        options = _split(annotation[6:-1])
        problems = [_problem(option, value) for option in options]
        if any(problem is None for problem in problems):
            return None
        # For an object, the option whose only problem is not its kind ("type") is the one the caller meant.
        meant = [
            p
            for p in problems
            if p and isinstance(value, dict) and "unknown variant" not in p and not p.startswith("expected")
        ]
        return meant[0] if len(meant) == 1 else f"{_shown(value)} matches none of {', '.join(options)}"
    if annotation in _NONE:
        return None if value is None else f"expected null, got {_shown(value)}"
    if annotation == "Any":
        return None
    if annotation == "bool":
        return None if type(value) is bool else f"expected a boolean, got {_shown(value)}"
    if annotation == "int":
        return None if type(value) is int else f"expected an integer, got {_shown(value)}"
    if annotation == "float":
        return None if type(value) in (int, float) else f"expected a number, got {_shown(value)}"
    if annotation == "str":
        return None if type(value) is str else f"expected a string, got {_shown(value)}"
    if annotation.startswith("List[") and annotation.endswith("]"):
        if not isinstance(value, list):
            return f"expected a list, got {_shown(value)}"
        return next((p for p in (_problem(annotation[5:-1], item) for item in value) if p), None)
    if annotation.startswith("Dict[") and annotation.endswith("]"):
        if not isinstance(value, dict):
            return f"expected an object, got {_shown(value)}"
        inner = _split(annotation[5:-1])[-1]
        return next((p for p in (_problem(inner, item) for item in value.values()) if p), None)
    cls = getattr(_generated, annotation, None)
    if isinstance(cls, type) and issubclass(cls, Enum):
        allowed = [member.value for member in cls]
        return (
            None
            if value in allowed and type(value) is not bool
            else f"unknown variant {_shown(value)}, expected one of {allowed}"
        )
    if isinstance(cls, type) and issubclass(cls, Model):
        return _model_problem(cls, value)
    return None  # Literal[...], StrictInt and other names: not checked


def _split(arguments: str) -> list[str]:
    """Top-level comma-separated parts of ``A, Dict[str, B], C``."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(arguments):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(arguments[start:index].strip())
            start = index + 1
    parts.append(arguments[start:].strip())
    return parts


def _is_optional(annotation: str) -> bool:
    return annotation.startswith("Optional[") or (
        annotation.startswith("Union[") and "None" in _split(annotation[6:-1])
    )


def _annotations(cls: type) -> dict[str, str]:
    merged: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "__annotations__", {}))
    return {k: str(v) for k, v in merged.items()}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
