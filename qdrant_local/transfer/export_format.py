"""The export format: JSON lines, a header line per collection followed by one line per point.

Header::

    {"qdrant_local_export": 1, "collection": {"name": ..., "config": {REST create-collection body},
     "payload_schema": {field: schema}, "aliases": [...]}, "points_count": N}

Point (the REST ``PointStruct`` shape; ``vector`` is a list, or a dict of named dense lists,
``{"indices", "values"}`` sparse vectors and lists of lists for multivectors)::

    {"id": 7, "vector": [0.1, 0.2], "payload": {"city": "Oslo"}}

A file may hold several collections, each header followed by its points. Floats are written with
enough digits to read back the same float32, so an import reproduces the collection exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import CollectionAlreadyExists, InvalidInput
from .description import (
    CollectionDescription,
    create_aliases,
    create_collection,
    describe,
)
from .points import scroll_pages, write_points
from .progress import progress_bar

FORMAT_KEY = "qdrant_local_export"
FORMAT_VERSION = 1


class TransferError(InvalidInput):
    """A transfer could not be done as asked (bad file, mismatching counts, existing collection)."""


try:  # orjson (the `server` extra) writes and reads the same JSON about ten times faster
    import orjson

    def _dumps(value: Any) -> str:
        return orjson.dumps(value).decode("utf-8")

    _loads: Any = orjson.loads
    _DECODE_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover - the standard library gives the same bytes, slower

    def _dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    _loads = json.loads
    _DECODE_ERRORS = (json.JSONDecodeError,)


def export_collections(
    client: Any,
    out: IO[str],
    collection_names: Iterable[str] | None = None,
    *,
    batch_size: int = 1000,
    show_progress: bool = True,
) -> dict[str, int]:
    """Write the collections (all by default) to ``out``; returns the number of points per collection."""
    names = (
        list(collection_names)
        if collection_names is not None
        else [c.name for c in client.get_collections().collections]
    )
    written: dict[str, int] = {}
    for name in names:
        description = describe(client, name)
        total = client.count(name, exact=True).count
        out.write(
            _dumps({FORMAT_KEY: FORMAT_VERSION, "collection": description.to_json(), "points_count": total}) + "\n"
        )
        bar = progress_bar(total, f"export {name}", enabled=show_progress)
        count = 0
        try:
            for page, _ in scroll_pages(client, description.name, batch_size):
                out.write("".join(_dumps(point) + "\n" for point in page))
                count += len(page)
                bar.update(len(page))
        finally:
            bar.close()
        written[description.name] = count
    return written


@dataclass
class _Section:
    description: CollectionDescription
    points_count: int
    points: list[dict[str, Any]] = field(default_factory=list)


def read_sections(lines: Iterable[str]) -> Iterator[tuple[CollectionDescription, int, Iterator[dict[str, Any]]]]:
    """(description, announced count, its points) for each collection of an export, lazily.

    Each section's points must be consumed before the next section is asked for.
    """
    iterator = enumerate(lines, start=1)
    pending: tuple[int, dict[str, Any]] | None = _next_object(iterator)
    if pending is None:
        return
    while pending is not None:
        number, header = pending
        if header.get(FORMAT_KEY) is None:
            raise TransferError(f"line {number}: expected a collection header line with {FORMAT_KEY!r}, got a point")
        if header[FORMAT_KEY] != FORMAT_VERSION:
            raise TransferError(
                f"line {number}: export format version {header[FORMAT_KEY]} is not supported "
                f"(this reads {FORMAT_VERSION})"
            )
        description = CollectionDescription.from_json(header["collection"])
        box: list[tuple[int, dict[str, Any]] | None] = [None]

        def points(box: list[Any] = box) -> Iterator[dict[str, Any]]:
            while True:
                item = _next_object(iterator)
                if item is None or FORMAT_KEY in item[1]:
                    box[0] = item
                    return
                yield item[1]

        section_points = points()
        yield description, int(header.get("points_count", -1)), section_points
        for _ in section_points:  # drain what the caller left unread
            pass
        pending = box[0]


def _next_object(iterator: Iterator[tuple[int, str]]) -> tuple[int, dict[str, Any]] | None:
    for number, line in iterator:
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except _DECODE_ERRORS as exc:
            raise TransferError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise TransferError(f"line {number}: expected a JSON object")
        return number, value
    return None


def import_export(
    client: Any, lines: Iterable[str], *, batch_size: int = 1000, show_progress: bool = True
) -> dict[str, int]:
    """Create every collection of an export in ``client`` and load its points; returns the counts.

    A collection that already exists is refused before anything of it is written.
    """
    imported: dict[str, int] = {}
    for description, announced, points in read_sections(lines):
        if client.collection_exists(description.name):
            raise CollectionAlreadyExists(description.name)
        create_collection(client, description)
        bar = progress_bar(announced if announced >= 0 else None, f"import {description.name}", enabled=show_progress)
        count = 0
        batch: list[dict[str, Any]] = []
        try:
            for point in points:
                batch.append(point)
                if len(batch) >= batch_size:
                    write_points(client, description.name, batch)
                    count += len(batch)
                    bar.update(len(batch))
                    batch = []
            write_points(client, description.name, batch)
            count += len(batch)
            bar.update(len(batch))
        finally:
            bar.close()
        stored = client.count(description.name, exact=True).count
        if announced >= 0 and stored != announced:
            raise TransferError(
                f"collection {description.name}: the export announced {announced} points, {stored} were imported"
            )
        create_aliases(client, description)
        imported[description.name] = count
    return imported
