"""Copies between clients (what migrate, pull and client.migrate run), and the qdrant-client folder import.

Destinations and sources are qdrant-client 1.20's local mode (in memory and on disk) and our folders.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import qdrant_client
from qdrant_client import models as qc_models

from qdrant_local import QdrantClient, models
from qdrant_local.cli import main
from qdrant_local.transfer.copy import copy_collections
from qdrant_local.transfer.description import describe_client, describe_local
from qdrant_local.transfer.export_format import TransferError

from ..persistence.helpers import child_env
from .data import PAYLOADS, add_indexes_and_aliases, fill


def points_of(client, name: str, normalise: tuple[str, ...] = ()) -> dict:
    """id -> (payload, vectors as rounded float lists): comparable across implementations.

    Vectors named in ``normalise`` are scaled to unit length first (qdrant-client's local mode returns
    some Cosine vectors it reloaded from its folder unnormalised)."""
    records, _ = client.scroll(name, limit=10_000, with_vectors=True, with_payload=True)
    out = {}
    for record in records:
        vectors = record.vector if isinstance(record.vector, dict) else {"": record.vector}
        plain = {}
        for vector_name, value in (vectors or {}).items():
            if hasattr(value, "indices"):
                plain[vector_name] = (list(value.indices), _Close(np.asarray(value.values)))
            else:
                array = np.asarray(value, dtype=np.float64)
                if vector_name in normalise:
                    array = array / np.linalg.norm(array, axis=-1, keepdims=True)
                plain[vector_name] = _Close(array)
        out[str(record.id)] = (record.payload, plain)
    return out


class _Close:
    """A float array that equals another of the same shape within float32 precision."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array, dtype=np.float64)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Close)
            and self.array.shape == other.array.shape
            and np.allclose(self.array, other.array, rtol=1e-5, atol=1e-6)
        )

    def __repr__(self) -> str:
        return repr(self.array.tolist())


@pytest.fixture()
def ours(tmp_path):
    client = QdrantClient(path=tmp_path / "ours")
    fill(client, models)
    add_indexes_and_aliases(client, models)
    yield client
    client.close()


def test_copy_into_qdrant_client_local_mode_and_back(tmp_path, ours) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # local mode warns that payload indexes have no effect
        theirs = qdrant_client.QdrantClient(path=str(tmp_path / "theirs"))
        counts = copy_collections(ours, theirs, batch_size=7)
    assert counts == {"dense": 40, "mixed": 40, "empty": 0}
    for name in counts:
        assert points_of(theirs, name) == points_of(ours, name)
        assert describe_client(theirs, name).vector_signature() == describe_local(ours, name).vector_signature()
    assert theirs.get_collection("dense").config.metadata == {"owner": "me", "n": None}
    assert {(a.alias_name, a.collection_name) for a in theirs.get_aliases().aliases} == {
        ("prod", "dense"),
        ("m2", "mixed"),
    }

    back = QdrantClient(path=tmp_path / "back")
    copy_collections(theirs, back, ["mixed", "dense"], batch_size=100)
    for name in ("mixed", "dense"):
        assert points_of(back, name) == points_of(ours, name)
        assert describe_local(back, name).vector_signature() == describe_local(ours, name).vector_signature()
    assert back.get_collection("prod").points_count == 40
    theirs.close()


def test_our_payload_indexes_metadata_and_aliases_arrive_in_our_folders_exactly(tmp_path, ours) -> None:
    copy = QdrantClient(":memory:")
    copy_collections(ours, copy)
    for name in ("dense", "mixed", "empty"):
        assert describe_local(copy, name) == describe_local(ours, name)
        assert points_of(copy, name) == points_of(ours, name)


