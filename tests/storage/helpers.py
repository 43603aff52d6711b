"""Helpers shared by the storage tests: open, read and write a storage folder directly."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qdrant_local.storage import DiskStorage, framing


def open_loaded(path: Path | str) -> tuple[DiskStorage, list[dict[str, Any]]]:
    """Open ``path`` and consume load(); returns the storage (ready to append) and the records."""
    storage = DiskStorage(path)
    try:
        records = list(storage.load())
    except BaseException:
        storage.close()
        raise
    return storage, records


def read_all(path: Path | str) -> list[dict[str, Any]]:
    """The records stored at ``path`` (opened and closed again); fails on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        storage, records = open_loaded(path)
    storage.close()
    return records


def write_records(path: Path | str, records: list[dict[str, Any]], *, sync: bool = True) -> None:
    """Append ``records`` to the storage at ``path`` and close it."""
    storage, _ = open_loaded(path)
    for record in records:
        storage.append(record, sync=sync)
    storage.close()


def frame_offsets(log_file: Path) -> list[int]:
    """Byte offsets of the frames of a (well-formed) log file, plus its size at the end."""
    data = log_file.read_bytes()
    offsets = []
    pos = framing.HEADER_SIZE
    while pos < len(data):
        offsets.append(pos)
        pos += framing.FRAME_HEADER_SIZE + int.from_bytes(data[pos : pos + 4], "little")
    offsets.append(pos)
    return offsets


def storage_files(path: Path) -> list[str]:
    """Sorted names in the folder, hidden ones included."""
    return sorted(os.listdir(path))


def iter_small_records(n: int) -> Iterator[dict[str, Any]]:
    """``n`` distinct small records."""
    for i in range(n):
        yield {"op": "upsert", "i": i, "v": bytes([i % 256]) * (i % 7)}
