"""Inputs are converted once, at the client facade: filters and points selectors become our models
(``qdrant_local.models.convert``) before planning and the engine see them.

The uniform reader of the three input forms (``qdrant_local._access``) may only be imported by the
modules listed here: the converters, and the request readers not yet converted (a shrinking list; a
new importer fails). Filter compilation, conditions, payload indexes and selectors read plain
attributes of our models and reject anything else.
"""

from __future__ import annotations

from typing import Any

import pytest
from qdrant_client.http import models as qm

from qdrant_local import models
from qdrant_local.engine.config import parse_dense_params
from qdrant_local.engine.filters import compile_filter
from qdrant_local.engine.projection import compile_payload_selector
from qdrant_local.errors import InvalidInput
from qdrant_local.models.convert import (
    to_filter,
    to_order_by,
    to_plain,
    to_search_params,
    to_selector,
    to_text_query,
    to_vector_name_config,
    to_with_payload,
)

from .test_layers import MODULES, _imported, _module_name

# Modules allowed to read raw arguments through the accessor. engine/ filter code is never among them.
ALLOWED = {
    "qdrant_local.models.convert",  # the converters
    # facade readers: legacy request models and batch_update operations, read where they enter
    "qdrant_local.api.legacy",
    "qdrant_local.api.operations_input",
    # query model readers still on the accessor (query kinds, prefetch, formula expressions):
    "qdrant_local.query.execution",
    "qdrant_local.query.formula",
    "qdrant_local.query.planner",
    "qdrant_local.query.requests",
}
NEVER = {
    "qdrant_local.engine.filters",
    "qdrant_local.engine.conditions",
    "qdrant_local.engine.index",
    "qdrant_local.engine.selectors",
    "qdrant_local.engine.payload",
    "qdrant_local.engine.maskcache",
}


def _importers() -> set[str]:
    return {
        _module_name(path)
        for path in MODULES
        if any(name.startswith("qdrant_local._access") for _, name in _imported(path))
    }


def test_only_the_converters_and_listed_readers_import_the_accessor() -> None:
    importers = _importers()
    assert not importers & NEVER
    assert importers <= ALLOWED, f"new readers of raw input: {sorted(importers - ALLOWED)}"


FORMS = [
    {"must": [{"key": "a", "match": {"value": 1}}], "must_not": {"has_id": [3]}},
    models.Filter(
        must=[models.FieldCondition(key="a", match=models.MatchValue(value=1))],
        must_not=models.HasIdCondition(has_id=[3]),
    ),
    qm.Filter(must=[qm.FieldCondition(key="a", match=qm.MatchValue(value=1))], must_not=qm.HasIdCondition(has_id=[3])),
]


@pytest.mark.parametrize("form", FORMS, ids=["dict", "ours", "qdrant_client"])
def test_every_form_converts_to_the_same_model(form: object) -> None:
    converted = to_filter(form)
    assert type(converted) is models.Filter
    assert converted == models.Filter(
        must=[models.FieldCondition(key="a", match=models.MatchValue(value=1))],
        must_not=[models.HasIdCondition(has_id=[3])],
    )


def test_a_repeated_filter_converts_and_compiles_once() -> None:
    first = to_filter({"must": [{"key": "a", "match": {"value": 1}}]})
    again = to_filter({"must": [{"key": "a", "match": {"value": 1}}]})
    assert again is first
    assert compile_filter(again) is compile_filter(first)
    # type-exact: 1.0 is another filter
    assert to_filter({"must": [{"key": "a", "match": {"value": 1.0}}]}) is not first


def test_the_engine_reads_only_converted_filters() -> None:
    with pytest.raises(InvalidInput, match="Unknown condition"):
        compile_filter({"must": [{"key": "a", "match": {"value": 1}}]})  # type: ignore[arg-type]


