"""Byte format of the log and snapshot files: a fixed header, then CRC-checked frames.

File layout (all integers little-endian)::

    header   24 bytes   magic b"\\x89QDLOCAL" | u16 format version | u8 kind | u8 0 | u64 generation
                        | u32 crc32 of the previous 20 bytes
    frame    8+N bytes  u32 N (body length, 1 <= N <= MAX_BODY) | u32 crc32(body) | body = msgpack map
    ...
    trailer  16 bytes   snapshots only: u32 0 | u32 crc32(count bytes) | u64 record count

A header is fully determined by (version, kind, generation), so a reader can tell a *torn* header (a
prefix of the expected bytes, written by a crash) from a *damaged* one. A zero length can never start a
record frame (a msgpack map is at least one byte), which is why it marks the snapshot trailer.

Bodies are packed with ``use_bin_type=True`` and unpacked with ``raw=False, strict_map_key=False``;
no pickle anywhere, so a storage file can never run code when it is read.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import msgpack
import numpy as np

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "KIND_LOG",
    "KIND_SNAPSHOT",
    "HEADER_SIZE",
    "FRAME_HEADER_SIZE",
    "TRAILER_SIZE",
    "MAX_BODY",
    "HeaderError",
    "FrameError",
    "encode_header",
    "check_header",
    "encode_frame_header",
    "encode_trailer",
    "read_frame",
    "read_trailer",
    "unpack_record",
    "find_whole_frame",
]

MAGIC = b"\x89QDLOCAL"
FORMAT_VERSION = 1
KIND_LOG = 1
KIND_SNAPSHOT = 2
_KIND_NAMES = {KIND_LOG: "log", KIND_SNAPSHOT: "snapshot"}

_HEADER_BODY = struct.Struct("<8sHBBQ")
_U32 = struct.Struct("<I")
_FRAME = struct.Struct("<II")
_COUNT = struct.Struct("<Q")
HEADER_SIZE = _HEADER_BODY.size + _U32.size  # 24
FRAME_HEADER_SIZE = _FRAME.size  # 8
TRAILER_SIZE = _FRAME.size + _COUNT.size  # 16
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
    """The frame at ``offset`` is not whole: cut short, CRC mismatch, or an impossible length."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def encode_header(kind: int, generation: int, version: int = FORMAT_VERSION) -> bytes:
    """The 24 header bytes of a file of ``kind`` for ``generation``."""
    body = _HEADER_BODY.pack(MAGIC, version, kind, 0, generation)
    return body + _U32.pack(zlib.crc32(body))


def check_header(data: bytes, kind: int, generation: int) -> None:
    """Verify that ``data`` (the first HEADER_SIZE bytes of a file, or fewer) is the expected header.

    Raises HeaderError with ``torn=True`` when ``data`` is a strict prefix of the expected header (a
    file cut short while its header was written) and ``torn=False`` for any other mismatch, with a
    reason that names what is wrong: not our file, an unsupported format version, the wrong kind or
    generation, or a header checksum mismatch.
    """
    expected = encode_header(kind, generation)
    if data == expected:
        return
    if len(data) < HEADER_SIZE:
        if expected.startswith(data):
            return _raise_header(f"header cut short after {len(data)} of {HEADER_SIZE} bytes", torn=True)
        return _raise_header(f"header cut short after {len(data)} of {HEADER_SIZE} bytes and damaged", torn=False)
    magic, version, got_kind, _zero, got_generation = _HEADER_BODY.unpack_from(data)
    if magic != MAGIC:
        _raise_header(f"not a qdrant_local storage file (magic bytes {magic!r})", torn=False)
    (crc,) = _U32.unpack_from(data, _HEADER_BODY.size)
    if crc != zlib.crc32(data[: _HEADER_BODY.size]):
        _raise_header("header checksum mismatch", torn=False)
    if version != FORMAT_VERSION:
        _raise_header(
            f"unsupported storage format version {version} (this qdrant_local reads version {FORMAT_VERSION}; "
            "a newer qdrant_local probably wrote it)",
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


def _raise_header(reason: str, *, torn: bool) -> None:
    raise HeaderError(reason, torn=torn)


def encode_frame_header(body: bytes | memoryview) -> bytes:
    """The 8 bytes that precede ``body`` in a file: its length and CRC32."""
    return _FRAME.pack(len(body), zlib.crc32(body))


def encode_trailer(count: int) -> bytes:
    """The end-of-snapshot marker carrying the number of records it holds."""
    count_bytes = _COUNT.pack(count)
    return _FRAME.pack(0, zlib.crc32(count_bytes)) + count_bytes


def read_frame(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    """Locate the whole frame at ``pos``: returns (body_start, body_end), or raises FrameError.

    A zero length is reported as FrameError too; snapshot readers check for the trailer first.
    """
    if end - pos < FRAME_HEADER_SIZE:
        raise FrameError(pos, f"frame header cut short ({end - pos} of {FRAME_HEADER_SIZE} bytes)")
    length, crc = _FRAME.unpack_from(buf, pos)
    if length == 0 or length > MAX_BODY:
        raise FrameError(pos, f"impossible record length {length}")
    body_start = pos + FRAME_HEADER_SIZE
    body_end = body_start + length
    if body_end > end:
        raise FrameError(pos, f"record of {length} bytes cut short after {end - body_start} bytes")
    if zlib.crc32(buf[body_start:body_end]) != crc:
        raise FrameError(pos, "record checksum (CRC32) mismatch")
    return body_start, body_end


def read_trailer(buf: memoryview, pos: int, end: int) -> int | None:
    """The record count if a valid snapshot trailer ends the file exactly at ``pos``; else None."""
    if end - pos != TRAILER_SIZE:
        return None
    length, crc = _FRAME.unpack_from(buf, pos)
    count_bytes = bytes(buf[pos + FRAME_HEADER_SIZE : end])
    if length != 0 or crc != zlib.crc32(count_bytes):
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


def find_whole_frame(buf: memoryview, start: int, end: int) -> int | None:
    """Offset of the first byte position in [start, end) where a whole record frame begins, or None.

    Used to tell a torn tail (nothing valid after the damage) from damage in the middle of a file. Every
    position is a candidate, so the cheap tests (length fits, body starts like a msgpack map) are done
    with numpy for a window of positions at a time (bounded memory however large the file), and the CRC
    only for the few survivors, in file order.
    """
    last = end - FRAME_HEADER_SIZE  # a frame must start before this (it has at least one body byte)
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
        candidates = positions[(lengths > 0) & (positions + FRAME_HEADER_SIZE + lengths <= end)]
        if candidates.size == 0:
            continue
        candidates = candidates[np.isin(raw[candidates + FRAME_HEADER_SIZE], _MAP_FIRST_BYTES_ARRAY)]
        for pos in candidates.tolist():
            try:
                read_frame(buf, pos, end)
            except FrameError:
                continue
            return pos
    return None
