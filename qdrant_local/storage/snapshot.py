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

From format 4 on, a column may be *aligned* (``Column.aligned``; its descriptor entry is
``[name, nbytes, alignment]``): its raw bytes start at the next multiple of ``alignment`` (64 KiB, a
multiple of every common page size) after the previous item, zero bytes filling the gap, run
contiguous without frame headers, are padded with zeros to the next multiple of ``alignment``, and are
followed by one frame ``{"chunk": c, "crc32": [...]}`` holding the CRC32 of each ``c``-byte chunk of
the padded bytes. A reader can therefore map the column (``read(name, map_into=...)``): a dense vector
matrix is then the page cache's copy of the file, not a copy of it in fresh memory.

The trailer counts items (a block counts once). Records given to the writer must not use the key
``"$columns"``.

Reading checks everything: every frame's header and body checksum, columns whose frames add up to
exactly the declared sizes, the trailer's count, and nothing after the trailer. Any mismatch is a
``StorageCorrupted(file, offset, reason)`` at the offending frame (for an aligned column: at the
chunk whose CRC does not match, or at non-zero padding before it): a snapshot is renamed into place
only once whole and fsync'd, so no crash explains damage in one. Columns the caller does not read are
still read and checked before the next item is yielded; a mapped column is checked before ``read``
returns.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, Union

import msgpack

from qdrant_local.errors import InvalidInput, QdrantLocalError, StorageCorrupted
from qdrant_local.storage import framing
from qdrant_local.storage.framing import FrameError, HeaderError

__all__ = [
    "ALIGNMENT",
    "BLOCK_KEY",
    "COLUMN_FRAME_BYTES",
    "Column",
    "ColumnBlock",
    "ColumnReader",
    "Placement",
    "SnapshotItem",
    "read_snapshot",
    "write_snapshot",
]

BLOCK_KEY = "$columns"
#: Largest frame a column is cut into (a frame body may hold up to framing.MAX_BODY).
COLUMN_FRAME_BYTES = 64 << 20
#: Buffer of the writer and the reader (large column frames bypass it).
_BUFFER = 1 << 20
#: Where aligned columns start and end in the file (format 4): a multiple of 4, 16 and 64 KiB pages.
ALIGNMENT = 64 << 10
#: Threads that check the CRCs of a mapped column's chunks (zlib releases the GIL).
_CRC_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class Column:
    """One column to write: ``nbytes`` bytes given as ``parts`` (C-contiguous buffers, in order)."""

    name: str
    nbytes: int
    parts: Iterable[Any]
    aligned: bool = False  # written page-aligned and unframed, so a reader can map it (format 4)


