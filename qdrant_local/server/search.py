"""The query API endpoints: query, query batch, query groups, distance matrix pairs and offsets."""

from __future__ import annotations

from typing import Any

from .calls import Call
from .endpoint import Endpoint
from .envelope import RequestError

__all__ = ["ENDPOINTS"]

_QUERY = {
    "query": "query",
    "using": "using",
    "prefetch": "prefetch",
    "filter": "query_filter",
    "params": "search_params",
    "limit": "limit",
    "offset": "offset",
    "with_payload": "with_payload",
    "with_vector": "with_vectors",
    "score_threshold": "score_threshold",
    "lookup_from": "lookup_from",
    "shard_key": "shard_key_selector",
}

_GROUPS = {**_QUERY, "group_by": "group_by", "group_size": "group_size", "with_lookup": "with_lookup"}
del _GROUPS["offset"]

_MATRIX = {
    "filter": "query_filter",
    "limit": "limit",
    "sample": "sample",
    "using": "using",
    "shard_key": "shard_key_selector",
}

# The REST API returns no payload unless asked; the Python client's default is with_payload=True.
_REST_DEFAULTS = {"with_payload": False, "with_vectors": False}


def query(client: Any, call: Call) -> Any:
    return client.query_points(call.collection, **call.arguments(_QUERY, **_REST_DEFAULTS))


def query_batch(client: Any, call: Call) -> Any:
    searches = call.required("searches")
    if not isinstance(searches, list):
        raise RequestError(400, "Json deserialize error: searches: expected a sequence")
    if not all(isinstance(search, dict) for search in searches):
        raise RequestError(400, "Json deserialize error: searches: expected a sequence of objects")
    requests = [{"with_payload": False, "with_vector": False, **search} for search in searches]
    return client.query_batch_points(call.collection, requests)


def query_groups(client: Any, call: Call) -> Any:
    arguments = call.arguments(_GROUPS, **_REST_DEFAULTS)
    group_by = arguments.pop("group_by", None)
    if group_by is None:
        raise RequestError(400, "Json deserialize error: missing field `group_by`")
    return client.query_points_groups(call.collection, group_by, **arguments)


def matrix_pairs(client: Any, call: Call) -> Any:
    return client.search_matrix_pairs(call.collection, **call.arguments(_MATRIX))


def matrix_offsets(client: Any, call: Call) -> Any:
    return client.search_matrix_offsets(call.collection, **call.arguments(_MATRIX))


_P = "/collections/{collection_name}/points"

ENDPOINTS = [
    Endpoint("POST", _P + "/query", query, quick=True),
    Endpoint("POST", _P + "/query/batch", query_batch, quick=True),
    Endpoint("POST", _P + "/query/groups", query_groups, quick=True),
    Endpoint("POST", _P + "/search/matrix/pairs", matrix_pairs),
    Endpoint("POST", _P + "/search/matrix/offsets", matrix_offsets),
]
