"""Inputs are converted once, at the client facade: filters, points selectors, queries, prefetch
trees, formulas and batch requests become our models (``qdrant_local.models.convert`` and
``convert_query``) before planning and the engine see them.

The uniform reader of the three input forms (``qdrant_local._access``) may only be imported by the
modules listed here: the converters (a new importer fails). Filter compilation, conditions, payload indexes, selectors and the query
layer read plain attributes of our models and reject anything else.
"""

from __future__ import annotations

from typing import Any

import pytest
from qdrant_client.http import models as qm

from qdrant_local import QdrantClient, models
from qdrant_local.engine.config import parse_dense_params
from qdrant_local.engine.filters import compile_filter
from qdrant_local.engine.projection import compile_payload_selector
from qdrant_local.errors import CollectionNotFound, InvalidInput, InvalidVector
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
from qdrant_local.models.convert_legacy import discover_request, recommend_request, search_request
from qdrant_local.models.convert_operations import to_alias_operation, to_update_operation
from qdrant_local.models.convert_query import (
    UnreadableCondition,
    to_expression,
    to_prefetch,
    to_query,
    to_query_requests,
    to_with_lookup,
)
from qdrant_local.query import formula
from qdrant_local.query.execution import QueryRequest
from qdrant_local.query.requests import idf_corpus_of, parse_query, validate_prefetches

from .test_layers import MODULES, _imported, _module_name

