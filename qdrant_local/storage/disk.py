"""DiskStorage: an ordered, crash-safe store of opaque records in one folder.

The engine hands over one msgpack-serialisable dict per accepted write; this module keeps them in
order and gives them back on the next open. It never looks inside a record.

Files (see ``layout`` and ``framing`` for names and bytes): ``.lock``, then for the current
generation ``g`` the snapshot ``<g>.snapshot`` (absent for g = 0, whose base state is empty) and the
log ``<g>.log``. The state is always: the records of ``<g>.snapshot``, then those of ``<g>.log``.

Durability. ``append(sync=True)`` returns after the frame is written and fsync'd. ``append(sync=False)``
returns after the os-level write (the data survives a crash of the process, not of the machine); the
next ``append(sync=True)``, ``sync()``, ``compact()`` or ``close()`` makes it durable. A write that
fails part-way (disk full) is cut back off the file, so the log never keeps a half record behind a
live writer. An fsync that fails after ``append(sync=True)`` wrote its frame cuts that frame back off
the file too (best effort: the truncation is itself only as durable as the failing disk allows), so
the record the caller was told failed is not replayed by the next open; after a failed fsync the
storage refuses every further write (the kernel may have dropped other dirty pages: "fsyncgate"),
and the folder must be reopened.

Compaction from generation g to n = g + 1 (each step is safe to crash after):

1. write ``<n>.snapshot.tmp`` (header, every record, trailer with the record count), fsync it;
2. create ``<n>.log`` holding only its header, fsync it and the folder;
3. ``os.replace(<n>.snapshot.tmp, <n>.snapshot)`` and fsync the folder: the COMMIT POINT;
4. append to ``<n>.log`` from now on; remove ``<g>.log`` and ``<g>.snapshot`` (best effort).

Opening (rules applied in this order, after the lock is taken):

* Any name in the folder other than ours (and hidden files) -> ForeignStorage, nothing is touched.
* The current generation is the newest snapshot's, or 0 when there is none.
* ``*.tmp`` files, and snapshots and logs of older generations, are leftovers of a compaction that
  committed or never did: they are deleted once load() has read the current generation without error.
* A log of a *newer* generation than the current one is the empty log of a compaction that did not
  commit (step 2 without step 3): it is a leftover too if it holds no record and the current log
  exists. Otherwise a snapshot is missing -> StorageCorrupted (never replay a log on the wrong base).
* The current log missing: for generation 0 the folder is new and is initialised; for a later one
  -> StorageCorrupted (compaction creates the log before committing its snapshot, so the log was lost
  and records acknowledged after the compaction may be gone; we refuse rather than guess).
* The current log shorter than its 24-byte header (zero-length included) but equal to a prefix of
  it: a crash while it was created; the header is rewritten, with a warning. Any other header
  mismatch (wrong magic, checksum, kind, generation) or an unknown format version -> StorageCorrupted
  at offset 0. A snapshot's header gets no repair: snapshots exist only once complete.

Reading (``load``):

* Snapshot: every frame must be whole, then the trailer must follow with the right record count and
  end the file. Anything else (cut short, CRC mismatch, bytes after the trailer) -> StorageCorrupted
  at the offset of the bad frame. A snapshot was fsync'd before its rename, so no crash explains this.
* Log: frames are read until the end of the file. Let ``p`` be the offset of the first frame that is
  not whole. Format 2 frame headers carry their own checksum, so what the reader may trust is known
  (``framing.FrameError.kind``):

  - the header is intact (or cut short by the end of the file) and declares a body that runs past the
    end of the file: a write cut short by a crash. Everything after ``p`` lies inside that one record,
    so it is dropped whatever its bytes are (raw vector bytes that happen to look like a frame included);
  - the header is intact, the frame lies inside the file but its body CRC fails: if the frame ends
    exactly at the end of the file it is a damaged last record and is dropped the same way; otherwise
    records follow it -> StorageCorrupted(file, p, reason);
  - the header is intact but declares a zero or > 1 GiB length: never a crash artefact -> StorageCorrupted;
  - the header itself is damaged: its length cannot be trusted, so the rest of the file is searched
    (every byte offset, the cheap tests vectorised) for a whole frame (header and body checksums valid).
    None: a damaged tail, dropped. One: acknowledged records may follow -> StorageCorrupted.
  - a frame whose checksums match but whose body is not a msgpack map is never a crash artefact:
    StorageCorrupted at its offset.

  Dropping means: the file is truncated to ``p`` and fsync'd, and a StorageRecoveredWarning names the
  file, the offset and the number of bytes dropped. Logs in format 1 (no frame header checksum) follow
  the damaged-header rule for every damaged frame; a folder in format 1 is rewritten in format 2 by a compaction
  as soon as a writer opens it (``needs_upgrade``).

  Limitation: records appended with sync=False and lost in a machine crash on a filesystem that writes
  pages out of order can leave a hole followed by whole records; that is reported as StorageCorrupted
  rather than guessed at.

Records are yielded as they are decoded, so a StorageCorrupted can come after some records were
yielded: the caller must discard what it built when load() raises.
"""

