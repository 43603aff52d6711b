"""Kept for imports written before the facade moved: ``qdrant_local.client.QdrantClient``."""

from __future__ import annotations

from .api.client import QdrantClient

__all__ = ["QdrantClient"]
