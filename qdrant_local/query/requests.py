"""Parsing and validating query requests: query kinds, vector inputs, filters, prefetch trees.

Every argument may be our model, a qdrant_client model or a REST dict; kinds are told apart by the
fields they carry (``nearest``, ``recommend``, ``discover``, ``context``, ``order_by``, ``fusion``,
``rrf``, ``formula``, ``sample``, ``relevance_feedback``). A bare vector, sparse vector or point id
is a nearest query, as ``QdrantClient._resolve_query`` makes it.

Validation messages and their order are qdrant-client local mode's (``QdrantLocal._validate_query``
and ``_validate_prefetch``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import numpy as np

from .._access import enum_value, field, has_field
from ..errors import InvalidInput, InvalidVector, NotSupported

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


@dataclass
class ParsedQuery:
    """One query of a request, with its parts read out of whatever form it came in."""

    kind: str
    raw: Any
    nearest: Any = None
    mmr: Any = None
    positive: list[Any] = dc_field(default_factory=list)
    negative: list[Any] = dc_field(default_factory=list)
    strategy: str | None = None
    target: Any = None
    pairs: list[tuple[Any, Any]] = dc_field(default_factory=list)
    feedback: list[tuple[Any, float]] = dc_field(default_factory=list)
    naive: tuple[float, float, float] | None = None


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


def _query_key(query: Any) -> str | None:
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
    for key in _QUERY_KEYS:
        if has_field(query, key) and name.endswith("Query"):
            return key
    return None


def parse_query(query: Any) -> ParsedQuery | None:
    """Read a query (a Query model, a REST dict, or a bare vector input) into a ParsedQuery."""
    if query is None:
        return None
    key = _query_key(query)
    if key is None:  # a bare vector input: a shorthand for a nearest query
        if isinstance(query, np.ndarray):
            query = query.tolist()
        vector_kind(query)  # rejects what can never be a vector
        return ParsedQuery("nearest", query, nearest=query)
    if key == "nearest":
        nearest = field(query, "nearest")
        if isinstance(nearest, np.ndarray):
            nearest = nearest.tolist()
        return ParsedQuery("nearest", query, nearest=nearest, mmr=field(query, "mmr"))
    if key == "recommend":
        recommend = field(query, "recommend")
        strategy = field(recommend, "strategy")
        return ParsedQuery(
            "recommend",
            query,
            positive=as_list(field(recommend, "positive")),
            negative=as_list(field(recommend, "negative")),
            strategy=enum_value(strategy) if strategy is not None else None,
        )
    if key == "discover":
        discover = field(query, "discover")
        return ParsedQuery(
            "discover", query, target=field(discover, "target"), pairs=_pairs(field(discover, "context"))
        )
    if key == "context":
        return ParsedQuery("context", query, pairs=_pairs(field(query, "context")))
    if key == "relevance_feedback":
        return _parse_feedback(query)
    return ParsedQuery(key, query)


def _pairs(context: Any) -> list[tuple[Any, Any]]:
    pairs = []
    for pair in as_list(context):
        pairs.append((field(pair, "positive"), field(pair, "negative")))
    return pairs


def _parse_feedback(query: Any) -> ParsedQuery:
    feedback = field(query, "relevance_feedback")
    items = [(field(item, "example"), field(item, "score")) for item in as_list(field(feedback, "feedback"))]
    naive = field(field(feedback, "strategy"), "naive")
    if naive is None:
        raise InvalidInput(f"Unsupported feedback strategy: {field(feedback, 'strategy')}")
    coefficients = (field(naive, "a"), field(naive, "b"), field(naive, "c"))
    return ParsedQuery("feedback", query, target=field(feedback, "target"), feedback=items, naive=coefficients)


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
        k = field(field(query.raw, "rrf"), "k")
        if k is not None and k < 1:
            raise InvalidInput(f"rrf k value {k} is invalid. Must be 1 or larger.")
    elif query.kind == "nearest" and query.mmr is not None:
        candidates_limit = field(query.mmr, "candidates_limit")
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
    """qdrant-client's ``_validate_prefetch``, recursively."""
    for item in as_list(prefetch):
        limit = field(item, "limit")
        if limit is not None and limit < 1:
            raise InvalidInput(f"prefetch limit value {limit} is invalid. Must be 1 or larger.")
        validate_request(
            parse_query(field(item, "query")),
            field(item, "using"),
            field(item, "prefetch"),
            field(item, "score_threshold"),
        )
        validate_prefetches(field(item, "prefetch"))


# -- filters --------------------------------------------------------------------------------------


def merge_filters(outer: Any, inner: Any) -> Any:
    """Combine a propagated filter with a prefetch's own, as the server's ``Filter::merge_opts``.

    Clauses are concatenated field by field: the ``should`` clauses of both become alternatives of
    each other rather than being ANDed; ``min_should`` joins its conditions and keeps the larger count.
    """
    if outer is None:
        return inner
    if inner is None:
        return outer

    def clause(name: str) -> list[Any] | None:
        first, second = field(outer, name), field(inner, name)
        if first is None and second is None:
            return None
        return as_list(first) + as_list(second)

    outer_min, inner_min = field(outer, "min_should"), field(inner, "min_should")
    if outer_min is None:
        min_should = inner_min
    elif inner_min is None:
        min_should = outer_min
    else:
        min_should = {
            "conditions": as_list(field(outer_min, "conditions")) + as_list(field(inner_min, "conditions")),
            "min_count": max(field(outer_min, "min_count"), field(inner_min, "min_count")),
        }
    merged = {
        "must": clause("must"),
        "should": clause("should"),
        "must_not": clause("must_not"),
        "min_should": min_should,
    }
    return {key: value for key, value in merged.items() if value is not None}


@dataclass(frozen=True)
class FilterSpec:
    """A filter as qdrant-client builds it on its way down a request: the merged payload filter plus
    the ids excluded because the query mentions them (its ``must_not: has_id`` additions)."""

    raw: Any = None
    exclude: frozenset = frozenset()

    def merged(self, inner: Any, exclude: frozenset = frozenset()) -> FilterSpec:
        return FilterSpec(merge_filters(self.raw, inner), self.exclude | exclude)

    def as_filter(self, include: list[Any] | None = None) -> Any:
        """One filter object for the engine: the payload filter, minus excluded ids, within ``include``."""
        if not self.exclude and include is None:
            return self.raw
        must: list[Any] = [] if self.raw is None else [self.raw]
        if include is not None:
            must.append({"has_id": list(include)})
        result: dict[str, Any] = {"must": must}
        if self.exclude:
            result["must_not"] = [{"has_id": list(self.exclude)}]
        return result


def idf_corpus_of(search_params: Any) -> Any:
    """The corpus filter of ``search_params.idf`` (``IdfCorpusParams``); None means the whole collection."""
    idf = field(search_params, "idf") if search_params is not None else None
    if idf is None or isinstance(enum_value(idf), str):
        return None
    return field(idf, "corpus")
