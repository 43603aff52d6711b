"""On-disk persistence for ``QdrantClient(path=...)``: an ordered store of opaque msgpack records.

``DiskStorage`` is the only entry point; the engine turns writes into records and never sees files.
"""

from __future__ import annotations

from qdrant_local.storage.disk import DiskStorage

__all__ = ["DiskStorage"]
