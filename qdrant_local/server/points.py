"""Point endpoints: upsert, retrieve, delete, payloads, vectors, batch, scroll, count, facet."""

from __future__ import annotations

from typing import Any

from ..errors import PointNotFound
from .calls import Call, acknowledged
from .endpoint import Endpoint
from .envelope import RequestError

__all__ = ["ENDPOINTS"]


def upsert(client: Any, call: Call) -> Any:
    body = call.object()
    if "points" in body:
        points = body["points"]
    elif "batch" in body:
        points = body["batch"]
    else:
        raise RequestError(
            400, "Json deserialize error: data did not match any variant of untagged enum PointInsertOperations"
        )
    arguments = call.arguments(
        {"update_filter": "update_filter", "update_mode": "update_mode", "shard_key": "shard_key_selector"}
    )
    return acknowledged(client.upsert(call.collection, points, wait=call.wait, **arguments), call)


def retrieve(client: Any, call: Call) -> Any:
    arguments = call.arguments(
        {"with_payload": "with_payload", "with_vector": "with_vectors", "shard_key": "shard_key_selector"}
    )
    return client.retrieve(call.collection, call.required("ids"), **arguments)


def retrieve_one(client: Any, call: Call) -> Any:
    raw = call.path["id"]
    point_id: int | str = int(raw) if raw.isdigit() else raw
    found = client.retrieve(call.collection, [point_id], with_payload=True, with_vectors=True)
    if not found:
        raise PointNotFound(raw)
    return found[0]


def delete(client: Any, call: Call) -> Any:
    return acknowledged(client.delete(call.collection, call.selector(), wait=call.wait), call)


def set_payload(client: Any, call: Call) -> Any:
    key = call.object().get("key")
    return acknowledged(
        client.set_payload(call.collection, call.required("payload"), call.selector(), key=key, wait=call.wait), call
    )


def overwrite_payload(client: Any, call: Call) -> Any:
    return acknowledged(
        client.overwrite_payload(call.collection, call.required("payload"), call.selector(), wait=call.wait), call
    )


def delete_payload(client: Any, call: Call) -> Any:
    return acknowledged(
        client.delete_payload(call.collection, call.required("keys"), call.selector(), wait=call.wait), call
    )


def clear_payload(client: Any, call: Call) -> Any:
    return acknowledged(client.clear_payload(call.collection, call.selector(), wait=call.wait), call)


def update_vectors(client: Any, call: Call) -> Any:
    update_filter = call.object().get("update_filter")
    result = client.update_vectors(
        call.collection, call.required("points"), wait=call.wait, update_filter=update_filter
    )
    return acknowledged(result, call)


def delete_vectors(client: Any, call: Call) -> Any:
    return acknowledged(
        client.delete_vectors(call.collection, call.required("vector"), call.selector(), wait=call.wait), call
    )


def batch(client: Any, call: Call) -> Any:
    results = client.batch_update_points(call.collection, call.required("operations"), wait=call.wait)
    return [acknowledged(result, call) for result in results]


def scroll(client: Any, call: Call) -> Any:
    arguments = call.arguments(
        {
            "filter": "scroll_filter",
            "limit": "limit",
            "order_by": "order_by",
            "offset": "offset",
            "with_payload": "with_payload",
            "with_vector": "with_vectors",
            "shard_key": "shard_key_selector",
        }
    )
    points, next_page_offset = client.scroll(call.collection, **arguments)
    return {"points": points, "next_page_offset": next_page_offset}


def count(client: Any, call: Call) -> Any:
    arguments = call.arguments({"filter": "count_filter", "exact": "exact", "shard_key": "shard_key_selector"})
    return client.count(call.collection, **arguments)


def facet(client: Any, call: Call) -> Any:
    arguments = call.arguments(
        {"filter": "facet_filter", "limit": "limit", "exact": "exact", "shard_key": "shard_key_selector"}
    )
    return client.facet(call.collection, call.required("key"), **arguments)


_P = "/collections/{collection_name}/points"

ENDPOINTS = [
    Endpoint("PUT", _P, upsert, writes=True),
    Endpoint("POST", _P, retrieve, quick=True),
    Endpoint("POST", _P + "/delete", delete, writes=True),
    Endpoint("POST", _P + "/payload", set_payload, writes=True),
    Endpoint("PUT", _P + "/payload", overwrite_payload, writes=True),
    Endpoint("POST", _P + "/payload/delete", delete_payload, writes=True),
    Endpoint("POST", _P + "/payload/clear", clear_payload, writes=True),
    Endpoint("PUT", _P + "/vectors", update_vectors, writes=True),
    Endpoint("POST", _P + "/vectors/delete", delete_vectors, writes=True),
    Endpoint("POST", _P + "/batch", batch, writes=True),
    Endpoint("POST", _P + "/scroll", scroll, quick=True),
    Endpoint("POST", _P + "/count", count, quick=True),
    Endpoint("POST", "/collections/{collection_name}/facet", facet),
    Endpoint("GET", _P + "/{id}", retrieve_one, quick=True),
]
