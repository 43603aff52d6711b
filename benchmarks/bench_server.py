"""``qdrant-local serve`` against qdrant_local in-process, in one run (issue 10, "Performance").

    python benchmarks/bench_server.py [--n 100000] [--dim 384] [--batch 256] [--queries 200]
                                      [--seconds 10] [--clients 8] [--frameworks] [--markdown]

* upsert: ``--n`` points (float32 vectors, small payloads) in batches of ``--batch`` with wait=true, into
  a folder: in-process ``QdrantClient(path=...)`` with PointStructs, and through the server with
  qdrant-client's REST client (PointStructs; its pydantic/JSON encoding is part of the call) and with a
  bare HTTP client (httpx, the body encoded by orjson straight from numpy). Building the points is not
  timed. Target: through the server at least half the in-process rate.
* query: median latency of ``--queries`` single top-10 queries without a filter (random vectors, no
  payload). Target: within 2 ms of in-process.
* QPS: queries per second over ``--seconds`` from 1 client process, then from ``--clients`` client
  processes at once (qdrant-client REST clients). Target: more with 8 than with 1.
* ``--frameworks``: median latency of a cheap request (count) and a small query against the server's
  Starlette app and a bare ASGI app calling the same handlers, both under uvicorn (the choice of
  framework, measured).

Every number is a median of one run on a shared machine; read the ratios.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COLLECTION = "bench"
CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]


# -- data ---------------------------------------------------------------------------------------------


def dataset(n: int, dim: int, seed: int = 7) -> tuple[np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    payloads = [{"city": CITIES[i % 5], "group": i % 50, "price": float(i % 1000) / 10} for i in range(n)]
    return vectors, payloads


def query_vectors(count: int, dim: int) -> np.ndarray:
    return np.random.default_rng(11).normal(size=(count, dim)).astype(np.float32)


# -- the server process --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess: ``qdrant-local serve``, or one of this file's framework variants."""

    def __init__(self, path: str, variant: str | None = None) -> None:
        import httpx

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if variant is None:
            command = [sys.executable, "-m", "qdrant_local", "serve", "--path", path, "--port", str(self.port), "--log-level", "warning"]
        else:
            command = [sys.executable, __file__, "--serve-variant", variant, "--path", path, "--port", str(self.port)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(command, cwd=REPO, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def rest_client(url: str) -> Any:
    import qdrant_client

    return qdrant_client.QdrantClient(url=url, prefer_grpc=False, timeout=300, check_compatibility=False)


# -- measurements ----------------------------------------------------------------------------------------


def median_ms(action: Callable[[Any], Any], inputs: Any) -> float:
    timings = []
    for item in inputs:
        started = time.perf_counter()
        action(item)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def timed_batches(upsert: Callable[[int, int], Any], n: int, batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, n, batch):
        upsert(start, min(start + batch, n))
    return time.perf_counter() - started


def in_process(folder: str, vectors: np.ndarray, payloads: list[dict], batch: int, queries: np.ndarray) -> dict[str, float]:
    from qdrant_local import QdrantClient, models

    n, dim = vectors.shape
    points = [models.PointStruct(id=i, vector=vectors[i].tolist(), payload=payloads[i]) for i in range(n)]
    with QdrantClient(path=folder) as client:
        client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE))
        seconds = timed_batches(lambda a, b: client.upsert(COLLECTION, points[a:b], wait=True), n, batch)
        latency = median_ms(lambda q: client.query_points(COLLECTION, query=q, limit=10, with_payload=False), queries)
    return {"upsert_s": seconds, "query_ms": latency}


