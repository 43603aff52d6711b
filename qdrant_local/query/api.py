"""QueryMixin: every query method of ``qdrant_client.QdrantClient``, for :class:`qdrant_local.QdrantClient`.

The client class inherits this mixin; it provides ``_database`` (the :class:`Database`, whose lock
every read holds) and nothing else is assumed. Signatures, defaults and docstrings are qdrant-client
1.20's; the pre-1.14 search API lives in :mod:`.legacy`. Parameters only a server uses
(``consistency``, ``shard_key_selector``, ``timeout``) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import models
from .._access import field
from ..engine.gcpause import gc_paused
from ..engine.projection import compile_payload_selector
from ..engine.vectors import DenseVectors
from ..errors import InvalidInput
from ..models.query import QueryResponse
from .legacy import LegacySearchMixin
from .groups import distance_matrix, group_hits
from .planner import Hit, Planner, warn_ignored_search_params
from .requests import FilterSpec, ParsedQuery, parse_query, validate_prefetches, validate_request

__all__ = ["QueryMixin"]


def _check_limit(limit: Any, name: str = "limit") -> None:
    if limit is None or limit < 1:
        raise InvalidInput(f"{name} value {limit} is invalid. Must be 1 or larger.")


def _check_offset(offset: Any) -> None:
    if offset is not None and offset < 0:
        raise InvalidInput(f"offset value {offset} is invalid. Must be 0 or larger.")


class _Request:
    """One query request, validated (qdrant-client's checks, in its order) but not yet resolved."""

    def __init__(
        self,
        query: Any,
        using: str | None,
        prefetch: Any,
        query_filter: Any,
        search_params: Any,
        limit: int,
        offset: int | None,
        with_payload: Any,
        with_vectors: Any,
        score_threshold: float | None,
        lookup_from: Any,
    ) -> None:
        _check_limit(limit)
        _check_offset(offset)
        self.parsed: ParsedQuery | None = parse_query(query)
        validate_request(self.parsed, using, prefetch, score_threshold)
        validate_prefetches(prefetch)
        self.using = using
        self.prefetch = prefetch
        self.query_filter = query_filter
        self.search_params = search_params
        self.limit = limit
        self.offset = offset or 0
        self.with_payload = with_payload
        self.with_vectors = with_vectors
        self.score_threshold = score_threshold
        self.lookup_from = lookup_from

    @classmethod
    def from_model(cls, request: Any) -> _Request:
        """A QueryRequest (model or REST dict) of query_batch_points."""
        limit = field(request, "limit")
        return cls(
            query=field(request, "query"),
            using=field(request, "using"),
            prefetch=field(request, "prefetch"),
            query_filter=field(request, "filter"),
            search_params=field(request, "params"),
            limit=limit if limit is not None else 10,
            offset=field(request, "offset"),
            with_payload=field(request, "with_payload"),
            with_vectors=field(request, "with_vector"),
            score_threshold=field(request, "score_threshold"),
            lookup_from=field(request, "lookup_from"),
        )

    def prepare(self, planner: Planner) -> None:
        """Resolve point ids against the collection (once) and check the payload selector."""
        warn_ignored_search_params(self.search_params)
        self.resolved, mentioned = planner.resolve(self.parsed, self.using, self.lookup_from)
        self.spec = FilterSpec(self.query_filter, mentioned)
        self.prefetches = planner.plan_prefetches(self.prefetch)
        compile_payload_selector(self.with_payload)  # rejects a bad selector before any work

    def execute(self, planner: Planner, limit: int | None = None) -> list[Hit]:
        """Resolve and run; ``limit`` overrides the request's (groups query everything)."""
        if not hasattr(self, "resolved"):
            self.prepare(planner)
        return planner.run(
            self.resolved,
            self.using,
            self.prefetches,
            self.spec,
            self.limit if limit is None else limit,
            self.offset,
            self.score_threshold,
            self.search_params,
        )


class QueryMixin(LegacySearchMixin):
    """The query API: query_points, query_batch_points, query_points_groups, search_matrix_*."""

    _database: Any

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
                - If `Document` - infer vector from the document text and use it for nearest search (requires `fastembed` package installed).
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
            consistency:
                Read consistency of the search. Defines how many replicas should be queried before returning the result. Values:

                - int - number of replicas to query, values should present in all queried replicas
                - 'majority' - query all replicas, but return values present in the majority of replicas
                - 'quorum' - query the majority of replicas, return values present in all of them
                - 'all' - query all replicas, and return values present in all replicas
            shard_key_selector:
                This parameter allows to specify which shards should be queried.
                If `None` - query all shards. Only works for collections with `custom` sharding method.
            timeout:
                Overrides global timeout for this search. Unit is seconds.

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
        request = _Request(
            query, using, prefetch, query_filter, search_params, limit, offset,
            with_payload, with_vectors, score_threshold, lookup_from,
        )  # fmt: skip
        database = self._database
        with database.lock, gc_paused():
            planner = Planner(database, collection_name)
            hits = request.execute(planner)
            return QueryResponse(points=planner.points(hits, with_payload, with_vectors))

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
            consistency:
                Read consistency of the search. Defines how many replicas should be queried before returning the result. Values:

                - int - number of replicas to query, values should present in all queried replicas
                - 'majority' - query all replicas, but return values present in the majority of replicas
                - 'quorum' - query the majority of replicas, return values present in all of them
                - 'all' - query all replicas, and return values present in all replicas
            timeout:
                Overrides global timeout for this search. Unit is seconds.

        Returns:
            List of query responses
        """
        database = self._database
        with database.lock, gc_paused():
            planner = Planner(database, collection_name)
            parsed, hits = _execute_batch(planner, requests)
            return [
                QueryResponse(points=planner.points(found, request.with_payload, request.with_vectors))
                for found, request in zip(hits, parsed)
            ]

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
        """Universal endpoint to group on any available operation, such as search, recommendation, discovery, context search.

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
                - If `Document` - infer vector from the document text and use it for nearest search (requires `fastembed` package installed).
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
                Defines a location (collection and vector field name), used to lookup vectors being referenced in the query as IDs.
                If `None` - current collection will be used.
            consistency:
                Read consistency of the search. Defines how many replicas should be queried before returning the result. Values:

                - int - number of replicas to query, values should present in all queried replicas
                - 'majority' - query all replicas, but return values present in the majority of replicas
                - 'quorum' - query the majority of replicas, return values present in all of them
                - 'all' - query all replicas, and return values present in all replicas
            shard_key_selector:
                This parameter allows to specify which shards should be queried.
                If `None` - query all shards. Only works for collections with `custom` sharding method.
            timeout:
                Overrides global timeout for this search. Unit is seconds.

        Returns:
            List of groups with not more than `group_size` hits in each group.
            Each group also contains an id of the group, which is the value of the payload field.
        """
        _check_limit(limit)
        _check_limit(group_size, "group_size")
        request = _Request(
            query, using, prefetch, query_filter, search_params, 1, None,
            True, with_vectors, score_threshold, lookup_from,
        )  # fmt: skip
        database = self._database
        with database.lock, gc_paused():
            planner = Planner(database, collection_name)
            return _groups(database, planner, request, group_by, limit, group_size, with_payload, with_vectors, with_lookup)

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
            consistency: Read consistency of the search. Defines how many replicas should be queried before returning the result. Values:
                - int: Number of replicas to query, values should be present in all queried replicas.
                - 'majority': Query all replicas, but return values present in the majority of replicas.
                - 'quorum': Query the majority of replicas, return values present in all of them.
                - 'all': Query all replicas, and return values present in all replicas.
            timeout: Overrides global timeout for this search. Unit is seconds.
            shard_key_selector: This parameter allows specifying which shards should be queried.
                If `None`, query all shards. Only works for collections with the `custom` sharding method.

        Returns:
            Distance matrix using a pair-based encoding.
        """
        ids, rows = self._distance_matrix(collection_name, query_filter, limit, sample, using)
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
            consistency: Read consistency of the search. Defines how many replicas should be queried before returning the result. Values:
                - int: Number of replicas to query, values should present in all queried replicas.
                - 'majority': Query all replicas, but return values present in the majority of replicas.
                - 'quorum': Query the majority of replicas, return values present in all of them.
                - 'all': Query all replicas and return values present in all replicas.
            timeout: Overrides global timeout for this search. Unit is seconds.
            shard_key_selector: This parameter allows specifying which shards should be queried.
                If `None`, query all shards. Only works for collections with the `custom` sharding method.

        Returns:
            Distance matrix using an offset-based encoding.
        """
        ids, rows = self._distance_matrix(collection_name, query_filter, limit, sample, using)
        position = {point_id: index for index, point_id in enumerate(ids)}
        offsets_row, offsets_col, scores = [], [], []
        for row_index, row in enumerate(rows):
            for b, score in row:
                offsets_row.append(row_index)
                offsets_col.append(position[b])
                scores.append(score)
        return models.SearchMatrixOffsetsResponse(offsets_row=offsets_row, offsets_col=offsets_col, scores=scores, ids=ids)

    def _distance_matrix(
        self, collection_name: str, query_filter: Any, limit: int, sample: int, using: str | None
    ) -> tuple[list[Any], list[list[tuple[Any, float]]]]:
        """Sample ids and, per sample, (neighbour id, score) pairs."""
        _check_limit(limit)
        if sample is None or sample < 2:
            raise InvalidInput(f"sample value {sample} is invalid. Must be 2 or larger.")
        database = self._database
        with database.lock, gc_paused():
            planner = Planner(database, collection_name)
            ids, rows = distance_matrix(planner, query_filter, limit, sample, using)
            point_ids = planner.store.point_ids
            return ids, [[(point_ids[slot], score) for slot, score, _ in row] for row in rows]


# -- helpers shared with the legacy API ---------------------------------------------------------------


def _execute_batch(planner: Planner, raw_requests: Sequence[Any]) -> tuple[list[_Request], list[list[Hit]]]:
    """Run several requests; plain dense nearest queries on one vector name share a matrix product.

    Requests are validated, resolved and (unless deferred to the shared product) run one after the
    other, so the first bad request raises the error local mode's sequential loop would.
    """
    from .planner import _parse_value
    from .spaces import DenseSpace

    requests: list[_Request] = []
    results: list[list[Hit] | None] = [None] * len(raw_requests)
    batches: dict[str, list[tuple[int, Any, Any, int]]] = {}
    spaces: dict[str, DenseSpace] = {}
    for index, raw_request in enumerate(raw_requests):
        request = _Request.from_model(raw_request)
        requests.append(request)
        request.prepare(planner)
        resolved, using = request.resolved, request.using or ""
        simple = (
            resolved is not None
            and resolved.kind == "nearest"
            and resolved.mmr is None
            and not request.prefetches
            and resolved.nearest.kind == "dense"
            and isinstance(planner.store.vectors.get(using), DenseVectors)
        )
        if not simple:
            results[index] = request.execute(planner)
            continue
        space = spaces.setdefault(using, planner._space("dense", using))  # type: ignore[arg-type]
        vector = _parse_value(space, resolved.nearest, "Query vector")  # type: ignore[union-attr]
        eligible = planner.eligible(request.spec, None, using)
        batches.setdefault(using, []).append((index, vector, eligible, request.limit + request.offset))
    for using, items in batches.items():
        space = spaces[using]
        ranked = space.nearest_batch([item[1] for item in items], [item[2] for item in items], [item[3] for item in items])
        for (index, _, _, _), found in zip(items, ranked):
            request = requests[index]
            results[index] = planner._cut(found, space, request.score_threshold)[request.offset :]
    return requests, results  # type: ignore[return-value]


def _groups(
    database: Any,
    planner: Planner,
    request: _Request,
    group_by: str,
    limit: int,
    group_size: int,
    with_payload: Any,
    with_vectors: Any,
    with_lookup: Any,
) -> models.GroupsResult:
    """query_points_groups / search_groups / recommend_groups once the request is validated."""
    lookup_collection = None
    if with_lookup is not None:
        lookup_name = with_lookup if isinstance(with_lookup, str) else field(with_lookup, "collection")
        lookup_collection = database.collection(lookup_name)
    compile_payload_selector(with_payload)
    lookup_payload: Any = True
    lookup_vectors: Any = None
    if with_lookup is not None and not isinstance(with_lookup, str):
        if field(with_lookup, "with_payload") is not None:
            lookup_payload = field(with_lookup, "with_payload")
            compile_payload_selector(lookup_payload)
        lookup_vectors = field(with_lookup, "with_vectors")
    # Local mode queries the whole collection (prefetches too), then groups.
    everything = max(planner.store.n_slots, 1)
    request.prefetch = _unlimited(request.prefetch, everything)
    hits = request.execute(planner, limit=everything)
    groups = []
    for group_id, hits_of_group in group_hits(planner, hits, group_by, limit, group_size, with_payload, with_vectors):
        lookup = None
        if lookup_collection is not None:
            found = lookup_collection.retrieve([group_id], lookup_payload, lookup_vectors)
            if found:
                point_id, payload, vector = found[0]
                lookup = models.Record(id=point_id, payload=payload, vector=vector, shard_key=None, order_value=None)
        groups.append(models.PointGroup(hits=hits_of_group, id=group_id, lookup=lookup))
    return models.GroupsResult(groups=groups)


def _unlimited(prefetch: Any, limit: int) -> Any:
    """A copy of a prefetch tree with every limit set to ``limit`` (qdrant-client's groups do this)."""
    if prefetch is None:
        return None
    if isinstance(prefetch, (list, tuple)):
        return [_unlimited(item, limit) for item in prefetch]
    keys = ("prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from")
    copy = {key: field(prefetch, key) for key in keys}
    copy["limit"] = limit
    copy["prefetch"] = _unlimited(copy["prefetch"], limit)
    return copy
