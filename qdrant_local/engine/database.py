"""Database: the collection registry, aliases, the write pipeline and (optionally) its storage.

Every write follows one path under one lock: prepare (validate the whole request, resolve it into
an operation), append the operation's record to the log (fsync'd when ``wait``), apply it in memory.
A request that fails validation never reaches the log or memory; replay on open applies logged
records through the same ``apply`` code.

batch_update_points is all-or-nothing: each operation is prepared against the state the previous
ones left, applied with an undo journal, and the whole batch is rolled back if any operation is
rejected; only then is it logged, as one record.

Concurrency (engine/rwlock.py): writes take ``self.lock``, exclusive and one at a time; reads take
``self.lock.shared()`` and run side by side (numpy's products release the GIL, so searches use
every core). What a read changes is a cache, and each cache guards itself with a small lock of its
own (the mask cache, the store's scroll order, the sparse postings, the gathered rows), so no read
ever needs the exclusive lock. A read-only follower polls the log under ``_follow_lock`` and takes
the exclusive lock only to replay what it found.

Ownership: ``apply`` hands an operation's payload objects to the store (a payload written to several
points is copied for all but one), so once applied an operation's values belong to the points and
later writes mutate them. An operation's record is therefore taken, as a deep copy, before it is
applied; a batch logs those copies, never the operations after they ran.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from ..errors import (
    ClientClosed,
    CollectionAlreadyExists,
    CollectionNotFound,
    CompactionFailedWarning,
    InvalidInput,
    StorageCorrupted,
)
from ..ids import PointId
from ..storage.snapshot import ColumnBlock, ColumnReader
from . import ann
from . import operations as ops
from .collection import Collection
from .columns import collection_block, load_block, map_snapshot_columns
from .config import CollectionConfig, validate_collection_name, validate_index_schema, validate_text
from .gcpause import gc_paused
from .journal import Journal
from .payload import copy_payload
from .replay import BadRecord, check_database_record, check_point_operation
from .rwlock import ReadWriteLock
from .vector_names import with_vector_name, without_vector_name


class Storage(Protocol):
    """What the database needs from a persistence layer (see qdrant_local.storage.disk)."""

    def load(self) -> Iterator[dict[str, Any] | ColumnReader]: ...
    def append(self, record: dict[str, Any], *, sync: bool = True) -> None: ...
    def sync(self) -> None: ...
    def should_compact(self, live_bytes: int) -> bool: ...
    def compact(self, records: Any) -> None: ...
    def close(self) -> None: ...


#: Seconds a finalizer or interpreter exit waits for a read or write in progress before it gives up
#: closing a database (``Database.close``): a daemon thread frozen at exit never lets go of the lock.
EXIT_WAIT = 5.0

#: Index services (engine/ann) of every database, in memory too, for :func:`_stop_index_builds`.
_INDEX_SERVICES: weakref.WeakSet[Any] = weakref.WeakSet()


def _stop_index_builds() -> None:
    """At interpreter exit: cancel every background index build and wait for it (EXIT_WAIT at most).

    A build left running inside faiss while the process exits aborts it ("terminate called without
    an active exception": the C++ runtime is torn down under the running thread). Folder databases
    are closed at exit anyway (engine/registry.py); in-memory ones have nobody else to stop theirs."""
    for service in list(_INDEX_SERVICES):
        with contextlib.suppress(Exception):
            service.close(EXIT_WAIT)


atexit.register(_stop_index_builds)


class Database:
    """All collections of one client. Thread-safe: writes hold ``self.lock`` (exclusive), reads
    hold ``self.lock.shared()`` and run in parallel (engine/rwlock.py)."""

    def __init__(self, storage: Storage | None = None) -> None:
        self.lock = ReadWriteLock()
        self._follow_lock = threading.Lock()  # one poll of a followed log at a time
        self.collections: dict[str, Collection] = {}
        self.aliases: dict[str, str] = {}
        self.storage = storage
        self.closed = False
        self.ann = ann.make_service(self.lock, storage)  # None without the ann extra
        if self.ann is not None:
            _INDEX_SERVICES.add(self.ann)
        self._replaying = True
        if storage is not None:
            with gc_paused():  # replay builds a dict per payload: no cycles to find, only time to lose
                for record in storage.load():
                    self._replay(record)
            for collection in self.collections.values():
                if collection.store.tombstones():
                    collection.store.compact()
            if getattr(storage, "needs_upgrade", False):
                self.compact()  # a folder in an older storage format is rewritten in the current one
        self._replaying = False
        if self.ann is not None:
            self.ann.opened(self.collections)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self, timeout: float | None = None) -> bool:
        """Fsync, unlock and let go of the folder. ``timeout`` (seconds) bounds the wait for a read or
        write in progress: a finalizer or interpreter exit passes one, because a daemon thread frozen
        at exit inside a read would otherwise hold the lock for ever; then the close is given up
        (False; the process's exit releases the folder lock, and its written records stay in the
        file). Idempotent."""
        if self.ann is not None:
            self.ann.close(timeout)  # cancels a running index build, waits for it (outside the lock)
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            if self.closed:
                return True
            self.closed = True
            try:
                if self.storage is not None:
                    self._compact_at_close()
                    self.storage.close()
            finally:
                self._release_points()
        finally:
            self.lock.release()
        return True

    def _compact_at_close(self) -> None:
        """Compact before closing when the log would make the next open replay much more than a snapshot
        load (DiskStorage.should_compact_at_close: a load written since the last compaction, say). Every
        write is already in the log, so a failure only leaves the folder as it is, with a warning."""
        worth = getattr(self.storage, "should_compact_at_close", None)
        if worth is None or not worth(self._live_bytes()):
            return
        try:
            self.storage.compact(self.state_records())  # type: ignore[union-attr]  # (checked: not None)
        except Exception as exc:  # noqa: BLE001 - the writes are durable; closing must go on
            warnings.warn(
                f"compaction of storage {getattr(self.storage, 'path', '')} at close failed ({exc!r}); "
                "every write is kept, the next open replays its log",
                CompactionFailedWarning,
                stacklevel=4,
            )

    def _release_points(self) -> None:
        """Let go of every point's memory now that nothing can read it. Parts of a store refer to each
        other (its id views), so without this its matrices would wait for the cyclic garbage collector,
        and a close followed by a reopen in the same process would hold the data twice."""
        for collection in self.collections.values():
            if self.ann is not None:
                self.ann.detach(collection, remove_files=False)  # its indexes observe the vector stores
            for vectors in collection.store.vectors.values():
                vars(vectors).clear()
            vars(collection.store).clear()
        self.collections, self.aliases = {}, {}

    def sync(self, timeout: float | None = None) -> bool:
        """Make every acknowledged write durable (fsync the ``wait=False`` ones); ``timeout`` as for
        ``close`` (False: given up)."""
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            if not self.closed and self.storage is not None:
                self.storage.sync()
        finally:
            self.lock.release()
        return True

    def abandon(self) -> None:
        """In a forked child: stop using the parent's storage without flushing or unlocking it.

        Takes no lock: the thread that held it in the parent does not exist in the child.
        """
        self.closed = True
        storage, self.storage = self.storage, None
        abandon = getattr(storage, "abandon", None)  # only a locking storage (DiskStorage) has one
        if abandon is not None:
            abandon()

    def check_open(self) -> None:
        if self.closed:
            raise ClientClosed()

    def collection(self, name: str) -> Collection:
        """The collection a name or alias refers to."""
        self.check_open()
        real = self.aliases.get(name, name)
        collection = self.collections.get(real)
        if collection is None:
            raise CollectionNotFound(name)
        return collection

    # -- logging ---------------------------------------------------------------------------------

    def _log(self, record: dict[str, Any], wait: bool) -> None:
        if self.storage is not None:
            self.storage.append(record, sync=wait)

    def _after_write(self, collection: Collection | None = None) -> None:
        if collection is not None and collection.store.needs_compaction():
            collection.store.compact()
        if collection is not None and self.ann is not None:
            self.ann.after_write(collection)
        if self.storage is not None and self.storage.should_compact(self._live_bytes()):
            try:
                self.compact()
            except Exception as exc:  # noqa: BLE001 - whatever failed, the committed write stands
                # The write is committed (logged and applied): it must not be reported as failed. The
                # storage keeps its current files and retries once the log has grown further.
                warnings.warn(
                    f"automatic compaction of storage {getattr(self.storage, 'path', '')} failed ({exc!r}); "
                    "the write succeeded and compaction will be retried later",
                    CompactionFailedWarning,
                    stacklevel=4,
                )

    def _live_bytes(self) -> int:
        return sum(collection.estimated_bytes() for collection in self.collections.values())

    # -- point writes ----------------------------------------------------------------------------

    def write(
        self, collection_name: str, prepare: Callable[[Collection], ops.PointOperation], wait: bool = True
    ) -> None:
        """Validate with ``prepare``, log, then apply one point operation."""
        with self.lock, gc_paused():
            collection = self.collection(collection_name)
            op = prepare(collection)
            if self.storage is not None:  # in memory the record would be built for nothing
                self._log({"op": "points", "collection": collection.name, "body": op.to_record()}, wait)
            collection.apply(op)
            self._after_write(collection)

    def write_batch(
        self, collection_name: str, prepares: list[Callable[[Collection], ops.PointOperation]], wait: bool = True
    ) -> None:
        """batch_update_points: every operation applied, or none."""
        with self.lock, gc_paused():
            collection = self.collection(collection_name)
            journal = Journal(collection)
            records: list[dict[str, Any]] = []
            try:
                for prepare in prepares:
                    op = prepare(collection)
                    journal.capture(_touched_ids(op))
                    records.append(copy_payload(op.to_record()))  # frozen before apply gives its values away
                    collection.apply(op)
                self._log({"op": "points", "collection": collection.name, "body": ops.batch_record(records)}, wait)
            except BaseException:
                journal.rollback()
                raise
            self._after_write(collection)

    # -- collections -----------------------------------------------------------------------------

    def create_collection(self, name: str, config: CollectionConfig) -> None:
        with self.lock:
            self.check_open()
            validate_collection_name(name)
            if name in self.collections:
                raise CollectionAlreadyExists(name)
            if name in self.aliases:
                raise InvalidInput(f"Alias {name} already exists")
            self._log({"op": "create_collection", "name": name, "config": config.raw}, True)
            self._add_collection(Collection(name, config))

    def _add_collection(self, collection: Collection) -> None:
        self.collections[collection.name] = collection
        if self.ann is not None:
            self.ann.attach(collection)

    def delete_collection(self, name: str) -> bool:
        with self.lock:
            self.check_open()
            # As qdrant-client: an alias names no collection to delete here.
            if name not in self.collections:
                return False
            self._log({"op": "delete_collection", "name": name}, True)
            self._drop_collection(name)
            self._after_write()
            return True

    def _drop_collection(self, name: str) -> None:
        dropped = self.collections.pop(name)
        if self.ann is not None:
            self.ann.detach(dropped, remove_files=not self._replaying)
        self.aliases = {alias: target for alias, target in self.aliases.items() if target != name}

    def restore_collection(self, name: str, restored: Collection) -> None:
        """Put ``restored`` (built aside, named ``name``) in the place of collection ``name``, or add it;
        the aliases stay. One atomic step: with storage, a compaction whose commit point switches the
        folder to the new state, so a crash leaves either the old collection or the restored one.
        The cost is a rewrite of the whole folder (recovering a snapshot is rare)."""
        with self.lock:
            self.check_open()
            validate_collection_name(name)
            if name in self.aliases:
                raise InvalidInput(f"Alias {name} already exists")
            collections = {**self.collections, name: restored}
            if self.storage is not None:
                self.storage.compact(self.state_records(collections))
                self._map_snapshot(collections)
            old = self.collections.get(name)
            if old is not None and self.ann is not None:
                self.ann.detach(old, remove_files=True)
            self.collections[name] = restored
            if self.ann is not None:
                self.ann.attach(restored)
                self.ann.after_write(restored)

    def set_aliases(self, aliases: dict[str, str]) -> None:
        with self.lock:
            self.check_open()
            self._log({"op": "aliases", "aliases": aliases}, True)
            self.aliases = dict(aliases)

    def change_aliases(self, operations: Iterable[AliasOperation]) -> None:
        """Create, delete and rename aliases, all or nothing (validated on a copy first)."""
        with self.lock:
            self.check_open()
            self.set_aliases(_changed_aliases(operations, self.aliases, self.collections))

    def update_collection(
        self,
        name: str,
        vector_names: Iterable[str] = (),
        sparse_vectors_config: Mapping[str, Any] | None = None,
        metadata: Any = None,
        echoed: Mapping[str, Any] | None = None,
    ) -> bool:
        """Update a collection's configuration (see :meth:`CollectionConfig.updated`); logged only
        when it changed. Returns whether anything was updated."""
        with self.lock:
            collection = self.collection(name)
            raw, updated = collection.config.updated(vector_names, sparse_vectors_config, metadata, echoed or {})
            if raw != collection.config.raw:
                self._reconfigure(collection, raw)
            return updated

    def create_vector_name(self, name: str, vector_name: str, name_config: Any) -> None:
        """Add a named vector to a collection (see :mod:`.vector_names`); re-creating an identical one is a no-op."""
        with self.lock:
            collection = self.collection(name)
            raw = with_vector_name(collection.config, vector_name, name_config)
            if raw is not None:
                self._reconfigure(collection, raw)

    def delete_vector_name(self, name: str, vector_name: str) -> None:
        """Drop a named vector from a collection and its points; a missing name is a no-op."""
        with self.lock:
            collection = self.collection(name)
            raw = without_vector_name(collection.config, vector_name)
            if raw is not None:
                self._reconfigure(collection, raw)

    def _reconfigure(self, collection: Collection, raw: dict[str, Any]) -> None:
        """Log and adopt a new configuration JSON; replay adopts it the same way."""
        self._log({"op": "update_collection", "name": collection.name, "config": raw}, True)
        collection.reconfigure(CollectionConfig.from_json(raw))
        if self.ann is not None:
            self.ann.attach(collection)
            self.ann.after_write(collection)

    def exists(self, name: str) -> bool:
        """Whether a collection or an alias has this name."""
        with self.lock.shared():
            self.check_open()
            return name in self.collections or name in self.aliases

    def collection_names(self) -> list[str]:
        with self.lock.shared():
            self.check_open()
            return list(self.collections)

    def alias_map(self) -> dict[str, str]:
        """A copy of alias -> collection name."""
        with self.lock.shared():
            self.check_open()
            return dict(self.aliases)

    def set_payload_index(self, name: str, field_name: str, schema: Any, wait: bool = True) -> None:
        """Record (schema) or drop (None) a payload index."""
        with self.lock:
            collection = self.collection(name)
            if schema is not None:
                validate_index_schema(schema)  # before logging: a bad schema would break the collection for ever
            self._log({"op": "payload_index", "name": collection.name, "field": field_name, "schema": schema}, wait)
            collection.set_payload_index(field_name, schema)

    # -- replay and compaction -------------------------------------------------------------------

    def _replay(self, record: dict[str, Any] | ColumnReader) -> None:
        """Apply one stored record, checked first (engine/replay.py); a record that cannot be applied is
        StorageCorrupted at its file and offset, whatever went wrong."""
        try:
            self._apply_record(record)
        except StorageCorrupted:
            raise
        except BadRecord as exc:
            raise self._corrupted(exc.reason) from None
        except Exception as exc:
            raise self._corrupted(f"record does not replay ({type(exc).__name__}: {exc})") from exc

    def _corrupted(self, reason: str) -> StorageCorrupted:
        file, offset = getattr(self.storage, "record_position", None) or (getattr(self.storage, "path", "?"), None)
        return StorageCorrupted(file, offset, reason)

    def _apply_record(self, record: dict[str, Any] | ColumnReader) -> None:
        if isinstance(record, ColumnReader):  # the points of one collection, in a snapshot
            name = record.meta.get("collection")
            if record.meta.get("op") != "points" or type(name) is not str or name not in self.collections:
                raise BadRecord(f"column block of unknown kind or collection ({record.meta.get('op')!r}, {name!r})")
            load_block(self.collections[name], record)
            return
        check_database_record(record, self.collections)
        kind = record["op"]
        if kind == "points":
            collection = self.collections[record["collection"]]
            in_snapshot = bool(getattr(self.storage, "in_snapshot", False))
            body = record["body"]
            if body.get("op") == "batch":
                inner = body.get("ops")
                if not isinstance(inner, list) or not all(isinstance(op, dict) for op in inner):
                    raise BadRecord("batch: operations are not a list of maps")
                for op in inner:  # each checked against the state the previous ones left
                    collection.apply(check_point_operation(op, collection, in_snapshot=in_snapshot))
            else:
                collection.apply(check_point_operation(body, collection, in_snapshot=in_snapshot))
        elif kind == "create_collection":
            self._add_collection(Collection(record["name"], CollectionConfig.from_json(record["config"])))
        elif kind == "delete_collection":
            self._drop_collection(record["name"])
        elif kind == "aliases":
            self.aliases = dict(record["aliases"])
        elif kind == "update_collection":
            collection = self.collections[record["name"]]
            collection.reconfigure(CollectionConfig.from_json(record["config"]))
            if self.ann is not None:
                self.ann.attach(collection)
        elif kind == "payload_index":
            self.collections[record["name"]].set_payload_index(record["field"], record["schema"])
        else:
            self.collections[record["name"]].set_payload_index(record["field"], record["schema"])

    def state_records(
        self, collections: Mapping[str, Collection] | None = None
    ) -> Iterator[dict[str, Any] | ColumnBlock]:
        """The whole current state (with ``collections`` in place of the current ones) as a stream of
        records and column blocks (one per collection with points, see engine/columns.py) that replay
        to it: what a snapshot holds."""
        for name, collection in (self.collections if collections is None else collections).items():
            yield {"op": "create_collection", "name": name, "config": collection.config.raw}
            for field_name, schema in collection.payload_schema.items():
                yield {"op": "payload_index", "name": name, "field": field_name, "schema": schema}
            block = collection_block(collection)
            if block is not None:
                yield block
        if self.aliases:
            yield {"op": "aliases", "aliases": dict(self.aliases)}

    def compact(self) -> None:
        """Rewrite storage as a snapshot of the current state and start a fresh log."""
        with self.lock:
            self.check_open()
            if self.storage is not None:
                self.storage.compact(self.state_records())
                self._map_snapshot(self.collections)

    def _map_snapshot(self, collections: Mapping[str, Collection]) -> None:
        """After a compaction (under the exclusive lock): matrices that are an older snapshot's pages
        become the new snapshot's (engine/columns.py map_snapshot_columns)."""
        placed = getattr(self.storage, "placed", None)
        path = getattr(self.storage, "snapshot_path", None)
        if placed and path is not None:
            with open(path, "rb") as snapshot:
                map_snapshot_columns(collections, placed, snapshot.fileno())

    # -- following a writer (read-only clients) -------------------------------------------------

    def follow(self) -> None:
        """Catch up with what another process wrote, when the storage follows a writer's log
        (qdrant_local.storage.follower): appended records are replayed; after a compaction the
        new generation is replayed into a fresh state that then replaces the current one."""
        poll = getattr(self.storage, "poll", None)
        if poll is None or self.lock.held():
            return  # not a follower; or inside a request, which sees one state from start to end
        with self._follow_lock:  # polls in turn; the exclusive lock only when there is news
            if self.closed:
                return
            reset, pending = poll()
            pending = iter(pending)
            first = next(pending, None)
            if first is not None or reset:
                with self.lock:
                    self._catch_up(reset, pending if first is None else itertools.chain((first,), pending))
            self._follow_index_files()

    def _follow_index_files(self) -> None:
        """Load the HNSW index files the writer saved since the last look (the ann extra; a stat per
        index, at most twice a second; the exclusive lock only when one changed)."""
        if self.ann is None:
            return
        changed = self.ann.files_changed(self.collections)
        if changed:
            with self.lock:
                for collection in changed:
                    if self.collections.get(collection.name) is collection:
                        self.ann.after_write(collection)

    def _catch_up(self, reset: bool, records: Iterator[dict[str, Any] | ColumnReader]) -> None:
        """Replay what :meth:`follow` polled (under the exclusive lock)."""
        target = Database() if reset else self
        touched: set[Any] = set()
        for record in records:
            target._replay(record)
            meta = record.meta if isinstance(record, ColumnReader) else record
            touched.add(meta.get("collection") or meta.get("name"))
        if reset:
            if self.ann is not None:
                for collection in self.collections.values():
                    self.ann.detach(collection, remove_files=False)
            self.collections, self.aliases = target.collections, target.aliases
            touched = set(self.collections)
        for name in touched:
            changed = self.collections.get(name)
            if changed is not None and (changed.store.tombstones() if reset else changed.store.needs_compaction()):
                changed.store.compact()
            if changed is not None and self.ann is not None:
                self.ann.after_write(changed)  # loads the writer's index file, or builds in memory


def _touched_ids(op: ops.PointOperation) -> list[PointId]:
    if isinstance(op, ops.Batch):
        return [p for inner in op.operations for p in _touched_ids(inner)]
    return list(op.point_ids)


# ("create", collection_name, alias_name), ("delete", alias_name) or ("rename", old_name, new_name)
AliasOperation = tuple[str, ...]


def _changed_aliases(
    operations: Iterable[AliasOperation], aliases: dict[str, str], collections: Mapping[str, Any]
) -> dict[str, str]:
    """The alias map after the operations, computed on a copy; raises without changing anything."""
    result = dict(aliases)
    for kind, *names in operations:
        if kind == "create":
            collection_name, alias_name = names
            if collection_name not in collections:
                raise InvalidInput(f"Collection {collection_name} not found")
            if alias_name in collections:
                raise InvalidInput(f"Collection {alias_name} already exists")
            validate_text(alias_name, "Alias name")
            result[alias_name] = collection_name
        elif kind == "delete":
            result.pop(names[0], None)
        else:
            old_name, new_name = names
            if new_name in collections:
                raise InvalidInput(f"Collection {new_name} already exists")
            validate_text(new_name, "Alias name")
            if old_name not in result:
                raise InvalidInput(f"Alias {old_name} does not exist")
            result[new_name] = result.pop(old_name)
    return result
