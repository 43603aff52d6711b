"""Column blocks in snapshots (storage format 3): written beside records, read back straight into the
caller's buffers, every frame checked, and damage anywhere reported with file and offset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qdrant_local.errors import QdrantLocalError, StorageCorrupted
from qdrant_local.storage import DiskStorage, snapshot
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
