"""``qdrant-local info DIR``: what a folder holds (collections, counts, vectors, indexes, file sizes)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ._common import existing_folder, mib, open_folder, report

HELP = "show the collections of a folder (points, vectors, payload indexes, aliases) and its file sizes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="a qdrant_local folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def folder_info(path: str) -> dict[str, Any]:
    """The facts ``info`` prints, as JSON-ready data."""
    from ..transfer.description import describe_local

    existing_folder(path)
    files = {
        name: os.path.getsize(os.path.join(path, name))
        for name in sorted(os.listdir(path))
        if not name.startswith(".") and os.path.isfile(os.path.join(path, name))
    }
    collections = []
    with open_folder(path, read_only=True) as client:
        for listed in client.get_collections().collections:
            description = describe_local(client, listed.name)
            info = client.get_collection(listed.name)
            collections.append(
                {
                    "name": listed.name,
                    "points": info.points_count,
                    "vectors": description.config.get("vectors"),
                    "sparse_vectors": description.config.get("sparse_vectors") or {},
                    "payload_indexes": {
                        field_name: {"schema": schema, "points": info.payload_schema[field_name].points}
                        for field_name, schema in description.payload_schema.items()
                    },
                    "aliases": description.aliases,
                    "metadata": description.config.get("metadata"),
                }
            )
    return {
        "path": path,
        "size_bytes": sum(files.values()),
        "log_bytes": sum(size for name, size in files.items() if name.endswith(".log")),
        "snapshot_bytes": sum(size for name, size in files.items() if name.endswith(".snapshot")),
        "files": files,
        "collections": collections,
    }


def _vector_lines(vectors: Any, sparse: dict[str, Any]) -> list[str]:
    if vectors and "size" in vectors:
        vectors = {"": vectors}
    lines = []
    for name, params in (vectors or {}).items():
        kind = "multivector" if params.get("multivector_config") else "dense"
        lines.append(f"    vector {name or '(unnamed)'}: {kind}, size {params['size']}, {params['distance']}")
    for name, params in sparse.items():
        modifier = (params or {}).get("modifier")
        lines.append(f"    vector {name}: sparse" + (f", modifier {modifier}" if modifier else ""))
    return lines


def format_info(info: dict[str, Any]) -> str:
    lines = [
        f"{info['path']}: {mib(info['size_bytes'])} "
        f"(snapshots {mib(info['snapshot_bytes'])}, logs {mib(info['log_bytes'])})"
    ]
    lines += [f"  file {name}: {mib(size)}" for name, size in info["files"].items()]
    if not info["collections"]:
        lines.append("  no collections")
    for collection in info["collections"]:
        lines.append(f"  collection {collection['name']}: {collection['points']} points")
        lines += _vector_lines(collection["vectors"], collection["sparse_vectors"])
        for field_name, index in collection["payload_indexes"].items():
            schema = index["schema"]
            kind = schema if isinstance(schema, str) else schema.get("type", "keyword")
            lines.append(f"    payload index {field_name}: {kind} ({index['points']} points)")
        if collection["aliases"]:
            lines.append(f"    aliases: {', '.join(collection['aliases'])}")
        if collection["metadata"]:
            lines.append(f"    metadata: {json.dumps(collection['metadata'], ensure_ascii=False)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    def show() -> int:
        info = folder_info(args.path)
        print(json.dumps(info, ensure_ascii=False) if args.json else format_info(info))
        return 0

    return report(show)
