"""The server as a process: api-key, read-only mode, the folder lock, clean shutdown on signals."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import qdrant_client
from qdrant_client import models as qm
from qdrant_client.http.exceptions import UnexpectedResponse

import qdrant_local

from .process import REPO, ServerProcess
from .remote import rest_client

DIM = 4


def fill(url: str, count: int, wait: bool = True, **client_kwargs: object) -> None:
    client = rest_client(url, **client_kwargs)
    try:
        client.create_collection("c", vectors_config=qm.VectorParams(size=DIM, distance=qm.Distance.DOT))
        for i in range(count):
            client.upsert("c", [qm.PointStruct(id=i, vector=[float(i)] * DIM, payload={"i": i})], wait=wait)
    finally:
        client.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_the_folder_with_every_acknowledged_write(folder: Path, sig: int) -> None:
    server = ServerProcess(folder)
    try:
        fill(server.url, 20, wait=False)  # acknowledged, not yet fsync'd: close() must flush them
        code, err = server.stop(sig)
    finally:
        server.kill()
    assert code == 0, err
    with qdrant_local.QdrantClient(path=str(folder)) as client:  # the lock was released
        assert client.count("c").count == 20
        assert client.retrieve("c", [19])[0].payload == {"i": 19}


def test_the_server_holds_the_folder_lock(folder: Path) -> None:
    server = ServerProcess(folder)
    try:
        with pytest.raises(RuntimeError, match="already accessed by another instance"):
            qdrant_local.QdrantClient(path=str(folder))
        second = subprocess.run(
            [sys.executable, "-m", "qdrant_local", "serve", "--path", str(folder), "--port", "1"],
            check=False,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1 and "already accessed by another instance" in second.stderr
    finally:
        server.kill()


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
def test_api_key(folder: Path) -> None:
    server = ServerProcess(folder, "--api-key", "s3cret")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            missing = http.get("/collections")
            assert (missing.status_code, missing.text) == (
                401,
                "Must provide an API key or an Authorization bearer token",
            )
            wrong = http.get("/collections", headers={"api-key": "nope"})
            assert (wrong.status_code, wrong.text) == (401, "Invalid API key or JWT")
            assert http.get("/no/such/endpoint").status_code == 401  # the key is checked before routing
            assert http.get("/collections", headers={"api-key": "s3cret"}).status_code == 200
            assert http.get("/collections", headers={"Authorization": "Bearer s3cret"}).status_code == 200
            for probe in ("/", "/healthz", "/livez", "/readyz"):  # open, as in Qdrant
                assert http.get(probe).status_code == 200
        fill(server.url, 3, api_key="s3cret", https=False)
        with pytest.raises(UnexpectedResponse) as refused:
            rest_client(server.url).get_collections()
        assert refused.value.status_code == 401
    finally:
        server.kill()


def test_read_only(folder: Path) -> None:
    with qdrant_local.QdrantClient(path=str(folder)) as client:
        client.create_collection("c", vectors_config={"size": DIM, "distance": "Dot"})
        client.upsert("c", [{"id": 1, "vector": [1.0] * DIM}])
    server = ServerProcess(folder, "--read-only")
    try:
        client = rest_client(server.url)
        assert client.count("c").count == 1
        assert client.query_points("c", query=[1.0] * DIM).points[0].id == 1
        writes = [
            lambda: client.upsert("c", [qm.PointStruct(id=2, vector=[1.0] * DIM)]),
            lambda: client.delete("c", [1]),
            lambda: client.create_collection("d", vectors_config=qm.VectorParams(size=2, distance=qm.Distance.DOT)),
            lambda: client.delete_collection("c"),
            lambda: client.create_payload_index("c", "x", qm.PayloadSchemaType.KEYWORD),
        ]
        for write in writes:
            with pytest.raises(UnexpectedResponse) as refused:
                write()
            assert refused.value.status_code == 403
            assert b"read-only" in refused.value.content
        assert client.count("c").count == 1
        client.close()
    finally:
        server.kill()


def test_read_only_server_follows_a_writer(folder: Path) -> None:
    """--read-only opens the folder as a follower: a writer process keeps the lock, the server sees its writes."""
    with qdrant_local.QdrantClient(path=str(folder)) as writer:
        writer.create_collection("c", vectors_config={"size": DIM, "distance": "Dot"})
        server = ServerProcess(folder, "--read-only")
        try:
            client = rest_client(server.url)
            assert client.count("c").count == 0
            writer.upsert("c", [{"id": 1, "vector": [1.0] * DIM, "payload": {"v": 1}}])
            assert client.retrieve("c", [1])[0].payload == {"v": 1}
            client.close()
        finally:
            server.kill()


def test_remote_client_round_trip_survives_restart(folder: Path) -> None:
    """What qdrant-client wrote through one server process, the next one serves."""
    server = ServerProcess(folder)
    try:
        fill(server.url, 5)
        assert server.stop()[0] == 0
    finally:
        server.kill()
    server = ServerProcess(folder)
    try:
        client = qdrant_client.QdrantClient(url=server.url, prefer_grpc=False, check_compatibility=False)
        assert [p.id for p in client.query_points("c", query=[1.0] * DIM, limit=2).points] == [4, 3]
        client.close()
    finally:
        server.kill()


def test_import_qdrant_local_does_not_import_the_server() -> None:
    code = "import sys, qdrant_local; qdrant_local.QdrantClient; print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn') or m.startswith('qdrant_local.server')))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip() == "[]"


def test_cli_lists_serve() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "--help"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "serve" in listing.stdout
    usage = subprocess.run(
        [sys.executable, "-m", "qdrant_local", "serve", "--help"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert usage.returncode == 0
    for option in ("--path", "--host", "--port", "--api-key", "--read-only"):
        assert option in usage.stdout
