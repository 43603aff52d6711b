"""Query API arguments converted once, at the facade, into our models.

``query``, ``prefetch``, ``lookup_from``, ``with_lookup``, the ``QueryRequest`` of a batch and formula
expressions may each be our model, a qdrant_client (pydantic) model or a REST-shaped dict, mixed at
any depth. The converters here read whichever form they got (the only readers of those forms, with
``models.convert``) and return our models built without checks, so that ``query/`` reads plain
attributes.

The converters never raise: they read fields and keep every value as given, so each check (and its
message, and which of several bad parts is reported first) stays where the query layer makes it, in
local mode's order. What they do not read stays as given: vector inputs (lists, arrays, point ids,
sparse vectors: the bulk path, read by the spaces), an input that is no query model (a bare vector,
or what ``query.requests.parse_query`` rejects), an expression that is no expression (rejected by
``query.formula`` with its type), and filters (``models.convert.to_filter`` converts them where the
query layer reads them, since that conversion checks the filter). A formula's filter conditions are
converted here; a condition that fails to convert becomes an :class:`UnreadableCondition` carrying
the error, raised where the formula is validated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._access import enum_value, field, has_field
from . import _generated as m
from .convert import to_filter, to_order_by, to_search_params, to_text_query, to_with_payload

__all__ = [
    "UnreadableCondition",
    "context_pairs",
    "query_request",
    "recommend_query",
    "to_expression",
    "to_lookup",
    "to_prefetch",
    "to_query",
    "to_query_request",
    "to_query_requests",
    "to_with_lookup",
]

# -- queries --------------------------------------------------------------------------------------

_QUERY_KEYS = (
    "nearest",
    "recommend",
    "discover",
    "context",
    "order_by",
    "fusion",
    "rrf",
    "formula",
    "sample",
    "relevance_feedback",
)
_KEY_OF_CLASS = {
    "NearestQuery": "nearest",
    "RecommendQuery": "recommend",
    "DiscoverQuery": "discover",
    "ContextQuery": "context",
    "OrderByQuery": "order_by",
    "FusionQuery": "fusion",
    "RrfQuery": "rrf",
    "FormulaQuery": "formula",
    "SampleQuery": "sample",
    "RelevanceFeedbackQuery": "relevance_feedback",
}


def _query_key(query: Any) -> str | None:
    """The query kind a dict or model carries (its first query field), "text", or None."""
    if isinstance(query, dict):
        for key in _QUERY_KEYS:
            if key in query:
                return key
        if "text" in query and "model" not in query:
            return "text"
        return None
    name = type(query).__name__
    if name == "TextQuery":
        return "text"
    known = _KEY_OF_CLASS.get(name)
    if known is not None and has_field(query, known):
        return known
    if not name.endswith("Query"):
        return None
    return next((key for key in _QUERY_KEYS if has_field(query, key)), None)


def to_query(query: Any) -> Any:
    """A ``query`` argument (or a prefetch's) as our query model (``NearestQuery``, ``RecommendQuery``,
    ... ``TextQuery``); a bare vector input (list, array, point id, sparse vector) or anything that is
    no query model as given; None for None."""
    kind = type(query)
    if query is None or kind is list or isinstance(query, np.ndarray):
        return query  # a bare vector, the common case
    if kind is m.NearestQuery and type(query.mmr) in _CANONICAL_MMR and query.nearest is not None:
        return query  # ours already: its vector is read as given anyway
    key = _query_key(query)
    if key is None:
        return query
    return _QUERY_CONVERTERS[key](query)


_CANONICAL_MMR = (type(None), m.Mmr)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _nearest(query: Any) -> m.NearestQuery:
    mmr = field(query, "mmr")
    if mmr is not None:
        mmr = m.Mmr.model_construct(diversity=field(mmr, "diversity"), candidates_limit=field(mmr, "candidates_limit"))
    return m.NearestQuery.model_construct(nearest=field(query, "nearest"), mmr=mmr)


def _recommend(query: Any) -> m.RecommendQuery:
    recommend = field(query, "recommend")
    positive, negative = _as_list(field(recommend, "positive")), _as_list(field(recommend, "negative"))
    return recommend_query(positive, negative, field(recommend, "strategy"))


def recommend_query(positive: list[Any], negative: list[Any], strategy: Any) -> m.RecommendQuery:
    """Our ``RecommendQuery`` of examples (as given) and a strategy in any form (None for the default)."""
    return m.RecommendQuery.model_construct(
        recommend=m.RecommendInput.model_construct(
            positive=positive, negative=negative, strategy=enum_value(strategy) if strategy is not None else None
        )
    )


def context_pairs(context: Any) -> list[m.ContextPair]:
    """Context pairs in any form (a list, or a single pair) as our ``ContextPair``s, examples as given."""
    return [
        m.ContextPair.model_construct(positive=field(pair, "positive"), negative=field(pair, "negative"))
        for pair in _as_list(context)
    ]


def _discover(query: Any) -> m.DiscoverQuery:
    discover = field(query, "discover")
    return m.DiscoverQuery.model_construct(
        discover=m.DiscoverInput.model_construct(
            target=field(discover, "target"), context=context_pairs(field(discover, "context"))
        )
    )


def _context(query: Any) -> m.ContextQuery:
    return m.ContextQuery.model_construct(context=context_pairs(field(query, "context")))


def _relevance_feedback(query: Any) -> m.RelevanceFeedbackQuery:
    feedback = field(query, "relevance_feedback")
    items = [
        m.FeedbackItem.model_construct(example=field(item, "example"), score=field(item, "score"))
        for item in _as_list(field(feedback, "feedback"))
    ]
    strategy = field(feedback, "strategy")
    naive = field(strategy, "naive")
    if naive is not None:  # else kept as given: the query layer names it in its error
        params = m.NaiveFeedbackStrategyParams.model_construct(
            a=field(naive, "a"), b=field(naive, "b"), c=field(naive, "c")
        )
        strategy = m.NaiveFeedbackStrategy.model_construct(naive=params)
    return m.RelevanceFeedbackQuery.model_construct(
        relevance_feedback=m.RelevanceFeedbackInput.model_construct(
            target=field(feedback, "target"), feedback=items, strategy=strategy
        )
    )


def _order_by(query: Any) -> m.OrderByQuery:
    return m.OrderByQuery.model_construct(order_by=to_order_by(field(query, "order_by")))


def _fusion(query: Any) -> m.FusionQuery:
    return m.FusionQuery.model_construct(fusion=enum_value(field(query, "fusion")))


def _rrf(query: Any) -> m.RrfQuery:
    rrf = field(query, "rrf")
    return m.RrfQuery.model_construct(rrf=m.Rrf.model_construct(k=field(rrf, "k"), weights=field(rrf, "weights")))


def _formula(query: Any) -> m.FormulaQuery:
    defaults = field(query, "defaults")
    return m.FormulaQuery.model_construct(
        formula=to_expression(field(query, "formula")), defaults={} if defaults is None else defaults
    )


def _sample(query: Any) -> m.SampleQuery:
    return m.SampleQuery.model_construct(sample=enum_value(field(query, "sample")))


_QUERY_CONVERTERS: dict[str, Any] = {
    "nearest": _nearest,
    "recommend": _recommend,
    "discover": _discover,
    "context": _context,
    "order_by": _order_by,
    "fusion": _fusion,
    "rrf": _rrf,
    "formula": _formula,
    "sample": _sample,
    "relevance_feedback": _relevance_feedback,
    "text": to_text_query,
}

# -- prefetch trees, lookups, batch requests ------------------------------------------------------


def to_prefetch(prefetch: Any) -> Any:
    """A ``prefetch`` argument as our ``Prefetch`` (a single one) or a list of them (a list, None
    items kept); None for None. The tree is converted to its leaves; filters stay as given."""
    if prefetch is None:
        return None
    if isinstance(prefetch, (list, tuple)):
        return [_prefetch(item) for item in prefetch]
    return _prefetch(prefetch)


def _prefetch(item: Any) -> m.Prefetch | None:
    if item is None:
        return None
    return m.Prefetch.model_construct(
        prefetch=to_prefetch(field(item, "prefetch")),
        query=to_query(field(item, "query")),
        using=field(item, "using"),
        filter=field(item, "filter"),
        params=to_search_params(field(item, "params")),
        score_threshold=field(item, "score_threshold"),
        limit=field(item, "limit"),
        lookup_from=to_lookup(field(item, "lookup_from")),
    )


def to_lookup(lookup_from: Any) -> m.LookupLocation | None:
    """``lookup_from`` as our ``LookupLocation`` (collection and vector name as given); None for None."""
    if lookup_from is None:
        return None
    return m.LookupLocation.model_construct(
        collection=field(lookup_from, "collection"), vector=field(lookup_from, "vector"), shard_key=None
    )


def to_with_lookup(with_lookup: Any) -> Any:
    """``with_lookup`` as a collection name (a str, as given) or our ``WithLookup`` (its
    ``with_payload`` converted by ``to_with_payload``); None for None."""
    if with_lookup is None or isinstance(with_lookup, str):
        return with_lookup
    with_payload = field(with_lookup, "with_payload")
    return m.WithLookup.model_construct(
        collection=field(with_lookup, "collection"),
        with_payload=None if with_payload is None else to_with_payload(with_payload),
        with_vectors=field(with_lookup, "with_vectors"),
    )


def to_query_request(request: Any) -> m.QueryRequest:
    """One ``QueryRequest`` of ``query_batch_points`` as our model, its parts converted as above
    (``filter``, ``with_payload`` and ``with_vector`` as given)."""
    prefetch = to_prefetch(field(request, "prefetch"))
    query = to_query(field(request, "query"))
    return query_request(request, query, field(request, "using"), field(request, "lookup_from"), prefetch)


def query_request(
    request: Any, query: Any, using: Any, lookup_from: Any = None, prefetch: Any = None
) -> m.QueryRequest:
    """Our ``QueryRequest`` around a converted ``query`` (and ``prefetch``): the fields every request
    shares (filter, params, score_threshold, limit, offset, with_vector, with_payload) read from
    ``request``, whatever model or dict it is (a legacy request included), ``lookup_from`` converted."""
    return m.QueryRequest.model_construct(
        shard_key=None,
        prefetch=prefetch,
        query=query,
        using=using,
        filter=field(request, "filter"),
        params=to_search_params(field(request, "params")),
        score_threshold=field(request, "score_threshold"),
        limit=field(request, "limit"),
        offset=field(request, "offset"),
        with_vector=field(request, "with_vector"),
        with_payload=field(request, "with_payload"),
        lookup_from=to_lookup(lookup_from),
    )


def to_query_requests(requests: Any) -> Any:
    """The requests of ``query_batch_points`` (a sequence), each converted. What has no length is
    returned as given: the query layer takes its length once the collection is found, and raises."""
    try:
        len(requests)
    except TypeError:
        return requests
    return [to_query_request(request) for request in requests]


# -- formula expressions --------------------------------------------------------------------------


class UnreadableCondition:
    """A formula condition whose conversion failed: the error is raised where the formula is validated."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_OPERATOR_KEYS = (
    "mult", "sum", "max", "min", "neg", "abs", "div", "sqrt", "pow", "exp", "log10", "ln", "acosh",
    "geo_distance", "datetime_key", "datetime", "lin_decay", "exp_decay", "gauss_decay",
)  # fmt: skip
_CONDITION_KEYS = (
    "key",
    "is_empty",
    "is_null",
    "has_id",
    "has_vector",
    "nested",
    "slice",
    "must",
    "should",
    "must_not",
    "min_should",
)
_CLASS_KINDS = {
    "MultExpression": "mult",
    "SumExpression": "sum",
    "MaxExpression": "max",
    "MinExpression": "min",
    "NegExpression": "neg",
    "AbsExpression": "abs",
    "DivExpression": "div",
    "SqrtExpression": "sqrt",
    "PowExpression": "pow",
    "ExpExpression": "exp",
    "Log10Expression": "log10",
    "LnExpression": "ln",
    "AcoshExpression": "acosh",
    "GeoDistance": "geo_distance",
    "DatetimeExpression": "datetime",
    "DatetimeKeyExpression": "datetime_key",
    "LinDecayExpression": "lin_decay",
    "ExpDecayExpression": "exp_decay",
    "GaussDecayExpression": "gauss_decay",
}
_CONDITION_CLASSES = {
    "FieldCondition",
    "IsEmptyCondition",
    "IsNullCondition",
    "HasIdCondition",
    "HasVectorCondition",
    "NestedCondition",
    "SliceCondition",
    "Filter",
}


