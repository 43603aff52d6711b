"""The description of one REST endpoint: method, path, handler, whether it writes, whether it is quick."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .calls import Call

__all__ = ["Endpoint", "Handler"]

Handler = Callable[[Any, Call], Any]
"""``handler(client, call) -> result``; runs in a worker thread, may raise qdrant_local errors."""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    writes: bool = False
    quick: bool = False
    """A read whose cost is bounded by one search or one page: it may run on the event loop when idle."""
