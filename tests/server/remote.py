"""qdrant-client's REST client against a served folder, shaped as a differential-test side.

Errors come back from the REST client as ``UnexpectedResponse`` (status code and Qdrant's error
envelope); :class:`ServedClient` raises them as the builtin exception in-process code raises for the
same status, with the server's message, so the differential comparison (builtin class and message)
applies unchanged.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import qdrant_client
from qdrant_client import models as qc_models
from qdrant_client.http.exceptions import UnexpectedResponse

from ..differential.compare import Side


def rest_client(url: str, **kwargs: Any) -> qdrant_client.QdrantClient:
    return qdrant_client.QdrantClient(url=url, prefer_grpc=False, timeout=60, check_compatibility=False, **kwargs)


def as_builtin(exc: UnexpectedResponse) -> Exception:
    """The builtin error in-process code raises for this status, carrying the server's message."""
    try:
        message = json.loads(exc.content)["status"]["error"]
    except (ValueError, KeyError, TypeError):
        message = exc.content.decode(errors="replace")
    if exc.status_code == 404 and message.startswith("No point with id"):
        return KeyError(message)
    if exc.status_code in (400, 404, 409):
        return ValueError(message)
    if exc.status_code == 501:
        return NotImplementedError(message)
    return RuntimeError(f"{exc.status_code}: {message}")


class ServedClient:
    """A REST client whose server errors surface as builtin exceptions."""

    def __init__(self, url: str) -> None:
        self._client = rest_client(url)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except UnexpectedResponse as exc:
                raise as_builtin(exc) from None

        return call


def reset(url: str) -> None:
    """Delete every collection (and so every alias) the server holds."""
    client = rest_client(url)
    try:
        for collection in client.get_collections().collections:
            client.delete_collection(collection.name)
    finally:
        client.close()


def served_side(url: str) -> Side:
    """A side whose ``client()`` empties the server and returns a :class:`ServedClient` to it."""

    def fresh(location: str) -> ServedClient:
        reset(url)
        return ServedClient(url)

    return Side("served", fresh, qc_models)  # type: ignore[arg-type]
