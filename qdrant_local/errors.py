"""Every exception qdrant_local raises.

Each class also subclasses the builtin that ``qdrant_client``'s local mode raises in the same
situation, so ``except ValueError`` or ``pytest.raises(KeyError)`` written against qdrant-client keeps
working after switching the import. Messages reuse qdrant-client's wording where it has one.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "QdrantLocalError",
    "InvalidInput",
    "InvalidPointId",
    "InvalidPath",
    "InvalidVector",
    "CollectionNotFound",
    "CollectionAlreadyExists",
    "PointNotFound",
    "ClientClosed",
    "StorageLocked",
    "ReadOnlyStorage",
    "StorageCorrupted",
    "ForeignStorage",
    "StorageRecoveredWarning",
    "CompactionFailedWarning",
    "UnsupportedLocation",
    "NotSupported",
]


class QdrantLocalError(Exception):
    """Base class for every error raised by qdrant_local."""


class InvalidInput(QdrantLocalError, ValueError):
    """A request argument is malformed or out of range (qdrant-client raises ValueError)."""


class InvalidPointId(InvalidInput):
    """A point id is neither an unsigned 64-bit integer nor a UUID."""

    def __init__(self, point_id: Any, reason: str | None = None) -> None:
        self.point_id = point_id
        if reason is None:
            reason = f"Point id {point_id} is not a valid UUID"
        super().__init__(reason)


class InvalidPath(InvalidInput):
    """A payload key path (``a.b[0].c``) does not parse."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__("Invalid path")


class InvalidVector(InvalidInput):
    """A vector has the wrong dimension, a wrong name, or a NaN/infinite value."""


class CollectionNotFound(InvalidInput):
    """The named collection (or alias) does not exist."""

    def __init__(self, collection_name: str) -> None:
        self.collection_name = collection_name
        super().__init__(f"Collection {collection_name} not found")


class CollectionAlreadyExists(InvalidInput):
    """create_collection was called with a name that is already taken."""

    def __init__(self, collection_name: str) -> None:
        self.collection_name = collection_name
        super().__init__(f"Collection {collection_name} already exists")


class PointNotFound(QdrantLocalError, KeyError):
    """A write names a point id that the collection does not hold.

    qdrant-client raises a bare ``KeyError(point_id)``; this is a KeyError too, but its message names
    the point the way the Qdrant server does.
    """

    def __init__(self, point_id: Any) -> None:
        self.point_id = point_id
        super().__init__(f"No point with id {point_id} found")

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message and wrap it in quotes.
        return str(self.args[0])


class ClientClosed(QdrantLocalError, RuntimeError):
    """The client was closed; every call after close() raises this."""

    def __init__(self) -> None:
        super().__init__("QdrantLocal instance is closed. Please create a new instance.")


class StorageLocked(QdrantLocalError, RuntimeError):
    """Another client, in this process or another one, holds the storage folder."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"Storage folder {path} is already accessed by another instance of Qdrant client. "
            "If you require concurrent access, use Qdrant server instead."
        )


class ReadOnlyStorage(QdrantLocalError, RuntimeError):
    """A write through a client opened with ``read_only=True``."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"This client opened {path} with read_only=True and cannot write to it; open the folder "
            "without read_only (one writing client at a time) to change it."
        )


class StorageCorrupted(QdrantLocalError, RuntimeError):
    """A storage file is damaged somewhere other than a torn last record."""

    def __init__(self, file: str, offset: int | None, reason: str) -> None:
        self.file = file
        self.offset = offset
        where = file if offset is None else f"{file} at byte offset {offset}"
        super().__init__(f"Storage is corrupted: {where}: {reason}")


class UnsupportedLocation(QdrantLocalError, ValueError):
    """A server URL, host or unknown location was given to the embedded client."""


class NotSupported(QdrantLocalError, NotImplementedError):
    """The operation has no meaning in an embedded store (snapshots, sharding, clustering)."""


class ForeignStorage(StorageCorrupted):
    """The storage folder holds files that qdrant_local did not write.

    Most often it is a folder written by qdrant-client's own local mode (``meta.json`` and
    ``collection/``). Nothing is read or changed in such a folder: it is a StorageCorrupted so that one
    ``except`` covers every unreadable folder, but the message says what was found instead.
    """

    def __init__(self, path: str, names: list[str], reason: str) -> None:
        self.names = names
        super().__init__(path, None, reason)
        # StorageCorrupted's "Storage is corrupted" wording would mislead: these files are fine, just not ours.
        self.args = (f"Storage folder {path} {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])


class StorageRecoveredWarning(RuntimeWarning):
    """Opening a storage folder repaired the damage a crash leaves behind (a torn last record).

    Only data that was never acknowledged as durable is dropped; the warning names the file and offset.
    """


class CompactionFailedWarning(RuntimeWarning):
    """The automatic compaction that follows a write failed (disk full, I/O error).

    The write itself was committed before compaction started, so it stands; the folder keeps its
    current snapshot and log, and compaction is tried again once the log has grown further.
    """
