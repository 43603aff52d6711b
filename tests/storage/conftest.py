"""Fixtures shared by the storage tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A storage folder path that does not exist yet."""
    return tmp_path / "store"
