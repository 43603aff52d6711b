"""The query API scenarios of ``tests/query/test_query_kinds.py`` through the server.

The twin collections are built in local mode and on the server (through qdrant-client's REST client,
which takes qdrant_client models, so the subject's requests are built with those); every query,
batch, group and matrix scenario is then run as in-process, with smaller example budgets (each call is
an HTTP round trip, and local mode's matrix search is slow). The REST-dict scenario is left out:
qdrant-client's REST client does not accept dicts for models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import qdrant_client
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client import models as qm

from ..differential.specs import Call
from ..query import oracle
from ..query import test_query_kinds as scenarios
from .process import ServerProcess
from .remote import ServedClient, reset


@pytest.fixture(scope="module")
def twins(server: ServerProcess) -> Iterator[dict[str, oracle.Twin]]:
    """The query tests' twin collections, the subject's copy on the server."""
    patch = pytest.MonkeyPatch()
    patch.setattr(oracle, "lm", qm)  # the subject side builds qdrant_client models for the REST client
    reset(server.url)
    clients = (qdrant_client.QdrantClient(":memory:"), ServedClient(server.url))
    try:
        built = {d: oracle.dense_twin(clients, d, seed=11 + i) for i, d in enumerate(oracle.DISTANCES)}
        built["named"] = oracle.named_twin(clients, seed=5)
        yield built
    finally:
        for client in clients:
            client.close()
        patch.undo()


def local_mode_is_deterministic(value: Any) -> bool:
    """False for a recommend input naming the same example as positive and negative.

    Local mode (the oracle) then compares a vector with itself around an in-place re-normalisation
    and its ranking changes from call to call (the context-pair scenarios exclude the same case).
    """
    if isinstance(value, Call):
        if value.name == "RecommendInput":
            negatives = value.kwargs.get("negative") or []
            if any(example in negatives for example in value.kwargs.get("positive") or []):
                return False
        return all(local_mode_is_deterministic(v) for v in value.kwargs.values())
    if isinstance(value, (list, tuple)):
        return all(local_mode_is_deterministic(v) for v in value)
    if isinstance(value, dict):
        return all(local_mode_is_deterministic(v) for v in value.values())
    return True


class DeterministicDraws:
    """``st.data()`` whose draws skip what local mode answers at random."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def draw(self, strategy: st.SearchStrategy[Any], label: Any = None) -> Any:
        return self._data.draw(strategy.filter(local_mode_is_deterministic), label=label)


SETTINGS = settings(scenarios.SETTINGS, max_examples=12)
NAMES = st.sampled_from([*oracle.DISTANCES, "named"])


@pytest.mark.parametrize("distance", oracle.DISTANCES)
@SETTINGS
@given(data=st.data())
def test_query_points_dense(twins: dict[str, oracle.Twin], distance: str, data: st.DataObject) -> None:
    scenarios.test_query_points_dense.hypothesis.inner_test(twins, distance, DeterministicDraws(data))


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_query_points_named_sparse_multi(twins: dict[str, oracle.Twin], data: st.DataObject) -> None:
    scenarios.test_query_points_named_sparse_multi.hypothesis.inner_test(twins, DeterministicDraws(data))


@SETTINGS
@given(data=st.data(), name=NAMES)
def test_query_batch_points(twins: dict[str, oracle.Twin], data: st.DataObject, name: str) -> None:
    scenarios.test_query_batch_points.hypothesis.inner_test(twins, DeterministicDraws(data), name)


@settings(SETTINGS, max_examples=20)
@given(data=st.data(), name=NAMES)
def test_query_points_groups(twins: dict[str, oracle.Twin], data: st.DataObject, name: str) -> None:
    scenarios.test_query_points_groups.hypothesis.inner_test(twins, DeterministicDraws(data), name)


@pytest.mark.parametrize("name", ["Cosine", "named"])
@settings(SETTINGS, max_examples=3)
@given(limit=st.integers(1, 4), data=st.data())
def test_search_matrix(twins: dict[str, oracle.Twin], name: str, limit: int, data: st.DataObject) -> None:
    scenarios.test_search_matrix.hypothesis.inner_test(twins, name, limit, DeterministicDraws(data))


@SETTINGS
@given(data=st.data(), name=NAMES)
def test_sample_query(twins: dict[str, oracle.Twin], data: st.DataObject, name: str) -> None:
    scenarios.test_sample_query.hypothesis.inner_test(twins, DeterministicDraws(data), name)
