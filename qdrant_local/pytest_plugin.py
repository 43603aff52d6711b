"""pytest plugin (registered through the ``pytest11`` entry point as ``qdrant_local``).

Fixtures, each a fresh client per test, closed afterwards:

- ``qdrant_local_client``: an in-memory :class:`qdrant_local.QdrantClient`.
- ``qdrant_local_async_client``: an in-memory :class:`qdrant_local.AsyncQdrantClient`.
- ``qdrant_local_path_client``: a :class:`qdrant_local.QdrantClient` persisting to a folder under ``tmp_path``.

Option ``--qdrant-local`` (or ``qdrant_local = true`` in the ini file) calls :func:`qdrant_local.install`
for the whole session, so a suite written against ``qdrant_client.QdrantClient(":memory:" | path=...)`` runs
on qdrant_local with no code change. Disable the plugin with ``-p no:qdrant_local``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import qdrant_local

_INI = "qdrant_local"
_installed_key = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qdrant_local")
    group.addoption(
        "--qdrant-local",
        action="store_true",
        default=None,
        help="run every qdrant_client.QdrantClient(':memory:' | path=...) of the session on qdrant_local",
    )
    parser.addini(_INI, type="bool", default=False, help="same as --qdrant-local")


def _wanted(config: pytest.Config) -> bool:
    option = config.getoption("qdrant_local")
    return bool(option) if option is not None else bool(config.getini(_INI))


def pytest_configure(config: pytest.Config) -> None:
    if _wanted(config):
        qdrant_local.install()
        config.stash[_installed_key] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_installed_key, False):
        qdrant_local.uninstall()


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.stash.get(_installed_key, False):
        return "qdrant_local: installed (qdrant_client's local mode runs on qdrant_local)"
    return None


@pytest.fixture
def qdrant_local_client() -> Iterator[Any]:
    """A fresh in-memory ``qdrant_local.QdrantClient``."""
    client = qdrant_local.QdrantClient(":memory:")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def qdrant_local_path_client(tmp_path: Path) -> Iterator[Any]:
    """A fresh ``qdrant_local.QdrantClient`` persisting to ``tmp_path / "qdrant"``."""
    client = qdrant_local.QdrantClient(path=str(tmp_path / "qdrant"))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def qdrant_local_async_client() -> Iterator[Any]:
    """A fresh in-memory ``qdrant_local.AsyncQdrantClient`` (use it from an async test)."""
    async_client = getattr(qdrant_local, "AsyncQdrantClient", None)
    if async_client is None:
        pytest.skip("this qdrant_local has no AsyncQdrantClient")
    client = async_client(":memory:")
    try:
        yield client
    finally:
        asyncio.run(client.close())
