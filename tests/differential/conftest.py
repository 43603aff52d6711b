"""Fixtures of the differential tests.

The subject is a fixture parameter: ``qdrant_local`` by default, or the oracle itself with
``QDRANT_LOCAL_DIFF_SUBJECT=oracle`` (a self-check of the harness: every test must pass then).
Tests that cannot use fixtures (the state machines) call :func:`compare.subject_side` directly.
"""

from __future__ import annotations

import pytest

from .compare import Side, subject_name, subject_side


@pytest.fixture(scope="session", params=[subject_name()])
def subject(request: pytest.FixtureRequest) -> Side:
    """The implementation under test (session-scoped, so hypothesis tests may use it)."""
    return subject_side()
