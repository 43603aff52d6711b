"""A deterministic stream of write requests for the crash tests, and a way to apply it to a client.

``make_requests(seed, count)`` returns plain-data requests; the same seed always gives the same list, so a
killed writer and the checker agree on what request ``i`` was without exchanging anything. The generator
tracks which points and collections exist, so every request is valid whatever prefix of the list ran
before it (the state of a folder after a crash is always some prefix).

The mix: upserts (with large text payloads, so the log grows and automatic compaction triggers),
deletes by id and by filter, payload updates, batches, a second collection dropped and re-created
under its old name, aliases, payload indexes, and explicit ``compact`` requests. ``wait`` is random.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from qdrant_local import QdrantClient, models

from .helpers import visible_state

DIM = 24
MAIN, SPARE = "main", "spare"
ID_POOL = 400


def make_requests(seed: int, count: int) -> list[dict[str, Any]]:
    """``count`` requests; request 0 creates the main collection."""
    rng = random.Random(seed)
    live: dict[str, set[int]] = {MAIN: set()}
    requests: list[dict[str, Any]] = [{"kind": "create", "name": MAIN}]
    while len(requests) < count:
        wait = rng.random() < 0.5
        roll = rng.random()
        if roll < 0.04:
            requests.append({"kind": "compact"})
        elif roll < 0.07:
            if SPARE in live:
                requests.append({"kind": "drop", "name": SPARE})
                del live[SPARE]
            else:
                requests.append({"kind": "create", "name": SPARE})
                live[SPARE] = set()
        elif roll < 0.09:
            target = rng.choice(sorted(live))
            requests.append({"kind": "alias", "alias": "current", "collection": target})
        elif roll < 0.11:
            requests.append({"kind": "index", "field": rng.choice(["group", "tag"]), "drop": rng.random() < 0.3})
        elif roll < 0.55:
            target = rng.choice(sorted(live))
            ids = sorted(rng.sample(range(ID_POOL), rng.randint(1, 24)))
            requests.append(
                {
                    "kind": "upsert",
                    "collection": target,
                    "ids": ids,
                    "seed": rng.randrange(2**32),
                    "wait": wait,
                    "text": rng.randint(0, 1500),
                }
            )
            live[target].update(ids)
        elif roll < 0.65 and live[MAIN]:
            ids = rng.sample(sorted(live[MAIN]), min(len(live[MAIN]), rng.randint(1, 10)))
            requests.append({"kind": "delete", "collection": MAIN, "ids": ids, "wait": wait})
            live[MAIN].difference_update(ids)
        elif roll < 0.70:
            group = rng.randrange(10)
            requests.append({"kind": "delete_group", "collection": MAIN, "group": group, "wait": wait})
            # The generator cannot see payloads cheaply, so it forgets which ids remain: later id-based
            # requests only use ids re-upserted since (tracked again from here).
            live[MAIN] = set()
        elif roll < 0.85 and live[MAIN]:
            ids = rng.sample(sorted(live[MAIN]), min(len(live[MAIN]), rng.randint(1, 20)))
            requests.append(
                {"kind": "set_payload", "collection": MAIN, "ids": ids, "value": rng.randrange(1000), "wait": wait}
            )
        elif live[MAIN]:
            ids = rng.sample(sorted(live[MAIN]), min(len(live[MAIN]), rng.randint(1, 6)))
            new_ids = sorted(rng.sample(range(ID_POOL), rng.randint(1, 6)))
            requests.append(
                {
                    "kind": "batch",
                    "collection": MAIN,
                    "delete": ids,
                    "upsert": new_ids,
                    "seed": rng.randrange(2**32),
                    "wait": wait,
                }
            )
            live[MAIN].difference_update(ids)
            live[MAIN].update(new_ids)
    return requests


def _points(ids: list[int], seed: int, text: int = 0) -> list[models.PointStruct]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(ids), DIM), dtype=np.float32)
    return [
        models.PointStruct(
            id=point_id,
            vector={"v": vectors[k].tolist(), "s": models.SparseVector(indices=[point_id % 7, 9], values=[1.0, 0.5])},
            payload={"group": point_id % 10, "tag": f"t{seed % 5}", "text": "x" * text, "seed": seed},
        )
        for k, point_id in enumerate(ids)
    ]


def apply_request(client: QdrantClient, request: dict[str, Any]) -> None:
    """Send one request to the client (raises whatever the client raises)."""
    kind = request["kind"]
    wait = request.get("wait", True)
    if kind == "create":
        client.create_collection(
            request["name"],
            vectors_config={"v": models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
            sparse_vectors_config={"s": models.SparseVectorParams()},
        )
    elif kind == "drop":
        client.delete_collection(request["name"])
    elif kind == "compact":
        client.compact()
    elif kind == "alias":
        client.update_collection_aliases(
            [
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=request["alias"])),
                models.CreateAliasOperation(
                    create_alias=models.CreateAlias(collection_name=request["collection"], alias_name=request["alias"])
                ),
            ]
        )
    elif kind == "index":
        if request["drop"]:
            client.delete_payload_index(MAIN, request["field"])
        else:
            client.create_payload_index(MAIN, request["field"], models.PayloadSchemaType.INTEGER)
    elif kind == "upsert":
        client.upsert(request["collection"], _points(request["ids"], request["seed"], request["text"]), wait=wait)
    elif kind == "delete":
        client.delete(request["collection"], models.PointIdsList(points=request["ids"]), wait=wait)
    elif kind == "delete_group":
        group_filter = models.Filter(
            must=[models.FieldCondition(key="group", match=models.MatchValue(value=request["group"]))]
        )
        client.delete(request["collection"], models.FilterSelector(filter=group_filter), wait=wait)
    elif kind == "set_payload":
        client.set_payload(request["collection"], {"value": request["value"]}, request["ids"], wait=wait)
    elif kind == "batch":
        client.batch_update_points(
            request["collection"],
            [
                models.DeleteOperation(delete=models.PointIdsList(points=request["delete"])),
                models.UpsertOperation(upsert=models.PointsList(points=_points(request["upsert"], request["seed"]))),
            ],
            wait=wait,
        )
    else:
        raise ValueError(f"unknown request kind {kind!r}")


class PrefixStates:
    """The visible state after prefixes of ``requests``, computed by a memory client moving forward.

    Prefixes must be asked for in increasing order, unless ``keep_all`` keeps the state after every request.
    """

    def __init__(self, requests: list[dict[str, Any]], *, keep_all: bool = False) -> None:
        self.requests = requests
        self.client = QdrantClient(":memory:")
        self.applied = 0
        self.keep_all = keep_all
        self.states: dict[int, dict[str, Any]] = {0: visible_state(self.client, page_size=64)}

    def state_after(self, prefix: int) -> dict[str, Any]:
        """The state after requests[:prefix]."""
        if prefix not in self.states:
            assert prefix >= self.applied, "without keep_all, prefixes are only asked for in increasing order"
            while self.applied < prefix:
                apply_request(self.client, self.requests[self.applied])
                self.applied += 1
                if self.keep_all or self.applied == prefix:
                    self.states[self.applied] = visible_state(self.client, page_size=64)
        return self.states[prefix]

    def close(self) -> None:
        """Close the memory client."""
        self.client.close()
