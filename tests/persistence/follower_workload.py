"""A writer and readers of one folder in separate processes (test_followers.py runs them).

Request ``i`` of the writer is one ``batch_update_points``: it upserts points ``i*K .. i*K+K-1`` with
payload ``{"req": i}``, deletes the points of request ``i - 3`` and overwrites the payload of point
``META`` with ``{"last": i}``. So a state that contains all of requests ``0 .. p-1`` and nothing else
is fully determined by ``p``, and any other state (part of a request) is detectable from one scroll.
The writer compacts every few requests, so readers must follow generation switches.
"""

from __future__ import annotations

import os
import sys
import time

from qdrant_local import QdrantClient, models

K = 8
META = 10**9
DIM = 4


def expected_ids(p: int) -> set[int]:
    """The ids present after requests 0 .. p-1."""
    ids = {META} if p else set()
    for i in range(p):
        if i + 3 >= p:  # not yet deleted by request i + 3
            ids.update(range(i * K, i * K + K))
    return ids


def request(i: int) -> list[models.UpdateOperation]:
    points = [
        models.PointStruct(id=i * K + k, vector=[float(i), float(k), 1.0, 0.5], payload={"req": i}) for k in range(K)
    ]
    operations: list = [models.UpsertOperation(upsert=models.PointsList(points=points))]
    if i >= 3:
        gone = list(range((i - 3) * K, (i - 3) * K + K))
        operations.append(models.DeleteOperation(delete=models.PointIdsList(points=gone)))
    operations.append(
        models.OverwritePayloadOperation(overwrite_payload=models.SetPayload(payload={"last": i}, points=[META]))
    )
    return operations


def write(path: str, start: int, stop: int, compact_every: int, crash_at: int | None = None) -> None:
    client = QdrantClient(path=path)
    if not client.collection_exists("c"):
        client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
        client.upsert("c", [models.PointStruct(id=META, vector=[0.0] * DIM, payload={})])
    for i in range(start, stop):
        if i == crash_at:
            os._exit(3)  # dies like a killed process: nothing flushed or closed
        client.batch_update_points("c", request(i), wait=i % 2 == 0)
        if compact_every and i % compact_every == compact_every - 1:
            client.compact()
    client.close()


def observed_requests(client: QdrantClient) -> int | None:
    """p such that the state is exactly requests 0 .. p-1, from one scroll; raises if it is no such state."""
    if not client.collection_exists("c"):
        return None
    records, _ = client.scroll("c", limit=100_000, with_payload=True)
    ids = {r.id for r in records}
    if not ids:
        return 0
    meta = next((r for r in records if r.id == META), None)
    if meta is None:
        raise AssertionError(f"points without the meta point: {sorted(ids)[:10]}")
    p = meta.payload["last"] + 1 if "last" in meta.payload else 0
    if ids != expected_ids(p) and not (p == 0 and ids == {META}):
        raise AssertionError(f"state is not a whole prefix: p={p}, ids {sorted(ids ^ expected_ids(p))[:10]} differ")
    for r in records:
        if r.id != META and r.payload["req"] != r.id // K:
            raise AssertionError(f"point {r.id} has payload {r.payload}")
    return p


def read(path: str, done_file: str, final: int) -> None:
    """Follow the folder until ``done_file`` exists; the last observation must be ``final`` requests."""
    client = QdrantClient(path=path, read_only=True)
    seen, observations = -1, 0
    while True:
        done = os.path.exists(done_file)
        p = observed_requests(client)
        if p is not None:
            if p < seen:
                raise AssertionError(f"went back from {seen} to {p} requests")
            seen = p
        observations += 1
        if done:
            break
        time.sleep(0.001)
    if seen != final:
        raise AssertionError(f"ended at {seen} requests, the writer made {final}")
    print(f"ok {observations} observations")


if __name__ == "__main__":
    role, folder = sys.argv[1], sys.argv[2]
    if role == "write":
        crash = int(sys.argv[6]) if len(sys.argv) > 6 else None
        write(folder, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), crash)
    else:
        read(folder, sys.argv[3], int(sys.argv[4]))
