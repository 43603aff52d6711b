"""Names of the files in a storage folder, and what a folder's listing says about its state.

A folder holds, besides ``.lock``:

* ``<gen>.snapshot``: the whole state as of compaction ``gen`` (8+ decimal digits, gen >= 1);
* ``<gen>.log``: the records appended since that snapshot (``00000000.log`` has no snapshot: the
  state before the first compaction starts empty);
* ``<name>.tmp``: a file being written by a compaction; never read, removed when the folder opens;
* ``snapshots/``: collection archives made by ``create_snapshot`` (never read when opening).
* ``ann-<16 hex>.hnsw`` (and its ``.tmp``): a derived HNSW index file (qdrant_local.engine.ann),
  which the storage layer leaves alone.

Hidden files other than ``.lock`` (``.DS_Store``, NFS ``.nfsXXXX`` placeholders of deleted files) are
ignored; any other name means the folder is not ours and it is refused without touching it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from qdrant_local.errors import ForeignStorage, UnsupportedLocation

__all__ = [
    "FolderListing",
    "check_folder_path",
    "fsync_dir",
    "list_folder",
    "log_name",
    "make_folder",
    "snapshot_name",
    "tmp_name",
]

#: The folder of collection archives written by create_snapshot (see qdrant_local/transfer/archive.py).
SNAPSHOTS_DIR = "snapshots"
_NAME = re.compile(r"^(\d{8,20})\.(snapshot|log)(\.tmp)?$")
_DERIVED = re.compile(r"^ann-[0-9a-f]{16}\.hnsw(\.tmp)?$")
# What qdrant-client's local mode writes (see its qdrant_local.py): meta.json, collection/<name>/...,
# and the pre-1.1.7 storage.dbm.
_QDRANT_CLIENT_NAMES = frozenset({"meta.json", "meta.json.tmp", "collection", "storage.dbm"})


def snapshot_name(generation: int) -> str:
    """File name of the snapshot of ``generation``."""
    return f"{generation:08d}.snapshot"


def log_name(generation: int) -> str:
    """File name of the log of ``generation``."""
    return f"{generation:08d}.log"


def tmp_name(name: str) -> str:
    """Name under which ``name`` is written before it is renamed into place."""
    return name + ".tmp"


@dataclass
class FolderListing:
    """The storage files found in a folder, by generation."""

    snapshots: set[int] = field(default_factory=set)
    logs: set[int] = field(default_factory=set)
    temporaries: list[str] = field(default_factory=list)


def list_folder(folder: str, display_path: str) -> FolderListing:
    """Classify the folder's entries; raise ForeignStorage if any of them is not one of ours."""
    listing = FolderListing()
    foreign: list[str] = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue  # .lock, and hidden files that file managers and NFS create behind our back
        if name == SNAPSHOTS_DIR and os.path.isdir(os.path.join(folder, name)):
            continue  # collection archives (create_snapshot), not storage files
        if _DERIVED.match(name):
            continue  # index files: read (or ignored) by the ann package, never by the storage
        match = _NAME.match(name)
        if match is None or not os.path.isfile(os.path.join(folder, name)):
            foreign.append(name)
        elif match.group(3):
            listing.temporaries.append(name)
        elif match.group(2) == "snapshot":
            listing.snapshots.add(int(match.group(1)))
        else:
            listing.logs.add(int(match.group(1)))
    if foreign:
        if _QDRANT_CLIENT_NAMES.intersection(foreign):
            reason = (
                "holds a storage written by qdrant-client's local mode (meta.json, collection/), which "
                "qdrant_local does not read. Open it with qdrant_client.QdrantClient(path=...) and move the "
                "data with its migrate() method, or choose another folder."
            )
        else:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            reason = (
                f"holds files that qdrant_local did not write ({shown}); refusing to use it as a storage "
                "folder. Choose an empty or new folder."
            )
        raise ForeignStorage(display_path, foreign, reason)
    return listing


def fsync_dir(folder: str) -> None:
    """Make renames, creations and deletions in ``folder`` durable (no-op where directories can't be opened)."""
    if os.name == "nt":
        return  # Windows cannot open a directory for fsync; NTFS journals the metadata itself.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: str) -> None:
    """Create ``folder`` and its missing parents, durably: each new directory's entry is fsync'd in its
    parent, so a power loss cannot drop a folder whose writes were acknowledged. FileExistsError if
    ``folder`` is a file (as qdrant-client raises)."""
    missing = []
    current = folder
    while not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    os.makedirs(folder, exist_ok=True)
    for created in reversed(missing):
        fsync_dir(os.path.dirname(created))


def check_folder_path(display_path: str) -> None:
    """Refuse a path that names no folder: ``""`` would silently turn the working directory into a store."""
    if not display_path:
        raise UnsupportedLocation(
            "path='' names no folder (it would make the current directory a storage folder): give the folder "
            "to persist to, e.g. path='./db', or use ':memory:'"
        )