def test_collisions_fail_first_recreate_replaces_and_resume_adds_only_what_is_missing(tmp_path, ours) -> None:
    dest = QdrantClient(":memory:")
    copy_collections(ours, dest, ["dense"])
    with pytest.raises(TransferError, match="already exist"):
        copy_collections(ours, dest)  # nothing written: "mixed" is not created either
    assert not dest.collection_exists("mixed")

    # An interrupted copy: some points missing, one changed on the destination.
    dest.delete("dense", list(range(10, 30)))
    dest.set_payload("dense", {"touched": True}, points=[0])
    assert copy_collections(ours, dest, ["dense"], on_existing="resume", batch_size=6) == {"dense": 40}
    assert dest.retrieve("dense", [0])[0].payload["touched"] is True  # present ids were skipped, not rewritten
    restored = {pid: value for pid, value in points_of(dest, "dense").items() if pid != "0"}
    assert restored == {pid: value for pid, value in points_of(ours, "dense").items() if pid != "0"}

    assert copy_collections(ours, dest, ["dense"], on_existing="recreate") == {"dense": 40}
    assert points_of(dest, "dense") == points_of(ours, "dense")

    other = QdrantClient(":memory:")
    other.create_collection("dense", vectors_config=models.VectorParams(size=3, distance=models.Distance.DOT))
    with pytest.raises(TransferError, match="cannot resume"):
        copy_collections(ours, other, ["dense"], on_existing="resume")
    with pytest.raises(TransferError, match="does not have collections"):
        copy_collections(ours, other, ["nope"])


def _qdrant_client_folder(path) -> None:
    """A folder written by qdrant-client 1.20's local mode with every vector kind and payload shape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = qdrant_client.QdrantClient(path=str(path))
        fill(client, qc_models)
        client.create_payload_index(
            "mixed",
            "city",
            qc_models.TextIndexParams(
                type=qc_models.TextIndexType.TEXT, tokenizer=qc_models.TokenizerType.WORD, scoring=True
            ),
        )
        client.update_collection_aliases(
            [
                qc_models.CreateAliasOperation(
                    create_alias=qc_models.CreateAlias(collection_name="dense", alias_name="prod")
                )
            ]
        )
        client.delete("dense", [1, 2])
        client.upsert("dense", [qc_models.PointStruct(id=5, vector=[1.0, 0, 0, 0, 0], payload={"replaced": True})])
        client.close()


def test_import_qdrant_client_folder(tmp_path, capsys) -> None:
    source = tmp_path / "qc"
    _qdrant_client_folder(source)
    listing = sorted(p.name for p in source.rglob("*"))
    assert main(["import-qdrant-client-folder", str(source), str(tmp_path / "ours")]) == 0
    assert "unpickled" in capsys.readouterr().err
    assert sorted(p.name for p in source.rglob("*")) == listing  # the source is not changed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = qdrant_client.QdrantClient(path=str(source))
    ours = QdrantClient(path=tmp_path / "ours", read_only=True)
    for name in ("dense", "mixed", "empty"):
        assert points_of(ours, name) == points_of(theirs, name, normalise=("", "colbert"))
        assert describe_local(ours, name).vector_signature() == describe_client(theirs, name).vector_signature()
    assert ours.get_collection("dense").config.metadata == {"owner": "me", "n": None}
    assert ours.get_collection("prod").points_count == 38
    assert ours.retrieve("dense", [5])[0].payload == {"replaced": True}
    schema = ours.get_collection("mixed").payload_schema
    assert schema["city"].data_type == models.PayloadSchemaType.TEXT
    theirs.close()
    # Converting again into the same folder is refused: the collections exist.
    assert main(["import-qdrant-client-folder", str(source), str(tmp_path / "ours2")]) == 0
    assert main(["import-qdrant-client-folder", str(source), str(tmp_path / "ours2")]) == 1
    assert "already exist" in capsys.readouterr().err
    assert main(["import-qdrant-client-folder", str(tmp_path / "ours"), str(tmp_path / "x")]) == 1
    assert "no meta.json" in capsys.readouterr().err


def test_payload_shapes_survive(tmp_path) -> None:
    source = tmp_path / "qc"
    _qdrant_client_folder(source)
    assert main(["import-qdrant-client-folder", str(source), str(tmp_path / "ours")]) == 0
    ours = QdrantClient(path=tmp_path / "ours", read_only=True)
    payloads = [r.payload for r in ours.scroll("mixed", limit=100)[0]]
    for shape in PAYLOADS:
        assert shape in payloads
    assert json.dumps(payloads)  # plain JSON values


def test_migrate_and_pull_need_a_reachable_server(tmp_path, capsys) -> None:
    assert main(["migrate", str(tmp_path), "--url", "http://127.0.0.1:9"]) == 1
    assert "error:" in capsys.readouterr().err
    result = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "pull", "--help"],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--resume" in result.stdout and "--recreate" in result.stdout
