"""Copies through qdrant-client's REST client to and from a served qdrant_local (``qdrant-local serve``):
client.migrate into a remote client, and the CLI's ``migrate --resume`` / ``pull --resume`` after an
interruption."""

from __future__ import annotations

import warnings

import pytest
import qdrant_client

from qdrant_local import QdrantClient, models
from qdrant_local.cli import main

from ..server.process import ServerProcess
from .data import add_indexes_and_aliases, fill
from .test_copy import points_of

NAMES = ("dense", "mixed", "empty")


@pytest.fixture()
def served(tmp_path):
    server = ServerProcess(tmp_path / "served")
    remote = qdrant_client.QdrantClient(url=server.url, check_compatibility=False, timeout=60)
    try:
        yield server, remote
    finally:
        remote.close()
        server.kill()


def test_client_migrate_into_a_server_then_resume_and_pull_back(tmp_path, served, capsys) -> None:
    server, remote = served
    source = QdrantClient(path=tmp_path / "source")
    fill(source, models)
    add_indexes_and_aliases(source, models)
    source.migrate(remote, batch_size=16)
    for name in NAMES:
        assert points_of(remote, name) == points_of(source, name)
        assert remote.get_collection(name).payload_schema.keys() == source.get_collection(name).payload_schema.keys()
    assert remote.get_collection("dense").config.metadata == {"owner": "me", "n": None}
    assert {(a.alias_name, a.collection_name) for a in remote.get_aliases().aliases} == {
        ("prod", "dense"),
        ("m2", "mixed"),
    }

    # An interrupted migration: the server lacks some points. Without --resume the CLI refuses.
    remote.delete("mixed", list(range(10_005, 10_030)))
    assert main(["migrate", str(tmp_path / "source"), "--url", server.url]) == 1
    assert "already exist" in capsys.readouterr().err
    # The source folder stays open in this process: migrate reads it as a follower.
    assert (
        main(
            [
                "migrate",
                str(tmp_path / "source"),
                "--url",
                server.url,
                "--collection",
                "mixed",
                "--resume",
                "--batch-size",
                "8",
            ]
        )
        == 0
    )
    assert "mixed: 40 points" in capsys.readouterr().err
    assert points_of(remote, "mixed") == points_of(source, "mixed")

    # pull into a folder that holds part of a collection.
    with QdrantClient(path=tmp_path / "pulled") as partial:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            remote_half = qdrant_client.QdrantClient(url=server.url, check_compatibility=False)
        from qdrant_local.transfer.copy import copy_collections

        copy_collections(remote_half, partial, ["dense"])
        partial.delete("dense", list(range(20)))
        remote_half.close()
    assert main(["pull", server.url, str(tmp_path / "pulled"), "--resume"]) == 0
    with QdrantClient(path=tmp_path / "pulled", read_only=True) as pulled:
        for name in NAMES:
            assert points_of(pulled, name) == points_of(source, name)
        assert pulled.get_collection("prod").points_count == 40
    source.close()
