"""``qdrant-local export`` / ``import``: the JSON-lines format round-trips a folder exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.cli import main
from qdrant_local.transfer.description import describe_local

from ..persistence.helpers import child_env, visible_state
from .data import add_indexes_and_aliases, fill


@pytest.fixture()
def source(tmp_path):
    folder = tmp_path / "source"
    with QdrantClient(path=folder) as client:
        fill(client, models)
        add_indexes_and_aliases(client, models)
        client.delete("dense", [3, 4])
        client.set_payload("mixed", {"later": [1, "two"]}, points=[10_000, 10_001])
    return folder


def stored_vectors(client: QdrantClient, name: str) -> dict:
    """Every stored vector as float32 bytes, by point id and name (bit-exact comparison)."""
    records, _ = client.scroll(name, limit=10_000, with_vectors=True, with_payload=False)
    out = {}
    for record in records:
        vectors = record.vector if isinstance(record.vector, dict) else {"": record.vector}
        for vector_name, value in vectors.items():
            if hasattr(value, "indices"):
                out[(record.id, vector_name)] = (tuple(value.indices), np.asarray(value.values, np.float32).tobytes())
            else:
                out[(record.id, vector_name)] = np.asarray(value, np.float32).tobytes()
    return out


def test_export_then_import_reproduces_everything(tmp_path, source) -> None:
    export_file = tmp_path / "all.jsonl"
    assert main(["export", str(source), "--out", str(export_file)]) == 0
    assert main(["import", str(tmp_path / "copy"), str(export_file)]) == 0
    with QdrantClient(path=source, read_only=True) as a, QdrantClient(path=tmp_path / "copy", read_only=True) as b:
        assert visible_state(b) == visible_state(a)
        for name in ("dense", "mixed", "empty"):
            assert describe_local(b, name) == describe_local(a, name)  # config, metadata, indexes, aliases
            assert stored_vectors(b, name) == stored_vectors(a, name)  # Cosine rows included, bit for bit


def test_the_format_is_a_header_line_then_rest_points(tmp_path, source) -> None:
    export_file = tmp_path / "dense.jsonl"
    assert main(["export", str(source), "--collection", "dense", "--out", str(export_file)]) == 0
    lines = export_file.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["qdrant_local_export"] == 1 and header["points_count"] == len(lines) - 1 == 38
    assert header["collection"]["name"] == "dense"
    assert header["collection"]["config"]["vectors"] == {"size": 5, "distance": "Cosine"}
    assert header["collection"]["config"]["metadata"] == {"owner": "me", "n": None}
    assert header["collection"]["payload_schema"] == {"city": "keyword", "price": "float"}
    assert header["collection"]["aliases"] == ["prod"]
    point = json.loads(lines[1])
    assert set(point) == {"id", "vector", "payload"} and len(point["vector"]) == 5


def test_export_to_stdout_and_import_from_stdin_through_the_console(tmp_path, source) -> None:
    exported = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "export", str(source), "--collection", "mixed"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "exported mixed: 40 points" in exported.stderr
    imported = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "import", str(tmp_path / "copy"), "-"],
        input=exported.stdout,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    with (
        QdrantClient(path=tmp_path / "copy", read_only=True) as copy,
        QdrantClient(path=source, read_only=True) as original,
    ):
        assert stored_vectors(copy, "mixed") == stored_vectors(original, "mixed")
        assert [c.name for c in copy.get_collections().collections] == ["mixed"]


def test_import_refuses_an_existing_collection_and_bad_lines(tmp_path, source, capsys) -> None:
    export_file = tmp_path / "all.jsonl"
    assert main(["export", str(source), "--out", str(export_file)]) == 0
    assert main(["import", str(source), str(export_file)]) == 1
    assert "already exists" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "vector": [1, 2]}\n')
    assert main(["import", str(tmp_path / "other"), str(bad)]) == 1
    assert "expected a collection header" in capsys.readouterr().err


def test_info_and_compact(tmp_path, source, capsys) -> None:
    assert main(["info", str(source)]) == 0
    text = capsys.readouterr().out
    for expected in (
        "collection dense: 38 points",
        "vector (unnamed): dense, size 5, Cosine",
        "vector colbert: multivector",
        "vector bm25: sparse, modifier idf",
        "payload index city: keyword (",
        "aliases: prod",
    ):
        assert expected in text
    assert main(["info", str(source), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {c["name"]: c["points"] for c in info["collections"]} == {"dense": 38, "mixed": 40, "empty": 0}
    assert info["log_bytes"] > 0 and info["snapshot_bytes"] == 0
    before = visible_state(QdrantClient(path=source, read_only=True))
    assert main(["compact", str(source)]) == 0
    names = sorted(os.listdir(source))
    assert [n for n in names if not n.startswith(".")] == ["00000001.log", "00000001.snapshot"]
    assert visible_state(QdrantClient(path=source, read_only=True)) == before
    assert main(["info", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "--help"], env=child_env(), capture_output=True, text=True, check=True
    )
    for name in ("info", "compact", "export", "import", "migrate", "pull", "import-qdrant-client-folder"):
        assert name in result.stdout
        sub = subprocess.run(
            [sys.executable, "-m", "qdrant_local", name, "--help"],
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert sub.returncode == 0 and "usage: qdrant-local " + name in sub.stdout