# Modules allowed to read raw arguments through the accessor. engine/ filter code is never among them.
ALLOWED = {
    "qdrant_local.models.convert",  # the converters
    "qdrant_local.models.convert_query",
    "qdrant_local.models.convert_legacy",
    "qdrant_local.models.convert_operations",
}
NEVER = {
    "qdrant_local.query.execution",
    "qdrant_local.query.formula",
    "qdrant_local.query.planner",
    "qdrant_local.query.requests",
    "qdrant_local.api.legacy",
    "qdrant_local.api.operations_input",
    "qdrant_local.api.query",
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


# -- the query API --------------------------------------------------------------------------------

QUERY_FORMS = [
    (
        {"nearest": [1.0, 2.0], "mmr": {"diversity": 0.3}},
        models.NearestQuery(nearest=[1.0, 2.0], mmr=models.Mmr(diversity=0.3)),
        qm.NearestQuery(nearest=[1.0, 2.0], mmr=qm.Mmr(diversity=0.3)),
    ),
    (
        {"recommend": {"positive": [1, 2], "strategy": "best_score"}},
        models.RecommendQuery(
            recommend=models.RecommendInput(positive=[1, 2], strategy=models.RecommendStrategy.BEST_SCORE)
        ),
        qm.RecommendQuery(recommend=qm.RecommendInput(positive=[1, 2], strategy=qm.RecommendStrategy.BEST_SCORE)),
    ),
    (
        {"discover": {"target": 3, "context": {"positive": 1, "negative": 2}}},
        models.DiscoverQuery(
            discover=models.DiscoverInput(target=3, context=models.ContextPair(positive=1, negative=2))
        ),
        qm.DiscoverQuery(discover=qm.DiscoverInput(target=3, context=qm.ContextPair(positive=1, negative=2))),
    ),
    (
        {"context": [{"positive": 1, "negative": 2}]},
        models.ContextQuery(context=[models.ContextPair(positive=1, negative=2)]),
        qm.ContextQuery(context=[qm.ContextPair(positive=1, negative=2)]),
    ),
    (
        {"order_by": {"key": "n", "direction": "desc"}},
        models.OrderByQuery(order_by=models.OrderBy(key="n", direction=models.Direction.DESC)),
        qm.OrderByQuery(order_by=qm.OrderBy(key="n", direction=qm.Direction.DESC)),
    ),
    ({"fusion": "dbsf"}, models.FusionQuery(fusion=models.Fusion.DBSF), qm.FusionQuery(fusion=qm.Fusion.DBSF)),
    ({"rrf": {"k": 5}}, models.RrfQuery(rrf=models.Rrf(k=5)), qm.RrfQuery(rrf=qm.Rrf(k=5))),
    ({"sample": "random"}, models.SampleQuery(sample=models.Sample.RANDOM), qm.SampleQuery(sample=qm.Sample.RANDOM)),
    (
        {
            "relevance_feedback": {
                "target": 1,
                "feedback": [{"example": 2, "score": 0.5}],
                "strategy": {"naive": {"a": 1, "b": 2, "c": 3}},
            }
        },
        models.RelevanceFeedbackQuery(
            relevance_feedback=models.RelevanceFeedbackInput(
                target=1,
                feedback=[models.FeedbackItem(example=2, score=0.5)],
                strategy=models.NaiveFeedbackStrategy(naive=models.NaiveFeedbackStrategyParams(a=1, b=2, c=3)),
            )
        ),
        qm.RelevanceFeedbackQuery(
            relevance_feedback=qm.RelevanceFeedbackInput(
                target=1,
                feedback=[qm.FeedbackItem(example=2, score=0.5)],
                strategy=qm.NaiveFeedbackStrategy(naive=qm.NaiveFeedbackStrategyParams(a=1, b=2, c=3)),
            )
        ),
    ),
    (
        {"formula": {"sum": ["$score", {"key": "a", "match": {"value": 1}}, {"div": {"left": 1, "right": "b"}}]}},
        models.FormulaQuery(
            formula=models.SumExpression(
                sum=[
                    "$score",
                    models.FieldCondition(key="a", match=models.MatchValue(value=1)),
                    models.DivExpression(div=models.DivParams(left=1, right="b")),
                ]
            )
        ),
        qm.FormulaQuery(
            formula=qm.SumExpression(
                sum=[
                    "$score",
                    qm.FieldCondition(key="a", match=qm.MatchValue(value=1)),
                    qm.DivExpression(div=qm.DivParams(left=1, right="b")),
                ]
            )
        ),
    ),
]


@pytest.mark.parametrize("forms", QUERY_FORMS, ids=lambda forms: type(forms[1]).__name__)
def test_every_query_form_converts_to_the_same_model(forms: tuple[Any, Any, Any]) -> None:
    converted = [to_query(form) for form in forms]
    assert type(converted[0]) is type(forms[1])
    assert converted[0] == converted[1] == converted[2]
    assert parse_query(converted[0]) is not None


def test_formula_conditions_convert_to_filters() -> None:
    sum_ = to_expression({"sum": [{"key": "a", "match": {"value": 1}}, 2.0]})
    assert sum_.sum == [models.Filter(must=[models.FieldCondition(key="a", match=models.MatchValue(value=1))]), 2.0]
    assert to_expression({"unknown": 1}) == {"unknown": 1}  # no expression: rejected by the query layer
    unreadable = to_expression({"key": "a", "match": {"value": 1, "any": [2]}})
    assert type(unreadable) is UnreadableCondition  # its error is raised where the formula is validated
    with pytest.raises(InvalidInput, match="match must have exactly one"):
        formula.validate_expression(models.NegExpression(neg=unreadable), lambda condition: None)


def test_our_nearest_query_is_read_in_place_unless_its_mmr_needs_converting() -> None:
    query = models.NearestQuery(nearest=[1.0], mmr=models.Mmr(diversity=0.2))
    assert to_query(query) is query
    converted = to_query(models.NearestQuery(nearest=[1.0], mmr={"diversity": 0.2}))  # type: ignore[arg-type]
    assert converted == models.NearestQuery(nearest=[1.0], mmr=models.Mmr(diversity=0.2))


def test_bare_vectors_stay_as_given() -> None:
    vector = [1.0, 2.0]
    assert to_query(vector) is vector
    sparse = {"indices": [1], "values": [0.5]}
    assert to_query(sparse) is sparse and to_query(7) == 7


@pytest.mark.parametrize(
    "form",
    [
        [{"query": {"nearest": [1.0]}, "prefetch": {"query": [2.0], "limit": 5}, "lookup_from": {"collection": "o"}}],
        [
            models.Prefetch(
                query=models.NearestQuery(nearest=[1.0]),
                prefetch=models.Prefetch(query=[2.0], limit=5),
                lookup_from=models.LookupLocation(collection="o"),
            )
        ],
        [
            qm.Prefetch(
                query=qm.NearestQuery(nearest=[1.0]),
                prefetch=qm.Prefetch(query=[2.0], limit=5),
                lookup_from=qm.LookupLocation(collection="o"),
            )
        ],
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_prefetch_trees_convert_to_our_models(form: list[Any]) -> None:
    (converted,) = to_prefetch(form)
    assert type(converted) is models.Prefetch
    assert converted.query == models.NearestQuery(nearest=[1.0], mmr=None)
    assert type(converted.prefetch) is models.Prefetch and converted.prefetch.limit == 5
    assert converted.lookup_from == models.LookupLocation(collection="o", vector=None, shard_key=None)


@pytest.mark.parametrize(
    "form",
    [
        {"query": {"fusion": "rrf"}, "prefetch": [{"query": [1.0]}], "params": {"exact": True}, "with_vector": True},
        models.QueryRequest(
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            prefetch=[models.Prefetch(query=[1.0])],
            params=models.SearchParams(exact=True),
            with_vector=True,
        ),
        qm.QueryRequest(
            query=qm.FusionQuery(fusion=qm.Fusion.RRF),
            prefetch=[qm.Prefetch(query=[1.0])],
            params=qm.SearchParams(exact=True),
            with_vector=True,
        ),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_batch_requests_convert_to_our_model(form: object) -> None:
    (converted,) = to_query_requests([form])
    assert type(converted) is models.QueryRequest
    assert converted.query == models.FusionQuery(fusion="rrf")
    assert type(converted.prefetch[0]) is models.Prefetch
    assert (converted.params.exact, converted.with_vector, converted.limit) == (True, True, None)


def test_a_batch_without_length_is_reported_after_the_collection() -> None:
    client = QdrantClient(":memory:")
    with pytest.raises(CollectionNotFound):
        client.query_batch_points("missing", None)  # type: ignore[arg-type]
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    with pytest.raises(TypeError, match="has no len"):
        client.query_batch_points("c", (request for request in [models.QueryRequest(query=[1.0, 0.0])]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "form",
    [
        {"collection": "o", "with_payload": {"include": ["a"]}},
        models.WithLookup(collection="o", with_payload=models.PayloadSelectorInclude(include=["a"])),
        qm.WithLookup(collection="o", with_payload=qm.PayloadSelectorInclude(include=["a"])),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_with_lookup_converts_to_our_model(form: object) -> None:
    converted = to_with_lookup(form)
    assert type(converted) is models.WithLookup
    assert (converted.collection, converted.with_payload.include, converted.with_vectors) == ("o", ["a"], None)
    assert to_with_lookup("o") == "o"


def test_the_query_layer_reads_only_converted_queries() -> None:
    # A query model that was not converted is no vector: rejected as a vector input.
    with pytest.raises(InvalidVector):
        parse_query({"nearest": [1.0, 2.0]})
    with pytest.raises(InvalidVector):
        parse_query(qm.NearestQuery(nearest=[1.0, 2.0]))
    with pytest.raises(InvalidInput, match="Unsupported expression type"):
        formula.validate_expression({"sum": [1.0]}, lambda condition: None)
    with pytest.raises(InvalidInput, match="Unsupported expression type"):
        formula.validate_expression(qm.SumExpression(sum=[1.0]), lambda condition: None)
    with pytest.raises(AttributeError):
        validate_prefetches([{"query": [1.0], "limit": 0}])
    with pytest.raises(AttributeError):
        QueryRequest.from_model({"query": [1.0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidVector):
        QueryRequest.from_model(qm.QueryRequest(query=qm.NearestQuery(nearest=[1.0])))  # type: ignore[arg-type]
    assert idf_corpus_of(models.SearchParams.model_construct(idf={"corpus": {"must": []}})) is None


def test_search_params_idf_converts_to_our_model() -> None:
    converted = to_search_params({"idf": {"corpus": {"must": []}}})
    assert type(converted.idf) is models.IdfCorpusParams
    assert idf_corpus_of(converted) == models.Filter(must=[])
    assert to_search_params(qm.SearchParams(idf=qm.IdfCorpusParams(corpus=qm.Filter()))).idf.corpus == qm.Filter()


@pytest.mark.parametrize(
    "form",
    [
        {"vector": {"name": "v", "vector": [1.0]}, "filter": {"must": []}, "limit": 3, "params": {"exact": True}},
        models.SearchRequest(
            vector=models.NamedVector(name="v", vector=[1.0]),
            filter=models.Filter(must=[]),
            limit=3,
            params=models.SearchParams(exact=True),
        ),
    ],
    ids=["dict", "ours"],  # qdrant-client 1.20 has no legacy request models
)
def test_legacy_search_requests_convert_to_query_requests(form: object) -> None:
    converted = search_request(form)
    assert type(converted) is models.QueryRequest
    assert (converted.query, converted.using, converted.limit, converted.params.exact) == ([1.0], "v", 3, True)
    assert to_filter(converted.filter) == models.Filter(must=[])  # filters are converted where they are read


@pytest.mark.parametrize(
    "form",
    [
        {"positive": [1], "strategy": "best_score", "lookup_from": {"collection": "o"}, "limit": 2},
        models.RecommendRequest(
            positive=[1],
            strategy=models.RecommendStrategy.BEST_SCORE,
            lookup_from=models.LookupLocation(collection="o"),
            limit=2,
        ),
        {
            "positive": [1],
            "strategy": qm.RecommendStrategy.BEST_SCORE,
            "lookup_from": qm.LookupLocation(collection="o"),
            "limit": 2,
        },
    ],
    ids=["dict", "ours", "dict of qdrant_client models"],
)
def test_legacy_recommend_requests_convert_to_query_requests(form: object) -> None:
    converted = recommend_request(form)
    assert converted.query == models.RecommendQuery(
        recommend=models.RecommendInput(positive=[1], negative=[], strategy="best_score")
    )
    assert (converted.lookup_from.collection, converted.limit) == ("o", 2)


@pytest.mark.parametrize(
    "form",
    [
        {"target": 1, "context": [{"positive": 2, "negative": 3}], "limit": 2},
        models.DiscoverRequest(target=1, context=[models.ContextPair(positive=2, negative=3)], limit=2),
        {"target": 1, "context": [qm.ContextPair(positive=2, negative=3)], "limit": 2},
    ],
    ids=["dict", "ours", "dict of qdrant_client models"],
)
def test_legacy_discover_requests_convert_to_query_requests(form: object) -> None:
    converted = discover_request(form)
    pairs = [models.ContextPair(positive=2, negative=3)]
    assert converted.query == models.DiscoverQuery(discover=models.DiscoverInput(target=1, context=pairs))
    assert converted.limit == 2
    with pytest.raises(InvalidInput, match="No target or context given"):
        discover_request({"limit": 2})


# -- batch and alias operations -------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {"set_payload": {"payload": {"a": 1}, "points": (1, 2), "key": "k"}},
        models.SetPayloadOperation(set_payload=models.SetPayload(payload={"a": 1}, points=[1, 2], key="k")),
        qm.SetPayloadOperation(set_payload=qm.SetPayload(payload={"a": 1}, points=[1, 2], key="k")),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_update_operations_convert_to_our_models(form: object) -> None:
    converted = to_update_operation(form)
    assert type(converted) is models.SetPayloadOperation
    body = converted.set_payload
    assert (body.payload, body.points, body.filter, body.key) == ({"a": 1}, [1, 2], None, "k")


def test_upserts_keep_their_points_as_given() -> None:
    points = [models.PointStruct(id=1, vector=[1.0])]
    converted = to_update_operation({"upsert": {"points": points}})
    assert type(converted.upsert) is models.PointsList and converted.upsert.points is points
    batch = qm.Batch(ids=[1], vectors=[[1.0]])
    assert to_update_operation(qm.UpsertOperation(upsert=qm.PointsBatch(batch=batch))).upsert.batch is batch


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ({"upsert_points": {}}, "Unknown update operation"),
        ({"upsert": {"update_filter": {"must": []}}}, "Upsert operation must carry points or a batch"),
        ({"delete_payload": {"keys": ["a"]}}, "Either points or filter must be specified"),
    ],
)
def test_unreadable_update_operations_raise_where_they_are_read(operation: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        to_update_operation(operation)


@pytest.mark.parametrize(
    "form",
    [
        {"rename_alias": {"old_alias_name": "a", "new_alias_name": "b"}},
        models.RenameAliasOperation(rename_alias=models.RenameAlias(old_alias_name="a", new_alias_name="b")),
        qm.RenameAliasOperation(rename_alias=qm.RenameAlias(old_alias_name="a", new_alias_name="b")),
    ],
    ids=["dict", "ours", "qdrant_client"],
)
def test_alias_operations_convert_to_our_models(form: object) -> None:
    converted = to_alias_operation(form)
    assert converted == models.RenameAliasOperation(
        rename_alias=models.RenameAlias(old_alias_name="a", new_alias_name="b")
    )
    with pytest.raises(InvalidInput, match="Unknown operation"):
        to_alias_operation({"create": {}})
