"""One open engine per storage folder per process, shared by every client on that folder.

``QdrantClient(path=p)`` and ``AsyncQdrantClient(path=p)`` (or several of either) in one process get
the same :class:`Database`: the folder is opened, replayed and locked once, and every client sees
every other client's writes at once. The registry counts the clients holding each folder; the last
``release`` closes the database (fsync and unlock), earlier ones only fsync pending ``wait=False``
writes, as a client's ``close()`` promises. Another process still meets the folder lock and gets
``StorageLocked``.

Folders are identified by device and inode, so every spelling of one folder (relative, with ``..``,
through a symlink) reaches the same engine.

Process life cycle:

* At interpreter exit (``atexit``, after non-daemon threads and executor workers are joined) every
  folder still open is closed, so unclosed clients flush and unlock without help from ``__del__``,
  which may run later, during module teardown. Releases after that are no-ops.
* In a child created by ``fork()`` the inherited engines belong to the parent: they are marked
  closed without unlocking (an ``flock`` lock is shared with the parent through the inherited file,
  and unlocking it in the child would unlock the parent), and the child starts with an empty registry,
  so opening the folder again in the child meets the parent's lock like any other process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading

from .database import EXIT_WAIT, Database

__all__ = ["open_folder", "release"]


class _Entry:
    """An open folder: its database and how many clients hold it."""

    __slots__ = ("database", "holders", "key")

    def __init__(self, key: tuple[int, int], database: Database) -> None:
        self.key = key
        self.database = database
        self.holders = 1


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_folder: dict[tuple[int, int], _Entry] = {}
        self.by_database: dict[int, _Entry] = {}

    def open(self, path: str) -> Database:
        with self.lock:
            entry = self.by_folder.get(_folder_key(path)) if os.path.isdir(path) else None
            if entry is not None:
                entry.database.check_open()
                entry.holders += 1
                return entry.database
            database = _open_database(path)
            entry = _Entry(_folder_key(path), database)
            self.by_folder[entry.key] = entry
            self.by_database[id(database)] = entry
            return database

    def release(self, database: Database, timeout: float | None = None) -> None:
        with self.lock:
            entry = self.by_database.get(id(database))
            if entry is None or entry.database is not database:
                return  # closed at exit, or inherited from a parent process
            entry.holders -= 1
            if entry.holders > 0:
                database.sync(timeout)
                return
            del self.by_folder[entry.key], self.by_database[id(database)]
            # Still under the registry lock: a client opening the folder meanwhile must wait for the
            # unlock, or it would meet our own lock and get StorageLocked.
            database.close(timeout)

    def close_all(self) -> None:
        """At interpreter exit: close every open folder; later releases do nothing."""
        with self.lock:
            entries = list(self.by_folder.values())
            self.by_folder.clear()
            self.by_database.clear()
        for entry in entries:
            # One failing folder (its fsync, say) must not keep the others locked or unflushed.
            with contextlib.suppress(Exception):
                entry.database.close(EXIT_WAIT)

    def forget_inherited(self) -> None:
        """In a forked child: the parent's folders are not ours to write, flush or unlock."""
        self.lock = threading.Lock()  # the parent may have held it while forking
        for entry in self.by_folder.values():
            entry.database.abandon()
        self.by_folder.clear()
        self.by_database.clear()


def _folder_key(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _open_database(path: str) -> Database:
    from ..storage.disk import DiskStorage

    storage = DiskStorage(path)
    try:
        return Database(storage)
    except BaseException:
        storage.close()
        raise


_registry = _Registry()
atexit.register(_registry.close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_registry.forget_inherited)


def open_folder(path: str) -> Database:
    """The database of the folder ``path``: the one already open in this process, or a newly opened one.

    Each call must be paired with one :func:`release`.
    """
    return _registry.open(path)


def release(database: Database, timeout: float | None = None) -> None:
    """One holder of a folder's database is done: fsync its pending writes; the last one closes it
    (waiting at most ``timeout`` seconds for a read or write in progress, see ``Database.close``)."""
    _registry.release(database, timeout)
