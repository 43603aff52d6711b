"""LogFollower: read-only access to a folder that another process may be writing.

A follower takes no lock. It reads the current generation (the newest snapshot, then its log) and
remembers how far into the log it got; each ``poll()`` then reads the frames appended since. Only
whole frames (length, CRC and body complete) are handed out, and every write request is one frame,
so a follower never sees part of a request: a frame still being written, or the torn tail a crashed
writer left behind, is simply not there yet. When the next writer truncates such a tail and appends
in its place, the follower reads the new frames at the same offset.

Compaction is followed: the writer commits a new generation by renaming ``<g+1>.snapshot`` into place
and only then deletes the old log (and appends to the new one). A poll that finds the next snapshot,
or finds its open log unlinked, reloads the newest generation from scratch. Files are read through
descriptors opened before reading, so a compaction deleting them mid-read does not disturb it (an
unlinked file stays readable while open); a generation that vanishes between listing and opening is
listed again.

What a follower shows during and after a writer's crash: the committed prefix, i.e. every request
whose frame reached the file whole (all ``wait=True`` writes that returned, and those ``wait=False``
writes the operating system had written), and nothing of the request being written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from qdrant_local.errors import ForeignStorage, InvalidPath, ReadOnlyStorage, StorageCorrupted
from qdrant_local.storage import framing
from qdrant_local.storage.framing import FrameError, HeaderError
from qdrant_local.storage.layout import FolderListing, check_folder_path, list_folder, log_name, snapshot_name
from qdrant_local.storage.snapshot import SnapshotItem, read_snapshot

__all__ = ["LogFollower", "read_snapshot_file"]

# Bytes of the log read per pread while catching up (a longer frame is read on its own).
_READ_CHUNK = 16 << 20
_SNAPSHOT_BUFFER = 1 << 20
# How many times a generation may vanish between listing the folder and opening its files (each time
# a compaction committed meanwhile) before giving up; each retry sees a newer generation.
_OPEN_ATTEMPTS = 50


class LogFollower:
    """The records of a folder written by another client, followed as they are appended."""

    read_only = True

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open the folder ``path`` for reading; it must exist (an empty folder reads as empty)."""
        self._display_path = os.fsdecode(os.fspath(path))
        check_folder_path(self._display_path)
        self._folder = os.path.abspath(self._display_path)
        if not os.path.isdir(self._folder):
            raise InvalidPath(self._display_path)
        self._generation = 0
        self._log_fd: int | None = None
        self._offset = framing.HEADER_SIZE  # where the next unread frame of the log starts
        self._log_version = framing.FORMAT_VERSION  # format of the log being tailed (read from its header)
        self._closed = False

    # ------------------------------------------------------------------ the Storage protocol (read side)

    def load(self) -> Iterator[SnapshotItem]:
        """Every record of the newest generation, as of now."""
        return self._open_newest()

    def poll(self) -> tuple[bool, Iterator[SnapshotItem]]:
        """(reset, records): the records appended since the last call, or, when a compaction switched
        generation (reset is True), every record of the new generation, to be replayed on an empty state."""
        if self._closed:
            return False, iter(())
        if self._log_fd is None:
            if self._log_created():
                return True, self._open_newest()
            return False, iter(())
        log = os.fstat(self._log_fd)  # one call: whether the log was deleted, and how long it is
        if log.st_nlink == 0 or self._next_snapshot_exists():
            return True, self._open_newest()
        return False, iter(self._read_new_frames(log.st_size))

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        raise ReadOnlyStorage(self._display_path)

    def compact(self, records: Any) -> None:
        raise ReadOnlyStorage(self._display_path)

    def sync(self) -> None:
        pass

    def should_compact(self, live_bytes: int) -> bool:
        return False

    def close(self) -> None:
        self._closed = True
        fd, self._log_fd = self._log_fd, None
        if fd is not None:
            os.close(fd)

    @property
    def path(self) -> str:
        return self._display_path

    @property
    def generation(self) -> int:
        return self._generation

    # ------------------------------------------------------------------ following

    # A compaction committed since the last poll when the followed log was deleted (st_nlink 0: the writer
    # deletes it right after the commit, and a writer that crashed before deleting it deletes it when it
    # opens, before any new write) or, should that deletion have failed, when the next snapshot exists.

    def _next_snapshot_exists(self) -> bool:
        return os.path.exists(os.path.join(self._folder, snapshot_name(self._generation + 1)))

    def _log_created(self) -> bool:
        """Whether a folder that had no log yet has one (or a snapshot) now."""
        return os.path.exists(os.path.join(self._folder, log_name(0))) or bool(self._list().snapshots)

    def _list(self) -> FolderListing:
        """list_folder, tolerating the writer's compaction deleting a listed file before it is examined
        (list_folder would take the vanished name for a stranger's)."""
        for _ in range(_OPEN_ATTEMPTS):
            try:
                return list_folder(self._folder, self._display_path)
            except ForeignStorage as exc:
                if all(os.path.lexists(os.path.join(self._folder, name)) for name in exc.names):
                    raise
        return list_folder(self._folder, self._display_path)

    def _open_newest(self) -> Iterator[SnapshotItem]:
        """Open the newest generation's files (retrying while compactions replace them) and read them."""
        for _ in range(_OPEN_ATTEMPTS):
            listing = self._list()
            generation = max(listing.snapshots, default=0)
            try:
                snapshot_fd = (
                    os.open(os.path.join(self._folder, snapshot_name(generation)), os.O_RDONLY) if generation else None
                )
            except FileNotFoundError:
                continue  # compacted again meanwhile: list anew
            try:
                log_fd = os.open(os.path.join(self._folder, log_name(generation)), os.O_RDONLY)
            except FileNotFoundError:
                log_fd = None
                if generation:  # the snapshot's log goes only when a newer generation committed
                    _close(snapshot_fd)
                    continue
            return self._read_generation(generation, snapshot_fd, log_fd)
        raise StorageCorrupted(self._folder, None, "the storage kept changing generation while it was being opened")

    def _read_generation(self, generation: int, snapshot_fd: int | None, log_fd: int | None) -> Iterator[SnapshotItem]:
        old_fd = self._log_fd
        self._generation, self._log_fd, self._offset = generation, log_fd, framing.HEADER_SIZE
        if old_fd is not None:
            os.close(old_fd)
        if snapshot_fd is not None:
            try:
                yield from _read_snapshot(
                    snapshot_fd, os.path.join(self._folder, snapshot_name(generation)), generation
                )
            finally:
                os.close(snapshot_fd)
        yield from self._read_new_frames()

    def _read_new_frames(self, size: int | None = None) -> list[dict[str, Any]]:
        """The whole frames of the log past the remembered offset; the offset moves past them.

        The log is read with pread, never mapped: a writer that opens after a crash truncates the torn
        tail, and touching a truncated page of a mapping would kill this process (SIGBUS).
        """
        fd = self._log_fd
        if fd is None:
            return []
        path = os.path.join(self._folder, log_name(self._generation))
        if self._offset == framing.HEADER_SIZE:
            try:
                self._log_version = framing.check_header(
                    os.pread(fd, framing.HEADER_SIZE, 0), framing.KIND_LOG, self._generation
                )
            except HeaderError as exc:
                if exc.torn:
                    return []  # the writer is creating the log
                raise StorageCorrupted(path, 0, exc.reason) from None
        records: list[dict[str, Any]] = []
        if size is None:
            size = os.fstat(fd).st_size
        while self._offset < size:
            chunk = os.pread(fd, min(size - self._offset, _READ_CHUNK), self._offset)
            used = _whole_frames(chunk, self._offset, path, records, self._log_version)
            if used == 0:
                used = self._read_large_frame(fd, size, path, records)
                if used == 0:
                    break  # not whole (yet): being written, or a torn tail the next writer cuts off
            self._offset += used
        return records

    def _read_large_frame(self, fd: int, size: int, path: str, records: list[dict[str, Any]]) -> int:
        """Read one frame longer than a chunk, if it is whole; returns the bytes it took (0 if not)."""
        head_size = framing.frame_header_size(self._log_version)
        head = os.pread(fd, head_size, self._offset)
        if len(head) < head_size:
            return 0
        length = int.from_bytes(head[:4], "little")
        if length == 0 or length > framing.MAX_BODY or self._offset + head_size + length > size:
            return 0
        frame = os.pread(fd, head_size + length, self._offset)
        return _whole_frames(frame, self._offset, path, records, self._log_version)