def through_rest_client(url: str, vectors: np.ndarray, payloads: list[dict], batch: int, queries: np.ndarray) -> dict[str, float]:
    from qdrant_client import models

    n, dim = vectors.shape
    points = [models.PointStruct(id=i, vector=vectors[i].tolist(), payload=payloads[i]) for i in range(n)]
    client = rest_client(url)
    client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE))
    seconds = timed_batches(lambda a, b: client.upsert(COLLECTION, points[a:b], wait=True), n, batch)
    query_list = [q.tolist() for q in queries]
    latency = median_ms(lambda q: client.query_points(COLLECTION, query=q, limit=10, with_payload=False), query_list)
    client.close()
    return {"upsert_s": seconds, "query_ms": latency}


def through_bare_http(url: str, vectors: np.ndarray, payloads: list[dict], batch: int, queries: np.ndarray) -> dict[str, float]:
    import httpx
    import orjson

    n, dim = vectors.shape
    name = COLLECTION + "_bare"
    with httpx.Client(base_url=url, timeout=300) as http:
        http.put(f"/collections/{name}", json={"vectors": {"size": dim, "distance": "Cosine"}}).raise_for_status()

        def upsert(a: int, b: int) -> None:
            body = {"points": [{"id": i, "vector": vectors[i], "payload": payloads[i]} for i in range(a, b)]}
            content = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
            http.put(f"/collections/{name}/points?wait=true", content=content, headers={"content-type": "application/json"}).raise_for_status()

        seconds = timed_batches(upsert, n, batch)

        def query(q: np.ndarray) -> None:
            content = orjson.dumps({"query": q, "limit": 10}, option=orjson.OPT_SERIALIZE_NUMPY)
            http.post(f"/collections/{name}/points/query", content=content, headers={"content-type": "application/json"}).raise_for_status()

        latency = median_ms(query, queries)
    return {"upsert_s": seconds, "query_ms": latency}


def _query_worker(url: str, dim: int, seconds: float, seed: int, ready: Any, done: Any) -> None:
    client = rest_client(url)
    pool = np.random.default_rng(seed).normal(size=(64, dim)).astype(np.float32).tolist()
    client.query_points(COLLECTION, query=pool[0], limit=10, with_payload=False)  # imports and connection done
    ready.wait()
    count = 0
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        client.query_points(COLLECTION, query=pool[count % 64], limit=10, with_payload=False)
        count += 1
    client.close()
    done.put(count)


