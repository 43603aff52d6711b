"""The query part of the facade: query_points, query_batch_points, query_points_groups, search_matrix_*.

Signatures, defaults and docstrings are qdrant-client 1.20's; each method converts its query,
prefetch and lookup arguments into our models (``models.convert_query``), validates them into a
:class:`~qdrant_local.query.execution.QueryRequest` and runs it with the query layer.
Parameters only a server uses (``consistency``, ``shard_key_selector``, ``timeout``) are accepted
and ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import models
from ..models.convert import to_with_payload
from ..models.convert_query import to_lookup, to_prefetch, to_query, to_query_requests, to_with_lookup
from ..models.query import QueryResponse
from ..query.execution import (
    QueryRequest,
    check_matrix_arguments,
    run_batch,
    run_distance_matrix,
    run_groups,
    run_query,
)
from ..query.groups import Grouping
from .base import ClientBase


class QueryApi(ClientBase):
    """The query API: query_points, query_batch_points, query_points_groups, search_matrix_*."""

    def query_points(
        self,
        collection_name: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        offset: int | None = None,
        with_payload: Any = True,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        lookup_from: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> QueryResponse:
        """Universal endpoint to run any available operation, such as search, recommendation, discovery, context search.

        Args:
            collection_name: Collection to search in
            query:
                Query for the chosen search type operation.
                - If `str` - use string as UUID of the existing point as a search query.
                - If `int` - use integer as ID of the existing point as a search query.
                - If `list[float]` - use as a dense vector for nearest search.
                - If `list[list[float]]` - use as a multi-vector for nearest search.
                - If `SparseVector` - use as a sparse vector for nearest search.
                - If `Query` - use as a query for specific search type.
                - If `NumpyArray` - use as a dense vector for nearest search.
                - If `None` - return first `limit` points from the collection.
            prefetch: prefetch queries to make a selection of the data to be used with the main query
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
            using:
                Name of the vectors to use for query.
                If `None` - use default vectors or provided in named vector structures.
            lookup_from:
                Defines a location (collection and vector field name), used to lookup vectors for recommendations,
                    discovery and context queries.
                If `None` - current collection will be used.
            consistency: Read consistency across replicas (ignored in-process: there is one copy).
            shard_key_selector: Shards to query (ignored in-process: there is one shard).
            timeout: Overrides the global timeout (ignored in-process).

        Examples:

        `Search for closest points with a filter`::

            qdrant.query(
                collection_name="test_collection",
                query=[1.0, 0.1, 0.2, 0.7],
                query_filter=Filter(
                    must=[
                        FieldCondition(
                            key='color',
                            range=Match(
                                value="red"
                            )
                        )
                    ]
                )
            )

        Returns:
            QueryResponse structure containing list of found close points with similarity scores.
        """
        request = QueryRequest(
            to_query(query), using, to_prefetch(prefetch), query_filter, search_params, limit, offset,
            with_payload, with_vectors, score_threshold, to_lookup(lookup_from),
        )  # fmt: skip
        return run_query(self._database, collection_name, request)

    def query_batch_points(
        self,
        collection_name: str,
        requests: Sequence[Any],
        consistency: Any = None,
        timeout: int | None = None,
    ) -> list[QueryResponse]:
        """Perform any search, recommend, discovery, context search operations in batch, and mitigate network overhead

        Args:
            collection_name: Name of the collection
            requests: List of query requests
            consistency: Read consistency across replicas (ignored in-process: there is one copy).
            timeout: Overrides the global timeout (ignored in-process).

        Returns:
            List of query responses
        """
        return run_batch(self._database, collection_name, to_query_requests(requests))

    def query_points_groups(
        self,
        collection_name: str,
        group_by: str,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        group_size: int = 3,
        with_payload: Any = True,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        with_lookup: Any = None,
        lookup_from: Any = None,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.GroupsResult:
        """Universal endpoint to group on any available operation, such as search, recommendation, discovery,
        context search.

        Args:
            collection_name: Collection to search in
            query:
                Query for the chosen search type operation.
                - If `str` - use string as UUID of the existing point as a search query.
                - If `int` - use integer as ID of the existing point as a search query.
                - If `list[float]` - use as a dense vector for nearest search.
                - If `list[list[float]]` - use as a multi-vector for nearest search.
                - If `SparseVector` - use as a sparse vector for nearest search.
                - If `Query` - use as a query for specific search type.
                - If `NumpyArray` - use as a dense vector for nearest search.
                - If `None` - return first `limit` points from the collection.
            prefetch: prefetch queries to make a selection of the data to be used with the main query
            query_filter:
                - Exclude vectors which doesn't fit given conditions.
                - If `None` - search among all vectors
            search_params: Additional search params
            limit: How many results return
            group_size: How many results return for each group
            group_by: Name of the payload field to group by. Field must be of type "keyword" or "integer".
                Nested fields are specified using dot notation, e.g. "nested_field.subfield".
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
            using:
                Name of the vectors to use for query.
                If `None` - use default vectors or provided in named vector structures.
            with_lookup:
                Look for points in another collection using the group ids.
                If specified, each group will contain a record from the specified collection
                with the same id as the group id. In addition, the parameter allows to specify
                which parts of the record should be returned, like in `with_payload` and `with_vectors` parameters.
            lookup_from:
                Defines a location (collection and vector field name), used to lookup vectors being referenced in the
                query as IDs.
                If `None` - current collection will be used.
            consistency: Read consistency across replicas (ignored in-process: there is one copy).
            shard_key_selector: Shards to query (ignored in-process: there is one shard).
            timeout: Overrides the global timeout (ignored in-process).

        Returns:
            List of groups with not more than `group_size` hits in each group.
            Each group also contains an id of the group, which is the value of the payload field.
        """
        request = QueryRequest.for_groups(
            to_query(query), using, to_prefetch(prefetch), query_filter, search_params, limit, group_size,
            with_vectors, score_threshold, to_lookup(lookup_from),
        )  # fmt: skip
        grouping = Grouping(
            group_by, limit, group_size, to_with_payload(with_payload), with_vectors, to_with_lookup(with_lookup)
        )
        return run_groups(self._database, collection_name, request, grouping)

    def search_matrix_pairs(
        self,
        collection_name: str,
        query_filter: Any = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: Any = None,
        timeout: int | None = None,
        shard_key_selector: Any = None,
    ) -> models.SearchMatrixPairsResponse:
        """
        Compute distance matrix for sampled points with a pair-based output format.

        Args:
            collection_name: Name of the collection.
            query_filter: Filter to apply.
            limit: How many neighbors per sample to find.
            sample: How many points to select and search within.
            using: Name of the vectors to use for search. If `None`, use default vectors.
            consistency: Read consistency across replicas (ignored in-process: there is one copy).
            timeout: Overrides the global timeout (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process: there is one shard).

        Returns:
            Distance matrix using a pair-based encoding.
        """
        check_matrix_arguments(limit, sample)
        ids, rows = run_distance_matrix(self._database, collection_name, query_filter, limit, sample, using)
        pairs = [
            models.SearchMatrixPair(a=point_id, b=b, score=score)
            for point_id, row in zip(ids, rows)
            for b, score in row
        ]
        return models.SearchMatrixPairsResponse(pairs=pairs)

    def search_matrix_offsets(
        self,
        collection_name: str,
        query_filter: Any = None,
        limit: int = 3,
        sample: int = 10,
        using: str | None = None,
        consistency: Any = None,
        timeout: int | None = None,
        shard_key_selector: Any = None,
    ) -> models.SearchMatrixOffsetsResponse:
        """
        Compute distance matrix for sampled points with an offset-based output format.

        Args:
            collection_name: Name of the collection.
            query_filter: Filter to apply.
            limit: How many neighbors per sample to find.
            sample: How many points to select and search within.
            using: Name of the vectors to use for search. If `None`, use default vectors.
            consistency: Read consistency across replicas (ignored in-process: there is one copy).
            timeout: Overrides the global timeout (ignored in-process).
            shard_key_selector: Shards to query (ignored in-process: there is one shard).

        Returns:
            Distance matrix using an offset-based encoding.
        """
        check_matrix_arguments(limit, sample)
        ids, rows = run_distance_matrix(self._database, collection_name, query_filter, limit, sample, using)
        position = {point_id: index for index, point_id in enumerate(ids)}
        offsets_row, offsets_col, scores = [], [], []
        for row_index, row in enumerate(rows):
            for b, score in row:
                offsets_row.append(row_index)
                offsets_col.append(position[b])
                scores.append(score)
        return models.SearchMatrixOffsetsResponse(
            offsets_row=offsets_row, offsets_col=offsets_col, scores=scores, ids=ids
        )
