"""``qdrant-local serve`` against qdrant_local in-process, in one run (issue 10, "Performance").

    python benchmarks/bench_server.py [--n 100000] [--dim 384] [--batch 256] [--queries 200]
                                      [--seconds 10] [--clients 8] [--frameworks] [--markdown]

* upsert: ``--n`` points (float32 vectors, small payloads) in batches of ``--batch`` with wait=true, into
  a folder: in-process ``QdrantClient(path=...)`` with PointStructs, and through the server with
  qdrant-client's REST client (PointStructs; its pydantic/JSON encoding is part of the call) and with a
  bare HTTP client (httpx, the body encoded by orjson straight from numpy). Building the points is not
  timed. Target: through the server at least half the in-process rate.
* query: median latency of ``--queries`` single top-10 queries without a filter (random vectors, no
  payload), the three clients taking turns (as the upsert batches do), so that all see the same load;
  the answers must agree. Also the median of a request that does no work (``GET /healthz``): the cost
  of an HTTP round trip on this machine at that moment. Target: within 2 ms of in-process.
* QPS: queries per second over ``--seconds`` from 1 client process, then from ``--clients`` client
  processes at once (qdrant-client REST clients). Target: more with 8 than with 1.
* ``--frameworks``: median latency of a cheap request (count) and a small query against the server's
  Starlette app and a bare ASGI app calling the same handlers, under uvicorn with its pure-Python
  HTTP parser (h11) and with httptools + uvloop (the choice of framework, measured).

Every side searches exactly: the collections are created with ``optimizers_config={"indexing_threshold": 0}``
(no HNSW index even with the ``ann`` extra installed), so all answers must agree and the comparison is
of the same work.

Every number is a median of one run on a shared machine; read the ratios. On an oversubscribed
machine multi-threaded BLAS makes every search several times slower and noisier, in-process and
served alike; ``OPENBLAS_NUM_THREADS=1`` (inherited by the server process) measures both without it.
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
# Exact search on every side (no HNSW index, whether or not faiss is installed): answers must agree.
EXACT = {"indexing_threshold": 0}
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
            command = [
                sys.executable,
                "-m",
                "qdrant_local",
                "serve",
                "--path",
                path,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ]
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


class InProcess:
    """qdrant_local in this process, on its own folder: the baseline."""

    name = "in-process"

    def __init__(self, folder: str, dim: int) -> None:
        from qdrant_local import QdrantClient, models

        self.models = models
        self.client = QdrantClient(path=folder)
        self.client.create_collection(
            COLLECTION,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
            optimizers_config=models.OptimizersConfigDiff(**EXACT),
        )

    def prepare(self, vectors: np.ndarray, payloads: list[dict], ids: range) -> Any:
        return [
            self.models.PointStruct(id=i, vector=vectors[k].tolist(), payload=payloads[k]) for k, i in enumerate(ids)
        ]

    def upsert(self, points: Any) -> None:
        self.client.upsert(COLLECTION, points, wait=True)

    def query(self, vector: np.ndarray) -> Any:
        return [
            p.id
            for p in self.client.query_points(COLLECTION, query=vector.tolist(), limit=10, with_payload=False).points
        ]

    def close(self) -> None:
        self.client.close()


class RestClient(InProcess):
    """qdrant-client's REST client against a server of its own."""

    name = "qdrant-client REST"

    def __init__(self, folder: str, dim: int) -> None:
        from qdrant_client import models

        self.server = Server(folder)
        self.models = models
        self.client = rest_client(self.server.url)
        self.client.create_collection(
            COLLECTION,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
            optimizers_config=models.OptimizersConfigDiff(**EXACT),
        )

    def close(self) -> None:
        self.client.close()
        self.server.stop()


class BareHttp:
    """httpx with bodies encoded by orjson straight from numpy, against a server of its own."""

    name = "bare HTTP"

    def __init__(self, folder: str, dim: int) -> None:
        import orjson

        self.dumps = lambda body: orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
        self.server_seconds: list[float] = []
        self.server = Server(folder)
        self.connect()
        config = {"vectors": {"size": dim, "distance": "Cosine"}, "optimizers_config": EXACT}
        self.request("PUT", f"/collections/{COLLECTION}", config)

    def connect(self) -> None:
        import json

        import httpx

        self.loads: Callable[[bytes], Any] = json.loads  # what httpx's Response.json() uses
        self.http = httpx.Client(base_url=self.server.url, timeout=300, headers={"content-type": "application/json"})

    def request(self, method: str, path: str, body: Any = None) -> bytes:
        """The response body of one request (``body`` encoded as JSON); raises unless it is a 200."""
        response = self.http.request(method, path, content=None if body is None else self.dumps(body))
        response.raise_for_status()
        return response.content

    def disconnect(self) -> None:
        self.http.close()

    def prepare(self, vectors: np.ndarray, payloads: list[dict], ids: range) -> Any:
        return {"points": [{"id": i, "vector": vectors[k], "payload": payloads[k]} for k, i in enumerate(ids)]}

    def upsert(self, body: Any) -> None:
        self.request("PUT", f"/collections/{COLLECTION}/points?wait=true", body)

    def ping(self) -> None:
        self.request("GET", "/healthz")

    def query(self, vector: np.ndarray) -> Any:
        body = self.loads(
            self.request("POST", f"/collections/{COLLECTION}/points/query", {"query": vector, "limit": 10})
        )
        self.server_seconds.append(body["time"])  # the envelope's time: spent inside the server
        return [p["id"] for p in body["result"]["points"]]

    def close(self) -> None:
        self.disconnect()
        self.server.stop()