def test_selectors_convert_to_ids_or_a_filter() -> None:
    assert to_selector(qm.PointIdsList(points=[1, 2])) == [1, 2]
    assert to_selector({"points": [1]}) == [1]
    assert type(to_selector(qm.FilterSelector(filter=qm.Filter(must=[])))) is models.Filter
    assert type(to_selector({"filter": {"must": []}})) is models.Filter


@pytest.mark.parametrize(
    "form",
    [{"exclude": ["a.b"]}, models.PayloadSelectorExclude(exclude=["a.b"]), qm.PayloadSelectorExclude(exclude=["a.b"])],
    ids=["dict", "ours", "qdrant_client"],
)
def test_with_payload_converts_to_our_selector(form: object) -> None:
    converted = to_with_payload(form)
    assert type(converted) is models.PayloadSelectorExclude
    assert compile_payload_selector(converted).keys == ("a.b",)


def test_the_engine_reads_only_converted_with_payload() -> None:
    assert to_with_payload(iter(["a"])) == ["a"]
    with pytest.raises(InvalidInput, match="got a dict"):
        compile_payload_selector({"include": ["a"]})


@pytest.mark.parametrize(
    "form",
    [
        {"key": "n", "direction": "desc", "start_from": 3},
        models.OrderBy(key="n", direction=models.Direction.DESC, start_from=3),
        qm.OrderBy(key="n", direction=qm.Direction.DESC, start_from=3),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_order_by_converts_to_our_model(form: object) -> None:
    converted = to_order_by(form)
    assert type(converted) is models.OrderBy
    assert (converted.key, converted.direction, converted.start_from) == ("n", "desc", 3)
    assert to_order_by("n") == "n"
    assert to_order_by({"key": "n"}).direction == "asc"


@pytest.mark.parametrize(
    "form",
    [
        {"size": 4, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}},
        models.VectorParams(
            size=4,
            distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
        ),
        qm.VectorParams(
            size=4,
            distance=qm.Distance.DOT,
            multivector_config=qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM),
        ),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_vector_params_convert_to_plain_json(form: object) -> None:
    plain = to_plain(form)
    assert plain == {"size": 4, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}
    assert parse_dense_params(plain, "").kind == "multi"


def test_the_engine_reads_only_plain_configuration() -> None:
    with pytest.raises(InvalidInput, match="Vector size None is invalid"):
        parse_dense_params(qm.VectorParams(size=4, distance=qm.Distance.DOT), "")


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            qm.DenseVectorNameConfig(dense=qm.DenseVectorConfig(size=2, distance=qm.Distance.COSINE)),
            {"dense": {"size": 2, "distance": "Cosine"}},
        ),
        ({"sparse": {"modifier": qm.Modifier.IDF}}, {"sparse": {"modifier": "idf"}}),
        (models.SparseVectorNameConfig(sparse=models.SparseVectorConfig()), {"sparse": {}}),
    ],
)
def test_vector_name_configs_convert_to_plain_json(form: object, expected: object) -> None:
    assert to_vector_name_config(form) == expected
    assert to_vector_name_config(5) == 5  # the engine names its type in the error


@pytest.mark.parametrize(
    "form",
    [
        {"hnsw_ef": 64, "exact": True},
        models.SearchParams(hnsw_ef=64, exact=True),
        qm.SearchParams(hnsw_ef=64, exact=True),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_search_params_convert_to_our_model(form: object) -> None:
    converted = to_search_params(form)
    assert type(converted) is models.SearchParams
    assert (converted.hnsw_ef, converted.exact, converted.indexed_only) == (64, True, False)
    assert to_search_params(None) is None


def test_text_queries_convert_to_our_model() -> None:
    converted = to_text_query({"text": {"query": "red fox", "scoring": {"bm25": {"k": 0.9}}}})
    assert type(converted) is models.TextQuery
    text: Any = converted.text
    assert (text.query, text.scoring.bm25.k, text.scoring.bm25.b) == ("red fox", 0.9, None)
    assert to_text_query(models.TextQuery(text="fox")).text == "fox"
