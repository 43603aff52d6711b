"""recover_snapshot is one atomic step: a writer process that dies at any point of it leaves, on
reopen, either the old collection or the restored one, never a mix, and the other collections as
they were.

The child process opens the folder and recovers an archive; it is made to die (``os._exit``, no
cleanup, as a SIGKILL) at the storage write: after k records of the new snapshot, just before its
commit (the rename), or just after it. Before the commit the old state must come back, after it the
restored one. (A recovery written as a series of log records, as it once was, dies part-way at
the log appends and reopens as a mix.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from qdrant_local import QdrantClient, models

from .helpers import reopened_state, run_python, visible_state

DIM = 4

CHILD = r"""
import os, sys
from qdrant_local import QdrantClient
from qdrant_local.storage import disk

folder, archive, where = sys.argv[1], sys.argv[2], sys.argv[3]
client = QdrantClient(path=folder)

if where.startswith("record-"):
    limit = int(where.split("-")[1])
    original = disk.write_snapshot

    def dying_write(path, generation, records):
        def counted():
            for index, record in enumerate(records):
                if index == limit:
                    os._exit(17)
                yield record
        return original(path, generation, counted())

    disk.write_snapshot = dying_write
elif where.startswith("append-"):  # a log record per step would die here part-way
    limit = int(where.split("-")[1])
    original_append = disk.DiskStorage.append
    appended = []

    def dying_append(self, record, **kwargs):
        appended.append(record)
        if len(appended) > limit:
            os._exit(17)
        return original_append(self, record, **kwargs)

    disk.DiskStorage.append = dying_append
else:
    real_replace = os.replace

    def dying_replace(source, target, *args, **kwargs):
        if str(target).endswith(".snapshot"):
            if where == "before-commit":
                os._exit(17)
            real_replace(source, target, *args, **kwargs)
            os._exit(17)
        return real_replace(source, target, *args, **kwargs)

    os.replace = dying_replace
client.recover_snapshot("c", archive)
print("recovered without dying", flush=True)
"""


def _points(count: int, tag: str, offset: int = 0) -> list[models.PointStruct]:
    return [
        models.PointStruct(id=offset + i, vector=[float(i), 1.0, float(len(tag)), 2.0], payload={"tag": tag, "i": i})
        for i in range(count)
    ]


def _folder_and_archive(tmp_path: Path) -> tuple[Path, str, dict[str, Any], dict[str, Any]]:
    """A folder with collections c (old) and other; an archive of a different c; both expected states."""
    source = QdrantClient(path=str(tmp_path / "source"))
    source.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    source.create_payload_index("c", "tag", models.PayloadSchemaType.KEYWORD)
    for start in range(0, 3000, 500):
        source.upsert("c", _points(500, "restored", offset=start))
    archive = source.create_snapshot("c")
    assert archive is not None
    archive_path = str(tmp_path / "source" / "snapshots" / "c" / archive.name)
    source.close()

    folder = tmp_path / "db"
    client = QdrantClient(path=str(folder))
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.EUCLID))
    client.upsert("c", _points(40, "old"))
    client.create_collection("other", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    client.upsert("other", _points(10, "other"))
    client.update_collection_aliases(
        change_aliases_operations=[
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="c", alias_name="current"))
        ]
    )
    old = visible_state(client)
    client.close()

    expected = QdrantClient(":memory:")  # c keeps its place in the list of collections
    expected.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.EUCLID))
    expected.create_collection("other", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    expected.upsert("other", _points(10, "other"))
    expected.recover_snapshot("c", archive_path)
    expected.update_collection_aliases(
        change_aliases_operations=[
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="c", alias_name="current"))
        ]
    )
    restored = visible_state(expected)
    expected.close()
    assert old != restored
    return folder, archive_path, old, restored


@pytest.mark.parametrize("where", ["record-0", "record-1", "record-2", "record-4", "before-commit", "after-commit"])
def test_a_crash_during_recover_snapshot_leaves_old_or_restored(tmp_path: Path, where: str) -> None:
    folder, archive, old, restored = _folder_and_archive(tmp_path)
    child = run_python(CHILD, str(folder), archive, where)
    assert child.returncode == 17, child.stderr + child.stdout
    state = reopened_state(folder)
    assert state == (restored if where == "after-commit" else old)


@pytest.mark.parametrize("where", ["append-0", "append-2"])
def test_recover_snapshot_appends_no_partial_records(tmp_path: Path, where: str) -> None:
    """A recovery written as several log records would die here part-way and reopen as a mix."""
    folder, archive, old, restored = _folder_and_archive(tmp_path)
    child = run_python(CHILD, str(folder), archive, where)
    assert child.returncode in (0, 17), child.stderr + child.stdout
    assert reopened_state(folder) in (old, restored)


def test_recover_snapshot_without_a_crash_survives_reopen(tmp_path: Path) -> None:
    folder, archive, _old, restored = _folder_and_archive(tmp_path)
    client = QdrantClient(path=str(folder))
    assert client.recover_snapshot("c", archive) is True
    assert visible_state(client) == restored
    client.close()
    assert reopened_state(folder) == restored
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]
