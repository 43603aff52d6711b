"""Qdrant's HTTP REST API over a qdrant_local folder (``qdrant-local serve``).

An optional extra (``pip install "qdrant-local[server]"``: starlette, uvicorn, orjson); ``import
qdrant_local`` never imports this package. :func:`create_app` builds the ASGI application around an
open :class:`~qdrant_local.QdrantClient`; :func:`serve` opens a folder and runs it under uvicorn.
"""

from __future__ import annotations

from .app import create_app
from .runner import serve

__all__ = ["create_app", "serve"]