def qps(url: str, dim: int, clients: int, seconds: float) -> float:
    """Queries per second from ``clients`` processes, each a qdrant-client REST client, started together."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(clients)
    done = context.Queue()
    workers = [context.Process(target=_query_worker, args=(url, dim, seconds, seed, ready, done)) for seed in range(clients)]
    for worker in workers:
        worker.start()
    total = sum(done.get(timeout=600) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    return total / seconds


# -- framework comparison --------------------------------------------------------------------------------


def bare_asgi_app(client: Any) -> Any:
    """The same handlers and envelope behind a hand-written ASGI dispatcher (no Starlette): the alternative."""
    import re
    from urllib.parse import parse_qsl

    import anyio

    from qdrant_local.server.app import ENDPOINTS, _answer

    table = [(e.method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", e.path) + "$"), e.handler) for e in ENDPOINTS]

    async def respond(send: Any, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        if scope["path"] == "/healthz":
            await respond(send, 200, b"healthz check passed", b"text/plain")
            return
        for method, pattern, handler in table:
            match = pattern.match(scope["path"])
            if match and method == scope["method"]:
                query = dict(parse_qsl(scope["query_string"].decode()))
                status, body = await anyio.to_thread.run_sync(_answer, handler, client, match.groupdict(), query, b"".join(chunks), started)
                await respond(send, status, body)
                return
        await respond(send, 404, b'{"status":{"error":"Not found"},"time":0}')

    return app


def serve_variant(variant: str, path: str, port: int) -> None:
    import uvicorn

    from qdrant_local import QdrantClient
    from qdrant_local.server import create_app

    client = QdrantClient(path=path)
    app = create_app(client) if variant == "starlette" else bare_asgi_app(client)
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    finally:
        client.close()


def frameworks(dim: int, requests: int) -> list[tuple[str, float, float]]:
    import httpx

    from qdrant_local import QdrantClient

    folder = tempfile.mkdtemp(prefix="bench_server_fw_")
    try:
        vectors, payloads = dataset(1000, dim)
        with QdrantClient(path=folder) as client:
            client.create_collection(COLLECTION, vectors_config={"size": dim, "distance": "Cosine"})
            client.upsert(COLLECTION, {"ids": list(range(1000)), "vectors": vectors, "payloads": payloads})
        query = {"query": vectors[0].tolist(), "limit": 10}
        rows = []
        for variant in ("starlette", "bare"):
            server = Server(folder, variant=variant)
            try:
                with httpx.Client(base_url=server.url) as http:
                    count_ms = median_ms(lambda _: http.post(f"/collections/{COLLECTION}/points/count", json={}).raise_for_status(), range(requests))
                    query_ms = median_ms(lambda _: http.post(f"/collections/{COLLECTION}/points/query", json=query).raise_for_status(), range(requests))
            finally:
                server.stop()
            rows.append((variant, count_ms, query_ms))
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- main ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--frameworks", action="store_true", help="also compare Starlette with a bare ASGI app")
    parser.add_argument("--serve-variant", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_variant:
        serve_variant(args.serve_variant, args.path, args.port)
        return

    vectors, payloads = dataset(args.n, args.dim)
    queries = query_vectors(args.queries, args.dim)
    root = tempfile.mkdtemp(prefix="bench_server_")
    try:
        local = in_process(os.path.join(root, "local"), vectors, payloads, args.batch, queries)
        server = Server(os.path.join(root, "served"))
        try:
            remote = through_rest_client(server.url, vectors, payloads, args.batch, queries)
            bare = through_bare_http(server.url, vectors, payloads, args.batch, queries)
            one = qps(server.url, args.dim, 1, args.seconds)
            many = qps(server.url, args.dim, args.clients, args.seconds)
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    n = args.n
    rate = {name: n / r["upsert_s"] for name, r in (("local", local), ("rest", remote), ("bare", bare))}
    print(f"\n{n:,} points x dim {args.dim}, batches of {args.batch}, wait=true; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| measure | in-process | server, qdrant-client REST | server, bare HTTP (httpx + orjson) | target | met (REST / bare) |")
    print("|---|---:|---:|---:|---|---|")
    print(
        f"| upsert, points/s | {rate['local']:,.0f} | {rate['rest']:,.0f} ({rate['rest'] / rate['local']:.2f}x) | "
        f"{rate['bare']:,.0f} ({rate['bare'] / rate['local']:.2f}x) | >= 0.5x in-process | "
        f"{_yes(rate['rest'] >= rate['local'] / 2)} / {_yes(rate['bare'] >= rate['local'] / 2)} |"
    )
    print(
        f"| single query top-10, median ms | {local['query_ms']:.2f} | {remote['query_ms']:.2f} (+{remote['query_ms'] - local['query_ms']:.2f}) | "
        f"{bare['query_ms']:.2f} (+{bare['query_ms'] - local['query_ms']:.2f}) | <= in-process + 2 ms | "
        f"{_yes(remote['query_ms'] <= local['query_ms'] + 2)} / {_yes(bare['query_ms'] <= local['query_ms'] + 2)} |"
    )
    print(f"| QPS, 1 client -> {args.clients} clients (REST) | | {one:.1f} -> {many:.1f} ({many / one:.2f}x) | | more with {args.clients} | {_yes(many > one)} |")
    if args.frameworks:
        print("\n| framework (uvicorn, same handlers) | count, median ms | query 1k x dim, median ms |")
        print("|---|---:|---:|")
        for variant, count_ms, query_ms in frameworks(args.dim, 300):
            print(f"| {variant} | {count_ms:.3f} | {query_ms:.3f} |")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    main()
