"""Snapshot files: records and column blocks, written in one pass and read back in one pass.

A snapshot (see ``framing`` for the header, frames and trailer) holds a sequence of *items*, each
either a record (a msgpack map, as in the log) or, from format 3 on, a *column block*: named byte
columns written as they lie in memory, so that a reader can put each one where it belongs with one
``readinto`` per frame (a dense vector matrix straight into the engine's final matrix) or decode it
in bulk. A block is:

* a descriptor record ``{"$columns": [[name, nbytes], ...], "meta": {...}}`` (``meta`` is the
  caller's; this module never looks inside it), then
* for each column in order, its bytes cut into frames of at most ``COLUMN_FRAME_BYTES`` (a column of
  0 bytes has no frame). Each frame carries its CRC32 as every frame does.

The trailer counts items (a block counts once). Records given to the writer must not use the key
``"$columns"``.

Reading checks everything: every frame's header and body checksum, columns whose frames add up to
exactly the declared sizes, the trailer's count, and nothing after the trailer. Any mismatch is a
``StorageCorrupted(file, offset, reason)`` at the offending frame: a snapshot is renamed into place
only once whole and fsync'd, so no crash explains damage in one. Columns the caller does not read are
still read and checked before the next item is yielded.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, Union

import msgpack

from qdrant_local.errors import InvalidInput, QdrantLocalError, StorageCorrupted
from qdrant_local.storage import framing
from qdrant_local.storage.framing import FrameError, HeaderError

__all__ = [
    "BLOCK_KEY",
    "COLUMN_FRAME_BYTES",
    "Column",
    "ColumnBlock",
    "ColumnReader",
    "SnapshotItem",
    "read_snapshot",
    "write_snapshot",
]

BLOCK_KEY = "$columns"
#: Largest frame a column is cut into (a frame body may hold up to framing.MAX_BODY).
COLUMN_FRAME_BYTES = 64 << 20
#: Buffer of the writer and the reader (large column frames bypass it).
_BUFFER = 1 << 20


@dataclass
class Column:
    """One column to write: ``nbytes`` bytes given as ``parts`` (C-contiguous buffers, in order)."""

    name: str
    nbytes: int
    parts: Iterable[Any]


@dataclass
class ColumnBlock:
    """Columns written together, with the caller's ``meta`` (a msgpack-serialisable map)."""

    meta: dict[str, Any]
    columns: list[Column] = field(default_factory=list)