class StdlibHttp(BareHttp):
    """Python's own ``http.client`` (one keep-alive connection), bodies by orjson: the leanest client."""

    name = "stdlib HTTP"

    def connect(self) -> None:
        import http.client

        import orjson

        self.loads = orjson.loads
        self.connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)

    def request(self, method: str, path: str, body: Any = None) -> bytes:
        content = None if body is None else self.dumps(body)
        self.connection.request(method, path, body=content, headers={"content-type": "application/json"})
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise AssertionError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data

    def disconnect(self) -> None:
        self.connection.close()


def upsert_seconds(targets: list[Any], vectors: np.ndarray, payloads: list[dict], batch: int) -> dict[str, float]:
    """Seconds each target spends in its upsert calls; batches interleaved, so all see the same load.

    Also the client process's CPU seconds in those calls (``name cpu``): for a served target, the
    client library's own encoding work, which no server can take off.
    """
    totals = {target.name: 0.0 for target in targets} | {target.name + " cpu": 0.0 for target in targets}
    for start in range(0, len(vectors), batch):
        ids = range(start, min(start + batch, len(vectors)))
        for target in targets:
            work = target.prepare(vectors[start : ids.stop], payloads[start : ids.stop], ids)
            started, cpu = time.perf_counter(), time.process_time()
            target.upsert(work)
            totals[target.name] += time.perf_counter() - started
            totals[target.name + " cpu"] += time.process_time() - cpu
    return totals