@dataclass(frozen=True)
class Placement:
    """Where the writer put an aligned column: its bytes are ``[offset, offset + length)`` of the file
    (``length`` is ``nbytes`` padded with zeros to ALIGNMENT), in the block whose ``meta`` is given."""

    meta: dict[str, Any]
    name: str
    nbytes: int
    offset: int
    length: int


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
        self.offset_after = columns_start  # where the next unread column starts
        columns = descriptor.get(BLOCK_KEY)
        meta = descriptor.get("meta")
        if not isinstance(columns, list) or not isinstance(meta, dict) or len(descriptor) != 2:
            raise StorageCorrupted(path, pos, "malformed column block descriptor")
        sizes: dict[str, int] = {}
        self._alignments: dict[str, int] = {}
        for entry in columns:
            if not _valid_entry(entry, version) or entry[0] in sizes:
                raise StorageCorrupted(path, pos, f"malformed column entry {entry!r} in a column block descriptor")
            sizes[entry[0]] = entry[1]
            if len(entry) == 3:
                self._alignments[entry[0]] = entry[2]
        self.meta: dict[str, Any] = meta
        self.sizes = sizes
        self._names = list(sizes)
        self._next = 0
        self._file = file
        self._readinto = file.readinto  # type: ignore[attr-defined]  # a buffered binary file has it
        self._version = version
        self._head_size = framing.frame_header_size(version)

    def read(self, name: str, out: Any = None, *, map_into: MapInto | None = None) -> memoryview:
        """The bytes of column ``name``, read into ``out`` (a writable buffer of exactly its size) or
        into a new buffer. Columns are read in file order; those skipped over are read and checked.

        For an aligned column, ``map_into(fd, offset, length)`` is asked first to map the file's bytes
        ``[offset, offset + length)`` (the column padded to ALIGNMENT) where the caller wants them; it
        returns a view of the mapped bytes, or None when it cannot (then the column is read into
        ``out``). A mapped column's CRCs are checked on the mapped bytes before this returns.
        """
        if name not in self.sizes:
            raise KeyError(name)
        index = self._names.index(name)
        if index < self._next:
            raise QdrantLocalError(f"column {name!r} was already read (columns are read in file order)")
        while self._next < index:
            self._read_column(self._names[self._next], None)
        return self._read_column(name, out, map_into=map_into)

    def finish(self) -> int:
        """Read and check the columns not read yet; returns the file offset after the block."""
        while self._next < len(self._names):
            self._read_column(self._names[self._next], None, keep=False)
        return self.offset_after

    def _read_column(self, name: str, out: Any, keep: bool = True, map_into: MapInto | None = None) -> memoryview:
        size = self.sizes[name]
        if out is None:
            target = memoryview(bytearray(size if keep else min(size, COLUMN_FRAME_BYTES)))
        else:
            target = memoryview(out).cast("B")
            if target.nbytes != size:
                raise ValueError(f"column {name!r} holds {size} bytes, the buffer {target.nbytes}")
        self._next += 1
        if name in self._alignments:
            return self._read_aligned(name, target, keep, map_into)
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

    def _read_aligned(self, name: str, target: memoryview, keep: bool, map_into: MapInto | None) -> memoryview:
        """An aligned column (see the module docstring): mapped by ``map_into`` or read into ``target``."""
        size = self.sizes[name]
        alignment = self._alignments[name]
        gap = self.offset_after
        start = _aligned(gap, alignment)
        padding = self._file.read(start - gap)
        if len(padding) != start - gap:
            raise StorageCorrupted(self.path, gap, f"column {name!r} cut short (snapshot ends before it)")
        if padding.count(0) != len(padding):
            raise StorageCorrupted(self.path, gap, f"column {name!r}: the padding before it is not zero")
        length = _aligned(size, alignment)
        self._file.seek(start + length)
        chunk, crcs = self._crc_frame(name, start + length, length)
        mapped = map_into(self._file.fileno(), start, length) if map_into is not None and keep and length else None
        if mapped is not None:
            _check_mapped(self.path, name, mapped, start, chunk, crcs)
            result = mapped[:size]
        else:
            self._file.seek(start)
            result = self._read_chunks(name, target, keep, start, size, length, chunk, crcs)
        self._file.seek(self.offset_after)
        return result

    def _crc_frame(self, name: str, pos: int, length: int) -> tuple[int, list[int]]:
        """(chunk size, CRC32 per chunk) from the frame at ``pos`` that follows an aligned column of
        ``length`` padded bytes; the reader's offset moves past it."""
        frame_length, crc = self._frame_header(name, pos)
        body = self._file.read(frame_length)
        if frame_length == 0 or len(body) != frame_length:
            raise StorageCorrupted(self.path, pos, f"column {name!r}: its checksum frame is missing or cut short")
        if zlib.crc32(body) != crc:
            raise StorageCorrupted(self.path, pos, f"column {name!r}: record checksum (CRC32) mismatch")
        try:
            record = framing.unpack_record(memoryview(body), pos)
        except FrameError as exc:
            raise StorageCorrupted(self.path, pos, f"column {name!r}: {exc.reason}") from None
        chunk, crcs = record.get("chunk"), record.get("crc32")
        if (
            len(record) != 2
            or type(chunk) is not int
            or chunk <= 0
            or not isinstance(crcs, list)
            or len(crcs) != -(-length // chunk)
            or not all(type(value) is int for value in crcs)
        ):
            raise StorageCorrupted(self.path, pos, f"column {name!r}: malformed checksum frame")
        self.offset_after = pos + self._head_size + frame_length
        return chunk, crcs

    def _read_chunks(
        self, name: str, target: memoryview, keep: bool, start: int, size: int, length: int, chunk: int, crcs: list[int]
    ) -> memoryview:
        """Read an aligned column chunk by chunk into ``target`` (or through it, when not ``keep``), each
        chunk's CRC computed on a helper thread while the next is read."""
        checker = _CrcChecker(self.path, name, "checksum (CRC32) mismatch in an aligned column")
        try:
            for index, first in enumerate(range(0, length, chunk)):
                data_end = min(first + chunk, size)
                if keep:
                    piece = target[first:data_end] if first < size else target[:0]
                else:
                    if len(target) < data_end - first:
                        target = memoryview(bytearray(data_end - first))
                    piece = target[: max(data_end - first, 0)]
                    checker.finish()  # the buffer is reused: its previous chunk must be checked first
                if self._readinto(piece) != len(piece):
                    raise StorageCorrupted(self.path, start + first, f"column {name!r} cut short")
                tail = self._file.read(max(0, min(first + chunk, length) - max(first, size)))
                checker.submit(piece, crcs[index], start + first, tail)
        except StorageCorrupted:
            checker.finish()
            raise
        finally:
            checker.close()
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


#: ``map_into(fd, offset, length)``: map the file's bytes there, returning a view of them, or None.
MapInto = Callable[[int, int, int], Union[memoryview, None]]  # noqa: UP007 (a runtime alias)


def _aligned(offset: int, alignment: int) -> int:
    return -(-offset // alignment) * alignment


def _valid_entry(entry: Any, version: int) -> bool:
    """Whether a descriptor entry is ``[name, nbytes]`` or (format 4) ``[name, nbytes, alignment]``."""
    if not isinstance(entry, list) or len(entry) not in (2, 3) or (len(entry) == 3 and version < 4):
        return False
    if type(entry[0]) is not str or type(entry[1]) is not int or entry[1] < 0:
        return False
    if len(entry) == 2:
        return True
    alignment = entry[2]
    return type(alignment) is int and 4096 <= alignment <= 1 << 30 and alignment & (alignment - 1) == 0


def _check_mapped(path: str, name: str, mapped: memoryview, start: int, chunk: int, crcs: list[int]) -> None:
    """Check the CRC of every chunk of a mapped column, on a few threads; the first bad chunk raises."""
    pieces = [mapped[first : first + chunk] for first in range(0, len(mapped), chunk)]
    if len(pieces) > 1 and _CRC_THREADS > 1:
        with ThreadPoolExecutor(max_workers=min(_CRC_THREADS, len(pieces))) as pool:
            got = list(pool.map(zlib.crc32, pieces))
    else:
        got = [zlib.crc32(piece) for piece in pieces]
    for piece in pieces:
        piece.release()
    for index, (value, expected) in enumerate(zip(got, crcs)):
        if value != expected:
            raise StorageCorrupted(
                path, start + index * chunk, f"column {name!r}: checksum (CRC32) mismatch in an aligned column"
            )


class _CrcChecker:
    """Checks frame CRCs on a helper thread, one frame behind the reader, reporting the first bad one."""

    def __init__(self, path: str, name: str, reason: str = "record checksum (CRC32) mismatch") -> None:
        self._path, self._name, self._reason = path, name, reason
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[tuple[Future[int], int, int]] = []

    def submit(self, piece: memoryview, crc: int, pos: int, tail: bytes = b"") -> None:
        """Check that ``piece`` (followed by ``tail``) has CRC ``crc``; ``pos`` is where it starts in the file."""
        self._pending.append((self._pool.submit(_crc32, piece, tail), crc, pos))
        if len(self._pending) > 1:
            self._check(self._pending.pop(0))

    def finish(self) -> None:
        while self._pending:
            self._check(self._pending.pop(0))

    def _check(self, entry: tuple[Future[int], int, int]) -> None:
        future, crc, pos = entry
        if future.result() != crc:
            self._pending.clear()
            raise StorageCorrupted(self._path, pos, f"column {self._name!r}: {self._reason}")

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _crc32(piece: memoryview, tail: bytes) -> int:
    crc = zlib.crc32(piece)
    return zlib.crc32(tail, crc) if tail else crc


SnapshotItem = Union[dict[str, Any], ColumnReader]  # noqa: UP007 (a runtime alias)


def write_snapshot(
    path: str, generation: int, items: Iterable[dict[str, Any] | ColumnBlock]
) -> tuple[int, list[Placement]]:
    """Write ``items`` as the snapshot of ``generation`` to ``path`` (a new file) and fsync it; returns its
    size and where its aligned columns went."""
    packer = msgpack.Packer(use_bin_type=True)
    count = 0
    placed: list[Placement] = []
    with open(path, "wb", buffering=_BUFFER) as f:
        f.write(framing.encode_header(framing.KIND_SNAPSHOT, generation))
        for item in items:
            if isinstance(item, ColumnBlock):
                _write_block(f, packer, item, placed)
            elif isinstance(item, dict):
                _write_record(f, packer.pack(item))
            else:
                raise InvalidInput(f"a storage record must be a dict, not {type(item).__name__}")
            count += 1
        f.write(framing.encode_trailer(count))
        f.flush()
        os.fsync(f.fileno())
        return f.tell(), placed


def _write_record(f: IO[bytes], body: bytes) -> None:
    if len(body) > framing.MAX_BODY:
        # Not the user's input: the engine cuts snapshot records by bytes (snapshot_record_bytes).
        raise QdrantLocalError(f"a snapshot record is limited to {framing.MAX_BODY} bytes, got {len(body)}")
    f.write(framing.encode_frame_header(body))
    f.write(body)


def _write_block(f: IO[bytes], packer: msgpack.Packer, block: ColumnBlock, placed: list[Placement]) -> None:
    entries = [[c.name, c.nbytes, ALIGNMENT] if c.aligned else [c.name, c.nbytes] for c in block.columns]
    _write_record(f, packer.pack({BLOCK_KEY: entries, "meta": block.meta}))
    for column in block.columns:
        if column.aligned:
            offset, length = _write_aligned(f, packer, column)
            placed.append(Placement(block.meta, column.name, column.nbytes, offset, length))
        else:
            _write_framed(f, column)


def _write_framed(f: IO[bytes], column: Column) -> None:
    step = min(COLUMN_FRAME_BYTES, framing.MAX_BODY)
    written = 0
    for part in column.parts:
        view = memoryview(part).cast("B")  # raises for a buffer that is not C-contiguous
        for start in range(0, view.nbytes, step):
            piece = view[start : start + step]
            f.write(framing.encode_frame_header(piece))
            f.write(piece)
        written += view.nbytes
    _check_written(column, written)


def _write_aligned(f: IO[bytes], packer: msgpack.Packer, column: Column) -> tuple[int, int]:
    """Write an aligned column (zeros up to ALIGNMENT, its bytes, zeros up to ALIGNMENT, its CRC frame);
    returns (offset, padded length) of its bytes."""
    gap = f.tell()
    offset = _aligned(gap, ALIGNMENT)
    f.write(bytes(offset - gap))
    crcs = _ChunkCrcs(COLUMN_FRAME_BYTES)
    written = 0
    for part in column.parts:
        view = memoryview(part).cast("B")  # raises for a buffer that is not C-contiguous
        f.write(view)
        crcs.add(view)
        written += view.nbytes
    _check_written(column, written)
    length = _aligned(written, ALIGNMENT)
    padding = bytes(length - written)
    f.write(padding)
    crcs.add(memoryview(padding))
    _write_record(f, packer.pack({"chunk": COLUMN_FRAME_BYTES, "crc32": crcs.finish()}))
    return offset, length


def _check_written(column: Column, written: int) -> None:
    if written != column.nbytes:
        raise QdrantLocalError(f"column {column.name!r} declared {column.nbytes} bytes but gave {written}")


class _ChunkCrcs:
    """The CRC32 of each ``chunk``-byte piece of a stream given in parts of any size."""

    def __init__(self, chunk: int) -> None:
        self._chunk, self._crc, self._filled = chunk, 0, 0
        self._done: list[int] = []

    def add(self, data: memoryview) -> None:
        pos = 0
        while pos < len(data):
            take = min(self._chunk - self._filled, len(data) - pos)
            self._crc = zlib.crc32(data[pos : pos + take], self._crc)
            self._filled += take
            pos += take
            if self._filled == self._chunk:
                self._done.append(self._crc)
                self._crc, self._filled = 0, 0

    def finish(self) -> list[int]:
        if self._filled:
            self._done.append(self._crc)
            self._crc, self._filled = 0, 0
        return self._done


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
