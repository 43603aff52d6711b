"""Byte format of the log and snapshot files: a fixed header, then CRC-checked frames.

File layout, format version 4 (all integers little-endian)::

    header   24 bytes    magic b"\\x89QDLOCAL" | u16 format version | u8 kind | u8 0 | u64 generation
                         | u32 crc32 of the previous 20 bytes
    frame    12+N bytes  u32 N (body length, 1 <= N <= MAX_BODY) | u32 crc32(body)
                         | u32 crc32 of the previous 8 bytes (the frame header's own checksum)
                         | body = msgpack map
    ...
    trailer  20 bytes    snapshots only: u32 0 | u32 crc32(count bytes) | u32 crc32 of the previous 8 bytes
                         | u64 record count

The frame header's own checksum makes a frame's declared extent trustworthy: a reader that finds a frame
whose header is intact but whose body runs past the end of the file knows the bytes after it are the rest
of that one record, cut short by a crash, whatever they contain (raw float32 vector bytes can themselves
look like a whole frame). Only a frame header that is itself damaged leaves the reader to search for what
follows (see ``DiskStorage``'s docstring for the recovery rules).

Format version 3 frames are those of version 2; what changed is the content of snapshots, which may
hold column blocks (a descriptor record, then the raw bytes of each column in frames of their own, see
``storage/snapshot.py``). Format version 4 adds *aligned* columns to column blocks: raw bytes at an
offset aligned to 64 KiB, padded to the next such boundary and followed by a frame of their CRCs, so
that a reader can map them (a dense vector matrix is then the page cache's copy of the file). Logs are
the same in versions 2, 3 and 4. Format version 1 (qdrant_local before issue 8) had 8-byte frame headers
(length and body CRC only) and a 16-byte trailer. Versions 1 and 2 are still read; a folder in an older
format is rewritten in the current one by a compaction as soon as a writer opens it. A version above
FORMAT_VERSION is refused with a clear error.

A header is fully determined by (version, kind, generation), so a reader can tell a *torn* header (a
prefix of the expected bytes, written by a crash) from a *damaged* one. A zero length can never start a
record frame (a msgpack map is at least one byte), which is why it marks the snapshot trailer.

Bodies are packed with ``use_bin_type=True`` and unpacked with ``raw=False, strict_map_key=False``;
no pickle anywhere, so a storage file can never run code when it is read.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, NoReturn

import msgpack
import numpy as np

__all__ = [
    "FORMAT_VERSION",
    "FRAME_HEADER_SIZE",
    "HEADER_SIZE",
    "KIND_LOG",
    "KIND_SNAPSHOT",
    "MAGIC",
    "MAX_BODY",
    "READABLE_VERSIONS",
    "TRAILER_SIZE",
    "FrameError",
    "HeaderError",
    "check_header",
    "check_trailer",
    "decode_frame_header",
    "encode_frame_header",
    "encode_header",
    "encode_trailer",
    "find_whole_frame",
    "frame_header_size",
    "is_trailer_start",
    "read_frame",
    "read_trailer",
    "trailer_size",
    "unpack_record",
]

MAGIC = b"\x89QDLOCAL"
FORMAT_VERSION = 4
#: Versions this code reads (older ones are rewritten in the current version by the first compaction).
READABLE_VERSIONS = (1, 2, 3, 4)
KIND_LOG = 1
KIND_SNAPSHOT = 2
_KIND_NAMES = {KIND_LOG: "log", KIND_SNAPSHOT: "snapshot"}

_HEADER_BODY = struct.Struct("<8sHBBQ")
_U32 = struct.Struct("<I")
_FRAME = struct.Struct("<II")
_COUNT = struct.Struct("<Q")
HEADER_SIZE = _HEADER_BODY.size + _U32.size  # 24
_FRAME_V2 = struct.Struct("<III")
FRAME_HEADER_SIZE = _FRAME_V2.size  # 12
TRAILER_SIZE = FRAME_HEADER_SIZE + _COUNT.size  # 20
# One record may hold at most 1 GiB; a larger length field is damage, not data (and keeps a flipped
# high bit in a length from being mistaken for a huge torn record).
MAX_BODY = 1 << 30

# First byte of a msgpack map: fixmap 0x80-0x8f, map16 0xde, map32 0xdf. Every record is a map.
_MAP_FIRST_BYTES_ARRAY = np.array([*range(0x80, 0x90), 0xDE, 0xDF], dtype=np.uint8)
# Positions examined per numpy pass of find_whole_frame (about 40 MB of temporaries).
_SCAN_WINDOW = 1 << 20


class HeaderError(Exception):
    """A header is not the expected one; ``torn`` says whether it is a prefix of it (a crash mid-write)."""

    def __init__(self, reason: str, *, torn: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.torn = torn


class FrameError(Exception):
    """The frame at ``offset`` is not whole: cut short, CRC mismatch, or an impossible length.

    ``kind`` says what the reader can trust (format 2; format 1 frames only ever say "header"):

    * ``"cut"``: the frame header is whole and intact, or cut short by the end of the file, and its body
      runs past the end of the file: the frame is the last one, torn by a crash;
    * ``"body"``: the header is intact and the frame lies inside the file, but the body's CRC fails;
      ``end`` is where the next frame starts;
    * ``"header"``: the frame header itself is damaged (or format 1, which has no header checksum): its
      length cannot be trusted, so where the next frame starts is unknown;
    * ``"invalid"``: an intact header declares an impossible length: never a crash artefact.
    """

    def __init__(self, offset: int, reason: str, kind: str = "header", end: int | None = None) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason
        self.kind = kind
        self.end = end


def encode_header(kind: int, generation: int, version: int = FORMAT_VERSION) -> bytes:
    """The 24 header bytes of a file of ``kind`` for ``generation``."""
    body = _HEADER_BODY.pack(MAGIC, version, kind, 0, generation)
    return body + _U32.pack(zlib.crc32(body))


def check_header(data: bytes, kind: int, generation: int) -> int:
    """Verify that ``data`` (the first HEADER_SIZE bytes of a file, or fewer) is the expected header;
    returns the file's format version (one of READABLE_VERSIONS).

    Raises HeaderError with ``torn=True`` when ``data`` is a strict prefix of the expected header (a
    file cut short while its header was written) and ``torn=False`` for any other mismatch, with a
    reason that names what is wrong: not our file, an unsupported format version, the wrong kind or
    generation, or a header checksum mismatch.
    """
    for version in READABLE_VERSIONS:
        if data == encode_header(kind, generation, version):
            return version
    expected = encode_header(kind, generation)
    if len(data) < HEADER_SIZE:
        if expected.startswith(data):
            _raise_header(f"header cut short after {len(data)} of {HEADER_SIZE} bytes", torn=True)
        _raise_header(f"header cut short after {len(data)} of {HEADER_SIZE} bytes and damaged", torn=False)
    magic, version, got_kind, _zero, got_generation = _HEADER_BODY.unpack_from(data)
    if magic != MAGIC:
        _raise_header(f"not a qdrant_local storage file (magic bytes {magic!r})", torn=False)
    (crc,) = _U32.unpack_from(data, _HEADER_BODY.size)
    if crc != zlib.crc32(data[: _HEADER_BODY.size]):
        _raise_header("header checksum mismatch", torn=False)
    if version not in READABLE_VERSIONS:
        _raise_header(
            f"unsupported storage format version {version} (this qdrant_local reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}; a newer qdrant_local probably wrote it)",
            torn=False,
        )
    if got_kind != kind:
        _raise_header(
            f"file is a {_KIND_NAMES.get(got_kind, f'kind-{got_kind}')} but its name says {_KIND_NAMES[kind]}",
            torn=False,
        )
    if got_generation != generation:
        _raise_header(f"header says generation {got_generation} but the file name says {generation}", torn=False)
    _raise_header("reserved header byte is not zero", torn=False)
    raise AssertionError("unreachable")


def _raise_header(reason: str, *, torn: bool) -> NoReturn:
    raise HeaderError(reason, torn=torn)


def frame_header_size(version: int = FORMAT_VERSION) -> int:
    """Bytes before a frame's body in a file of format ``version``."""
    return FRAME_HEADER_SIZE if version >= 2 else _FRAME.size


