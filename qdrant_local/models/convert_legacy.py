"""The pre-1.14 search API's arguments (``api.legacy``) converted into the query API's models.

``query_vector`` (a vector, a ``(name, vector)`` tuple, a ``NamedVector`` / ``NamedSparseVector``),
recommend and discover examples, and the ``SearchRequest`` / ``RecommendRequest`` /
``DiscoverRequest`` of the batch methods may each be our model, a qdrant_client model or a REST
dict. They become the query API's models (``NearestQuery`` as a bare vector, ``RecommendQuery``,
``DiscoverQuery``, ``ContextQuery``, ``QueryRequest``), read by the query layer like any other
request. As in ``convert_query``, values are kept as given and checked by the query layer; the two
checks the legacy methods make themselves (a malformed named tuple, a discover request without
target or context) are made here, where the facade reads the request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._access import field
from ..errors import InvalidInput
from . import _generated as m
from .convert_query import context_pairs, query_request, recommend_query, to_query

__all__ = [
    "discover_request",
    "recommend_request",
    "search_request",
    "to_discover_query",
    "to_named_vector",
    "to_recommend_query",
]


def to_named_vector(query_vector: Any) -> tuple[Any, str | None]:
    """(vector, vector name) of a legacy ``query_vector`` / ``SearchRequest.vector``; the vector as
    given (the query layer reads vector inputs)."""
    if isinstance(query_vector, tuple):
        if len(query_vector) != 2 or not isinstance(query_vector[0], str):
            raise InvalidInput("A named query vector tuple must be (name, vector)")
        return query_vector[1], query_vector[0]
    if isinstance(query_vector, np.ndarray) or isinstance(query_vector, list):
        return query_vector, None
    name = field(query_vector, "name")
    vector = field(query_vector, "vector")
    if name is not None and vector is not None:  # NamedVector / NamedSparseVector, model or dict
        return vector, name
    return query_vector, None


def to_recommend_query(positive: Any, negative: Any, strategy: Any) -> m.RecommendQuery:
    """recommend's examples and strategy as a ``RecommendQuery``."""
    return recommend_query(list(positive or []), list(negative or []), strategy)


def to_discover_query(target: Any, context: Any) -> m.DiscoverQuery | m.ContextQuery:
    """discover's target and context pairs as a ``DiscoverQuery``, or a ``ContextQuery`` without target."""
    pairs = context_pairs(list(context or []))
    if target is None:
        return m.ContextQuery.model_construct(context=pairs)
    return m.DiscoverQuery.model_construct(discover=m.DiscoverInput.model_construct(target=target, context=pairs))


def search_request(request: Any) -> m.QueryRequest:
    """A ``SearchRequest`` of search_batch as a ``QueryRequest``."""
    vector, using = to_named_vector(field(request, "vector"))
    return query_request(request, to_query(vector), using)


def recommend_request(request: Any) -> m.QueryRequest:
    """A ``RecommendRequest`` of recommend_batch as a ``QueryRequest``."""
    query = to_recommend_query(field(request, "positive"), field(request, "negative"), field(request, "strategy"))
    return query_request(request, query, field(request, "using"), field(request, "lookup_from"))


def discover_request(request: Any) -> m.QueryRequest:
    """A ``DiscoverRequest`` of discover_batch as a ``QueryRequest`` (without a score threshold, as
    before); raises without target or context."""
    target, context = field(request, "target"), field(request, "context")
    if target is None and not context:
        raise InvalidInput("No target or context given")
    query = to_discover_query(target, context)
    converted = query_request(request, query, field(request, "using"), field(request, "lookup_from"))
    converted.score_threshold = None
    return converted
