"""Request specs: model constructor calls kept abstract until a test picks an input form.

Strategies produce :class:`Call` trees (``Call("Filter", must=[Call("FieldCondition", ...)])``).
A tree can then be turned into

* model objects of any module that mirrors ``qdrant_client.models`` (:func:`build`), which is how
  the oracle gets qdrant_client models and the subject gets qdrant_local models;
* a REST-shaped dict (:func:`to_rest`), the third accepted input form;
* the same with dense vectors as numpy arrays (:func:`with_numpy_vectors`).

Keeping one spec for all forms is what lets a differential test say "the same request".
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import ModuleType
from typing import Any

import numpy as np

# Field names that are Python keywords: models spell them with a trailing underscore,
# REST (and pydantic aliases) spell them plainly.
_KEYWORD_FIELDS = {"except_": "except"}

# Model fields that carry vectors, so numpy conversion knows where to look.
_VECTOR_FIELDS = {("PointStruct", "vector"), ("PointVectors", "vector"), ("Batch", "vectors")}


class Call:
    """An abstract ``models.<name>(**kwargs)`` call."""

    __slots__ = ("name", "kwargs")

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        # None means "not given" for every model field, so it is dropped up front.
        self.kwargs = {k: v for k, v in kwargs.items() if v is not None}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Call) and (self.name, self.kwargs) == (other.name, other.kwargs)

    def __hash__(self) -> int:  # pragma: no cover - specs are not used as keys
        return hash(self.name)

    def replace(self, **kwargs: Any) -> Call:
        """A copy with some fields changed."""
        return Call(self.name, **{**self.kwargs, **kwargs})


class Enum:
    """An abstract ``models.<enum_name>.<member>``; REST form is the member's value."""

    __slots__ = ("enum_name", "member")

    def __init__(self, enum_name: str, member: str) -> None:
        self.enum_name = enum_name
        self.member = member

    def __repr__(self) -> str:
        return f"{self.enum_name}.{self.member}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Enum) and (self.enum_name, self.member) == (
            other.enum_name,
            other.member,
        )

    def __hash__(self) -> int:
        return hash((self.enum_name, self.member))

    def rest_value(self) -> Any:
        """The wire value, read from qdrant_client's enum (tests may import qdrant_client)."""
        from qdrant_client import models as qc_models

        return getattr(getattr(qc_models, self.enum_name), self.member).value


def _instantiate(cls: type, kwargs: dict[str, Any]) -> Any:
    try:
        return cls(**kwargs)
    except Exception:  # TypeError from a plain class, ValidationError (a ValueError) from pydantic
        # A models module may only accept the REST spelling (pydantic alias) of a keyword field.
        if not any(k in _KEYWORD_FIELDS for k in kwargs):
            raise
        return cls(**{_KEYWORD_FIELDS.get(k, k): v for k, v in kwargs.items()})


def build(spec: Any, models: ModuleType) -> Any:
    """Turn a spec into objects of ``models``; plain values pass through (lists and dicts copied)."""
    if isinstance(spec, Call):
        cls = getattr(models, spec.name)
        return _instantiate(cls, {k: build(v, models) for k, v in spec.kwargs.items()})
    if isinstance(spec, Enum):
        return getattr(getattr(models, spec.enum_name), spec.member)
    if isinstance(spec, list):
        return [build(v, models) for v in spec]
    if isinstance(spec, tuple):
        return tuple(build(v, models) for v in spec)
    if isinstance(spec, dict):
        return {k: build(v, models) for k, v in spec.items()}
    return spec


def to_rest(spec: Any) -> Any:
    """Turn a spec into the REST-shaped (JSON-like) dict form."""
    if isinstance(spec, Call):
        return {_KEYWORD_FIELDS.get(k, k): to_rest(v) for k, v in spec.kwargs.items()}
    if isinstance(spec, Enum):
        return spec.rest_value()
    if isinstance(spec, (list, tuple)):
        return [to_rest(v) for v in spec]
    if isinstance(spec, dict):
        return {k: to_rest(v) for k, v in spec.items()}
    # JSON has no datetime or UUID type: a REST body carries their string forms.
    if isinstance(spec, (dt.datetime, dt.date)):
        return spec.isoformat()
    if isinstance(spec, uuid.UUID):
        return str(spec)
    return spec


def _numpy_vector(vector: Any) -> Any:
    if isinstance(vector, list) and vector and all(isinstance(x, float) for x in vector):
        return np.asarray(vector, dtype=np.float32)
    if isinstance(vector, list) and vector and all(isinstance(x, list) for x in vector):
        rows = [_numpy_vector(row) for row in vector]
        if all(isinstance(r, np.ndarray) for r in rows) and len({len(r) for r in rows}) == 1:
            return np.stack(rows)  # a multivector as one 2-d array
        return rows
    if isinstance(vector, dict):
        return {name: _numpy_vector(v) for name, v in vector.items()}
    return vector


def with_numpy_vectors(spec: Any) -> Any:
    """The same spec with every dense vector (and multivector) given as a float32 numpy array."""
    if isinstance(spec, Call):
        kwargs = {}
        for key, value in spec.kwargs.items():
            if (spec.name, key) in _VECTOR_FIELDS:
                if spec.name == "Batch" and isinstance(value, list):
                    kwargs[key] = [_numpy_vector(v) for v in value]
                elif spec.name == "Batch" and isinstance(value, dict):
                    kwargs[key] = {n: [_numpy_vector(v) for v in vs] for n, vs in value.items()}
                else:
                    kwargs[key] = _numpy_vector(value)
            else:
                kwargs[key] = with_numpy_vectors(value)
        return Call(spec.name, **kwargs)
    if isinstance(spec, list):
        return [with_numpy_vectors(v) for v in spec]
    if isinstance(spec, dict):
        return {k: with_numpy_vectors(v) for k, v in spec.items()}
    return spec


def json_unambiguous(spec: Any) -> bool:
    """False for a spec holding an empty DatetimeRange (the same JSON as an empty numeric Range)."""
    if isinstance(spec, Call):
        if spec.name == "DatetimeRange" and all(value is None for value in spec.kwargs.values()):
            return False
        return all(json_unambiguous(value) for value in spec.kwargs.values())
    if isinstance(spec, (list, tuple)):
        return all(json_unambiguous(value) for value in spec)
    if isinstance(spec, dict):
        return all(json_unambiguous(value) for value in spec.values())
    return True