def trailer_size(version: int = FORMAT_VERSION) -> int:
    """Bytes of the snapshot trailer in a file of format ``version``."""
    return frame_header_size(version) + _COUNT.size


def _frame_header(length: int, crc: int, version: int) -> bytes:
    head = _FRAME.pack(length, crc)
    return head + _U32.pack(zlib.crc32(head)) if version >= 2 else head


def encode_frame_header(body: bytes | memoryview, version: int = FORMAT_VERSION) -> bytes:
    """The bytes that precede ``body`` in a file: its length, its CRC32 and (format 2) their own CRC32."""
    return _frame_header(len(body), zlib.crc32(body), version)


def encode_trailer(count: int, version: int = FORMAT_VERSION) -> bytes:
    """The end-of-snapshot marker carrying the number of records it holds."""
    count_bytes = _COUNT.pack(count)
    return _frame_header(0, zlib.crc32(count_bytes), version) + count_bytes


def decode_frame_header(head: bytes, pos: int, version: int = FORMAT_VERSION) -> tuple[int, int]:
    """(body length, body CRC32) from the whole frame header ``head`` found at file offset ``pos``.

    A zero length (the snapshot trailer) is returned as is; a damaged header or a length above
    MAX_BODY raises FrameError.
    """
    length, crc = _FRAME.unpack_from(head)
    if version >= 2 and _U32.unpack_from(head, 8)[0] != zlib.crc32(head[:8]):
        raise FrameError(pos, "frame header checksum mismatch", "header")
    if length > MAX_BODY:
        raise FrameError(pos, f"impossible record length {length}", "invalid" if version >= 2 else "header")
    return length, crc


