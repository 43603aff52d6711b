"""The project's differential scenarios, with qdrant-client's REST client against a served folder as
the subject: the same writes and reads must give what local mode gives, errors included.

The scenarios come from ``tests/differential`` (imported, not copied; the ``subject`` fixture of this
directory's conftest points them at the server), with smaller example budgets since every call is an
HTTP round trip. One input is left out: an empty ``DatetimeRange()`` is ``{"range": {}}`` in JSON,
which the Qdrant server (and so this one) reads as a numeric ``Range`` - REST cannot tell them apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from ..differential import strategies, test_collections, test_operations
from ..differential import test_filter_parity as test_filters
from ..differential.compare import Pair, Side
from ..differential.specs import Call, json_unambiguous
from ..differential.test_filter_parity import edge_pair, indexed_edge_pair  # noqa: F401 - fixtures, on the server here
from ..differential.test_regressions import test_regression  # noqa: F401 - collected here, against the server
from .process import ServerProcess
from .remote import served_side

EDGE_VECTOR_NAMES = test_filters.KIND.vector_names
_FILTERS = test_filters.filters


def served_filters(*args: Any, **kwargs: Any) -> st.SearchStrategy[Call]:
    return _FILTERS(*args, **kwargs).filter(json_unambiguous)


@contextlib.contextmanager
def filters_for_rest() -> Iterator[None]:
    """Make the filter scenarios draw only filters that JSON can carry unambiguously."""
    original = test_filters.filters
    test_filters.filters = served_filters
    try:
        yield
    finally:
        test_filters.filters = original


@pytest.mark.parametrize(
    "machine", [test_operations.PointOperations, test_collections.Collections], ids=["points", "collections"]
)
def test_state_machine(server: ServerProcess, monkeypatch: pytest.MonkeyPatch, machine: type) -> None:
    """Every point and collection operation, in generated sequences, through the server."""
    module = test_operations if machine is test_operations.PointOperations else test_collections
    monkeypatch.setattr(module, "subject_side", lambda: served_side(server.url))
    # The machine's filter draws (its own and inside points selectors) leave out what JSON cannot carry.
    for drawing in (module, strategies):
        if hasattr(drawing, "filters"):
            monkeypatch.setattr(drawing, "filters", served_filters)
    run_state_machine_as_test(machine, settings=settings(max_examples=12, stateful_step_count=15))


@settings(max_examples=80)
@given(flt=served_filters(depth=2, vector_names=EDGE_VECTOR_NAMES))
def test_edge_dataset_count_and_scroll(edge_pair: Pair, flt: Call) -> None:  # noqa: F811
    test_filters.test_edge_dataset_count_and_scroll.hypothesis.inner_test(edge_pair, flt)


@settings(max_examples=60)
@given(flt=served_filters(depth=2, vector_names=EDGE_VECTOR_NAMES))
def test_indexed_edge_dataset_count_and_scroll(indexed_edge_pair: Pair, flt: Call) -> None:  # noqa: F811
    test_filters.test_indexed_edge_dataset_count_and_scroll.hypothesis.inner_test(indexed_edge_pair, flt)


@settings(max_examples=20)
@given(data=st.data())
def test_generated_dataset_filters(subject: Side, data: st.DataObject) -> None:
    with filters_for_rest():
        test_filters.test_generated_dataset_filters.hypothesis.inner_test(subject, data)


@settings(max_examples=10)
@given(data=st.data())
def test_has_vector_after_vector_changes(subject: Side, data: st.DataObject) -> None:
    test_filters.test_has_vector_after_vector_changes.hypothesis.inner_test(subject, data)
