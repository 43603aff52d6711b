"""Raw HTTP checks of the served API: envelope, response shapes, status codes, wait, unknown endpoints.

Every ``result`` is parsed with qdrant-client's generated REST models, so a field our JSON lacks or
shapes differently fails here.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from qdrant_client.http import models as rest

from .process import ServerProcess
from .remote import reset

C = "/collections/shapes"
POINTS = [
    {"id": 1, "vector": [1.0, 0.0, 0.0, 0.0], "payload": {"city": "Oslo", "n": 1}},
    {"id": 2, "vector": [0.0, 1.0, 0.0, 0.0], "payload": {"city": "Rome", "n": 2}},
    {
        "id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
        "vector": [0.5, 0.5, 0.0, 0.0],
        "payload": {"city": "Oslo", "n": None},
    },
]


@pytest.fixture
def http(server: ServerProcess) -> Any:
    reset(server.url)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def result(response: httpx.Response, shape: Any) -> Any:
    """Check the success envelope and parse ``result`` as ``shape`` (a qdrant_client REST model or type)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"result", "status", "time"} and body["status"] == "ok"
    assert isinstance(body["time"], float) and body["time"] >= 0
    return TypeAdapter(shape).validate_python(body["result"])


def error(response: httpx.Response, status: int) -> str:
    """Check the error envelope and status code; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "time"} and set(body["status"]) == {"error"}
    return body["status"]["error"]


def create(http: httpx.Client) -> None:
    created = http.put(C, json={"vectors": {"size": 4, "distance": "Dot"}, "metadata": {"team": "search"}})
    assert result(created, bool) is True
    upserted = result(http.put(C + "/points", params={"wait": "true"}, json={"points": POINTS}), rest.UpdateResult)
    assert upserted.status == rest.UpdateStatus.COMPLETED


def test_collection_endpoints(http: httpx.Client) -> None:
    create(http)
    assert [c.name for c in result(http.get("/collections"), rest.CollectionsResponse).collections] == ["shapes"]
    info = result(http.get(C), rest.CollectionInfo)
    assert info.points_count == 3 and info.config.metadata == {"team": "search"}
    assert result(http.get(C + "/exists"), rest.CollectionExistence).exists is True
    assert result(http.get("/collections/nope/exists"), rest.CollectionExistence).exists is False
    assert result(http.patch(C, json={"metadata": {"v": 2}}), bool) is True
    actions = {"actions": [{"create_alias": {"collection_name": "shapes", "alias_name": "other"}}]}
    assert result(http.post("/collections/aliases", json=actions), bool) is True
    aliases = result(http.get("/aliases"), rest.CollectionsAliasesResponse).aliases
    assert [(a.alias_name, a.collection_name) for a in aliases] == [("other", "shapes")]
    assert result(http.get(C + "/aliases"), rest.CollectionsAliasesResponse).aliases == aliases
    index = http.put(C + "/index", params={"wait": "true"}, json={"field_name": "city", "field_schema": "keyword"})
    assert result(index, rest.UpdateResult).status == rest.UpdateStatus.COMPLETED
    assert "city" in result(http.get(C), rest.CollectionInfo).payload_schema
    assert result(http.delete(C + "/index/city", params={"wait": "true"}), rest.UpdateResult)
    assert result(http.delete(C), bool) is True
    assert error(http.get(C), 404) == "Collection shapes not found"


def test_point_endpoints(http: httpx.Client) -> None:
    create(http)
    wait = {"wait": "true"}
    record = result(http.get(C + "/points/1"), rest.Record)
    assert record.payload == {"city": "Oslo", "n": 1} and record.vector == [1.0, 0.0, 0.0, 0.0]
    uuid_record = result(http.get(C + "/points/5C56C793-69F3-4FBF-87E6-C4BF54C28C26"), rest.Record)
    assert uuid_record.id == POINTS[2]["id"]
    records = result(http.post(C + "/points", json={"ids": [2, 1], "with_vector": True}), list[rest.Record])
    assert [r.id for r in records] == [2, 1] and records[0].vector == [0.0, 1.0, 0.0, 0.0]
    oslo = {"must": [{"key": "city", "match": {"value": "Oslo"}}]}
    assert result(http.post(C + "/points/count", json={"filter": oslo}), rest.CountResult).count == 2
    page = result(http.post(C + "/points/scroll", json={"limit": 2}), rest.ScrollResult)
    assert [p.id for p in page.points] == [1, 2] and page.next_page_offset == POINTS[2]["id"]
    facet = result(http.post(C + "/facet", json={"key": "city"}), rest.FacetResponse)
    assert [(h.value, h.count) for h in facet.hits] == [("Oslo", 2), ("Rome", 1)]
    assert result(
        http.post(C + "/points/payload", params=wait, json={"payload": {"x": 1}, "points": [1]}), rest.UpdateResult
    )
    assert result(
        http.put(C + "/points/payload", params=wait, json={"payload": {"y": 2}, "filter": oslo}), rest.UpdateResult
    )
    assert result(
        http.post(C + "/points/payload/delete", params=wait, json={"keys": ["y"], "points": [1]}), rest.UpdateResult
    )
    assert result(http.post(C + "/points/payload/clear", params=wait, json={"points": [2]}), rest.UpdateResult)
    vectors = {"points": [{"id": 2, "vector": [0.0, 0.0, 1.0, 0.0]}]}
    assert result(http.put(C + "/points/vectors", params=wait, json=vectors), rest.UpdateResult)
    assert result(
        http.post(C + "/points/vectors/delete", params=wait, json={"points": [1], "vector": [""]}), rest.UpdateResult
    )
    operations = {
        "operations": [{"upsert": {"points": [{"id": 9, "vector": [1, 1, 1, 1]}]}}, {"delete": {"points": [9]}}]
    }
    assert len(result(http.post(C + "/points/batch", params=wait, json=operations), list[rest.UpdateResult])) == 2
    by_id = {"must": [{"has_id": [1, POINTS[2]["id"]]}]}
    assert result(http.post(C + "/points/delete", params=wait, json={"filter": by_id}), rest.UpdateResult)
    remaining = result(http.post(C + "/points/scroll", json={"with_vector": True}), rest.ScrollResult).points
    assert [(p.id, p.payload, p.vector) for p in remaining] == [(2, {}, [0.0, 0.0, 1.0, 0.0])]


def test_query_endpoints(http: httpx.Client) -> None:
    create(http)
    hits = result(http.post(C + "/points/query", json={"query": [1, 0.1, 0, 0], "limit": 2}), rest.QueryResponse).points
    assert [h.id for h in hits] == [1, POINTS[2]["id"]] and hits[0].payload is None  # REST default: no payload
    batch = {
        "searches": [{"query": [0, 1, 0, 0], "limit": 1, "with_payload": True}, {"query": {"nearest": 1}, "limit": 1}]
    }
    responses = result(http.post(C + "/points/query/batch", json=batch), list[rest.QueryResponse])
    assert [r.points[0].id for r in responses] == [2, POINTS[2]["id"]] and responses[0].points[0].payload == POINTS[1][
        "payload"
    ]
    groups = result(
        http.post(C + "/points/query/groups", json={"query": [1, 1, 0, 0], "group_by": "city"}), rest.GroupsResult
    )
    assert sorted(g.id for g in groups.groups) == ["Oslo", "Rome"]
    matrix = {"sample": 3, "limit": 1}
    assert (
        len(result(http.post(C + "/points/search/matrix/pairs", json=matrix), rest.SearchMatrixPairsResponse).pairs)
        == 3
    )
    offsets = result(http.post(C + "/points/search/matrix/offsets", json=matrix), rest.SearchMatrixOffsetsResponse)
    assert len(offsets.ids) == 3


def test_error_statuses(http: httpx.Client) -> None:
    create(http)
    assert (
        error(http.put(C, json={"vectors": {"size": 4, "distance": "Dot"}}), 409) == "Collection shapes already exists"
    )
    assert error(http.post("/collections/none/points/count", json={}), 404) == "Collection none not found"
    assert error(http.get(C + "/points/77"), 404) == "No point with id 77 found"
    assert (
        error(http.post(C + "/points/payload", params={"wait": "true"}, json={"payload": {}, "points": [77]}), 404)
        == "No point with id 77 found"
    )
    assert "dimension" in error(http.put(C + "/points", json={"points": [{"id": 5, "vector": [1.0]}]}), 400).lower()
    assert error(http.post(C + "/points/count", content=b"{not json"), 400).startswith("Json deserialize error")
    assert error(http.post(C + "/points/query", json={"query": [1, 0, 0, 0], "limit": -1}), 400)
    assert error(http.put(C + "/points", json={"nothing": []}), 400)
    assert error(http.put(C + "/points", params={"wait": "maybe"}, json={"points": []}), 400)
    assert error(http.get("/no/such/endpoint"), 404) == "Not found: no endpoint GET /no/such/endpoint"
    assert error(http.post("/collections/shapes/points/unknown/more", json={}), 404)
    assert error(http.post("/collections/shapes/points/7", json={}), 405)  # a known path, another method
    assert error(http.delete("/collections/shapes/points/scroll"), 405)
    assert (
        result(http.post(C + "/points/count", json={}), rest.CountResult).count == 3
    )  # the failed writes left nothing


def test_root_and_health_probes(http: httpx.Client) -> None:
    root = http.get("/").json()
    assert rest.VersionInfo.model_validate(root).version.startswith("1.")
    for probe in ("/healthz", "/livez", "/readyz"):
        response = http.get(probe)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")


def test_wait_false_is_acknowledged_and_applied(http: httpx.Client) -> None:
    create(http)
    point = {"points": [{"id": 7, "vector": [1, 2, 3, 4]}]}
    assert (
        result(http.put(C + "/points", params={"wait": "false"}, json=point), rest.UpdateResult).status
        == rest.UpdateStatus.ACKNOWLEDGED
    )
    assert (
        result(http.put(C + "/points", json=point), rest.UpdateResult).status == rest.UpdateStatus.ACKNOWLEDGED
    )  # the server's default
    assert (
        result(http.put(C + "/points", params={"wait": "true"}, json=point), rest.UpdateResult).status
        == rest.UpdateStatus.COMPLETED
    )
    assert result(http.get(C + "/points/7"), rest.Record).vector == [1.0, 2.0, 3.0, 4.0]


def test_concurrent_reads_and_writes(server: ServerProcess, http: httpx.Client) -> None:
    """Queries from several connections while another writes: no errors, every write applied."""
    create(http)
    failures: list[str] = []

    def reader() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(30):
                response = client.post(C + "/points/query", json={"query": [1, 0, 0, 0], "limit": 3})
                if response.status_code != 200:
                    failures.append(response.text)

    def writer() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(30):
                response = client.put(
                    C + "/points",
                    params={"wait": "true"},
                    json={"points": [{"id": 100 + i, "vector": [0, 0, 0, float(i)]}]},
                )
                if response.status_code != 200:
                    failures.append(response.text)

    threads = [threading.Thread(target=reader) for _ in range(4)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert result(http.post(C + "/points/count", json={}), rest.CountResult).count == 33
