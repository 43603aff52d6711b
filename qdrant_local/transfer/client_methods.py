"""The client's ways in and out: ``migrate``, collection snapshots, and ``save`` for ``:memory:`` clients.

Mixed into QdrantClient; each method works on the client's Database (``self._database``).
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from .. import models
from ..errors import InvalidInput, NotSupported

_FULL_SNAPSHOTS = (
    "Snapshots are not supported in the local Qdrant. Please use server Qdrant if you need full snapshots."
)

# The archive module (and hashlib, msgpack framing) loads on the first snapshot call, not with the client.


def _no_extra(method: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{method}() got an unexpected keyword argument {next(iter(kwargs))!r}")


class TransferMethods:
    """migrate, create/list/delete/recover_snapshot and save."""

    _database: Any
    _location: Any

    def migrate(
        self,
        dest_client: Any,
        collection_names: list[str] | None = None,
        batch_size: int = 100,
        recreate_on_collision: bool = False,
    ) -> None:
        """Copy collections (all by default) to another client: ours, qdrant-client's local mode, or a server.

        Configuration, metadata, payload indexes, points and aliases are copied and the point counts
        checked at the end. A collection that exists in ``dest_client`` raises ValueError unless
        ``recreate_on_collision`` (then it is replaced). Into a qdrant_local client vectors stay bit-exact.
        """
        from .copy import copy_collections

        copy_collections(
            self,
            dest_client,
            collection_names,
            batch_size=batch_size,
            on_existing="recreate" if recreate_on_collision else "fail",
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write everything this client holds into the folder ``path`` (new or empty), to be opened
        later with ``QdrantClient(path=...)``: how a ``:memory:`` client is kept. An addition of ours."""
        from ..storage.disk import DiskStorage

        database = self._database
        with database.lock.shared():
            storage = DiskStorage(os.fspath(path))
            try:
                if any(True for _ in storage.load()):
                    raise InvalidInput(
                        f"{os.fspath(path)} already holds a qdrant_local storage; "
                        "save() writes only into a new or empty folder"
                    )
                storage.compact(database.state_records())
            finally:
                storage.close()

    # -- snapshots (qdrant_local archives of one collection) ----------------------------------------

    def _snapshot_folder(self) -> Any:
        from ..storage.layout import SNAPSHOTS_DIR
        from .archive import SnapshotFolder

        folder = getattr(self, "_snapshots", None)
        if folder is None:
            if self._location == ":memory:":
                import shutil
                import tempfile

                root = tempfile.mkdtemp(prefix="qdrant_local_snapshots_")
                weakref.finalize(self, shutil.rmtree, root, True)  # kept as long as the client
            else:
                root = os.path.join(os.path.abspath(os.fspath(self._location)), SNAPSHOTS_DIR)
            folder = self._snapshots = SnapshotFolder(root)
        return folder

    def create_snapshot(self, collection_name: str, wait: bool = True, **kwargs: Any) -> models.SnapshotDescription:
        """Write an archive of the collection (config, payload indexes, points; not aliases).

        It lands in ``<path>/snapshots/<collection>/`` (a temporary folder for ``:memory:`` clients,
        deleted with the client). Only qdrant_local can restore it (recover_snapshot); a Qdrant server
        cannot: use migrate() for a server.
        """
        _no_extra("create_snapshot", kwargs)
        from .archive import SnapshotFolder, collection_records, write_archive

        database = self._database
        snapshots = self._snapshot_folder()
        with database.lock:
            collection = database.collection(collection_name)
            name = snapshots.new_name(collection.name)
            path = os.path.join(snapshots.folder(collection.name, create=True), name)
            write_archive(path, collection_records(collection))
        return models.SnapshotDescription(**SnapshotFolder.describe(path))

    def list_snapshots(self, collection_name: str, **kwargs: Any) -> list[models.SnapshotDescription]:
        """The archives of a collection, oldest first."""
        _no_extra("list_snapshots", kwargs)
        collection = self._database.collection(collection_name)
        return [models.SnapshotDescription(**d) for d in self._snapshot_folder().list(collection.name)]

    def delete_snapshot(self, collection_name: str, snapshot_name: str, wait: bool = True, **kwargs: Any) -> bool:
        """Delete one archive of a collection; an unknown name raises."""
        _no_extra("delete_snapshot", kwargs)
        collection = self._database.collection(collection_name)
        self._snapshot_folder().delete(collection.name, snapshot_name)
        return True

    def recover_snapshot(
        self,
        collection_name: str,
        location: str,
        api_key: str | None = None,
        checksum: str | None = None,
        priority: Any = None,
        wait: bool = True,
        **kwargs: Any,
    ) -> bool:
        """Replace (or create) ``collection_name`` with the content of a qdrant_local archive.

        ``location``: a ``file://`` URL, a path, or the name of one of the collection's archives. The
        whole archive is checked first (frame checksums, configuration, vector dimensions; the sha256
        when ``checksum`` is given), so a bad archive changes nothing. The collection's aliases stay.
        The restored collection is built aside, then switched in with one atomic step (a compaction
        of the folder, see Database.restore_collection): a crash leaves the old or the new, never a mix.
        """
        _no_extra("recover_snapshot", kwargs)
        from .archive import Archive, local_archive_path, restored_collection, sha256_of

        path = local_archive_path(location, self._snapshot_folder(), collection_name)
        if not os.path.isfile(path):
            raise InvalidInput(f"Snapshot file {location} does not exist")
        if checksum is not None and sha256_of(path) != checksum.lower():
            raise InvalidInput(f"Snapshot checksum mismatch: {location} does not have sha256 {checksum}")
        database = self._database
        database.restore_collection(collection_name, restored_collection(Archive(path), collection_name))
        return True

    # -- full (whole storage) snapshots: as local mode; save() writes a whole client to a folder -------

    def list_full_snapshots(self, **kwargs: Any) -> list[models.SnapshotDescription]:
        """Local mode's answer: no full snapshots (use save() to copy a whole client)."""
        _no_extra("list_full_snapshots", kwargs)
        return []

    def create_full_snapshot(self, wait: bool = True, **kwargs: Any) -> models.SnapshotDescription:
        raise NotSupported(_FULL_SNAPSHOTS)

    def delete_full_snapshot(self, snapshot_name: str, wait: bool = True, **kwargs: Any) -> bool:
        raise NotSupported(_FULL_SNAPSHOTS)
