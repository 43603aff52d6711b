"""Copying collections between clients: ``migrate`` (a folder to a server), ``pull`` (the reverse),
``client.migrate`` and the import of a qdrant-client folder all run this.

A copy creates the collection (configuration, metadata, payload indexes), copies the points page by
page in id order with ``wait=True``, checks that both sides count the same number of points, and
only then points the aliases at it.

Resuming: with ``on_existing="resume"`` a collection that already exists on the destination (with
the same vector configuration) is kept, and from each source page only the ids the destination does
not have yet are written (one ``retrieve`` of the page's ids, without payloads or vectors). An
interrupted copy therefore continues where it stopped and ends with the same counts check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from .description import (
    CollectionDescription,
    create_aliases,
    create_collection,
    describe,
)
from .export_format import TransferError
from .points import scroll_pages, write_points
from .progress import progress_bar

OnExisting = Literal["fail", "recreate", "resume"]


def copy_collections(
    source: Any,
    dest: Any,
    collection_names: Iterable[str] | None = None,
    *,
    batch_size: int = 100,
    on_existing: OnExisting = "fail",
    show_progress: bool = False,
) -> dict[str, int]:
    """Copy the collections (all by default) from ``source`` to ``dest``; returns the points per collection.

    ``on_existing``: what to do with a collection that exists on ``dest``: ``"fail"`` (checked for every
    collection before anything is written), ``"recreate"`` (delete it first) or ``"resume"`` (keep it and
    add the missing points).
    """
    if batch_size <= 0:
        raise TransferError(f"batch_size must be greater than 0, got {batch_size}")
    available = [c.name for c in source.get_collections().collections]
    names = list(collection_names) if collection_names is not None else available
    missing = [name for name in names if name not in available]
    if missing:
        raise TransferError(f"Source client does not have collections: {set(missing)}")
    existing = {c.name for c in dest.get_collections().collections}
    collisions = [name for name in names if name in existing]
    if collisions and on_existing == "fail":
        raise TransferError(f"Collections already exist in dest_client: {collisions}")
    copied = {}
    for name in names:
        description = describe(source, name)
        copied[name] = copy_collection(
            source,
            dest,
            description,
            batch_size=batch_size,
            exists=name in existing,
            on_existing=on_existing,
            show_progress=show_progress,
        )
    return copied


def copy_collection(
    source: Any,
    dest: Any,
    description: CollectionDescription,
    *,
    batch_size: int,
    exists: bool,
    on_existing: OnExisting,
    show_progress: bool,
) -> int:
    """Copy one described collection; returns the number of points the destination holds."""
    name = description.name
    resume = exists and on_existing == "resume"
    if resume:
        theirs = describe(dest, name).vector_signature()
        if theirs != description.vector_signature():
            raise TransferError(
                f"collection {name} exists on the destination with other vectors ({theirs}); "
                "cannot resume into it (recreate it instead)"
            )
    else:
        if exists:
            dest.delete_collection(name)
        create_collection(dest, description)
    total = source.count(name, exact=True).count
    bar = progress_bar(total, f"copy {name}", enabled=show_progress)
    try:
        for page, _ in scroll_pages(source, name, batch_size):
            missing = _missing_points(dest, name, page) if resume else page
            write_points(dest, name, missing)
            bar.update(len(page))
    finally:
        bar.close()
    theirs_count = dest.count(name, exact=True).count
    ours_count = source.count(name, exact=True).count
    if theirs_count != ours_count:
        raise TransferError(
            "Migration failed, vectors count are not equal: "
            f"source vector count {ours_count}, dest vector count {theirs_count}"
        )
    create_aliases(dest, description)
    return theirs_count


def _missing_points(dest: Any, name: str, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The points of ``page`` whose ids ``dest`` does not hold yet."""
    if not page:
        return page
    present = {str(r.id) for r in dest.retrieve(name, [p["id"] for p in page], with_payload=False, with_vectors=False)}
    return [p for p in page if str(p["id"]) not in present]
