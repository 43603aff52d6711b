"""What every part of the facade shares: the database handle and the helpers around it.

The facade holds no state but ``self._db`` (the :class:`Database`, or None once construction
failed); every public method converts its arguments, delegates to the engine or the query layer,
and wraps the answer in qdrant-client's response models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .. import models
from ..engine.collection import Collection
from ..engine.database import Database
from ..engine.gcpause import gc_paused
from ..errors import ClientClosed

T = TypeVar("T")


def completed() -> models.UpdateResult:
    """The answer of every write (qdrant-client's local mode reports operation 0, COMPLETED)."""
    return models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED)


def records(page: list[tuple[Any, ...]]) -> list[models.Record]:
    """Records from (id, payload, vector[, order_value]) tuples."""
    # Every field is given, so the checked constructor's work would be wasted on a page of thousands:
    # built like model_construct, without a call per point (a copy of a filled dict is the cheapest).
    new, cls = object.__new__, models.Record
    blank = {"id": None, "payload": None, "vector": None, "shard_key": None, "order_value": None}
    result = []
    for parts in page:
        fields = blank.copy()
        fields["id"], fields["payload"], fields["vector"] = parts[0], parts[1], parts[2]
        if len(parts) > 3:
            fields["order_value"] = parts[3]
        point = new(cls)
        point.__dict__ = fields
        result.append(point)
    return result


class ClientBase:
    """The database handle shared by the facade's parts."""

    _db: Database | None = None

    @property
    def _database(self) -> Database:
        if self._db is None:  # __init__ failed part-way; nothing was opened
            raise ClientClosed()
        self._db.check_open()
        self._db.follow()  # a read_only client catches up with the writer; a no-op otherwise
        return self._db

    def _read(self, collection_name: str, read: Callable[[Collection], T]) -> T:
        """``read(collection)`` under the database lock, shared with other reads, with the collector paused."""
        database = self._database
        with database.lock.shared(), gc_paused():
            return read(database.collection(collection_name))

    def _write(self, collection_name: str, prepare: Callable[[Collection], Any], wait: bool) -> models.UpdateResult:
        """One point write: validate with ``prepare``, log, apply."""
        self._database.write(collection_name, prepare, wait)
        return completed()
