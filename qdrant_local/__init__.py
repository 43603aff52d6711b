"""qdrant_local: an embedded, in-process Qdrant for Python.

``from qdrant_local import QdrantClient, models`` gives a drop-in replacement for
``qdrant_client.QdrantClient(":memory:")`` (and ``path=...`` for a persistent folder) with the same
methods, results and error types.
"""

from __future__ import annotations

from . import errors, models
from .client import QdrantClient

__version__ = "0.1.0"

__all__ = ["QdrantClient", "models", "errors", "__version__"]