def _whole_frames(data: bytes, base: int, path: str, records: list[dict[str, Any]], version: int) -> int:
    """Decode the whole frames at the start of ``data`` (file offset ``base``) into ``records``;
    returns how many bytes they span."""
    view = memoryview(data)
    pos, end = 0, len(data)
    while pos < end:
        try:
            start, stop = framing.read_frame(view, pos, end, version)
        except FrameError:
            break
        try:
            records.append(framing.unpack_record(view[start:stop], base + pos))
        except FrameError as exc:
            raise StorageCorrupted(path, exc.offset, exc.reason) from None
        pos = stop
    return pos


def _read_snapshot(fd: int, path: str, generation: int, *, blocks: bool = True) -> Iterator[SnapshotItem]:
    """The items of a complete snapshot (snapshots are renamed into place only once whole)."""
    with open(fd, "rb", buffering=_SNAPSHOT_BUFFER, closefd=False) as f:
        for _, item in read_snapshot(f, path, generation, blocks=blocks):
            yield item


def read_snapshot_file(path: str, generation: int) -> Iterator[dict[str, Any]]:
    """The records of a snapshot-format file of records only (a collection archive)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        for item in _read_snapshot(fd, path, generation, blocks=False):
            assert isinstance(item, dict)
            yield item
    finally:
        os.close(fd)


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)
