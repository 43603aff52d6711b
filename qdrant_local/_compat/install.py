"""Installed mode: put qdrant_local's engine inside qdrant-client's own local mode.

``install()`` rebinds the two names qdrant-client's clients construct their local engine from
(``qdrant_client.qdrant_client.QdrantLocal`` and ``qdrant_client.async_qdrant_client.AsyncQdrantLocal``)
to :mod:`qdrant_local._compat.engines`; ``uninstall()`` puts the originals back. Clients made while
installed keep our engine until they are closed; remote clients (``url=``, ``host=``) are never touched.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["install", "is_installed", "uninstall"]

_lock = threading.Lock()
_originals: dict[str, Any] = {}


def _slots() -> list[tuple[Any, str, Any]]:
    """(module, attribute, our replacement) for each place qdrant-client builds a local engine."""
    import qdrant_client.async_qdrant_client as async_module
    import qdrant_client.qdrant_client as sync_module

    from .engines import AsyncLocalEngine, LocalEngine

    return [(sync_module, "QdrantLocal", LocalEngine), (async_module, "AsyncQdrantLocal", AsyncLocalEngine)]


def install() -> None:
    """Make every new ``qdrant_client.QdrantClient(":memory:" | path=...)`` (and async) run on qdrant_local."""
    with _lock:
        if _originals:
            return
        for module, name, replacement in _slots():
            _originals[f"{module.__name__}.{name}"] = getattr(module, name)
            setattr(module, name, replacement)


def uninstall() -> None:
    """Give qdrant-client back its own local mode for clients made from now on. Idempotent."""
    with _lock:
        if not _originals:
            return
        for module, name, _ in _slots():
            setattr(module, name, _originals[f"{module.__name__}.{name}"])
        _originals.clear()


def is_installed() -> bool:
    """True between ``install()`` and ``uninstall()``."""
    return bool(_originals)