def check_trailer(data: bytes, version: int = FORMAT_VERSION) -> int | None:
    """The record count if ``data`` is exactly a valid snapshot trailer; else None."""
    return read_trailer(memoryview(data), 0, len(data), version)


def read_frame(buf: memoryview, pos: int, end: int, version: int = FORMAT_VERSION) -> tuple[int, int]:
    """Locate the whole frame at ``pos``: returns (body_start, body_end), or raises FrameError.

    A zero length is reported as FrameError too; snapshot readers check for the trailer first.
    """
    head_size = frame_header_size(version)
    if end - pos < head_size:
        raise FrameError(pos, f"frame header cut short ({end - pos} of {head_size} bytes)", "cut")
    length, crc = _FRAME.unpack_from(buf, pos)
    trusted = version >= 2
    if trusted and _U32.unpack_from(buf, pos + 8)[0] != zlib.crc32(buf[pos : pos + 8]):
        raise FrameError(pos, "frame header checksum mismatch", "header")
    if length == 0 or length > MAX_BODY:
        raise FrameError(pos, f"impossible record length {length}", "invalid" if trusted else "header")
    body_start = pos + head_size
    body_end = body_start + length
    if body_end > end:
        raise FrameError(
            pos, f"record of {length} bytes cut short after {end - body_start} bytes", "cut" if trusted else "header"
        )
    if zlib.crc32(buf[body_start:body_end]) != crc:
        raise FrameError(pos, "record checksum (CRC32) mismatch", "body" if trusted else "header", body_end)
    return body_start, body_end


def is_trailer_start(buf: memoryview, pos: int, end: int, version: int = FORMAT_VERSION) -> bool:
    """Whether the bytes at ``pos`` begin like a snapshot trailer (a zero length)."""
    return end - pos >= frame_header_size(version) and bytes(buf[pos : pos + 4]) == b"\0\0\0\0"


def read_trailer(buf: memoryview, pos: int, end: int, version: int = FORMAT_VERSION) -> int | None:
    """The record count if a valid snapshot trailer ends the file exactly at ``pos``; else None."""
    size = trailer_size(version)
    if end - pos != size:
        return None
    count_bytes = bytes(buf[end - _COUNT.size : end])
    expected = _frame_header(0, zlib.crc32(count_bytes), version)
    if bytes(buf[pos : end - _COUNT.size]) != expected:
        return None
    return _COUNT.unpack(count_bytes)[0]


def unpack_record(body: memoryview, offset: int) -> dict[str, Any]:
    """Decode one CRC-checked body; a body that is not a msgpack map is a FrameError at ``offset``."""
    try:
        record = msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types (ValueError, ExtraData, FormatError...)
        raise FrameError(offset, f"record does not decode as msgpack ({exc})") from None
    if not isinstance(record, dict):
        raise FrameError(offset, f"record is a {type(record).__name__}, not a map")
    return record


def find_whole_frame(buf: memoryview, start: int, end: int, version: int = FORMAT_VERSION) -> int | None:
    """Offset of the first byte position in [start, end) where a whole record frame begins, or None.

    Used to tell damage in the middle of a log from a damaged tail when a frame header cannot be trusted.
    Every position is a candidate, so the cheap tests (length fits, body starts like a msgpack map) are
    done with numpy for a window of positions at a time (bounded memory however large the file), and the
    checksums only for the few survivors, in file order.
    """
    head_size = frame_header_size(version)
    last = end - head_size  # a frame must start before this (it has at least one body byte)
    if last <= start:
        return None
    raw = np.frombuffer(buf, dtype=np.uint8)  # a view of the map, no copy
    for window in range(start, last, _SCAN_WINDOW):
        stop = min(window + _SCAN_WINDOW, last)
        positions = np.arange(window, stop, dtype=np.int64)
        lengths = (
            raw[window:stop].astype(np.int64)
            | (raw[window + 1 : stop + 1].astype(np.int64) << 8)
            | (raw[window + 2 : stop + 2].astype(np.int64) << 16)
            | (raw[window + 3 : stop + 3].astype(np.int64) << 24)
        )
        candidates = positions[(lengths > 0) & (positions + head_size + lengths <= end)]
        if candidates.size == 0:
            continue
        candidates = candidates[np.isin(raw[candidates + head_size], _MAP_FIRST_BYTES_ARRAY)]
        for pos in candidates.tolist():
            try:
                read_frame(buf, pos, end, version)
            except FrameError:
                continue
            return pos
    return None
