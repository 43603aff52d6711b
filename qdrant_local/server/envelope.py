"""Qdrant's response envelope and the HTTP status of each error.

Success: ``{"result": ..., "status": "ok", "time": seconds}``; failure:
``{"status": {"error": "..."}, "time": seconds}``, with the status code the Qdrant server gives the
same kind of error (400 bad input, 404 missing collection or point, 409 existing collection).
"""

from __future__ import annotations

import enum
import time
import uuid
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from ..errors import CollectionAlreadyExists, CollectionNotFound, NotSupported
from ..models.base import Model

__all__ = ["RequestError", "failure", "ok", "status_of", "to_json"]


class RequestError(Exception):
    """An HTTP-level failure raised by the server itself (bad JSON, a missing body field, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_of(exc: BaseException) -> int:
    """The HTTP status the Qdrant server answers for this kind of error."""
    if isinstance(exc, RequestError):
        return exc.status
    if isinstance(exc, CollectionAlreadyExists):
        return 409
    if isinstance(exc, (CollectionNotFound, KeyError)):
        return 404
    if isinstance(exc, NotSupported):
        return 501
    if isinstance(exc, (ValueError, TypeError)):
        return 400
    return 500


def _default(value: Any) -> Any:
    """JSON form of what orjson does not know: our models, enums, numpy values, UUIDs, tuples."""
    if isinstance(value, Model):  # one level: orjson comes back here for nested models
        aliases = value._aliases
        fields = value.__dict__
        return {aliases.get(name, name): fields.get(name) for name in value._field_names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (uuid.UUID, set, frozenset)):
        return str(value) if isinstance(value, uuid.UUID) else list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(value: Any) -> bytes:
    """Serialise a result (models, lists, dicts, numpy values) to JSON bytes."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def ok(result: Any, started: float) -> Response:
    """A 200 response carrying ``result`` in Qdrant's envelope."""
    body = to_json({"result": result, "status": "ok", "time": time.perf_counter() - started})
    return Response(body, media_type="application/json")


def failure(status: int, message: str, started: float) -> Response:
    """An error response in Qdrant's envelope."""
    body = to_json({"status": {"error": message}, "time": time.perf_counter() - started})
    return Response(body, status_code=status, media_type="application/json")
