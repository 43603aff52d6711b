"""Reading a folder written by qdrant-client's local mode (``qdrant_client.QdrantClient(path=...)``).

Such a folder holds ``meta.json`` (each collection's configuration, the aliases, and the text indexes
local mode keeps) and ``collection/<name>/storage.sqlite``, one row per point holding the pickled
``PointStruct``. Reading it needs qdrant-client installed (the pickles name its classes) and UNPICKLES
THE ROWS: only read folders you (or your own program) wrote, since unpickling can run code.

The folder is opened read-only (meta.json is read, the sqlite files are opened in ``mode=ro``) and
never changed. Older qdrant-client versions could keep several rows for one point; as local mode
does, the row written last wins.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import sqlite3
from collections.abc import Iterator
from typing import Any

from ..engine.config import to_json
from .description import CollectionDescription, create_aliases, create_collection
from .export_format import TransferError
from .points import vector_json, write_points
from .progress import progress_bar

META_FILE = "meta.json"


def read_meta(folder: str) -> dict[str, Any]:
    """The parsed meta.json of a qdrant-client folder (TransferError if it is not one)."""
    path = os.path.join(folder, META_FILE)
    if not os.path.isfile(path):
        raise TransferError(f"{folder} is not a qdrant-client local-mode folder: it has no {META_FILE}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def describe_collections(meta: dict[str, Any]) -> list[CollectionDescription]:
    """Our descriptions of the collections of a meta.json (configuration, text indexes, aliases)."""
    descriptions = []
    text_indexes = meta.get("text_indexes") or {}
    for name, stored in meta.get("collections", {}).items():
        config = {
            key: to_json(value)
            for key, value in stored.items()
            if value is not None and key not in ("metadata", "init_from")
        }
        config["vectors"] = config.get("vectors") or {}
        if stored.get("metadata") is not None:
            config["metadata"] = stored["metadata"]
        schema = {
            field_name: {"type": "text", **params} for field_name, params in (text_indexes.get(name) or {}).items()
        }
        aliases = sorted(alias for alias, target in (meta.get("aliases") or {}).items() if target == name)
        descriptions.append(CollectionDescription(name, config, schema, aliases))
    return descriptions


def read_points(folder: str, collection_name: str) -> Iterator[dict[str, Any]]:
    """The points of one collection as REST JSON, unpickled from its sqlite file (newest row per id)."""
    try:
        from qdrant_client.local.utils import normalize_point_id
    except ImportError as exc:  # pragma: no cover - the CLI checks before calling
        raise TransferError("reading a qdrant-client folder needs qdrant-client: pip install qdrant-client") from exc
    path = pathlib.Path(folder, "collection", collection_name, "storage.sqlite")
    if not path.is_file():
        return
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        seen: set[Any] = set()
        for (value,) in connection.execute("SELECT point FROM points ORDER BY rowid DESC"):
            point = pickle.loads(value)  # the user's own data, written by qdrant-client (see module docstring)
            point_id = normalize_point_id(point.id)
            if point_id in seen:
                continue
            seen.add(point_id)
            yield {
                "id": point_id if isinstance(point_id, int) else str(point_id),
                "vector": vector_json(point.vector) or {},
                "payload": point.payload or {},
            }
    finally:
        connection.close()


def import_folder(source: str, client: Any, *, batch_size: int = 1000, show_progress: bool = True) -> dict[str, int]:
    """Write every collection of the qdrant-client folder ``source`` into our ``client``; returns counts."""
    descriptions = describe_collections(read_meta(source))
    clashes = [d.name for d in descriptions if client.collection_exists(d.name)]
    if clashes:
        raise TransferError(f"collections already exist in the destination: {clashes}")
    imported = {}
    for description in descriptions:
        create_collection(client, description)
        bar = progress_bar(None, f"import {description.name}", enabled=show_progress)
        batch: list[dict[str, Any]] = []
        try:
            for point in read_points(source, description.name):
                batch.append(point)
                if len(batch) >= batch_size:
                    write_points(client, description.name, batch)
                    bar.update(len(batch))
                    batch = []
            write_points(client, description.name, batch)
            bar.update(len(batch))
        finally:
            bar.close()
        create_aliases(client, description)
        imported[description.name] = client.count(description.name, exact=True).count
    return imported
