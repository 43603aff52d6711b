"""The per-folder process lock: one open storage folder, one owner.

It is the same lock qdrant-client's local mode takes: an exclusive, non-blocking portalocker lock on
``<path>/.lock`` (created with the text "tmp lock file" and left on disk after release). On POSIX
portalocker uses ``flock``, whose locks belong to an *open file description*: a second open of the
file in the same process conflicts exactly like one from another process, and the kernel drops the
lock when its owner dies, so a crash never leaves a stale lock behind. Because the file and lock
kind match qdrant-client's, a qdrant-client and a qdrant_local client also exclude each other.
"""

from __future__ import annotations

import os
from typing import IO

from qdrant_local.errors import StorageLocked

__all__ = ["LOCK_FILE_NAME", "FolderLock"]

LOCK_FILE_NAME = ".lock"


class FolderLock:
    """An acquired lock on a storage folder; ``release()`` is idempotent."""

    def __init__(self, folder: str, display_path: str) -> None:
        """Take the lock on ``folder`` (which must exist) or raise StorageLocked naming ``display_path``."""
        # portalocker is imported here, not at module level, for the reason qdrant-client gives: its
        # import probes for writable directories and fails on read-only systems that never use a path.
        import portalocker

        lock_path = os.path.join(folder, LOCK_FILE_NAME)
        if not os.path.exists(lock_path):
            with open(lock_path, "w") as f:
                f.write("tmp lock file")
        self._file: IO[str] | None = open(lock_path, "r+")
        try:
            portalocker.lock(self._file, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
        except portalocker.exceptions.LockException:
            self._file.close()
            self._file = None
            raise StorageLocked(display_path) from None

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock."""
        return self._file is not None

    def abandon(self) -> None:
        """Close this copy of the lock file without unlocking: the lock stays with the process that took it
        (for a copy inherited by ``fork()``; closing one descriptor of a shared ``flock`` keeps the lock)."""
        f, self._file = self._file, None
        if f is not None:
            f.close()

    def release(self) -> None:
        """Drop the lock; the .lock file stays (as with qdrant-client). Safe to call again."""
        f, self._file = self._file, None
        if f is None:
            return
        import portalocker

        try:
            portalocker.unlock(f)
        finally:
            # Closing the file drops an flock lock even if unlock failed.
            f.close()
