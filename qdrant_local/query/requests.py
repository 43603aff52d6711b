"""Parsing and validating query requests: query kinds, vector inputs, filters, prefetch trees.

Queries and prefetch trees arrive converted into our models at the facade
(``models.convert_query``); the kind is told by the model's class. Vector inputs inside them are as
the caller gave them. A bare vector, sparse vector or point id is a nearest query, as
``QdrantClient._resolve_query`` makes it.

Validation messages and their order are qdrant-client local mode's (``QdrantLocal._validate_query``
and ``_validate_prefetch``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import numpy as np

from .. import models
from ..errors import InvalidInput, InvalidVector, NotSupported
from ..models.convert import to_filter

__all__ = [
    "ParsedQuery",
    "parse_query",
    "is_point_id",
    "is_sparse",
    "vector_kind",
    "validate_request",
    "merge_filters",
    "FilterSpec",
    "idf_corpus_of",
    "as_list",
    "MMR_CANDIDATES_LIMIT_MAX",
]

MMR_CANDIDATES_LIMIT_MAX = 16384

_INFERENCE_CLASSES = {"Document", "Image", "InferenceObject"}


def as_list(value: Any) -> list[Any]:
    """A clause that may be one item, a list of items, or None, as a list."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def is_point_id(value: Any) -> bool:
    """Point ids as qdrant-client's ``PointId`` union sees them: int, str or UUID."""
    return isinstance(value, (int, str, uuid.UUID)) and not isinstance(value, bool)


def is_sparse(value: Any) -> bool:
    """A SparseVector model (ours or qdrant_client's) or a ``{"indices", "values"}`` dict."""
    if isinstance(value, dict):
        return "indices" in value and "values" in value
    return not isinstance(value, np.ndarray) and hasattr(value, "indices") and hasattr(value, "values")


def _is_inference_object(value: Any) -> bool:
    if isinstance(value, dict):
        return "model" in value and ("text" in value or "image" in value or "object" in value)
    return type(value).__name__ in _INFERENCE_CLASSES


def vector_kind(value: Any) -> str:
    """ "id", "sparse", "dense" or "multi" for a vector input (a point id counts as its own kind)."""
    if is_point_id(value):
        return "id"
    if is_sparse(value):
        return "sparse"
    if _is_inference_object(value):
        raise NotSupported(
            "Document, Image and InferenceObject queries need an embedding model (fastembed or cloud "
            "inference); qdrant_local takes vectors only."
        )
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidVector(f"Unsupported vector input: {value!r}") from None
    if array.ndim == 2:
        return "multi"
    if array.ndim == 1:
        return "dense"
    raise InvalidVector(f"Unsupported vector input of shape {array.shape}")


def _float_vector(value: list[Any] | np.ndarray) -> np.ndarray | None:
    """``value`` as a 1-D float64 array when it is a plain dense vector, else None (the caller then
    takes the general path, with its checks and messages)."""
    if isinstance(value, np.ndarray) and value.dtype.kind not in "fiu":
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 1 and array.size else None


@dataclass
class ParsedQuery:
    """One query of a request, with its parts read out of our converted query model."""

    kind: str
    model: Any
    nearest: Any = None
    mmr: models.Mmr | None = None
    positive: list[Any] = dc_field(default_factory=list)
    negative: list[Any] = dc_field(default_factory=list)
    strategy: str | None = None
    target: Any = None
    pairs: list[tuple[Any, Any]] = dc_field(default_factory=list)
    feedback: list[tuple[Any, float]] = dc_field(default_factory=list)
    naive: tuple[float, float, float] | None = None


_KIND_OF_MODEL: dict[type, str] = {
    models.NearestQuery: "nearest",
    models.RecommendQuery: "recommend",
    models.DiscoverQuery: "discover",
    models.ContextQuery: "context",
    models.OrderByQuery: "order_by",
    models.FusionQuery: "fusion",
    models.RrfQuery: "rrf",
    models.FormulaQuery: "formula",
    models.SampleQuery: "sample",
    models.RelevanceFeedbackQuery: "feedback",
    models.TextQuery: "text",
}


def parse_query(query: Any) -> ParsedQuery | None:
    """Read a converted query (``models.convert_query.to_query``: our query model, or a bare vector
    input) into a ParsedQuery. Anything else is taken for a vector input, and rejected as one."""
    if query is None:
        return None
    kind = _KIND_OF_MODEL.get(type(query))
    if kind is None:  # a bare vector input: a shorthand for a nearest query
        if type(query) is list or isinstance(query, np.ndarray):
            # The common case, read once: a 1-D float64 array is what the dense space parses anyway.
            array = _float_vector(query)
            if array is not None:
                return ParsedQuery("nearest", query, nearest=array)
            if isinstance(query, np.ndarray):
                query = query.tolist()
        vector_kind(query)  # rejects what can never be a vector
        return ParsedQuery("nearest", query, nearest=query)
    if kind == "nearest":
        nearest = query.nearest
        if isinstance(nearest, np.ndarray):
            nearest = nearest.tolist()
        return ParsedQuery("nearest", query, nearest=nearest, mmr=query.mmr)
    if kind == "recommend":
        recommend = query.recommend
        return ParsedQuery(
            "recommend",
            query,
            positive=list(recommend.positive),
            negative=list(recommend.negative),
            strategy=recommend.strategy,
        )
    if kind == "discover":
        discover = query.discover
        return ParsedQuery("discover", query, target=discover.target, pairs=_pairs(discover.context))
    if kind == "context":
        return ParsedQuery("context", query, pairs=_pairs(query.context))
    if kind == "feedback":
        return _parse_feedback(query)
    return ParsedQuery(kind, query)


