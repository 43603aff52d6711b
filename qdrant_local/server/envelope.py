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

__all__ = ["RequestError", "failure", "failure_body", "message_of", "ok_body", "status_of", "to_json"]


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


def ok_body(result: Any, started: float) -> bytes:
    """``result`` in Qdrant's success envelope, as JSON."""
    return to_json({"result": result, "status": "ok", "time": time.perf_counter() - started})


def failure_body(message: str, started: float) -> bytes:
    """Qdrant's error envelope, as JSON."""
    return to_json({"status": {"error": message}, "time": time.perf_counter() - started})


def message_of(exc: BaseException) -> str:
    """The error text (a KeyError's without the quotes ``str`` adds)."""
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def failure(status: int, message: str, started: float) -> Response:
    """An error response in Qdrant's envelope."""
    return Response(failure_body(message, started), status_code=status, media_type="application/json")
