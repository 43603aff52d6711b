"""Damaged files: torn tails recover with a warning and a truncation, everything else is a clear error."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from qdrant_local.errors import StorageCorrupted, StorageRecoveredWarning
from qdrant_local.storage import DiskStorage, framing

from .helpers import frame_offsets, open_loaded, read_all, storage_files, write_records

RECORDS = [{"op": "upsert", "id": 1, "v": b"\x01" * 12}, {"op": "delete", "id": 2}, {"op": "set", "p": {"k": "é"}}]


@pytest.fixture
def log3(folder: Path) -> Path:
    """A generation-0 log holding RECORDS; returns the log file."""
    write_records(folder, RECORDS)
    return folder / "00000000.log"


def _open_expecting_recovery(folder: Path) -> tuple[DiskStorage, list[dict], list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        storage, records = open_loaded(folder)
    return storage, records, [w for w in caught if issubclass(w.category, StorageRecoveredWarning)]


def _corrupted(folder: Path) -> StorageCorrupted:
    """Open and load ``folder``, expecting StorageCorrupted; checks that records before it were a prefix."""
    seen = []
    with pytest.raises(StorageCorrupted) as info:
        storage = DiskStorage(folder)  # header damage is found here, frame damage in load()
        try:
            for record in storage.load():
                seen.append(record)
        finally:
            storage.close()
    assert seen == RECORDS[: len(seen)]
    return info.value


def test_torn_tail_at_every_byte_of_the_last_record_recovers_and_truncates(folder: Path, log3: Path) -> None:
    original = log3.read_bytes()
    last = frame_offsets(log3)[-2]
    for cut in range(last, len(original)):
        log3.write_bytes(original[:cut])
        storage, records, caught = _open_expecting_recovery(folder)
        if cut == last:
            assert caught == []  # a file that ends on a frame boundary is whole
        else:
            assert len(caught) == 1, cut
            assert f"offset {last}" in str(caught[0].message) and str(log3) in str(caught[0].message)
        assert records == RECORDS[:2]
        assert log3.stat().st_size == last == storage.log_bytes
        storage.append({"after": cut})  # appends land right after the last whole record
        storage.close()
        assert read_all(folder) == RECORDS[:2] + [{"after": cut}]


def test_flipped_byte_anywhere_in_the_last_record_drops_only_it(folder: Path, log3: Path) -> None:
    original = log3.read_bytes()
    last = frame_offsets(log3)[-2]
    for pos in range(last, len(original)):
        for mask in (0x01, 0x80, 0xFF):
            damaged = bytearray(original)
            damaged[pos] ^= mask
            log3.write_bytes(bytes(damaged))
            storage, records, caught = _open_expecting_recovery(folder)
            storage.close()
            assert len(caught) == 1 and records == RECORDS[:2], (pos, mask)
            assert log3.stat().st_size == last


def test_flipped_byte_before_the_last_record_is_an_error_naming_file_and_offset(folder: Path, log3: Path) -> None:
    original = log3.read_bytes()
    offsets = frame_offsets(log3)
    for index in (0, 1):
        for pos in range(offsets[index], offsets[index + 1]):
            damaged = bytearray(original)
            damaged[pos] ^= 0x10
            log3.write_bytes(bytes(damaged))
            error = _corrupted(folder)
            assert error.file == str(log3) and error.offset == offsets[index], (index, pos)
            assert f"{log3} at byte offset {offsets[index]}" in str(error)
            assert log3.read_bytes() == bytes(damaged)  # an error never rewrites the file


def test_garbage_after_the_last_record_is_a_torn_tail(folder: Path, log3: Path) -> None:
    size = log3.stat().st_size
    for garbage in (b"\x00" * 4096, b"\xff" * 9, os.urandom(1000), b"\x05\x00\x00\x00junkjunk"):
        with open(log3, "ab") as f:
            f.write(garbage)
        storage, records, caught = _open_expecting_recovery(folder)
        storage.close()
        assert records == RECORDS and len(caught) == 1 and log3.stat().st_size == size


def test_garbage_between_records_is_an_error(folder: Path, log3: Path) -> None:
    offsets = frame_offsets(log3)
    data = log3.read_bytes()
    log3.write_bytes(data[: offsets[1]] + b"\x00" * 100 + data[offsets[1] :])
    error = _corrupted(folder)
    assert error.offset == offsets[1] and "whole record follows" in str(error)


def test_valid_crc_but_not_a_map_is_an_error_even_at_the_tail(folder: Path, log3: Path) -> None:
    body = b"\x93\x01\x02\x03"  # msgpack [1, 2, 3]: whole frame, wrong shape
    size = log3.stat().st_size
    with open(log3, "ab") as f:
        f.write(framing.encode_frame_header(body) + body)
    error = _corrupted(folder)
    assert error.offset == size and "not a map" in str(error)


@pytest.mark.parametrize("size", range(0, framing.HEADER_SIZE))
def test_zero_length_or_torn_header_of_the_log_is_rewritten(folder: Path, size: int) -> None:
    write_records(folder, [])
    log = folder / "00000000.log"
    log.write_bytes(log.read_bytes()[:size])
    storage, records, caught = _open_expecting_recovery(folder)
    assert records == [] and len(caught) == 1
    storage.append({"x": 1})
    storage.close()
    assert read_all(folder) == [{"x": 1}]


@pytest.mark.parametrize("pos", range(framing.HEADER_SIZE))
def test_any_damaged_header_byte_is_an_error_at_offset_0(folder: Path, log3: Path, pos: int) -> None:
    damaged = bytearray(log3.read_bytes())
    damaged[pos] ^= 0x04
    log3.write_bytes(bytes(damaged))
    with pytest.raises(StorageCorrupted) as info:
        DiskStorage(folder)
    assert info.value.offset == 0 and info.value.file == str(log3)
    with pytest.raises(StorageCorrupted):  # not StorageLocked: the failed open released the lock
        DiskStorage(folder)


def test_short_damaged_header_is_an_error_not_a_repair(folder: Path, log3: Path) -> None:
    log3.write_bytes(b"PK\x03\x04")  # a short file that is not a prefix of our header
    with pytest.raises(StorageCorrupted, match="cut short"):
        DiskStorage(folder)


def test_unknown_format_version_is_refused_clearly(folder: Path, log3: Path) -> None:
    data = log3.read_bytes()
    log3.write_bytes(framing.encode_header(framing.KIND_LOG, 0, version=99) + data[framing.HEADER_SIZE :])
    with pytest.raises(StorageCorrupted, match="unsupported storage format version 99"):
        DiskStorage(folder)


def test_header_of_the_wrong_generation_or_kind_is_refused(folder: Path, log3: Path) -> None:
    data = log3.read_bytes()[framing.HEADER_SIZE :]
    log3.write_bytes(framing.encode_header(framing.KIND_LOG, 5) + data)
    with pytest.raises(StorageCorrupted, match="generation 5"):
        DiskStorage(folder)
    log3.write_bytes(framing.encode_header(framing.KIND_SNAPSHOT, 0) + data)
    with pytest.raises(StorageCorrupted, match="is a snapshot"):
        DiskStorage(folder)


def _compacted(folder: Path) -> Path:
    """A folder whose state is RECORDS in 00000001.snapshot and an empty log; returns the snapshot."""
    storage, _ = open_loaded(folder)
    storage.compact(iter(RECORDS))
    storage.close()
    assert storage_files(folder) == [".lock", "00000001.log", "00000001.snapshot"]
    assert read_all(folder) == RECORDS
    return folder / "00000001.snapshot"


def test_snapshot_damage_at_any_byte_is_an_error(folder: Path) -> None:
    snapshot = _compacted(folder)
    original = snapshot.read_bytes()
    for pos in range(len(original)):
        damaged = bytearray(original)
        damaged[pos] ^= 0x20
        snapshot.write_bytes(bytes(damaged))
        error = _corrupted(folder)
        assert error.file == str(snapshot), pos
        assert error.offset is not None and error.offset <= pos
        assert snapshot.read_bytes() == bytes(damaged)


def test_snapshot_cut_at_any_length_or_extended_is_an_error(folder: Path) -> None:
    snapshot = _compacted(folder)
    original = snapshot.read_bytes()
    for size in range(len(original)):
        snapshot.write_bytes(original[:size])
        assert _corrupted(folder).file == str(snapshot), size
    snapshot.write_bytes(original + b"\x00")
    assert "after it" in str(_corrupted(folder))


def test_snapshot_trailer_count_must_match(folder: Path) -> None:
    snapshot = _compacted(folder)
    data = snapshot.read_bytes()
    snapshot.write_bytes(data[: -framing.TRAILER_SIZE] + framing.encode_trailer(len(RECORDS) + 1))
    assert "says 4 records but 3" in str(_corrupted(folder))


def test_log_without_its_snapshot_is_an_error(folder: Path) -> None:
    _compacted(folder)
    write_records(folder, [{"after": 1}])
    (folder / "00000001.snapshot").unlink()
    with pytest.raises(StorageCorrupted, match="no snapshot 00000001.snapshot"):
        DiskStorage(folder)
    assert "00000001.log" in storage_files(folder)  # nothing deleted


def test_empty_log_without_snapshot_and_without_a_base_log_is_an_error(folder: Path) -> None:
    _compacted(folder)
    (folder / "00000001.snapshot").unlink()  # left: 00000001.log with only its header
    with pytest.raises(StorageCorrupted):
        DiskStorage(folder)


def test_missing_current_log_after_a_compaction_is_an_error(folder: Path) -> None:
    """Compaction writes the log before committing the snapshot, so a lost log is damage, not a crash."""
    _compacted(folder)
    (folder / "00000001.log").unlink()
    with pytest.raises(StorageCorrupted, match="00000001.log"):
        DiskStorage(folder)
    assert not (folder / "00000001.log").exists()  # nothing was recreated behind the user's back


def test_leftovers_of_an_uncommitted_compaction_are_removed(folder: Path) -> None:
    _compacted(folder)
    (folder / "00000002.snapshot.tmp").write_bytes(b"partial")
    (folder / "00000002.log").write_bytes(framing.encode_header(framing.KIND_LOG, 2))
    (folder / "00000000.log").write_bytes(b"older generation")
    assert read_all(folder) == RECORDS
    assert storage_files(folder) == [".lock", "00000001.log", "00000001.snapshot"]


def test_damage_scan_crosses_its_numpy_windows(folder: Path, log3: Path) -> None:
    offsets = frame_offsets(log3)
    data = log3.read_bytes()
    # 3.5 MiB of non-frame bytes between records: the next whole frame lies beyond several scan windows.
    log3.write_bytes(data[: offsets[2]] + b"\xee" * (7 << 19) + data[offsets[2] :])
    error = _corrupted(folder)
    assert error.offset == offsets[2] and f"follows at offset {offsets[2] + (7 << 19)}" in str(error)


def test_torn_multi_megabyte_record_recovers(folder: Path, log3: Path) -> None:
    size = log3.stat().st_size
    write_records(folder, [{"big": os.urandom(5 << 20)}])
    with open(log3, "r+b") as f:
        f.truncate(size + (3 << 20))
    storage, records, caught = _open_expecting_recovery(folder)
    storage.close()
    assert records == RECORDS and len(caught) == 1 and log3.stat().st_size == size
