"""Collection archives ("snapshots"): one collection's whole state in one file, and where they are kept.

An archive is written in the storage's snapshot format (see storage/framing.py): the 24-byte header
of a snapshot of generation 0 (a generation the storage never uses), then CRC-framed msgpack records
that replay to the collection: ``create_collection``, one ``payload_index`` per index, then
``points`` upserts of up to 4096 points (and a quarter of the record limit) each holding the stored
float32 vectors, then the trailer with the record count. It is a qdrant_local archive: a Qdrant
server cannot restore it (use ``migrate`` to move a collection to a server).

Archives of a ``path=`` client live in ``<path>/snapshots/<collection>/``; those of a ``:memory:``
client in a temporary folder that is deleted with the client. Each archive has a ``.sha256``
sidecar holding its checksum, which ``list_snapshots`` reports and ``recover_snapshot`` can verify.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import msgpack

from ..engine import operations as ops
from ..engine.collection import Collection
from ..engine.config import CollectionConfig, validate_collection_name, validate_index_schema
from ..errors import InvalidInput, NotSupported
from ..storage import framing
from ..storage.follower import read_snapshot_file
from ..storage.layout import fsync_dir

SUFFIX = ".snapshot"
CHECKSUM_SUFFIX = ".sha256"
ARCHIVE_GENERATION = 0
POINTS_PER_RECORD = 4096
_NAME = re.compile(r"^[^/\\\x00]+\.snapshot$")


def collection_records(collection: Any) -> Iterator[dict[str, Any]]:
    """The records that rebuild ``collection`` (the caller holds the database lock)."""
    yield {"op": "create_collection", "name": collection.name, "config": collection.config.raw}
    for field_name, schema in collection.payload_schema.items():
        yield {"op": "payload_index", "name": collection.name, "field": field_name, "schema": schema}
    for op in collection.state_operations(POINTS_PER_RECORD, framing.MAX_BODY // 4):
        yield {"op": "points", "collection": collection.name, "body": op.to_record()}


def write_archive(path: str, records: Iterator[dict[str, Any]]) -> tuple[int, str]:
    """Write an archive to ``path`` (via a temporary file, fsync'd, renamed); returns (size, sha256)."""
    digest = hashlib.sha256()
    packer = msgpack.Packer(use_bin_type=True)
    temporary = path + ".tmp"
    count = size = 0
    try:
        with open(temporary, "wb", buffering=1 << 20) as f:

            def put(data: bytes) -> None:
                nonlocal size
                f.write(data)
                digest.update(data)
                size += len(data)

            put(framing.encode_header(framing.KIND_SNAPSHOT, ARCHIVE_GENERATION))
            for record in records:
                body = packer.pack(record)
                put(framing.encode_frame_header(body))
                put(body)
                count += 1
            put(framing.encode_trailer(count))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    checksum = digest.hexdigest()
    with open(path + CHECKSUM_SUFFIX, "w", encoding="ascii") as checksum_file:
        checksum_file.write(checksum)
    fsync_dir(os.path.dirname(path))
    return size, checksum


def restored_collection(archive: Archive, name: str) -> Collection:
    """The archive's collection, built in memory under ``name`` (touching no database)."""
    assert archive.config is not None  # Archive() refuses an archive without one
    validate_collection_name(name)
    collection = Collection(name, archive.config)
    for field_name, schema in archive.payload_schema.items():
        validate_index_schema(schema)
        collection.set_payload_index(field_name, schema)
    for op in archive.point_operations():
        collection.apply(op)
    if collection.store.tombstones():
        collection.store.compact()
    return collection


class Archive:
    """A validated archive: its collection's configuration, payload indexes and point operations."""

    def __init__(self, path: str) -> None:
        """Read and check the whole file (CRCs, trailer, record kinds) before anything is restored."""
        self.path = path
        self.config: CollectionConfig | None = None
        self.payload_schema: dict[str, Any] = {}
        self.point_records = 0
        for record in read_snapshot_file(path, ARCHIVE_GENERATION):
            self._check(record)
        if self.config is None:
            raise InvalidInput(f"{self.path} holds no collection")

    def _check(self, record: dict[str, Any]) -> None:
        kind = record.get("op")
        if self.config is None:
            if kind != "create_collection":
                raise InvalidInput(f"{self.path} is not a qdrant_local collection archive (it starts with {kind!r})")
            self.config = CollectionConfig.from_json(record["config"])
        elif kind == "payload_index":
            self.payload_schema[record["field"]] = record["schema"]
        elif kind == "points":
            _check_points(self.config, ops.from_record(record["body"]), self.path)
            self.point_records += 1
        else:
            raise InvalidInput(f"{self.path}: unexpected record {kind!r} in a collection archive")

    def point_operations(self) -> Iterator[ops.PointOperation]:
        """The archive's point upserts, read again from the file (already validated)."""
        for record in read_snapshot_file(self.path, ARCHIVE_GENERATION):
            if record.get("op") == "points":
                yield ops.from_record(record["body"])


def _check_points(config: CollectionConfig, op: Any, path: str) -> None:
    """An archived upsert must fit the archived configuration (names, kinds, dimensions)."""
    if not isinstance(op, ops.Upsert) or len(op.payloads) != len(op.point_ids):
        raise InvalidInput(f"{path}: a points record is not a whole upsert")
    vectors = op.vectors
    for kind, named in (("dense", vectors.dense), ("multi", vectors.multi), ("sparse", vectors.sparse)):
        for name in named:
            spec = config.vectors.get(name)
            if spec is None or spec.kind != kind:
                raise InvalidInput(f"{path}: vector {name!r} does not match the archived configuration")
    for name, (positions, rows) in vectors.dense.items():
        if rows.shape[1] != config.vectors[name].size or len(positions) != len(rows):
            raise InvalidInput(f"{path}: vector {name!r} has the wrong dimension")
    for name, items in vectors.multi.items():
        if any(m.shape[1] != config.vectors[name].size for _, m in items):
            raise InvalidInput(f"{path}: multivector {name!r} has the wrong dimension")


class SnapshotFolder:
    """The archives of one client, one subfolder per collection."""

    def __init__(self, root: str) -> None:
        self.root = root

    def folder(self, collection_name: str, *, create: bool = False) -> str:
        folder = os.path.join(self.root, collection_name)
        if create:
            os.makedirs(folder, exist_ok=True)
        return folder

    def new_name(self, collection_name: str) -> str:
        """``<collection>-<UTC time to the microsecond>.snapshot``, unique in its folder."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S-%f")
        return f"{collection_name}-{stamp}{SUFFIX}"

    def path(self, collection_name: str, snapshot_name: str) -> str:
        if not _NAME.match(snapshot_name) or snapshot_name in (".", ".."):
            raise InvalidInput(f"Invalid snapshot name {snapshot_name!r}")
        return os.path.join(self.folder(collection_name), snapshot_name)

    def list(self, collection_name: str) -> list[dict[str, Any]]:
        """name, creation_time, size and checksum of each archive, oldest first."""
        folder = self.folder(collection_name)
        if not os.path.isdir(folder):
            return []
        found = []
        for name in sorted(os.listdir(folder)):
            if not name.endswith(SUFFIX):
                continue
            found.append(self.describe(os.path.join(folder, name)))
        return sorted(found, key=lambda d: (d["creation_time"], d["name"]))

    @staticmethod
    def describe(path: str) -> dict[str, Any]:
        stat = os.stat(path)
        created = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc).replace(tzinfo=None)
        checksum = None
        if os.path.exists(path + CHECKSUM_SUFFIX):
            with open(path + CHECKSUM_SUFFIX, encoding="ascii") as f:
                checksum = f.read().strip()
        return {
            "name": os.path.basename(path),
            "creation_time": created.isoformat(),
            "size": stat.st_size,
            "checksum": checksum,
        }

    def delete(self, collection_name: str, snapshot_name: str) -> None:
        path = self.path(collection_name, snapshot_name)
        if not os.path.exists(path):
            raise InvalidInput(f"Snapshot {snapshot_name} not found")  # the server answers 404
        os.remove(path)
        if os.path.exists(path + CHECKSUM_SUFFIX):
            os.remove(path + CHECKSUM_SUFFIX)


def local_archive_path(location: str, snapshots: SnapshotFolder, collection_name: str) -> str:
    """The file a recover_snapshot ``location`` names: ``file://`` URL, a path, or a snapshot name."""
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("http", "https"):
        raise NotSupported(
            "recover_snapshot from an http(s) URL is not supported in qdrant_local; download the archive and "
            "pass its path or file:// URL"
        )
    if parsed.scheme == "file":
        from urllib.request import url2pathname  # (a heavy module: imported only here)

        return url2pathname(parsed.path)
    if os.sep not in location and "/" not in location and location.endswith(SUFFIX):
        candidate = os.path.join(snapshots.folder(collection_name), location)
        if os.path.exists(candidate):
            return candidate
    return location


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