class ColumnReader:
    """A column block being read: ``meta``, the column ``sizes``, and ``read()`` in file order.

    Valid only until the snapshot reader moves on to the next item.
    """

    def __init__(
        self, file: IO[bytes], path: str, pos: int, columns_start: int, version: int, descriptor: dict[str, Any]
    ) -> None:
        self.path = path
        self.offset = pos  # of the descriptor: where replay errors about the block point
        self.offset_after = columns_start  # where the next unread column frame starts
        columns = descriptor.get(BLOCK_KEY)
        meta = descriptor.get("meta")
        if not isinstance(columns, list) or not isinstance(meta, dict) or len(descriptor) != 2:
            raise StorageCorrupted(path, pos, "malformed column block descriptor")
        sizes: dict[str, int] = {}
        for entry in columns:
            if (
                not isinstance(entry, list)
                or len(entry) != 2
                or type(entry[0]) is not str
                or type(entry[1]) is not int
                or entry[1] < 0
                or entry[0] in sizes
            ):
                raise StorageCorrupted(path, pos, f"malformed column entry {entry!r} in a column block descriptor")
            sizes[entry[0]] = entry[1]
        self.meta: dict[str, Any] = meta
        self.sizes = sizes
        self._names = list(sizes)
        self._next = 0
        self._file = file
        self._readinto = file.readinto  # type: ignore[attr-defined]  # a buffered binary file has it
        self._version = version
        self._head_size = framing.frame_header_size(version)

    def read(self, name: str, out: Any = None) -> memoryview:
        """The bytes of column ``name``, read into ``out`` (a writable buffer of exactly its size) or
        into a new buffer. Columns are read in file order; those skipped over are read and checked."""
        if name not in self.sizes:
            raise KeyError(name)
        index = self._names.index(name)
        if index < self._next:
            raise QdrantLocalError(f"column {name!r} was already read (columns are read in file order)")
        while self._next < index:
            self._read_column(self._names[self._next], None)
        return self._read_column(name, out)

    def finish(self) -> int:
        """Read and check the columns not read yet; returns the file offset after the block."""
        while self._next < len(self._names):
            self._read_column(self._names[self._next], None, keep=False)
        return self.offset_after

    def _read_column(self, name: str, out: Any, keep: bool = True) -> memoryview:
        size = self.sizes[name]
        if out is None:
            target = memoryview(bytearray(size if keep else min(size, COLUMN_FRAME_BYTES)))
        else:
            target = memoryview(out).cast("B")
            if target.nbytes != size:
                raise ValueError(f"column {name!r} holds {size} bytes, the buffer {target.nbytes}")
        self._next += 1
        # A column of several frames has each frame's CRC computed by a helper thread while the next
        # frame is read (zlib and file reads both release the GIL); frames are still checked in order.
        checker = _CrcChecker(self.path, name) if keep and size > COLUMN_FRAME_BYTES else None
        filled = 0
        try:
            while filled < size:
                pos = self.offset_after
                length, crc = self._frame_header(name, pos)
                if length == 0:
                    raise StorageCorrupted(
                        self.path,
                        pos,
                        f"column {name!r} is missing frames (the trailer follows {filled} of {size} bytes)",
                    )
                if filled + length > size:
                    raise StorageCorrupted(
                        self.path, pos, f"column {name!r}: a frame of {length} bytes runs past its {size} bytes"
                    )
                start = filled if keep else 0
                if start + length > len(target):
                    target = memoryview(bytearray(length))
                piece = target[start : start + length]
                got = self._readinto(piece)
                if got != length:
                    raise StorageCorrupted(self.path, pos, f"column {name!r} cut short (snapshot ends inside a frame)")
                if checker is None:
                    if zlib.crc32(piece) != crc:
                        raise StorageCorrupted(self.path, pos, f"column {name!r}: record checksum (CRC32) mismatch")
                else:
                    checker.submit(piece, crc, pos)
                filled += length
                self.offset_after = pos + self._head_size + length
        except StorageCorrupted:
            if checker is not None:
                checker.finish()  # damage in an earlier frame is the one to report
            raise
        finally:
            if checker is not None:
                checker.close()
        if checker is not None:
            checker.finish()
        return target if keep else target[:0]

    def _frame_header(self, name: str, pos: int) -> tuple[int, int]:
        head = self._file.read(self._head_size)
        if len(head) < self._head_size:
            raise StorageCorrupted(self.path, pos, f"column {name!r} cut short (snapshot ends inside its frames)")
        try:
            return framing.decode_frame_header(head, pos, self._version)
        except FrameError as exc:
            raise StorageCorrupted(self.path, pos, f"column {name!r}: {exc.reason}") from None


class _CrcChecker:
    """Checks frame CRCs on a helper thread, one frame behind the reader, reporting the first bad one."""

    def __init__(self, path: str, name: str) -> None:
        self._path, self._name = path, name
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[tuple[Future[int], int, int]] = []

    def submit(self, piece: memoryview, crc: int, pos: int) -> None:
        self._pending.append((self._pool.submit(zlib.crc32, piece), crc, pos))
        if len(self._pending) > 1:
            self._check(self._pending.pop(0))

    def finish(self) -> None:
        while self._pending:
            self._check(self._pending.pop(0))

    def _check(self, entry: tuple[Future[int], int, int]) -> None:
        future, crc, pos = entry
        if future.result() != crc:
            self._pending.clear()
            raise StorageCorrupted(self._path, pos, f"column {self._name!r}: record checksum (CRC32) mismatch")

    def close(self) -> None:
        self._pool.shutdown(wait=True)


SnapshotItem = Union[dict[str, Any], ColumnReader]  # noqa: UP007 (a runtime alias)


