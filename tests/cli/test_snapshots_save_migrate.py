"""client.create/list/delete/recover_snapshot (qdrant_local archives), client.save and client.migrate."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import qdrant_client

from qdrant_local import QdrantClient, models
from qdrant_local.errors import (
    ClientClosed,
    InvalidInput,
    NotSupported,
    StorageCorrupted,
)
from qdrant_local.transfer.description import describe_local

from ..persistence.helpers import visible_state
from .data import add_indexes_and_aliases, fill
from .test_copy import points_of
from .test_export_import import stored_vectors


def state(client) -> dict:
    """visible_state, collections listed by name (recovering a collection re-creates it, so it lists last)."""
    found = visible_state(client)
    found["collections"] = sorted(found["collections"])
    return found


@pytest.fixture(params=["memory", "path"])
def client(request, tmp_path):
    c = QdrantClient(":memory:") if request.param == "memory" else QdrantClient(path=tmp_path / "db")
    fill(c, models)
    add_indexes_and_aliases(c, models)
    yield c
    c.close()


def test_snapshot_then_recover_restores_the_collection_exactly(client) -> None:
    before = state(client)
    vectors = stored_vectors(client, "mixed")
    described = describe_local(client, "mixed")
    snapshot = client.create_snapshot("mixed")
    assert snapshot.name.startswith("mixed-") and snapshot.name.endswith(".snapshot") and snapshot.size > 0
    assert [s.name for s in client.list_snapshots("mixed")] == [snapshot.name]
    assert client.list_snapshots("m2")[0].checksum == snapshot.checksum  # through the alias too
    client.delete("mixed", [10_000, 10_001])
    client.delete_payload_index("mixed", "city")
    client.upsert("mixed", [models.PointStruct(id=1, vector={"text": [1.0, 2.0, 3.0]})])
    assert client.recover_snapshot("mixed", snapshot.name) is True
    assert state(client) == before
    assert stored_vectors(client, "mixed") == vectors
    assert describe_local(client, "mixed") == described  # payload indexes and the alias m2 included


def test_recover_into_another_client_and_collection_name_by_file_url(client, tmp_path) -> None:
    snapshot = client.create_snapshot("dense")
    path = os.path.join(client._snapshot_folder().folder("dense"), snapshot.name)
    other = QdrantClient(path=tmp_path / "other")
    other.recover_snapshot("restored", "file://" + path, checksum=snapshot.checksum)
    assert points_of(other, "restored") == points_of(client, "dense")
    other.close()
    reopened = QdrantClient(path=tmp_path / "other")  # the recovery was logged
    assert points_of(reopened, "restored") == points_of(client, "dense")
    assert reopened.get_collection("restored").payload_schema.keys() == {"city", "price"}


def test_bad_archives_and_names_change_nothing(client, tmp_path) -> None:
    snapshot = client.create_snapshot("dense")
    path = os.path.join(client._snapshot_folder().folder("dense"), snapshot.name)
    before = visible_state(client)
    with pytest.raises(InvalidInput, match="checksum"):
        client.recover_snapshot("dense", path, checksum="0" * 64)
    damaged = tmp_path / "damaged.snapshot"
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(StorageCorrupted):
        client.recover_snapshot("dense", str(damaged))
    with pytest.raises(InvalidInput, match="does not exist"):
        client.recover_snapshot("dense", str(tmp_path / "none.snapshot"))
    with pytest.raises(NotSupported):
        client.recover_snapshot("dense", "http://example.invalid/x.snapshot")
    with pytest.raises(InvalidInput, match="not found"):
        client.delete_snapshot("dense", "dense-nope.snapshot")
    with pytest.raises(InvalidInput, match="Invalid snapshot name"):
        client.delete_snapshot("dense", "../../x.snapshot")
    assert visible_state(client) == before
    assert client.delete_snapshot("dense", snapshot.name) is True
    assert client.list_snapshots("dense") == []


def test_snapshots_live_in_the_folder_and_do_not_disturb_reopening(tmp_path) -> None:
    with QdrantClient(path=tmp_path) as client:
        fill(client, models)
        snapshot = client.create_snapshot("dense")
        client.compact()
    assert os.path.isfile(tmp_path / "snapshots" / "dense" / snapshot.name)
    with QdrantClient(path=tmp_path) as client:
        assert [s.name for s in client.list_snapshots("dense")] == [snapshot.name]
        with QdrantClient(path=tmp_path, read_only=True) as reader:
            assert reader.count("dense").count == 40


def test_save_writes_a_memory_client_to_a_folder(tmp_path) -> None:
    memory = QdrantClient(":memory:")
    fill(memory, models)
    add_indexes_and_aliases(memory, models)
    memory.save(tmp_path / "saved")
    with QdrantClient(path=tmp_path / "saved") as saved:
        assert visible_state(saved) == visible_state(memory)
        for name in ("dense", "mixed", "empty"):
            assert stored_vectors(saved, name) == stored_vectors(memory, name)
    with pytest.raises(InvalidInput, match="new or empty folder"):
        memory.save(tmp_path / "saved")


def test_client_migrate_has_qdrant_clients_behaviour_and_carries_indexes(client, tmp_path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local_mode = qdrant_client.QdrantClient(":memory:")
        client.migrate(local_mode, batch_size=9)
        for name in ("dense", "mixed", "empty"):
            assert points_of(local_mode, name) == points_of(client, name)
        with pytest.raises(ValueError, match="already exist"):
            client.migrate(local_mode, ["dense"])
        local_mode.delete("dense", [0, 1])
        client.migrate(local_mode, ["dense"], recreate_on_collision=True)
        assert local_mode.count("dense").count == 40
    ours = QdrantClient(":memory:")
    client.migrate(ours)
    for name in ("dense", "mixed", "empty"):
        assert describe_local(ours, name) == describe_local(client, name)  # payload indexes, metadata, aliases
        assert stored_vectors(ours, name) == stored_vectors(client, name)


def test_every_transfer_method_raises_the_closed_error_after_close(tmp_path) -> None:
    client = QdrantClient(path=tmp_path / "db")
    fill(client, models)
    snapshot = client.create_snapshot("dense")
    client.close()
    calls = [
        lambda: client.create_snapshot("dense"),
        lambda: client.list_snapshots("dense"),
        lambda: client.delete_snapshot("dense", snapshot.name),
        lambda: client.recover_snapshot("dense", snapshot.name),
        lambda: client.migrate(QdrantClient(":memory:")),
        lambda: client.save(tmp_path / "saved"),
    ]
    for call in calls:
        with pytest.raises(ClientClosed):
            call()
