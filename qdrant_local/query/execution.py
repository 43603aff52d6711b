"""Running query requests: one request, a batch, groups and the distance matrix, under the lock.

The facade (:mod:`qdrant_local.api.query`) converts its arguments into our models
(``models.convert_query``), validates them into a :class:`QueryRequest` and calls
the ``run_*`` functions here; they hold the database lock, plan with a :class:`Planner` and build
the response models.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import models
from ..engine.gcpause import gc_paused
from ..engine.projection import compile_payload_selector
from ..engine.vectors import DenseVectors
from ..errors import InvalidInput
from ..ids import try_normalize_id
from ..models.convert import to_filter, to_search_params, to_with_payload
from ..models.query import QueryResponse
from . import approximate
from .groups import Grouping, distance_matrix, group_hits
from .planner import Hit, Planner, _parse_value, warn_ignored_search_params
from .requests import FilterSpec, ParsedQuery, parse_query, validate_prefetches, validate_request
from .spaces import DenseSpace

__all__ = [
    "QueryRequest",
    "check_limit",
    "check_matrix_arguments",
    "run_batch",
    "run_distance_matrix",
    "run_groups",
    "run_query",
]


def check_limit(limit: Any, name: str = "limit") -> None:
    if limit is None or limit < 1:
        raise InvalidInput(f"{name} value {limit} is invalid. Must be 1 or larger.")


def check_offset(offset: Any) -> None:
    if offset is not None and offset < 0:
        raise InvalidInput(f"offset value {offset} is invalid. Must be 0 or larger.")


class QueryRequest:
    """One query request, validated (qdrant-client's checks, in its order) but not yet resolved."""

    def __init__(
        self,
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
    ) -> None:
        check_limit(limit)
        check_offset(offset)
        self.parsed: ParsedQuery | None = parse_query(query)
        validate_request(self.parsed, using, prefetch, score_threshold)
        validate_prefetches(prefetch)
        self.using = using
        self.prefetch = prefetch
        self.query_filter = query_filter
        self.search_params = to_search_params(search_params)
        self.limit = limit
        self.offset = offset or 0
        self.with_payload = to_with_payload(with_payload)
        self.with_vectors = with_vectors
        self.score_threshold = score_threshold
        self.lookup_from = lookup_from

    @classmethod
    def for_groups(
        cls,
        query: Any = None,
        using: str | None = None,
        prefetch: Any = None,
        query_filter: Any = None,
        search_params: Any = None,
        limit: int = 10,
        group_size: int = 3,
        with_vectors: Any = False,
        score_threshold: float | None = None,
        lookup_from: Any = None,
    ) -> QueryRequest:
        """The request of query_points_groups (limits checked first, as qdrant-client does)."""
        check_limit(limit)
        check_limit(group_size, "group_size")
        return cls(
            query, using, prefetch, query_filter, search_params, 1, None,
            True, with_vectors, score_threshold, lookup_from,
        )  # fmt: skip

    @classmethod
    def from_model(cls, request: models.QueryRequest) -> QueryRequest:
        """A QueryRequest of query_batch_points (converted: ``models.convert_query.to_query_request``)."""
        limit = request.limit
        return cls(
            query=request.query,
            using=request.using,
            prefetch=request.prefetch,
            query_filter=request.filter,
            search_params=request.params,
            limit=limit if limit is not None else 10,
            offset=request.offset,
            with_payload=request.with_payload,
            with_vectors=request.with_vector,
            score_threshold=request.score_threshold,
            lookup_from=request.lookup_from,
        )

    def prepare(self, planner: Planner) -> None:
        """Resolve point ids against the collection (once) and check the payload selector."""
        if not planner.collection.vector_indexes:  # with an HNSW index, search_params do apply
            warn_ignored_search_params(self.search_params)
        self.resolved, mentioned = planner.resolve(self.parsed, self.using, self.lookup_from)
        self.spec = FilterSpec(to_filter(self.query_filter), mentioned)
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


def run_query(database: Any, collection_name: str, request: QueryRequest) -> QueryResponse:
    """query_points once the request is validated."""
    with database.lock.shared(), gc_paused():
        planner = Planner(database, collection_name)
        hits = request.execute(planner)
        return QueryResponse(points=planner.points(hits, request.with_payload, request.with_vectors))


def run_batch(database: Any, collection_name: str, batch: Sequence[models.QueryRequest]) -> list[QueryResponse]:
    """query_batch_points (requests converted by ``models.convert_query.to_query_requests``): the
    responses in request order."""
    with database.lock.shared(), gc_paused():
        planner = Planner(database, collection_name)
        parsed, hits = _execute_batch(planner, batch)
        first = parsed[0] if parsed else None
        if first is not None and all(_plain_selection(request, first) for request in parsed):
            # The same payload and vector selection for every request (the common case): the result
            # objects of the whole batch are built with one id lookup and one payload decode.
            points = planner.points([hit for found in hits for hit in found], first.with_payload, first.with_vectors)
            responses, start = [], 0
            for found in hits:
                responses.append(QueryResponse(points=points[start : start + len(found)]))
                start += len(found)
            return responses
        return [
            QueryResponse(points=planner.points(found, request.with_payload, request.with_vectors))
            for found, request in zip(hits, parsed)
        ]


def _plain_selection(request: QueryRequest, first: QueryRequest) -> bool:
    """Whether ``request`` selects payload and vectors as ``first`` does, both given as bool or None."""
    plain = (bool, type(None))
    return (
        type(request.with_payload) in plain
        and type(request.with_vectors) in plain
        and request.with_payload is first.with_payload
        and request.with_vectors is first.with_vectors
    )


def run_groups(database: Any, collection_name: str, request: QueryRequest, grouping: Grouping) -> models.GroupsResult:
    """query_points_groups once the request is validated (:meth:`QueryRequest.for_groups`)."""
    with database.lock.shared(), gc_paused():
        planner = Planner(database, collection_name)
        return _groups(database, planner, request, grouping)


def check_matrix_arguments(limit: int, sample: int) -> None:
    check_limit(limit)
    if sample is None or sample < 2:
        raise InvalidInput(f"sample value {sample} is invalid. Must be 2 or larger.")


def run_distance_matrix(
    database: Any, collection_name: str, query_filter: Any, limit: int, sample: int, using: str | None
) -> tuple[list[Any], list[list[tuple[Any, float]]]]:
    """search_matrix_*: sample ids and, per sample, (neighbour id, score) pairs (arguments checked
    by :func:`check_matrix_arguments`)."""
    with database.lock.shared(), gc_paused():
        planner = Planner(database, collection_name)
        ids, rows = distance_matrix(planner, query_filter, limit, sample, using)
        point_ids = planner.store.point_ids
        return ids, [[(point_ids[slot], score) for slot, score, _ in row] for row in rows]


def _execute_batch(
    planner: Planner, batch: Sequence[models.QueryRequest]
) -> tuple[list[QueryRequest], list[list[Hit]]]:
    """Run several requests; plain dense nearest queries on one vector name share a matrix product.

    Requests are validated, resolved and (unless deferred to the shared product) run one after the
    other, so the first bad request raises the error local mode's sequential loop would.
    """
    requests: list[QueryRequest] = []
    results: list[list[Hit] | None] = [None] * len(batch)
    batches: dict[str, list[tuple[int, Any, Any, int, Any]]] = {}
    spaces: dict[str, DenseSpace] = {}
    for index, model in enumerate(batch):
        request = QueryRequest.from_model(model)
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
            and not approximate.uses_index(planner.collection, using, request.search_params)
        )
        if not simple:
            results[index] = request.execute(planner)
            continue
        space = spaces.get(using) or spaces.setdefault(using, planner._space("dense", using))  # type: ignore[arg-type]
        vector = _parse_value(space, resolved.nearest, "Query vector")  # type: ignore[union-attr]
        eligible, rows = planner.selection(request.spec, None, using)
        batches.setdefault(using, []).append((index, vector, eligible, request.limit + request.offset, rows))
    for using, items in batches.items():
        space = spaces[using]
        ranked = space.nearest_batch(
            [item[1] for item in items],
            [item[2] for item in items],
            [item[3] for item in items],
            [item[4] for item in items],
        )
        for (index, *_), found in zip(items, ranked):
            request = requests[index]
            results[index] = planner._cut(found, space, request.score_threshold)[request.offset :]
    return requests, results  # type: ignore[return-value]


