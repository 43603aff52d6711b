"""Column blocks in snapshots (storage formats 3 and 4): written beside records, read back straight into
the caller's buffers (or, for an aligned column, mapped), every frame and chunk checked, and damage
anywhere reported with file and offset."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qdrant_local.errors import QdrantLocalError, StorageCorrupted
from qdrant_local.storage import DiskStorage, framing, snapshot
from qdrant_local.storage.snapshot import Column, ColumnBlock, ColumnReader

from .helpers import open_loaded

MATRIX = np.arange(40 * 8, dtype=np.float32).reshape(40, 8)


def _block() -> ColumnBlock:
    return ColumnBlock(
        {"what": "test", "rows": len(MATRIX)},
        [
            Column("small", 5, [b"hello"]),
            Column("empty", 0, []),
            Column("matrix", MATRIX.nbytes, [MATRIX[:15], MATRIX[15:]]),  # two parts, any frame cuts
        ],
    )


def _compacted(folder: Path, frame_bytes: int = 100) -> Path:
    """A generation-1 snapshot holding a record, a block (columns cut into frames of ``frame_bytes``) and a
    record."""
    saved = snapshot.COLUMN_FRAME_BYTES
    snapshot.COLUMN_FRAME_BYTES = frame_bytes
    try:
        storage, _ = open_loaded(folder)
        storage.compact(iter([{"before": 1}, _block(), {"after": 2}]))
        storage.close()
    finally:
        snapshot.COLUMN_FRAME_BYTES = saved
    return folder / "00000001.snapshot"


def _load(folder: Path, read: Any) -> list[Any]:
    """Open ``folder`` and load it, calling ``read(block)`` on each column block; returns the items."""
    storage = DiskStorage(folder)
    try:
        items = []
        for item in storage.load():
            items.append(read(item) if isinstance(item, ColumnReader) else item)
        return items
    finally:
        storage.close()


def test_a_block_round_trips_into_the_callers_buffer(folder: Path) -> None:
    _compacted(folder)
    target = np.zeros_like(MATRIX)

    def read(block: ColumnReader) -> Any:
        assert block.meta == {"what": "test", "rows": 40}
        assert block.sizes == {"small": 5, "empty": 0, "matrix": MATRIX.nbytes}
        small = bytes(block.read("small"))
        assert bytes(block.read("empty")) == b""
        block.read("matrix", out=target)  # cut into 13 frames, read into place frame by frame
        return small

    assert _load(folder, read) == [{"before": 1}, b"hello", {"after": 2}]
    np.testing.assert_array_equal(target, MATRIX)


def test_columns_left_unread_are_still_checked(folder: Path) -> None:
    path = _compacted(folder)
    assert _load(folder, lambda block: None) == [{"before": 1}, None, {"after": 2}]
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x01  # inside the last frames of the matrix column
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorrupted) as info:
        _load(folder, lambda block: bytes(block.read("small")))
    assert "column 'matrix'" in str(info.value) and str(path) in str(info.value)


def test_columns_are_read_in_file_order(folder: Path) -> None:
    _compacted(folder)

    def read(block: ColumnReader) -> None:
        with pytest.raises(KeyError):
            block.read("missing")
        with pytest.raises(ValueError, match="holds 5 bytes"):
            block.read("small", out=bytearray(3))

    _load(folder, read)

    def read_backwards(block: ColumnReader) -> None:
        block.read("matrix")
        with pytest.raises(QdrantLocalError, match="file order"):
            block.read("small")

    _load(folder, read_backwards)


@pytest.mark.parametrize("checked_behind", [False, True], ids=["frame by frame", "CRC on a helper thread"])
def test_damage_at_any_byte_of_a_block_snapshot_is_an_error(
    folder: Path, monkeypatch: pytest.MonkeyPatch, checked_behind: bool
) -> None:
    """The first damaged frame is the one reported, also when CRCs are checked one frame behind the reads."""
    path = _compacted(folder, frame_bytes=512)
    if checked_behind:
        monkeypatch.setattr(snapshot, "COLUMN_FRAME_BYTES", 512)  # the matrix column spans 3 frames: pipelined
    original = path.read_bytes()
    for pos in range(len(original)):
        damaged = bytearray(original)
        damaged[pos] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(StorageCorrupted) as info:
            _load(folder, lambda block: block.read("matrix", out=np.zeros_like(MATRIX)))
        assert info.value.file == str(path), pos
        assert info.value.offset is not None and info.value.offset <= pos, pos


def test_a_block_snapshot_cut_at_any_length_is_an_error(folder: Path) -> None:
    path = _compacted(folder, frame_bytes=512)
    original = path.read_bytes()
    for size in range(len(original)):
        path.write_bytes(original[:size])
        with pytest.raises(StorageCorrupted) as info:
            _load(folder, lambda block: None)
        assert info.value.file == str(path), size


def test_a_column_that_gives_fewer_bytes_than_declared_aborts_the_compaction(folder: Path) -> None:
    storage, _ = open_loaded(folder)
    storage.compact(iter([{"old": 1}]))
    with pytest.raises(QdrantLocalError, match="declared 10 bytes but gave 5"):
        storage.compact(iter([ColumnBlock({}, [Column("short", 10, [b"12345"])])]))
    storage.append({"still": "usable"})
    storage.close()
    assert _load(folder, lambda block: None) == [{"old": 1}, {"still": "usable"}]


# -- aligned columns (format 4) -------------------------------------------------------------------


def _aligned_block() -> ColumnBlock:
    return ColumnBlock(
        {"what": "aligned"},
        [
            Column("small", 5, [b"hello"]),
            Column("matrix", MATRIX.nbytes, [MATRIX[:15], MATRIX[15:]], aligned=True),
            Column("after", 3, [b"end"]),
        ],
    )


def _compacted_aligned(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, snapshot.Placement]:
    """A snapshot whose "matrix" column is aligned to 4 KiB and checked in chunks of 512 bytes."""
    monkeypatch.setattr(snapshot, "ALIGNMENT", 4096)
    monkeypatch.setattr(snapshot, "COLUMN_FRAME_BYTES", 512)
    storage, _ = open_loaded(folder)
    storage.compact(iter([{"before": 1}, _aligned_block(), {"after": 2}]))
    (placement,) = storage.placed
    storage.close()
    return folder / "00000001.snapshot", placement


def _mapper(calls: list[tuple[int, int]]) -> Any:
    def map_into(fd: int, offset: int, length: int) -> memoryview:
        calls.append((offset, length))
        return memoryview(mmap.mmap(fd, length, offset=offset, access=mmap.ACCESS_COPY))

    return map_into


@pytest.mark.parametrize("how", ["mapped", "into a buffer", "new buffer"])
def test_an_aligned_column_round_trips_mapped_or_read(folder: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    path, placement = _compacted_aligned(folder, monkeypatch)
    assert placement.offset % 4096 == 0 and placement.length == 4096 * -(-MATRIX.nbytes // 4096)
    data = path.read_bytes()
    assert data[placement.offset : placement.offset + MATRIX.nbytes] == MATRIX.tobytes()  # raw, contiguous
    calls: list[tuple[int, int]] = []

    def read(block: ColumnReader) -> Any:
        assert block.sizes == {"small": 5, "matrix": MATRIX.nbytes, "after": 3}
        small = bytes(block.read("small"))
        if how == "mapped":
            got = np.frombuffer(block.read("matrix", map_into=_mapper(calls)), dtype=np.float32)
        elif how == "into a buffer":
            got = np.zeros_like(MATRIX)
            block.read("matrix", out=got, map_into=lambda fd, offset, length: None)  # cannot map: read
        else:
            got = np.frombuffer(block.read("matrix"), dtype=np.float32)
        np.testing.assert_array_equal(got.reshape(MATRIX.shape), MATRIX)
        return small + bytes(block.read("after"))

    assert _load(folder, read) == [{"before": 1}, b"helloend", {"after": 2}]
    assert calls == ([(placement.offset, placement.length)] if how == "mapped" else [])


@pytest.mark.parametrize("how", ["mapped", "read", "skipped"])
def test_damage_at_any_byte_of_an_aligned_block_is_an_error(
    folder: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    path, placement = _compacted_aligned(folder, monkeypatch)
    original = path.read_bytes()

    def read(block: ColumnReader) -> None:
        if how == "mapped":
            block.read("matrix", map_into=_mapper([]))
        elif how == "read":
            block.read("matrix", out=np.zeros_like(MATRIX))

    for pos in range(framing.HEADER_SIZE, len(original), 11):
        damaged = bytearray(original)
        damaged[pos] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(StorageCorrupted) as info:
            _load(folder, read)
        assert info.value.file == str(path), pos
        assert info.value.offset is not None and info.value.offset <= pos, pos
        if placement.offset <= pos < placement.offset + placement.length:  # names the column and its chunk
            assert info.value.offset == placement.offset + (pos - placement.offset) // 512 * 512, pos
            assert "column 'matrix'" in str(info.value), pos


def test_an_aligned_block_snapshot_cut_at_any_length_is_an_error(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = _compacted_aligned(folder, monkeypatch)
    original = path.read_bytes()
    for size in range(0, len(original), 13):
        path.write_bytes(original[:size])
        with pytest.raises(StorageCorrupted) as info:
            _load(folder, lambda block: block.read("matrix", map_into=lambda fd, offset, length: None))
        assert info.value.file == str(path), size
