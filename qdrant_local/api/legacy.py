"""The pre-1.14 search API: search, search_batch, search_groups, recommend(_batch, _groups), discover(_batch).

qdrant-client 1.20 removed these methods, but the REST API still has them and much existing code
calls them. Signatures and defaults are qdrant-client 1.12's; each method warns once (a
DeprecationWarning) and runs as the equivalent ``query_points`` request, so results, scores and
errors are those of the query API. ``query_vector`` may be a list, a numpy array, a
``(name, vector)`` tuple, a :class:`NamedVector` or a :class:`NamedSparseVector` (or their dicts).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from .. import models
from ..errors import InvalidInput
from ..models.convert import to_with_payload
from ..models.convert_legacy import (
    discover_request,
    recommend_request,
    search_request,
    to_discover_query,
    to_named_vector,
    to_recommend_query,
)
from ..models.convert_query import to_lookup, to_query, to_with_lookup
from ..query.execution import QueryRequest, run_batch, run_groups, run_query
from ..query.groups import Grouping
from .base import ClientBase

__all__ = ["LegacyApi"]

_warned: set[str] = set()


def _deprecated(method: str, replacement: str) -> None:
    if method in _warned:
        return
    _warned.add(method)
    warnings.warn(
        f"`{method}` method is deprecated and will be removed in the future. Use `{replacement}` instead.",
        DeprecationWarning,
        stacklevel=3,
    )


def _converted(options: dict[str, Any]) -> dict[str, Any]:
    """Request options with the query and ``lookup_from`` converted into our models."""
    converted = {**options, "query": to_query(options.get("query"))}
    if "lookup_from" in options:
        converted["lookup_from"] = to_lookup(options["lookup_from"])
    return converted


class LegacyApi(ClientBase):
    """Deprecated search methods, answered by the query API's own code."""

    def _query(self, collection_name: str, **options: Any) -> list[models.ScoredPoint]:
        request = QueryRequest(**_converted(options))
        return run_query(self._database, collection_name, request).points

    def _groups(
        self,
        collection_name: str,
        group_by: str,
        *,
        limit: int,
        group_size: int,
        with_payload: Any,
        with_vectors: Any,
        with_lookup: Any,
        **query: Any,
    ) -> models.GroupsResult:
        request = QueryRequest.for_groups(
            limit=limit, group_size=group_size, with_vectors=with_vectors, **_converted(query)
        )
        grouping = Grouping(
            group_by, limit, group_size, to_with_payload(with_payload), with_vectors, to_with_lookup(with_lookup)
        )
        return run_groups(self._database, collection_name, request, grouping)

    def search(
        self,
        collection_name: str,
        query_vector: Any,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        offset: int | None = None,
        with_payload: Any = True,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        append_payload: bool = True,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> list[models.ScoredPoint]:
        """Search for closest vectors in collection taking into account filtering conditions

        Deprecated: use ``query_points``.

        Args:
            collection_name: Collection to search in
            query_vector:
                Search for vectors closest to this.
                Can be either a vector itself, or a named vector, or a named sparse vector, or a tuple of vector name
                and vector itself
            query_filter:
                - Exclude vectors which doesn't fit given conditions.
                - If `None` - search among all vectors
            search_params: Additional search params
            limit: How many results return
            offset:
                Offset of the first result to return.
                May be used to paginate results.
                Note: large offset values may cause performance issues.
            with_payload:
                - Specify which stored payload should be attached to the result.
                - If `True` - attach all payload
                - If `False` - do not attach any payload
                - If List of string - include only specified fields
                - If `PayloadSelector` - use explicit rules
            with_vectors:
                - If `True` - Attach stored vector to the search result.
                - If `False` - Do not attach vector.
                - If List of string - include only specified fields
                - Default: `False`
            score_threshold:
                Define a minimal score threshold for the result.
                If defined, less similar results will not be returned.
                Score of the returned result might be higher or smaller than the threshold depending
                on the Distance function used.
                E.g. for cosine similarity only higher scores will be returned.
            append_payload: Same as `with_payload`. Deprecated.
            consistency: Read consistency of the search (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of found close points with similarity scores.
        """
        _deprecated("search", "query_points")
        vector, using = to_named_vector(query_vector)
        return self._query(
            collection_name,
            query=vector,
            using=using,
            query_filter=query_filter,
            search_params=search_params,
            limit=limit,
            offset=offset,
            with_payload=with_payload,
            with_vectors=with_vectors,
            score_threshold=score_threshold,
        )

    def search_batch(
        self,
        collection_name: str,
        requests: Sequence[Any],
        timeout: int | None = None,
        consistency: Any = None,
    ) -> list[list[models.ScoredPoint]]:
        """Perform multiple searches in a collection mitigating network overhead

        Deprecated: use ``query_batch_points``.

        Args:
            collection_name: Name of the collection
            requests: List of search requests (SearchRequest)
            consistency: Read consistency of the search (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of search responses
        """
        _deprecated("search_batch", "query_batch_points")
        queries = [search_request(request) for request in requests]
        responses = run_batch(self._database, collection_name, queries)
        return [response.points for response in responses]

    def search_groups(
        self,
        collection_name: str,
        query_vector: Any,
        group_by: str,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        group_size: int = 1,
        with_payload: Any = True,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        with_lookup: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.GroupsResult:
        """Search for closest vectors grouped by payload field.

        Searches best matches for query vector grouped by the value of payload field.
        Useful to obtain most relevant results for each category, deduplicate results,
        finding the best representation vector for the same entity.

        Deprecated: use ``query_points_groups``.

        Args:
            collection_name: Collection to search in
            query_vector:
                Search for vectors closest to this.
                Can be either a vector itself, or a named vector, or a named sparse vector, or a tuple of vector name
                and vector itself
            group_by: Name of the payload field to group by.
                Field must be of type "keyword" or "integer".
                Nested fields are specified using dot notation, e.g. "nested_field.subfield".
            query_filter:
                - Exclude vectors which doesn't fit given conditions.
                - If `None` - search among all vectors
            search_params: Additional search params
            limit: How many groups return
            group_size: How many results return for each group
            with_payload: Which payload to attach (True, False, a list of keys or a PayloadSelector)
            with_vectors: Whether to attach vectors (True, False or a list of names)
            score_threshold: Minimal score threshold for the result.
            with_lookup:
                Look for points in another collection using the group ids.
                If specified, each group will contain a record from the specified collection
                with the same id as the group id. In addition, the parameter allows to specify
                which parts of the record should be returned, like in `with_payload` and `with_vectors` parameters.
            consistency: Read consistency of the search (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of groups with not more than `group_size` hits in each group.
            Each group also contains an id of the group, which is the value of the payload field.
        """
        _deprecated("search_groups", "query_points_groups")
        vector, using = to_named_vector(query_vector)
        return self._groups(
            collection_name,
            group_by=group_by,
            query=vector,
            using=using,
            query_filter=query_filter,
            search_params=search_params,
            limit=limit,
            group_size=group_size,
            with_payload=with_payload,
            with_vectors=with_vectors,
            score_threshold=score_threshold,
            with_lookup=with_lookup,
        )

    def recommend(
        self,
        collection_name: str,
        positive: Sequence[Any] | None = None,
        negative: Sequence[Any] | None = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        offset: int = 0,
        with_payload: Any = True,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        using: str | None = None,
        lookup_from: Any = None,
        strategy: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> list[models.ScoredPoint]:
        """Recommend points: search for similar points based on already stored in Qdrant examples.

        Provide IDs of the stored points, and Qdrant will perform search based on already existing vectors.
        This functionality is especially useful for recommendation over existing collection of points.

        Deprecated: use ``query_points`` with a ``RecommendQuery``.

        Args:
            collection_name: Collection to search in
            positive:
                List of stored point IDs or vectors, which should be used as reference for similarity search.
                If there is only one example - this request is equivalent to the regular search with vector of that
                point.
                If there are more than one example, Qdrant will attempt to search for similar to all of them.
            negative:
                List of stored point IDs or vectors, which should be dissimilar to the search result.
            query_filter:
                - Exclude vectors which doesn't fit given conditions.
                - If `None` - search among all vectors
            search_params: Additional search params
            limit: How many results return
            offset: Offset of the first result to return.
            with_payload: Which payload to attach (True, False, a list of keys or a PayloadSelector)
            with_vectors: Whether to attach vectors (True, False or a list of names)
            score_threshold: Define a minimal score threshold for the result.
            using:
                Name of the vectors to use for recommendations.
                If `None` - use default vectors.
            lookup_from:
                Defines a location (collection and vector field name), used to lookup vectors for recommendations.
                If `None` - current collection will be used.
            strategy:
                Strategy to use for recommendation.
                Strategy defines how to combine multiple examples into a recommendation query.
                Possible values:

                - 'average_vector' - calculates average vector of all examples and uses it for search
                - 'best_score' - finds the result which is closer to positive examples and further from negative
            consistency: Read consistency of the search (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of recommended points with similarity scores.
        """
        _deprecated("recommend", "query_points")
        return self._query(
            collection_name,
            query=to_recommend_query(positive, negative, strategy),
            using=using,
            query_filter=query_filter,
            search_params=search_params,
            limit=limit,
            offset=offset,
            with_payload=with_payload,
            with_vectors=with_vectors,
            score_threshold=score_threshold,
            lookup_from=lookup_from,
        )

    def recommend_batch(
        self,
        collection_name: str,
        requests: Sequence[Any],
        consistency: Any = None,
        timeout: int | None = None,
    ) -> list[list[models.ScoredPoint]]:
        """Perform multiple recommend requests in batch mode

        Deprecated: use ``query_batch_points``.

        Args:
            collection_name: Name of the collection
            requests: List of recommend requests (RecommendRequest)
            consistency: Read consistency of the search (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of recommend responses
        """
        _deprecated("recommend_batch", "query_batch_points")
        queries = [recommend_request(request) for request in requests]
        return [response.points for response in run_batch(self._database, collection_name, queries)]

    def recommend_groups(
        self,
        collection_name: str,
        group_by: str,
        positive: Sequence[Any] | None = None,
        negative: Sequence[Any] | None = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        group_size: int = 1,
        score_threshold: float | None = None,
        with_payload: Any = True,
        with_vectors: Any = False,
        using: str | None = None,
        lookup_from: Any = None,
        with_lookup: Any = None,
        strategy: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.GroupsResult:
        """Recommend point groups: search for similar points based on already stored in Qdrant examples
        and groups by payload field.

        Deprecated: use ``query_points_groups`` with a ``RecommendQuery``.

        Args:
            collection_name: Collection to search in
            group_by: Name of the payload field to group by.
            positive: Stored point IDs or vectors to look for vectors close to.
            negative: Stored point IDs or vectors the results should be dissimilar to.
            query_filter: Exclude vectors which doesn't fit given conditions.
            search_params: Additional search params
            limit: How many groups return
            group_size: How many results return for each group
            score_threshold: Minimal score threshold for the result.
            with_payload: Which payload to attach (True, False, a list of keys or a PayloadSelector)
            with_vectors: Whether to attach vectors (True, False or a list of names)
            using: Name of the vectors to use for recommendations.
            lookup_from: Location (collection and vector name) used to look up example ids.
            with_lookup: Look for points in another collection using the group ids.
            strategy: 'average_vector', 'best_score' or 'sum_scores'.
            consistency: Read consistency of the search (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of groups with not more than `group_size` hits in each group.
        """
        _deprecated("recommend_groups", "query_points_groups")
        return self._groups(
            collection_name,
            group_by=group_by,
            query=to_recommend_query(positive, negative, strategy),
            using=using,
            query_filter=query_filter,
            search_params=search_params,
            limit=limit,
            group_size=group_size,
            with_payload=with_payload,
            with_vectors=with_vectors,
            score_threshold=score_threshold,
            with_lookup=with_lookup,
            lookup_from=lookup_from,
        )

    def discover(
        self,
        collection_name: str,
        target: Any = None,
        context: Sequence[Any] | None = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        offset: int = 0,
        with_payload: Any = True,
        with_vectors: Any = False,
        using: str | None = None,
        lookup_from: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> list[models.ScoredPoint]:
        """
        Use context and a target to find the most similar points, constrained by the context.

        Deprecated: use ``query_points`` with a ``DiscoverQuery`` or ``ContextQuery``.

        Args:
            collection_name: Collection to discover in

            target:
                Look for vectors closest to this.

                When using the target (with or without context), the integer part of the score represents the rank with
                respect to the context, while the decimal part of the score relates to the distance to the target.

            context:
                Pairs of { positive, negative } examples to constrain the search.

                When using only the context (without a target), a special search - called context search - is performed
                where pairs of points are used to generate a loss that guides the search towards the zone where most
                positive examples overlap. This means that the score minimizes the scenario of finding a point closer to
                a negative than to a positive part of a pair.

                Since the score of a context relates to loss, the maximum score a point can get is 0.0, and it becomes
                normal that many points can have a score of 0.0.

                For discovery search (when including a target), the context part of the score for each pair is
                calculated +1 if the point is closer to a positive than to a negative part of a pair, and -1 otherwise.

            query_filter:
                Look only for points which satisfies this conditions

            search_params:
                Additional search params

            limit:
                Max number of result to return

            offset:
                Offset of the first result to return. May be used to paginate results. Note: large offset values may
                cause performance issues.

            with_payload:
                Select which payload to return with the response. Default: None

            with_vectors:
                Whether to return the point vector with the result?

            using:
                Define which vector to use for recommendation, if not specified - try to use default vector.

            lookup_from:
                The location used to lookup vectors. If not specified - use current collection. Note: the other
                collection should have the same vector size as the current collection.

            consistency: Read consistency of the search (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of discovered points with discovery or context scores, accordingly.
        """
        _deprecated("discover", "query_points")
        if target is None and not context:
            raise InvalidInput("No target or context given")
        return self._query(
            collection_name,
            query=to_discover_query(target, context),
            using=using,
            query_filter=query_filter,
            search_params=search_params,
            limit=limit,
            offset=offset,
            with_payload=with_payload,
            with_vectors=with_vectors,
            lookup_from=lookup_from,
        )

    def discover_batch(
        self,
        collection_name: str,
        requests: Sequence[Any],
        consistency: Any = None,
        timeout: int | None = None,
    ) -> list[list[models.ScoredPoint]]:
        """Perform multiple discover requests in batch mode.

        Deprecated: use ``query_batch_points``.

        Args:
            collection_name: Name of the collection
            requests: List of discover requests (DiscoverRequest)
            consistency: Read consistency of the search (ignored in-process).
            timeout: Overrides global timeout for this search (ignored in-process).

        Returns:
            List of discover responses
        """
        _deprecated("discover_batch", "query_batch_points")
        queries = [discover_request(request) for request in requests]
        return [response.points for response in run_batch(self._database, collection_name, queries)]