def _expression_kind(expression: Any) -> str | None:
    """The kind of an expression in any form ("const", "variable", "condition" or the operator);
    None for what is no expression."""
    if isinstance(expression, (int, float)):
        return "const"
    if isinstance(expression, str):
        return "variable"
    if isinstance(expression, dict):
        for key in _OPERATOR_KEYS:
            if key in expression:
                return key
        if any(key in expression for key in _CONDITION_KEYS):
            return "condition"
        return None
    name = type(expression).__name__
    if name in _CLASS_KINDS:
        return _CLASS_KINDS[name]
    if name in _CONDITION_CLASSES:
        return "condition"
    return None


def to_expression(expression: Any) -> Any:
    """A formula expression as a tree of our expression models: numbers and variables as given,
    conditions as our ``Filter`` (or an :class:`UnreadableCondition`), anything else as given."""
    kind = _expression_kind(expression)
    if kind is None or kind == "const" or kind == "variable":
        return expression
    return _EXPRESSION_CONVERTERS[kind](expression, kind)


def _condition(expression: Any, kind: str) -> Any:
    try:
        return to_filter(expression)
    except Exception as error:  # reported where the formula is validated, in its order
        return UnreadableCondition(error)


def _operands(value: Any) -> Any:
    """Operands of sum/mult/max/min: a list converted; None as []; anything else as given."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [to_expression(item) for item in value]
    return value


_VARIADIC = {"mult": m.MultExpression, "sum": m.SumExpression, "max": m.MaxExpression, "min": m.MinExpression}
_UNARY = {
    "neg": m.NegExpression,
    "abs": m.AbsExpression,
    "sqrt": m.SqrtExpression,
    "exp": m.ExpExpression,
    "log10": m.Log10Expression,
    "ln": m.LnExpression,
    "acosh": m.AcoshExpression,
}
_DECAYS = {"lin_decay": m.LinDecayExpression, "exp_decay": m.ExpDecayExpression, "gauss_decay": m.GaussDecayExpression}


def _variadic(expression: Any, kind: str) -> Any:
    return _VARIADIC[kind].model_construct(**{kind: _operands(field(expression, kind))})


def _unary(expression: Any, kind: str) -> Any:
    return _UNARY[kind].model_construct(**{kind: to_expression(field(expression, kind))})


def _div(expression: Any, kind: str) -> m.DivExpression:
    params = field(expression, "div")
    return m.DivExpression.model_construct(
        div=m.DivParams.model_construct(
            left=to_expression(field(params, "left")),
            right=to_expression(field(params, "right")),
            by_zero_default=field(params, "by_zero_default"),
        )
    )


def _pow(expression: Any, kind: str) -> m.PowExpression:
    params = field(expression, "pow")
    return m.PowExpression.model_construct(
        pow=m.PowParams.model_construct(
            base=to_expression(field(params, "base")), exponent=to_expression(field(params, "exponent"))
        )
    )


def _geo_distance(expression: Any, kind: str) -> m.GeoDistance:
    params = field(expression, "geo_distance")
    origin = field(params, "origin")
    return m.GeoDistance.model_construct(
        geo_distance=m.GeoDistanceParams.model_construct(
            origin=m.GeoPoint.model_construct(lon=field(origin, "lon"), lat=field(origin, "lat")),
            to=field(params, "to"),
        )
    )


def _datetime(expression: Any, kind: str) -> m.DatetimeExpression:
    return m.DatetimeExpression.model_construct(datetime=field(expression, "datetime"))


def _datetime_key(expression: Any, kind: str) -> m.DatetimeKeyExpression:
    return m.DatetimeKeyExpression.model_construct(datetime_key=field(expression, "datetime_key"))


def _decay(expression: Any, kind: str) -> Any:
    params = field(expression, kind)
    return _DECAYS[kind].model_construct(
        **{
            kind: m.DecayParamsExpression.model_construct(
                x=to_expression(field(params, "x")),
                target=to_expression(field(params, "target")),
                scale=field(params, "scale"),
                midpoint=field(params, "midpoint"),
            )
        }
    )


_EXPRESSION_CONVERTERS: dict[str, Any] = {
    "condition": _condition,
    **dict.fromkeys(_VARIADIC, _variadic),
    **dict.fromkeys(_UNARY, _unary),
    "div": _div,
    "pow": _pow,
    "geo_distance": _geo_distance,
    "datetime": _datetime,
    "datetime_key": _datetime_key,
    **dict.fromkeys(_DECAYS, _decay),
}
