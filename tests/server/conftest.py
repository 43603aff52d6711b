"""Fixtures of the server tests: a ``qdrant-local serve`` process per session, and the served side."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..differential.compare import Side
from .process import ServerProcess
from .remote import served_side


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server over a fresh folder, shared by the session (tests reset what they use).

    The folder is in memory-backed /dev/shm when there is one: fsyncs there cost nothing, and the
    durability tests use folders of their own.
    """
    shm = Path("/dev/shm")
    if shm.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="qdrant_local_served_", dir=shm))
    else:
        folder = tmp_path_factory.mktemp("served")
    process = ServerProcess(folder)
    try:
        yield process
    finally:
        process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def subject(server: ServerProcess) -> Side:
    """The differential tests' subject: qdrant-client's REST client talking to the server."""
    return served_side(server.url)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "db"