def query_ms(targets: list[Any], queries: np.ndarray) -> dict[str, float]:
    """Median latency per target of the same single queries, interleaved; every target must agree.

    Also, per target: the client's own CPU time per query (``name cpu``), and for the bare clients the
    time inside the server (``name server``, the envelope's ``time``) and an HTTP round trip that does
    no work (``name ping``, ``GET /healthz``).
    """
    timings: dict[str, list[float]] = {}
    for vector in queries:
        answers = []
        for target in targets:
            if hasattr(target, "ping"):
                started = time.perf_counter()
                target.ping()
                timings.setdefault(target.name + " ping", []).append(time.perf_counter() - started)
            started, cpu = time.perf_counter(), time.process_time()
            answers.append(target.query(vector))
            timings.setdefault(target.name, []).append(time.perf_counter() - started)
            timings.setdefault(target.name + " cpu", []).append(time.process_time() - cpu)
        if any(answer != answers[0] for answer in answers):
            raise AssertionError(f"targets disagree: {answers}")
    for target in targets:
        if hasattr(target, "server_seconds"):
            timings[target.name + " server"] = target.server_seconds
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def median_ms(action: Callable[[Any], Any], inputs: Any) -> float:
    timings = []
    for item in inputs:
        started = time.perf_counter()
        action(item)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


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
    workers = [
        context.Process(target=_query_worker, args=(url, dim, seconds, seed, ready, done)) for seed in range(clients)
    ]
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

    table = [
        (e.method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", e.path) + "$"), e.handler) for e in ENDPOINTS
    ]

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
                status, body = await anyio.to_thread.run_sync(
                    _answer, handler, client, match.groupdict(), query, b"".join(chunks), started
                )
                await respond(send, status, body)
                return
        await respond(send, 404, b'{"status":{"error":"Not found"},"time":0}')

    return app


def serve_variant(variant: str, path: str, port: int) -> None:
    """Run one framework variant: ``starlette`` or ``bare``, with ``+h11`` or ``+httptools`` (and uvloop)."""
    import uvicorn

    from qdrant_local import QdrantClient
    from qdrant_local.server import create_app

    framework, _, protocol = variant.partition("+")
    client = QdrantClient(path=path)
    app = create_app(client) if framework == "starlette" else bare_asgi_app(client)
    loop = "uvloop" if protocol == "httptools" else "asyncio"
    try:
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            http=protocol,
            loop=loop,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    finally:
        client.close()


VARIANTS = ("starlette+h11", "bare+h11", "starlette+httptools", "bare+httptools")


def frameworks(dim: int, requests: int) -> list[tuple[str, float, float]]:
    """Median latency per variant; every variant runs at once and they take turns, so all see the same load."""
    import httpx

    from qdrant_local import QdrantClient

    root = tempfile.mkdtemp(prefix="bench_server_fw_")
    servers: dict[str, Server] = {}
    try:
        vectors, payloads = dataset(1000, dim)
        query = {"query": vectors[0].tolist(), "limit": 10}
        for variant in VARIANTS:
            folder = os.path.join(root, variant)
            with QdrantClient(path=folder) as client:
                client.create_collection(
                    COLLECTION, vectors_config={"size": dim, "distance": "Cosine"}, optimizers_config=EXACT
                )
                client.upsert(COLLECTION, {"ids": list(range(1000)), "vectors": vectors, "payloads": payloads})
            servers[variant] = Server(folder, variant=variant)
        clients = {variant: httpx.Client(base_url=server.url) for variant, server in servers.items()}
        timings: dict[tuple[str, str], list[float]] = {(v, kind): [] for v in VARIANTS for kind in ("count", "query")}
        for _ in range(requests):
            for variant, http in clients.items():
                for kind, path, body in (("count", "count", {}), ("query", "query", query)):
                    started = time.perf_counter()
                    http.post(f"/collections/{COLLECTION}/points/{path}", json=body).raise_for_status()
                    timings[variant, kind].append(time.perf_counter() - started)
        for http in clients.values():
            http.close()
        return [
            (v, statistics.median(timings[v, "count"]) * 1000, statistics.median(timings[v, "query"]) * 1000)
            for v in VARIANTS
        ]
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


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
    parser.add_argument("--frameworks-only", action="store_true", help="only the framework comparison")
    parser.add_argument("--serve-variant", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_variant:
        serve_variant(args.serve_variant, args.path, args.port)
        return

    if args.frameworks_only:
        print_frameworks(args.dim)
        return
    vectors, payloads = dataset(args.n, args.dim)
    queries = query_vectors(args.queries, args.dim)
    root = tempfile.mkdtemp(prefix="bench_server_")
    targets: list[Any] = []
    try:
        for cls, folder in ((InProcess, "local"), (RestClient, "rest"), (BareHttp, "bare"), (StdlibHttp, "stdlib")):
            targets.append(cls(os.path.join(root, folder), args.dim))
        upsert_s = upsert_seconds(targets, vectors, payloads, args.batch)
        latency = query_ms(targets, queries)
        url = targets[1].server.url
        one = qps(url, args.dim, 1, args.seconds)
        many = qps(url, args.dim, args.clients, args.seconds)
    finally:
        for target in targets:
            target.close()
        shutil.rmtree(root, ignore_errors=True)

    print_table(args, [target.name for target in targets], upsert_s, latency, one, many)
    if args.frameworks:
        print_frameworks(args.dim)


def print_table(
    args: Any, names: list[str], upsert_s: dict[str, float], latency: dict[str, float], one: float, many: float
) -> None:
    """The results table; ``names[0]`` is the in-process baseline, the others served clients."""
    local, served = names[0], names[1:]
    rate = {name: args.n / seconds for name, seconds in upsert_s.items()}
    print(
        f"\n{args.n:,} points x dim {args.dim}, batches of {args.batch}, wait=true; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()[0]:.2f}; "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}\n"
    )
    print("| measure | in-process | " + " | ".join(f"server, {name}" for name in served) + " | target |")
    print("|---|---:|" + "---:|" * len(served) + "---|")
    cells = [f"{rate[n]:,.0f} ({rate[n] / rate[local]:.2f}x, {_yes(rate[n] >= rate[local] / 2)})" for n in served]
    print(f"| upsert, points/s | {rate[local]:,.0f} | " + " | ".join(cells) + " | >= 0.5x in-process |")
    per_batch = 1000 * args.batch / args.n
    cells = [f"{upsert_s[n + ' cpu'] * per_batch:.1f}" for n in served]
    print(
        f"| ... the client's own CPU per batch, ms (in-process: the whole upsert) | "
        f"{upsert_s[local + ' cpu'] * per_batch:.1f} | " + " | ".join(cells) + " | |"
    )
    base = latency[local]
    cells = [f"{latency[n]:.2f} (+{latency[n] - base:.2f}, {_yes(latency[n] <= base + 2)})" for n in served]
    print(f"| single query top-10, median ms | {base:.2f} | " + " | ".join(cells) + " | <= in-process + 2 ms |")
    cells = [f"{latency[n + ' cpu']:.2f}" for n in served]
    print(f"| ... the client's own CPU per query, ms | {latency[local + ' cpu']:.2f} | " + " | ".join(cells) + " | |")
    cells = [f"{latency[n + ' server']:.2f}" if n + " server" in latency else "" for n in served]
    print("| ... inside the server (the envelope's `time`), ms | | " + " | ".join(cells) + " | |")
    cells = [f"{latency[n + ' ping']:.2f}" if n + " ping" in latency else "" for n in served]
    print("| an HTTP round trip that does no work (`GET /healthz`), ms | | " + " | ".join(cells) + " | |")
    print(
        f"| QPS, 1 client -> {args.clients} client processes (REST) | | {one:.1f} -> {many:.1f} ({many / one:.2f}x, "
        f"{_yes(many > one)}) | | | more with {args.clients} |"
    )


def print_frameworks(dim: int) -> None:
    print("\n| framework + HTTP parser (uvicorn, same handlers) | count, median ms | query 1k x dim, median ms |")
    print("|---|---:|---:|")
    for variant, count_latency, query_latency in frameworks(dim, 300):
        print(f"| {variant} | {count_latency:.3f} | {query_latency:.3f} |")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    main()
