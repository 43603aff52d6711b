"""Fixtures of the integration tests: installed mode switched on for one test and off again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import qdrant_local


@pytest.fixture
def installed() -> Iterator[None]:
    """qdrant_local installed as qdrant-client's local engine for the duration of the test."""
    pytest.importorskip("qdrant_client")
    from qdrant_local._compat.install import is_installed

    already = is_installed()  # e.g. QDRANT_LOCAL_DIFF_SUBJECT=installed earlier in the session
    qdrant_local.install()
    try:
        yield
    finally:
        if not already:
            qdrant_local.uninstall()
