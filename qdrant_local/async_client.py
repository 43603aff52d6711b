"""Kept for imports written before the async client moved: ``qdrant_local.async_client.AsyncQdrantClient``."""

from __future__ import annotations

from .api.async_client import AsyncQdrantClient

__all__ = ["AsyncQdrantClient"]