def _groups(database: Any, planner: Planner, request: QueryRequest, grouping: Grouping) -> models.GroupsResult:
    """query_points_groups / search_groups / recommend_groups once the request is validated."""
    with_lookup = grouping.with_lookup
    lookup_collection = None
    if with_lookup is not None:
        lookup_name = with_lookup if isinstance(with_lookup, str) else with_lookup.collection
        lookup_collection = database.collection(lookup_name)
    compile_payload_selector(grouping.with_payload)
    lookup_payload: Any = True
    lookup_vectors: Any = None
    if with_lookup is not None and not isinstance(with_lookup, str):
        if with_lookup.with_payload is not None:
            lookup_payload = with_lookup.with_payload
            compile_payload_selector(lookup_payload)
        lookup_vectors = with_lookup.with_vectors
    # Local mode queries the whole collection (prefetches too), then groups.
    everything = max(planner.store.n_slots, 1)
    request.prefetch = _unlimited(request.prefetch, everything)
    hits = request.execute(planner, limit=everything)
    groups = []
    for group_id, hits_of_group in group_hits(planner, hits, grouping):
        lookup = None
        if lookup_collection is not None:
            # A group value that is no point id (a tag, "k") looks up nothing, as in local mode.
            valid = try_normalize_id(group_id) is not None
            found = lookup_collection.retrieve([group_id], lookup_payload, lookup_vectors) if valid else []
            if found:
                point_id, payload, vector = found[0]
                lookup = models.Record(id=point_id, payload=payload, vector=vector, shard_key=None, order_value=None)
        groups.append(models.PointGroup(hits=hits_of_group, id=group_id, lookup=lookup))
    return models.GroupsResult(groups=groups)


def _unlimited(prefetch: Any, limit: int) -> Any:
    """A copy of a converted prefetch tree with every limit set to ``limit`` (qdrant-client's groups
    do this)."""
    if prefetch is None:
        return None
    if isinstance(prefetch, list):
        return [_unlimited(item, limit) for item in prefetch]
    return models.Prefetch.model_construct(
        **{**prefetch.__dict__, "limit": limit, "prefetch": _unlimited(prefetch.prefetch, limit)}
    )
