"""One HTTP request as the endpoint handlers see it: path parameters, query parameters and JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import models
from .envelope import RequestError

__all__ = ["Call", "acknowledged"]

_BOOLS = {"true": True, "false": False}


@dataclass(frozen=True)
class Call:
    """Path parameters, query parameters and the parsed JSON body (``None`` when there is none)."""

    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Any

    @property
    def collection(self) -> str:
        return self.path["collection_name"]

    @property
    def wait(self) -> bool:
        """``?wait=true|false``; the server's default is false (acknowledge before applying)."""
        return self.flag("wait", False)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw not in _BOOLS:
            raise RequestError(400, f"Query deserialize error: {name}: provided string was not `true` or `false`")
        return _BOOLS[raw]

    def object(self) -> dict[str, Any]:
        """The body, which must be a JSON object (an absent body counts as ``{}``)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise RequestError(400, "Json deserialize error: invalid type: expected a JSON object")
        return self.body

    def required(self, name: str) -> Any:
        body = self.object()
        if name not in body:
            raise RequestError(400, f"Json deserialize error: missing field `{name}`")
        return body[name]

    def arguments(self, renames: Mapping[str, str], **defaults: Any) -> dict[str, Any]:
        """Client keyword arguments from the body fields named in ``renames`` (REST name -> keyword).

        ``defaults`` are the REST defaults where they differ from the Python client's.
        """
        body = self.object()
        arguments = dict(defaults)
        for rest_name, keyword in renames.items():
            if rest_name in body:
                arguments[keyword] = body[rest_name]
        return arguments

    def selector(self) -> Any:
        """``points`` (a list of ids) or ``filter`` from the body: which points a write touches."""
        body = self.object()
        if body.get("points") is not None:
            return body["points"]
        if body.get("filter") is not None:
            return models.FilterSelector(filter=body["filter"])
        raise RequestError(400, "Validation error in JSON body: Either list of point ids or filter must be provided")


def acknowledged(result: models.UpdateResult, call: Call) -> models.UpdateResult:
    """Report ``acknowledged`` for ``wait=false`` writes, as the server does."""
    if call.wait:
        return result
    return models.UpdateResult(operation_id=result.operation_id, status=models.UpdateStatus.ACKNOWLEDGED)