def write_snapshot(path: str, generation: int, items: Iterable[dict[str, Any] | ColumnBlock]) -> int:
    """Write ``items`` as the snapshot of ``generation`` to ``path`` (a new file) and fsync it; returns its size."""
    packer = msgpack.Packer(use_bin_type=True)
    count = 0
    with open(path, "wb", buffering=_BUFFER) as f:
        f.write(framing.encode_header(framing.KIND_SNAPSHOT, generation))
        for item in items:
            if isinstance(item, ColumnBlock):
                _write_block(f, packer, item)
            elif isinstance(item, dict):
                _write_record(f, packer.pack(item))
            else:
                raise InvalidInput(f"a storage record must be a dict, not {type(item).__name__}")
            count += 1
        f.write(framing.encode_trailer(count))
        f.flush()
        os.fsync(f.fileno())
        return f.tell()


def _write_record(f: IO[bytes], body: bytes) -> None:
    if len(body) > framing.MAX_BODY:
        # Not the user's input: the engine cuts snapshot records by bytes (snapshot_record_bytes).
        raise QdrantLocalError(f"a snapshot record is limited to {framing.MAX_BODY} bytes, got {len(body)}")
    f.write(framing.encode_frame_header(body))
    f.write(body)


def _write_block(f: IO[bytes], packer: msgpack.Packer, block: ColumnBlock) -> None:
    descriptor = {BLOCK_KEY: [[column.name, column.nbytes] for column in block.columns], "meta": block.meta}
    _write_record(f, packer.pack(descriptor))
    step = min(COLUMN_FRAME_BYTES, framing.MAX_BODY)
    for column in block.columns:
        written = 0
        for part in column.parts:
            view = memoryview(part).cast("B")  # raises for a buffer that is not C-contiguous
            for start in range(0, view.nbytes, step):
                piece = view[start : start + step]
                f.write(framing.encode_frame_header(piece))
                f.write(piece)
            written += view.nbytes
        if written != column.nbytes:
            raise QdrantLocalError(f"column {column.name!r} declared {column.nbytes} bytes but gave {written}")


def read_snapshot(
    file: IO[bytes], path: str, generation: int, *, blocks: bool = True
) -> Iterator[tuple[int, SnapshotItem]]:
    """(offset, item) for the items of the snapshot open as ``file`` (at its start), checked as the
    module docstring says.

    Items are dicts, and for each column block (``blocks``; else its descriptor is yielded as a
    record) a :class:`ColumnReader` positioned at its columns. ``StorageCorrupted`` names ``path``.
    """
    head = file.read(framing.HEADER_SIZE)
    try:
        version = framing.check_header(head, framing.KIND_SNAPSHOT, generation)
    except HeaderError as exc:
        raise StorageCorrupted(path, 0, exc.reason) from None
    head_size = framing.frame_header_size(version)
    pos, count = framing.HEADER_SIZE, 0
    while True:
        frame_head = file.read(head_size)
        if len(frame_head) < head_size:
            raise StorageCorrupted(path, pos, "snapshot ends without its trailer (file cut short)")
        try:
            length, crc = framing.decode_frame_header(frame_head, pos, version)
        except FrameError as exc:
            raise StorageCorrupted(path, pos, exc.reason) from None
        if length == 0:
            rest = file.read(framing.trailer_size(version) - head_size + 1)
            stored = framing.check_trailer(frame_head + rest, version)
            if stored is None:
                raise StorageCorrupted(path, pos, "damaged snapshot trailer, or data after it")
            if stored != count:
                raise StorageCorrupted(path, pos, f"snapshot trailer says {stored} records but {count} were read")
            return
        body = file.read(length)
        if len(body) < length:
            raise StorageCorrupted(path, pos, f"record of {length} bytes cut short after {len(body)} bytes")
        if zlib.crc32(body) != crc:
            raise StorageCorrupted(path, pos, "record checksum (CRC32) mismatch")
        try:
            record = framing.unpack_record(memoryview(body), pos)
        except FrameError as exc:
            raise StorageCorrupted(path, exc.offset, exc.reason) from None
        after = pos + head_size + length
        if blocks and version >= 3 and BLOCK_KEY in record:
            reader = ColumnReader(file, path, pos, after, version, record)
            yield pos, reader
            after = reader.finish()
        else:
            yield pos, record
        count += 1
        pos = after
