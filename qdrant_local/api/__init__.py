"""The public API: :class:`QdrantClient`, composed of one class per area (collections, points, query,
legacy search) over the engine. Each method converts its arguments and delegates."""

from __future__ import annotations

from .client import PUBLIC_METHODS, QdrantClient

__all__ = ["QdrantClient", "PUBLIC_METHODS"]