from __future__ import annotations

import mmap
import os
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import msgpack

from qdrant_local.errors import (
    ClientClosed,
    InvalidInput,
    QdrantLocalError,
    StorageCorrupted,
    StorageRecoveredWarning,
)
from qdrant_local.storage import framing
from qdrant_local.storage.framing import FrameError, HeaderError
from qdrant_local.storage.layout import (
    check_folder_path,
    fsync_dir,
    list_folder,
    log_name,
    make_folder,
    snapshot_name,
    tmp_name,
)
from qdrant_local.storage.lock import FolderLock
from qdrant_local.storage.snapshot import ColumnBlock, Placement, SnapshotItem, read_snapshot, write_snapshot

__all__ = ["DiskStorage"]

_MiB = 1 << 20
_READ_BUFFER = 1 * _MiB
_OPEN_LOG_FLAGS = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


class DiskStorage:
    """The records of one storage folder: ``load()`` them once, then ``append()``; ``compact()`` now and then."""

    #: The compaction policy weighs the work of a reopen, counted in snapshot bytes that load in the same
    #: time: the snapshot's bytes, plus LOG_BYTE_COST per log byte (replaying a log record costs about that
    #: many times loading the same points from a snapshot's columns), plus RECORD_REPLAY_BYTES per log record
    #: (the fixed cost of replaying one request: a single-point set_payload replays in about 45 us of CPU,
    #: the time a snapshot takes to load about 64 KiB; measured at 100,000 x 384) ...
    LOG_BYTE_COST: float = 3.0
    RECORD_REPLAY_BYTES: int = 64 << 10
    #: ... against the live data (the size of a snapshot of the current state). After a write, compaction
    #: runs when the reopen work passes WRITE_BOUND times the live data: a log mostly overwritten or deleted,
    #: or a long stream of small requests, but never a load that only appends (its log replays in at most
    #: LOG_BYTE_COST times a snapshot load, below the bound), so a load writes its data once. So that a
    #: reopen after a clean close loads a snapshot and little else, close() compacts when the reopen work
    #: passes CLOSE_BOUND times the live data (should_compact_at_close) ...
    WRITE_BOUND: float = 4.0
    CLOSE_BOUND: float = 1.5
    #: ... and only once the log's bytes plus RECORD_REPLAY_BYTES per record pass this, so that small stores
    #: never pay for a rewrite.
    COMPACT_MIN_LOG_BYTES: int = 4 * _MiB

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open (or create) the storage folder ``path`` and take its lock.

        Raises FileExistsError if ``path`` is a file, StorageLocked if another client holds the folder,
        ForeignStorage if it holds files that are not ours, StorageCorrupted if its files are damaged.
        """
        # Set first so that close()/__del__ work whatever __init__ raises below.
        self._closed = True
        self._lock: FolderLock | None = None
        self._log_fd: int | None = None

        self._display_path = os.fsdecode(os.fspath(path))
        check_folder_path(self._display_path)
        # Internal paths are absolute so a later os.chdir() cannot redirect writes.
        self._folder = os.path.abspath(self._display_path)
        make_folder(self._folder)  # FileExistsError for a file, like qdrant-client; durable when new
        # Refuse a foreign folder before the lock would create .lock in it, so it is left untouched.
        # (With a .lock already there, the lock comes first: its holder, if any, is the better answer.
        # _open_generation lists the folder again under the lock; that listing is the one used.)
        if not os.path.exists(os.path.join(self._folder, ".lock")):
            list_folder(self._folder, self._display_path)
        self._lock = FolderLock(self._folder, self._display_path)
        self._packer = msgpack.Packer(use_bin_type=True)
        self._dirty = False  # bytes written to the log since its last fsync
        self._compact_retry_size = 0
        #: (file, offset) of the record load() yielded last, and whether it came from the snapshot: what a
        #: replay error names (StorageCorrupted(file, offset, ...)).
        self.record_position: tuple[str, int] | None = None
        self.in_snapshot = False  # after a failed compaction: the log size at which should_compact() retries
        #: Where the last compaction put the aligned columns of its snapshot (``snapshot_path``).
        self.placed: list[Placement] = []
        self._failed: BaseException | None = None  # a write that could not be undone
        self._load_state = "new"  # -> "loading" -> "ready"
        self._closed = False
        try:
            self._open_generation()
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- opening

    def _file(self, name: str) -> str:
        return os.path.join(self._folder, name)

    def _open_generation(self) -> None:
        """Pick the current generation, list the leftovers, and open (or create) its log for appending."""
        listing = list_folder(self._folder, self._display_path)
        generation = max(listing.snapshots, default=0)
        # Leftovers are deleted only once load() has read the current generation without error: until
        # then nothing that might help a post-mortem is destroyed.
        self._leftovers = [snapshot_name(g) for g in listing.snapshots if g < generation]
        self._leftovers += [log_name(g) for g in listing.logs if g < generation]
        self._leftovers += listing.temporaries
        for newer in sorted(g for g in listing.logs if g > generation):
            name = log_name(newer)
            if generation in listing.logs and os.path.getsize(self._file(name)) <= framing.HEADER_SIZE:
                self._leftovers.append(name)  # the empty log of a compaction that never committed
                continue
            raise StorageCorrupted(
                self._file(name),
                None,
                f"the log of generation {newer} has no snapshot {snapshot_name(newer)}"
                + (f" (the newest snapshot is {snapshot_name(generation)})" if generation else "")
                + "; refusing to replay it on the wrong base",
            )
        self._generation = generation
        self._snapshot_version = framing.FORMAT_VERSION
        self._snapshot_bytes = 0
        self._log_records = 0  # counted by load(), then by append()
        if generation:
            snapshot = self._file(snapshot_name(generation))
            self._snapshot_bytes = os.path.getsize(snapshot)
            with open(snapshot, "rb") as f:
                head = f.read(framing.HEADER_SIZE)
            try:
                self._snapshot_version = framing.check_header(head, framing.KIND_SNAPSHOT, generation)
            except HeaderError as exc:
                raise StorageCorrupted(snapshot, 0, exc.reason) from None
        log = self._file(log_name(generation))
        if generation not in listing.logs:
            if generation:
                # Compaction creates the new log before it commits the snapshot, so a snapshot without
                # its log means files were lost: acknowledged records may be gone, so refuse to guess.
                raise StorageCorrupted(
                    log,
                    None,
                    f"the log of generation {generation} is missing (its snapshot {snapshot_name(generation)} "
                    "exists); records written after the last compaction may be lost",
                )
            self._log_fd, self._log_size = self._create_log(generation)
            self._log_version = framing.FORMAT_VERSION
            fsync_dir(self._folder)
            return
        self._log_fd = os.open(log, _OPEN_LOG_FLAGS)
        self._log_size = os.fstat(self._log_fd).st_size
        with open(log, "rb") as f:
            head = f.read(framing.HEADER_SIZE)
        try:
            self._log_version = framing.check_header(head, framing.KIND_LOG, generation)
        except HeaderError as exc:
            if not exc.torn:  # (a zero-length file counts as torn: b"" is a prefix of every header)
                raise StorageCorrupted(log, 0, exc.reason) from None
            warnings.warn(
                f"{log}: {exc.reason if self._log_size else 'empty file'} (a crash while it was created); "
                "rewrote the header, no record was lost",
                StorageRecoveredWarning,
                stacklevel=3,
            )
            os.ftruncate(self._log_fd, 0)
            self._log_size = 0
            self._write(framing.encode_header(framing.KIND_LOG, generation))
            self._log_version = framing.FORMAT_VERSION
            os.fsync(self._log_fd)

    def _create_log(self, generation: int) -> tuple[int, int]:
        """Create the log of ``generation`` holding only its header, fsync'd; returns (fd, size)."""
        fd = os.open(self._file(log_name(generation)), _OPEN_LOG_FLAGS | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, [framing.encode_header(framing.KIND_LOG, generation)])
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd, framing.HEADER_SIZE

    # ----------------------------------------------------------------- reading

    def load(self) -> Iterator[SnapshotItem]:
        """Yield every stored record in order: the snapshot's, then the log's. Call once, before append().

        A snapshot's column blocks come as ``ColumnReader`` objects (storage/snapshot.py), to be read
        before the next item is asked for; everything else is a dict.

        A torn last log record is dropped (file truncated, StorageRecoveredWarning); any other damage
        raises StorageCorrupted(file, offset, reason), possibly after some records were yielded.
        """
        self._check_open()
        if self._load_state != "new":
            raise QdrantLocalError("DiskStorage.load() can be called only once")
        self._load_state = "loading"
        return self._load()

    def _load(self) -> Iterator[SnapshotItem]:
        if self._generation:
            yield from self._read_snapshot(self._file(snapshot_name(self._generation)))
        yield from self._read_log(self._file(log_name(self._generation)))
        if self._closed:
            return  # closed while loading: leave the folder as it is for the next open
        if self._leftovers:
            for name in self._leftovers:
                os.remove(self._file(name))
            fsync_dir(self._folder)
            self._leftovers = []
        self._load_state = "ready"

    def _read_snapshot(self, path: str) -> Iterator[SnapshotItem]:
        with open(path, "rb", buffering=_READ_BUFFER) as f:
            for offset, item in read_snapshot(f, path, self._generation):
                self.record_position, self.in_snapshot = (path, offset), True
                yield item

    def _read_log(self, path: str) -> Iterator[dict[str, Any]]:
        torn: FrameError | None = None
        version = self._log_version
        mapped = _mapped(path)
        with mapped as buf:
            end = len(buf)
            pos = framing.HEADER_SIZE
            while pos < end:
                mapped.drop_before(pos)
                try:
                    start, stop = framing.read_frame(buf, pos, end, version)
                except FrameError as exc:
                    _check_tail(path, buf, exc, end, version)
                    torn = exc
                    break
                try:
                    record = framing.unpack_record(buf[start:stop], pos)
                except FrameError as exc:
                    raise StorageCorrupted(path, exc.offset, exc.reason) from None
                self.record_position, self.in_snapshot = (path, pos), False
                self._log_records += 1
                yield record
                pos = stop
        if torn is not None:
            warnings.warn(
                f"{path}: dropped a torn last record at byte offset {torn.offset} ({torn.reason}; "
                f"{end - torn.offset} bytes), left by a write that a crash cut short",
                StorageRecoveredWarning,
                stacklevel=2,
            )
            if self._log_fd is None:
                return  # closed while loading: the next open finds the same tail
            os.ftruncate(self._log_fd, torn.offset)
            os.fsync(self._log_fd)
            self._log_size = torn.offset

    # ----------------------------------------------------------------- writing

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Append one record. sync=True: durable (fsync'd) on return; sync=False: written, fsync'd later."""
        self._check_writable()
        if not isinstance(record, dict):
            raise InvalidInput(f"a storage record must be a dict, not {type(record).__name__}")
        try:
            body = self._packer.pack(record)
        except BaseException:
            self._packer.reset()  # drop the partly packed record so the next pack starts clean
            raise
        if len(body) > framing.MAX_BODY:
            raise InvalidInput(f"a storage record is limited to {framing.MAX_BODY} bytes, got {len(body)}")
        size_before = self._log_size
        self._write(framing.encode_frame_header(body, self._log_version), body)
        self._log_records += 1
        if not sync:
            self._dirty = True
            return
        try:
            self._fsync_log()
        except OSError:
            self._cut_back(size_before)  # the caller is told this write failed: it must not come back
            self._log_records -= 1
            raise

    def _cut_back(self, size: int) -> None:
        """Best effort: truncate the log to ``size`` after a write the caller is told failed."""
        assert self._log_fd is not None  # invariant: the log is open while the storage is
        try:
            os.ftruncate(self._log_fd, size)
        except OSError:
            return  # self._failed is already set: no further write, and the record stays a torn-tail candidate
        self._log_size = size

    def sync(self) -> None:
        """fsync the records appended with sync=False (no-op when there are none)."""
        self._check_open()
        if self._dirty:
            self._fsync_log()

    def _fsync_log(self) -> None:
        assert self._log_fd is not None  # invariant: the log is open while the storage is
        try:
            os.fsync(self._log_fd)
        except OSError as exc:
            # After a failed fsync the kernel may have dropped the dirty pages and a retry can report
            # success without the data ("fsyncgate"): never pretend later writes are durable.
            self._failed = exc
            raise
        self._dirty = False

    def _write(self, *chunks: bytes) -> None:
        """Append ``chunks`` to the log; on failure cut the file back so no partial frame stays behind."""
        assert self._log_fd is not None  # invariant: the log is open while the storage is
        size = self._log_size
        try:
            self._log_size = size + _write_all(self._log_fd, chunks)
        except BaseException:
            try:
                os.ftruncate(self._log_fd, size)
            except BaseException as exc:
                # A partial frame we cannot remove would be damage in mid-log once more records follow:
                # refuse every further write; the next open drops it as a torn tail.
                self._failed = exc
                raise
            self._log_size = size
            raise

    @property
    def log_bytes(self) -> int:
        """Current size of the log file in bytes (header included)."""
        return self._log_size

    @property
    def needs_upgrade(self) -> bool:
        """Whether the current files are in an older format: the next compaction rewrites them."""
        return min(self._log_version, self._snapshot_version) < framing.FORMAT_VERSION

    @property
    def snapshot_record_bytes(self) -> int:
        """How large the records given to compact() should be at most: a quarter of the record limit."""
        return framing.MAX_BODY // 4

    @property
    def generation(self) -> int:
        """Number of compactions this folder went through (names the current snapshot and log)."""
        return self._generation

    @property
    def snapshot_path(self) -> str | None:
        """The current snapshot's file (None before the first compaction)."""
        return self._file(snapshot_name(self._generation)) if self._generation else None

    @property
    def path(self) -> str:
        """The folder, as given to the constructor."""
        return self._display_path

    def should_compact(self, live_bytes: int) -> bool:
        """Whether the reopen work has grown past WRITE_BOUND times ``live_bytes`` (the size of a snapshot of
        the live data; see WRITE_BOUND): worth compacting after a write.

        After a failed compaction, not before the log has grown by another COMPACT_MIN_LOG_BYTES (so a full
        disk does not make every write attempt a whole snapshot).
        """
        return self._worth_compacting(live_bytes, self.WRITE_BOUND)

    def should_compact_at_close(self, live_bytes: int) -> bool:
        """Whether the reopen work has grown past CLOSE_BOUND times ``live_bytes``: worth a compaction at
        close, so that the next open loads a snapshot rather than replays a log. False once a write failed
        (the folder must be reopened) or before load() was consumed."""
        if self._closed or self._failed is not None or self._load_state != "ready":
            return False
        return self._worth_compacting(live_bytes, self.CLOSE_BOUND)

    def _worth_compacting(self, live_bytes: int, bound: float) -> bool:
        per_record = self._log_records * self.RECORD_REPLAY_BYTES
        return (
            self._log_size + per_record > self.COMPACT_MIN_LOG_BYTES
            and self._snapshot_bytes + self.LOG_BYTE_COST * self._log_size + per_record > bound * live_bytes
            and self._log_size >= self._compact_retry_size
        )

    def compact(self, records: Iterable[dict[str, Any] | ColumnBlock]) -> None:
        """Replace snapshot + log by a snapshot of ``records`` (the whole current state) and an empty log.

        ``records`` (dicts and column blocks) is consumed as a stream and written as it comes. Crash-safe
        at every instant (see the module docstring). If it raises before the commit point (the snapshot's
        rename), the old files stay current and the storage stays usable, as if compact() had not been
        called; the only call
        that can raise after it is the folder fsync that follows, and then the new state is current.
        Failures to delete the old generation are ignored (the next open deletes it).
        """
        self._check_writable()
        old, new = self._generation, self._generation + 1
        snapshot_tmp = self._file(tmp_name(snapshot_name(new)))
        new_log = self._file(log_name(new))
        new_fd: int | None = None
        try:
            snapshot_bytes, placed = write_snapshot(snapshot_tmp, new, records)
            new_fd, _ = self._create_log(new)
            fsync_dir(self._folder)
            os.replace(snapshot_tmp, self._file(snapshot_name(new)))  # the commit point
        except Exception:
            # Not committed: the old generation is still the truth; remove what was written for the new one
            # (best effort: what cannot be removed now is a leftover the next open deletes).
            self._compact_retry_size = self._log_size + self.COMPACT_MIN_LOG_BYTES
            if new_fd is not None:
                os.close(new_fd)
            for leftover in (snapshot_tmp, new_log):
                try:
                    os.remove(leftover)
                except OSError:
                    pass
            raise
        old_fd, self._log_fd = self._log_fd, new_fd
        self._generation, self._log_size, self._dirty = new, framing.HEADER_SIZE, False
        self._snapshot_bytes, self._log_records = snapshot_bytes, 0
        self.placed = placed
        self._log_version = self._snapshot_version = framing.FORMAT_VERSION
        assert old_fd is not None  # invariant: the log is open while the storage is
        os.close(old_fd)
        fsync_dir(self._folder)  # make the commit durable before the old generation disappears
        try:
            os.remove(self._file(log_name(old)))
            if old:
                os.remove(self._file(snapshot_name(old)))
            fsync_dir(self._folder)
        except OSError:
            pass  # only leftovers: the next open deletes them

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        """fsync pending records and release the lock. Idempotent; also run by ``__del__``."""
        if self._closed:
            return
        self._closed = True
        fd, self._log_fd = self._log_fd, None
        try:
            if fd is not None:
                try:
                    if getattr(self, "_dirty", False):
                        os.fsync(fd)
                finally:
                    os.close(fd)
        finally:
            if self._lock is not None:
                self._lock.release()

    def abandon(self) -> None:
        """Stop using the folder without fsync or unlock: for a copy inherited by ``fork()``.

        The lock and the log belong to the parent process (an ``flock`` lock is shared through the
        inherited file, so unlocking it here would unlock the parent); only this copy's descriptors close.
        """
        if self._closed:
            return
        self._closed = True
        fd, self._log_fd = self._log_fd, None
        if fd is not None:
            os.close(fd)
        if self._lock is not None:
            self._lock.abandon()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # never raise from a finaliser (e.g. during interpreter shutdown)
            pass

    def __enter__(self) -> DiskStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed()

    def _check_writable(self) -> None:
        self._check_open()
        if self._load_state != "ready":
            raise QdrantLocalError("DiskStorage.load() must be consumed to the end before writing")
        if self._failed is not None:
            raise QdrantLocalError(
                f"storage {self._display_path} refused a write after an earlier write failed and could not be "
                f"undone ({self._failed!r}); reopen it"
            )


def _check_tail(path: str, buf: memoryview, damage: FrameError, end: int, version: int) -> None:
    """Raise StorageCorrupted unless the frame ``damage`` describes is a torn (or damaged) last record.

    The bytes after a frame with an intact header belong to that frame up to its declared end, whatever
    they contain; so a body cut short by the end of the file is a torn tail, and a damaged body that ends
    exactly at the end of the file a damaged last record. Only when the frame header itself is damaged
    (or the file is in format 1, whose frame headers carry no checksum) is the rest searched for a whole
    frame, since acknowledged records may follow.
    """
    if damage.kind == "cut":
        return
    if damage.kind == "body":
        if damage.end == end:
            return
        raise StorageCorrupted(path, damage.offset, f"{damage.reason}; more records follow at offset {damage.end}")
    if damage.kind == "invalid":
        raise StorageCorrupted(path, damage.offset, f"{damage.reason} in an intact frame header")
    following = framing.find_whole_frame(buf, damage.offset + 1, end, version)
    if following is not None:
        raise StorageCorrupted(
            path, damage.offset, f"{damage.reason}, and a whole record follows at offset {following}"
        )


def _write_all(fd: int, chunks: Iterable[bytes]) -> int:
    """os-level write of every chunk, retrying short writes; returns the number of bytes written."""
    total = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            total += written
            view = view[written:]
    return total


class _mapped:
    """Read-only mmap of a file as a memoryview, released and unmapped on exit (empty files included)."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __enter__(self) -> memoryview:
        with open(self._path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                self._map = None
                self._view = memoryview(b"")
                return self._view
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(self._map, "madvise") and hasattr(mmap, "MADV_SEQUENTIAL"):
            self._map.madvise(mmap.MADV_SEQUENTIAL)
        self._view = memoryview(self._map)
        return self._view

    #: How far reading must move on before the pages behind it are handed back.
    DROP_STEP = 32 << 20

    def drop_before(self, offset: int) -> None:
        """Unmap the pages before ``offset`` (already read), so replaying a large log does not keep the
        whole file resident in this process on top of the state it builds. Reads stay correct: a
        dropped page of a read-only file mapping is simply read again from the file if touched."""
        dropped = getattr(self, "_dropped", 0)
        if self._map is None or offset - dropped < self.DROP_STEP or not hasattr(self._map, "madvise"):
            return
        upto = offset - offset % mmap.PAGESIZE
        self._map.madvise(mmap.MADV_DONTNEED, dropped, upto - dropped)
        self._dropped = upto

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._view.release()
            if self._map is not None:
                self._map.close()
        except BufferError:
            # A slice of the map is still referenced (e.g. from the traceback of the error being raised):
            # the map is unmapped when that reference goes; never mask the real error with this one.
            pass
