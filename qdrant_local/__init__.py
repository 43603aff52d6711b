"""qdrant_local: an embedded, in-process Qdrant for Python.

``from qdrant_local import QdrantClient, models`` gives a drop-in replacement for
``qdrant_client.QdrantClient(":memory:")`` (and ``path=...`` for a persistent folder) with the same
methods, results and error types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors, models

if TYPE_CHECKING:
    from .api import QdrantClient
    from .api.async_client import AsyncQdrantClient

__version__ = "0.1.0"

__all__ = ["AsyncQdrantClient", "QdrantClient", "__version__", "errors", "install", "models", "uninstall"]


def install() -> None:
    """Run every ``qdrant_client.QdrantClient(":memory:" | path=...)`` and ``AsyncQdrantClient`` made from now on
    on qdrant_local's engine; they stay real qdrant_client clients returning qdrant_client's models.

    Needs qdrant-client installed. Idempotent; :func:`uninstall` undoes it.
    """
    from ._compat.install import install as _install

    _install()


def uninstall() -> None:
    """Restore qdrant-client's own local mode for clients made from now on. Idempotent."""
    from ._compat.install import uninstall as _uninstall

    _uninstall()


def __getattr__(name: str) -> Any:
    # The client pulls in the whole engine; importing it on first use keeps `import qdrant_local`
    # (and tools that only need models or storage) fast.
    if name == "QdrantClient":
        from .api import QdrantClient

        return QdrantClient
    if name == "AsyncQdrantClient":
        from .api.async_client import AsyncQdrantClient

        return AsyncQdrantClient
    raise AttributeError(f"module 'qdrant_local' has no attribute {name!r}")