def _pairs(context: list[models.ContextPair]) -> list[tuple[Any, Any]]:
    return [(pair.positive, pair.negative) for pair in context]


def _parse_feedback(query: models.RelevanceFeedbackQuery) -> ParsedQuery:
    feedback = query.relevance_feedback
    items = [(item.example, item.score) for item in feedback.feedback]
    strategy = feedback.strategy
    naive = strategy.naive if type(strategy) is models.NaiveFeedbackStrategy else None
    if naive is None:
        raise InvalidInput(f"Unsupported feedback strategy: {strategy}")
    coefficients = (naive.a, naive.b, naive.c)
    return ParsedQuery("feedback", query, target=feedback.target, feedback=items, naive=coefficients)


# -- validation -----------------------------------------------------------------------------------


def validate_request(query: ParsedQuery | None, using: Any, prefetch: Any, score_threshold: Any) -> None:
    """qdrant-client's ``_validate_query``: the checks that need no collection."""
    if prefetch and query is None:
        raise InvalidInput("A query is needed to merge the prefetches.")
    if score_threshold is not None:
        if query is None:
            raise InvalidInput("A query is needed to use the score_threshold.")
        if query.kind == "order_by":
            raise InvalidInput("Can't use score_threshold with an order_by query.")
    if query is None:
        return
    if query.kind in ("fusion", "rrf") and using:
        raise InvalidInput("Fusion queries cannot be combined with the 'using' field.")
    if query.kind == "rrf":
        k = query.model.rrf.k
        if k is not None and k < 1:
            raise InvalidInput(f"rrf k value {k} is invalid. Must be 1 or larger.")
    elif query.kind == "nearest" and query.mmr is not None:
        candidates_limit = query.mmr.candidates_limit
        if candidates_limit is not None:
            if candidates_limit < 0:
                raise InvalidInput(f"mmr candidates_limit value {candidates_limit} is invalid. Must be 0 or larger.")
            if candidates_limit > MMR_CANDIDATES_LIMIT_MAX:
                raise InvalidInput(
                    f"mmr candidates_limit value {candidates_limit} is invalid. "
                    f"Must be {MMR_CANDIDATES_LIMIT_MAX} or smaller."
                )
    elif query.kind == "feedback" and query.naive is not None:
        b = query.naive[1]
        if b < 0:
            raise InvalidInput(f"naive feedback b value {b} is invalid. Must be 0 or larger.")


def validate_prefetches(prefetch: Any) -> None:
    """qdrant-client's ``_validate_prefetch``, recursively, over a converted prefetch tree
    (``models.convert_query.to_prefetch``)."""
    for item in as_list(prefetch):
        if item is None:
            continue
        limit = item.limit
        if limit is not None and limit < 1:
            raise InvalidInput(f"prefetch limit value {limit} is invalid. Must be 1 or larger.")
        validate_request(parse_query(item.query), item.using, item.prefetch, item.score_threshold)
        validate_prefetches(item.prefetch)


# -- filters --------------------------------------------------------------------------------------


def merge_filters(outer: models.Filter | None, inner: models.Filter | None) -> models.Filter | None:
    """Combine a propagated filter with a prefetch's own, as the server's ``Filter::merge_opts``.

    Clauses are concatenated field by field: the ``should`` clauses of both become alternatives of
    each other rather than being ANDed; ``min_should`` joins its conditions and keeps the larger count.
    Both are converted filters (``models.convert.to_filter``), whose clauses are lists or None.
    """
    if outer is None:
        return inner
    if inner is None:
        return outer

    def clause(first: Any, second: Any) -> list[Any] | None:  # converted clauses: lists or None
        if first is None and second is None:
            return None
        return [*(first or ()), *(second or ())]

    outer_min, inner_min = outer.min_should, inner.min_should
    if outer_min is None:
        min_should = inner_min
    elif inner_min is None:
        min_should = outer_min
    else:
        min_should = models.MinShould(
            conditions=[*outer_min.conditions, *inner_min.conditions],
            min_count=max(outer_min.min_count, inner_min.min_count),
        )
    return models.Filter(
        must=clause(outer.must, inner.must),
        should=clause(outer.should, inner.should),
        must_not=clause(outer.must_not, inner.must_not),
        min_should=min_should,
    )


@dataclass(frozen=True)
class FilterSpec:
    """A filter as qdrant-client builds it on its way down a request: the merged payload filter plus
    the ids excluded because the query mentions them (its ``must_not: has_id`` additions). ``raw`` is
    a converted filter (``models.convert.to_filter``)."""

    raw: models.Filter | None = None
    exclude: frozenset = frozenset()

    def merged(self, inner: models.Filter | None, exclude: frozenset = frozenset()) -> FilterSpec:
        return FilterSpec(merge_filters(self.raw, inner), self.exclude | exclude)

    def as_filter(self, include: list[Any] | None = None) -> models.Filter | None:
        """One filter for the engine: the payload filter, minus excluded ids, within ``include``."""
        if not self.exclude and include is None:
            return self.raw
        must: list[Any] = [] if self.raw is None else [self.raw]
        if include is not None:
            must.append(models.HasIdCondition(has_id=list(include)))
        must_not = [models.HasIdCondition(has_id=list(self.exclude))] if self.exclude else None
        return models.Filter(must=must, must_not=must_not)


def idf_corpus_of(search_params: models.SearchParams | None) -> Any:
    """The corpus filter of ``search_params.idf`` (``IdfCorpusParams``); None means the whole collection."""
    idf = search_params.idf if search_params is not None else None
    if type(idf) is not models.IdfCorpusParams:
        return None
    return to_filter(idf.corpus)
