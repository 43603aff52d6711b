"""The ASGI application: Starlette routes for every endpoint, api-key checks, Qdrant's envelope.

Handlers run in Starlette's worker-thread pool, so the event loop only does I/O, except a cheap read
while the server is otherwise idle, which runs on the event loop (``dispatch.py``). The engine's
reader-writer lock lets reads run side by side (numpy's products release the GIL: both cores
search) and runs writes one at a time.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .. import __version__
from . import collections, points, search
from .calls import Call
from .dispatch import Dispatcher
from .endpoint import Endpoint, Handler
from .envelope import (
    RequestError,
    failure,
    failure_body,
    message_of,
    ok_body,
    status_of,
)

__all__ = ["API_VERSION", "ENDPOINTS", "create_app"]

API_VERSION = "1.20.0"
"""The Qdrant version whose REST API this server speaks (reported by ``GET /``)."""

# Matched in order: the most frequent requests first.
ENDPOINTS: list[Endpoint] = [*search.ENDPOINTS, *points.ENDPOINTS, *collections.ENDPOINTS]

# Qdrant answers these without an api-key (src/actix/mod.rs: the api-key whitelist).
_OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/livez"})

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def create_app(client: Any, api_key: str | None = None, read_only: bool = False) -> ASGIApp:
    """The REST API over ``client`` (an open :class:`qdrant_local.QdrantClient`).

    With ``api_key``, every request but the root and health probes needs it in the ``api-key``
    header (or ``Authorization: Bearer``); with ``read_only``, writes answer 403.
    """
    dispatcher = Dispatcher()
    routes = [Route(e.path, _route(client, e, read_only, dispatcher), methods=[e.method]) for e in ENDPOINTS]
    routes += [
        Route("/", _root, methods=["GET"]),
        Route("/healthz", _healthy, methods=["GET"]),
        Route("/livez", _healthy, methods=["GET"]),
        Route("/readyz", _ready, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    return app if api_key is None else ApiKeyGuard(app, api_key)


def _route(
    client: Any, endpoint: Endpoint, read_only: bool, dispatcher: Dispatcher
) -> Callable[[Request], Awaitable[Response]]:
    handler = endpoint.handler

    async def respond(request: Request) -> Response:
        started = time.perf_counter()
        if read_only and endpoint.writes:
            return failure(403, "Forbidden: this server is read-only (qdrant-local serve --read-only)", started)
        dispatcher.arrived()
        try:
            raw = await request.body()
            # Parsing, the call and the JSON encoding run together, in a worker thread unless inline.
            status, body = await dispatcher.run(
                endpoint.quick, _answer, handler, client, request.path_params, request.query_params, raw, started
            )
        finally:
            dispatcher.finished()
        return Response(body, status_code=status, media_type="application/json")

    respond.__name__ = handler.__name__
    return respond


def _answer(handler: Handler, client: Any, path: Any, query: Any, raw: bytes, started: float) -> tuple[int, bytes]:
    """(status, JSON body) for one request: Qdrant's envelope around the handler's result or error."""
    try:
        result = handler(client, Call(path, query, _parse_json(raw)))
        return 200, ok_body(result, started)
    except Exception as exc:  # noqa: BLE001 - every error becomes Qdrant's error envelope
        return status_of(exc), failure_body(message_of(exc), started)


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, f"Json deserialize error: {exc}") from None


async def _root(request: Request) -> Response:
    title = f"qdrant - vector search engine (qdrant_local {__version__})"
    return JSONResponse({"title": title, "version": API_VERSION, "commit": None})


async def _healthy(request: Request) -> Response:
    return PlainTextResponse("healthz check passed")


async def _ready(request: Request) -> Response:
    return PlainTextResponse("all shards are ready")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    started = time.perf_counter()
    if exc.status_code == 404:
        message = f"Not found: no endpoint {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method not allowed: {request.method} {request.url.path}"
    else:
        message = str(exc.detail)
    return failure(exc.status_code, message, started)


class ApiKeyGuard:
    """ASGI middleware: the api-key check Qdrant makes, with its status codes and plain-text bodies."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        key = _presented_key(scope)
        if key is None:
            message = "Must provide an API key or an Authorization bearer token"
        elif not hmac.compare_digest(key, self.api_key):
            message = "Invalid API key or JWT"
        else:
            await self.app(scope, receive, send)
            return
        await PlainTextResponse(message, status_code=401)(scope, receive, send)


def _presented_key(scope: Scope) -> bytes | None:
    headers = dict(scope["headers"])
    if b"api-key" in headers:
        return headers[b"api-key"]
    authorization = headers.get(b"authorization", b"")
    if authorization.startswith(b"Bearer "):
        return authorization[len(b"Bearer ") :]
    return None
