"""Approximate (HNSW) search for dense vectors, behind the optional extra ``qdrant-local[ann]``.

Without faiss-cpu installed nothing here is used and search stays exact. Importing this package is
light: faiss is imported only when a first graph is built or loaded (graph.py).
"""

from __future__ import annotations

import importlib.util
from typing import Any


def available() -> bool:
    """Whether faiss-cpu (the ``ann`` extra) is installed."""
    try:
        return importlib.util.find_spec("faiss") is not None
    except (ImportError, ValueError):  # a blocked import (sys.modules["faiss"] = None)
        return False


def make_service(lock: Any, storage: Any = None) -> Any:
    """An :class:`~.service.AnnService` for a database, or None without the extra."""
    if not available():
        return None
    from .service import AnnService

    return AnnService(lock, storage)
