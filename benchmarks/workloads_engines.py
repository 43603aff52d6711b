"""Engine adapters and the workload sequence for ``benchmarks/run.py`` (runs inside one engine's subprocess).

An adapter wraps one engine behind the same small set of calls (upsert, retrieve, search, count, scroll,
set_payload/delete by filter, reopen); ``run_engine`` drives it through every workload and returns
medians in seconds (plus sizes in bytes). Engines:

* ``qdrant_local:memory`` / ``qdrant_local:path`` and ``qdrant-client:memory`` / ``qdrant-client:path``
  share one adapter (same QdrantClient API).
* ``qdrant-edge-py``: an ``EdgeShard`` at a path (it has no in-memory mode and no Batch upsert).
* ``numpy-floor``: ``argpartition`` of ``matrix @ query`` on the normalised matrix: the search floor.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import workloads_data as data

# Per-workload measurement policy: at most ``max_repeat`` timed runs, and stop early once the timed
# runs add up to ``budget`` seconds (slow engines get one or two runs; fast ones get many).
FULL_POLICY = {"max_repeat": 25, "budget": 8.0, "reopen_repeat": 3, "delete_repeat": 5}
QUICK_POLICY = {"max_repeat": 9, "budget": 1.5, "reopen_repeat": 3, "delete_repeat": 3}


def measure(action: Callable[[int], Any], max_repeat: int, budget: float) -> dict[str, Any]:
    """Median seconds of ``action(k)`` over up to ``max_repeat`` runs within ``budget`` seconds.

    The first run is discarded as a warm-up when it is cheap (under a tenth of the budget), since it
    pays one-off costs (lazy imports, index builds, caches) that a steady-state median should not show.
    """
    timings: list[float] = []
    cpu: list[float] = []
    spent = 0.0
    k = 0
    while len(timings) < max_repeat and (not timings or spent < budget):
        started, started_cpu = time.perf_counter(), time.process_time()
        action(k)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        k += 1
        if k == 1 and elapsed < budget / 10:
            continue  # warm-up
        timings.append(elapsed)
        cpu.append(elapsed_cpu)
        spent += elapsed
    # CPU seconds are kept beside wall seconds: on a shared, loaded machine they vary less
    # (they miss fsync waits, and count every thread of a multithreaded engine).
    return {"seconds": statistics.median(timings), "cpu_seconds": statistics.median(cpu), "repeats": len(timings)}


def folder_size(path: str) -> tuple[int, int]:
    """(bytes allocated on disk, apparent bytes) of every file under ``path``.

    Allocated bytes are what counts: qdrant-edge-py preallocates sparse 32 MiB files (WAL, mmap pages)
    whose apparent size says little about the data.
    """
    allocated = apparent = 0
    for root, _, files in os.walk(path):
        for name in files:
            stat = os.stat(os.path.join(root, name))
            allocated += stat.st_blocks * 512
            apparent += stat.st_size
    return allocated, apparent


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def phase_peak_bytes() -> int | None:
    """Peak RSS since the last call (Linux VmHWM, then reset through /proc/self/clear_refs), or None.

    Per-phase peaks say where the overall peak comes from (load, reads, reopen). The reset also
    resets ru_maxrss, so callers take the largest phase peak as the overall one.
    """
    try:
        with open("/proc/self/status") as handle:
            peak = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM:"))
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # 5 = reset the peak RSS to the current RSS
        return peak
    except (OSError, StopIteration, ValueError):
        return None


class ClientAdapter:
    """qdrant_local or qdrant-client (same QdrantClient API), in memory or at a path."""

    def __init__(self, module: Any, path: str | None) -> None:
        self.module = module
        self.models = module.models
        self.path = path
        self.client: Any = None

    # -- lifecycle -------------------------------------------------------------------------------

    def open(self, path: str | None) -> None:
        """Open a client on ``path`` (None: in memory)."""
        self.path = path
        self.client = self.module.QdrantClient(path=path) if path else self.module.QdrantClient(":memory:")

    def create(self, dim: int) -> None:
        """Create the benchmark collection (Cosine), searched exactly.

        ``indexing_threshold=0`` keeps qdrant_local from building an HNSW index in the background
        when the ann extra (faiss) is installed: this table compares exact search (qdrant-client
        ignores the setting); approximate search is compared by ``run.py --ann`` (bench_ann.py).
        """
        self.client.create_collection(
            "bench",
            vectors_config=self.models.VectorParams(size=dim, distance=self.models.Distance.COSINE),
            optimizers_config=self.models.OptimizersConfigDiff(indexing_threshold=0),
        )

    def close(self) -> None:
        """Close the client (flushes and releases a path)."""
        self.client.close()
        self.client = None

    def reopen_and_count(self) -> int:
        """Open a new client on the same path and count its points (forces the load)."""
        self.open(self.path)
        return self.client.count("bench").count

    # -- writes ----------------------------------------------------------------------------------

    def prepare_points(self, ids: list[int], vectors: np.ndarray, payloads: list[dict[str, Any]]) -> Any:
        """One upsert batch of PointStructs with list vectors (built untimed)."""
        rows = vectors.tolist()
        return [self.models.PointStruct(id=i, vector=v, payload=p) for i, v, p in zip(ids, rows, payloads)]

    def prepare_batch(self, ids: list[int], vectors: np.ndarray, payloads: list[dict[str, Any]]) -> Any:
        """One models.Batch built from the float32 matrix (qdrant-client's pydantic turns it into lists here)."""
        return self.models.Batch(ids=ids, vectors=vectors, payloads=payloads)

    def prepare_batch_lists(self, ids: list[int], vectors: np.ndarray, payloads: list[dict[str, Any]]) -> Any:
        """One models.Batch whose vectors are Python lists of floats (as from JSON or an embedder)."""
        return self.models.Batch(ids=ids, vectors=vectors.tolist(), payloads=payloads)

    def upsert(self, prepared: Any) -> None:
        """Upsert prepared points or a Batch (wait=True: fsync'd on a path)."""
        self.client.upsert("bench", prepared, wait=True)

    def create_indexes(self) -> None:
        """Payload indexes on the filtered and ordered fields (a no-op in qdrant-client's local mode)."""
        kinds = {"integer": self.models.PayloadSchemaType.INTEGER, "float": self.models.PayloadSchemaType.FLOAT}
        for field, kind in data.INDEXED_FIELDS.items():
            self.client.create_payload_index("bench", field, kinds[kind])

    def filter(self, spec: tuple[str, int]) -> Any:
        """A must-match filter on one payload field."""
        field, value = spec
        return self.models.Filter(
            must=[self.models.FieldCondition(key=field, match=self.models.MatchValue(value=value))]
        )

    def set_payload(self, flt: Any, payload: dict[str, Any]) -> None:
        """set_payload on the points matching ``flt``."""
        self.client.set_payload("bench", payload, points=flt)

    def delete(self, flt: Any) -> None:
        """Delete the points matching ``flt``."""
        self.client.delete("bench", points_selector=self.models.FilterSelector(filter=flt))

    def delete_ids(self, ids: list[int]) -> None:
        """Delete the points ``ids``."""
        self.client.delete("bench", points_selector=self.models.PointIdsList(points=ids))

    # -- reads -----------------------------------------------------------------------------------

    def retrieve(self, ids: list[int]) -> int:
        """Retrieve ``ids`` with payloads."""
        return len(self.client.retrieve("bench", ids))

    def search(self, query: np.ndarray, flt: Any) -> list[int]:
        """Top-10 ids of one query (with payloads, as query_points returns by default)."""
        return [p.id for p in self.client.query_points("bench", query.tolist(), query_filter=flt, limit=10).points]

    def search_batch(self, queries: np.ndarray, flt: Any) -> list[list[int]]:
        """Top-10 ids of each query, in one query_batch_points call."""
        requests = [
            self.models.QueryRequest(query=q.tolist(), filter=flt, limit=10, with_payload=True) for q in queries
        ]
        return [[p.id for p in r.points] for r in self.client.query_batch_points("bench", requests)]

    def count(self, flt: Any) -> int:
        """Exact count of the points matching ``flt``."""
        return self.client.count("bench", count_filter=flt, exact=True).count

    def scroll_all(self) -> int:
        """Scroll through every point in pages of 1000 (payloads, no vectors); number seen."""
        seen, offset = 0, None
        while True:
            page, offset = self.client.scroll("bench", limit=1000, offset=offset)
            seen += len(page)
            if offset is None:
                return seen

    def scroll_ordered(self) -> list[Any]:
        """The first 100 points ordered by price."""
        page, _ = self.client.scroll("bench", limit=100, order_by="price")
        return [p.id for p in page]


class EdgeAdapter:
    """qdrant-edge-py: one EdgeShard at a path (exact search: optimize() and HNSW are not used)."""

    def __init__(self, threads: int | None = None) -> None:
        import qdrant_edge

        self.edge = qdrant_edge
        self.threads = threads
        self.shard: Any = None
        self.path: str | None = None
        self.dim = 0

    def open(self, path: str | None) -> None:
        """Remember the path; the shard is created by ``create`` (it needs the vector size)."""
        self.path = path

    def create(self, dim: int) -> None:
        """Create the shard with a Cosine vector of size ``dim``."""
        e = self.edge
        self.dim = dim
        self.shard = e.EdgeShard.create(
            self.path,
            e.EdgeConfig(
                vectors=e.EdgeVectorParams(size=dim, distance=e.Distance.Cosine), max_search_threads=self.threads
            ),
        )

    def close(self) -> None:
        """Close the shard."""
        self.shard.close()
        self.shard = None

    def reopen_and_count(self) -> int:
        """Load the shard from its folder and count its points."""
        self.shard = self.edge.EdgeShard.load(self.path)
        return self.shard.count(self.edge.CountRequest(exact=True))

    def prepare_points(self, ids: list[int], vectors: np.ndarray, payloads: list[dict[str, Any]]) -> Any:
        """One upsert batch of edge Points with list vectors (built untimed)."""
        rows = vectors.tolist()
        return self.edge.UpdateOperation.upsert_points(
            [self.edge.Point(i, v, p) for i, v, p in zip(ids, rows, payloads)]
        )

    def upsert(self, prepared: Any) -> None:
        """Apply a prepared upsert operation."""
        self.shard.update(prepared)

    def create_indexes(self) -> None:
        """Real payload indexes (integer / float) on the filtered and ordered fields."""
        kinds = {"integer": self.edge.PayloadSchemaType.Integer, "float": self.edge.PayloadSchemaType.Float}
        for field, kind in data.INDEXED_FIELDS.items():
            self.shard.update(self.edge.UpdateOperation.create_field_index(field, kinds[kind]))

    def filter(self, spec: tuple[str, int]) -> Any:
        """A must-match filter on one payload field."""
        field, value = spec
        return self.edge.Filter(must=[self.edge.FieldCondition(key=field, match=self.edge.MatchValue(value))])

    def set_payload(self, flt: Any, payload: dict[str, Any]) -> None:
        """set_payload_by_filter."""
        self.shard.update(self.edge.UpdateOperation.set_payload_by_filter(flt, payload))

    def delete(self, flt: Any) -> None:
        """delete_points_by_filter."""
        self.shard.update(self.edge.UpdateOperation.delete_points_by_filter(flt))

    def delete_ids(self, ids: list[int]) -> None:
        """delete_points."""
        self.shard.update(self.edge.UpdateOperation.delete_points(ids))

    def retrieve(self, ids: list[int]) -> int:
        """Retrieve ``ids`` with payloads."""
        return len(self.shard.retrieve(ids, with_payload=True, with_vector=False))

    def _request(self, query: np.ndarray, flt: Any) -> Any:
        return self.edge.QueryRequest(
            limit=10, query=self.edge.Query.Nearest(query.tolist()), filter=flt, with_payload=True
        )

    def search(self, query: np.ndarray, flt: Any) -> list[int]:
        """Top-10 ids of one query."""
        return [p.id for p in self.shard.query(self._request(query, flt))]

    def search_batch(self, queries: np.ndarray, flt: Any) -> list[list[int]]:
        """Top-10 ids of each query, in one query_batch call."""
        batch = self.edge.QueryBatchRequest([self._request(q, flt) for q in queries])
        return [[p.id for p in r] for r in self.shard.query_batch(batch)]

    def count(self, flt: Any) -> int:
        """Exact count of the points matching ``flt``."""
        return self.shard.count(self.edge.CountRequest(exact=True, filter=flt))

    def scroll_all(self) -> int:
        """Scroll through every point in pages of 1000 (payloads, no vectors)."""
        seen, offset = 0, None
        while True:
            page, offset = self.shard.scroll(self.edge.ScrollRequest(offset=offset, limit=1000, with_payload=True))
            seen += len(page)
            if offset is None:
                return seen

    def scroll_ordered(self) -> list[Any]:
        """The first 100 points ordered by price (needs the float index)."""
        page, _ = self.shard.scroll(
            self.edge.ScrollRequest(limit=100, order_by=self.edge.OrderBy("price"), with_payload=True)
        )
        return [p.id for p in page]


def make_adapter(engine: str, threads: int | None = None) -> Any:
    """The adapter for an engine name (imports the engine)."""
    if engine.startswith("qdrant_local"):
        import qdrant_local

        return ClientAdapter(qdrant_local, None)
    if engine.startswith("qdrant-client"):
        import qdrant_client

        return ClientAdapter(qdrant_client, None)
    if engine == "qdrant-edge-py":
        return EdgeAdapter(threads)
    raise ValueError(f"unknown engine {engine!r}")


class Floor:
    """The numpy floor: exact top-10 by ``argpartition`` of ``matrix @ query`` on the normalised matrix.

    Filtered searches use only the matching rows, gathered beforehand (an index handed over for free),
    so they are a floor for any filtered search too. ``excluded_groups`` leaves out points an engine
    has deleted (delete-by-filter removes whole ``group`` values) and ``excluded_ids`` the points it
    deleted by id, so both search the same points.
    """

    def __init__(
        self, n: int, dim: int, excluded_groups: tuple[int, ...] = (), excluded_ids: tuple[int, ...] = ()
    ) -> None:
        matrix = data.matrix(n, dim)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)  # Cosine: Qdrant stores normalised vectors
        ids_all = np.arange(n)
        live = ~np.isin(ids_all % 50, excluded_groups)
        live[np.asarray(excluded_ids, dtype=np.int64)] = False
        self.subsets: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "": (matrix, ids_all) if live.all() else (np.ascontiguousarray(matrix[live]), ids_all[live])
        }
        for tag, spec in (("_2", data.FILTER_2PCT), ("_50", data.FILTER_50PCT)):
            ids = data.filter_ids(spec, n)
            ids = ids[live[ids]]
            self.subsets[tag] = (np.ascontiguousarray(matrix[ids]), ids)

    def faiss_index(self) -> Any:
        """faiss IndexFlatIP over the unfiltered matrix (one OpenMP thread per BLAS thread), or None."""
        if not hasattr(self, "_faiss"):
            try:
                import faiss
            except ImportError:
                self._faiss = None
            else:
                faiss.omp_set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or os.cpu_count() or 1)
                matrix, ids = self.subsets[""]
                index = faiss.IndexFlatIP(matrix.shape[1])
                index.add(matrix)
                self._faiss = (index, ids)
        return self._faiss

    def faiss_search(self, queries: np.ndarray) -> list[list[int]]:
        """Top-10 ids of each (normalised) query from faiss IndexFlatIP, unfiltered."""
        index, ids = self.faiss_index()
        unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        _, found = index.search(np.ascontiguousarray(unit, dtype=np.float32), 10)
        return ids[found].tolist()

    def search(self, tag: str, query: np.ndarray) -> list[int]:
        """Top-10 ids of one query on the subset for ``tag`` ("", "_2" or "_50")."""
        sub, ids = self.subsets[tag]
        scores = sub @ query
        part = np.argpartition(-scores, 10)[:10]
        return ids[part[np.argsort(-scores[part])]].tolist()

    def search_batch(self, tag: str, queries: np.ndarray) -> np.ndarray:
        """Top-10 ids of each query (a 10 x len(queries) array)."""
        sub, ids = self.subsets[tag]
        scores = sub @ queries.T
        part = np.argpartition(-scores, 10, axis=0)[:10]
        best = np.take_along_axis(scores, part, axis=0)
        return ids[np.take_along_axis(part, np.argsort(-best, axis=0), axis=0)]


def batch_of(qs: np.ndarray, k: int) -> np.ndarray:
    """The k-th batch of ``SEARCH_BATCH`` queries, cycling through ``qs``."""
    start = (k * data.SEARCH_BATCH) % len(qs)
    return qs[start : start + data.SEARCH_BATCH]


def run_floor(n: int, dim: int, policy: dict[str, Any]) -> dict[str, Any]:
    """The floor's own subprocess: every search row, and its peak RSS."""
    floor = Floor(n, dim)
    qs = data.queries(dim)
    results: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for tag in floor.subsets:
        results["search" + tag] = measure(
            lambda k: floor.search(tag, qs[k % len(qs)]), policy["max_repeat"], policy["budget"]
        )
        results["search_batch" + tag] = measure(
            lambda k: floor.search_batch(tag, batch_of(qs, k)), policy["max_repeat"], policy["budget"]
        )
        answers["search" + tag] = floor.search(tag, qs[0])
    results["peak_rss"] = {"bytes": peak_rss_bytes()}
    return {"results": results, "answers": answers}


def run_faiss(n: int, dim: int, policy: dict[str, Any]) -> dict[str, Any]:
    """faiss IndexFlatIP's own subprocess: the unfiltered search rows, and its peak RSS."""
    floor = Floor(n, dim)
    qs = data.queries(dim)
    results = {
        "search": measure(
            lambda k: floor.faiss_search(qs[k % len(qs)][np.newaxis]), policy["max_repeat"], policy["budget"]
        ),
        "search_batch": measure(lambda k: floor.faiss_search(batch_of(qs, k)), policy["max_repeat"], policy["budget"]),
        "peak_rss": {"bytes": peak_rss_bytes()},
    }
    return {"results": results, "answers": {"search": floor.faiss_search(qs[:1])[0]}}


def paired_faiss_ratios(adapter: Any, floor: Floor, policy: dict[str, Any]) -> dict[str, Any]:
    """Engine ÷ faiss IndexFlatIP for the unfiltered search rows, interleaved in this process."""
    if floor.faiss_index() is None:
        return {}
    qs = data.queries(floor.subsets[""][0].shape[1])
    out: dict[str, Any] = {}
    for kind in ("search", "search_batch"):
        ours: list[float] = []
        theirs: list[float] = []
        spent = 0.0
        for k in range(policy["max_repeat"] + 1):
            batch = qs[k % len(qs)][np.newaxis] if kind == "search" else batch_of(qs, k)
            started = time.perf_counter()
            if kind == "search":
                adapter.search(batch[0], None)
            else:
                adapter.search_batch(batch, None)
            middle = time.perf_counter()
            floor.faiss_search(batch)
            ended = time.perf_counter()
            if k == 0:
                continue
            ours.append(middle - started)
            theirs.append(ended - middle)
            spent += ended - started
            if spent > policy["budget"]:
                break
        out[kind] = {
            "ratio": statistics.median(ours) / statistics.median(theirs),
            "engine_seconds": statistics.median(ours),
            "faiss_seconds": statistics.median(theirs),
            "repeats": len(ours),
        }
    return out


def paired_floor_ratios(
    adapter: Any,
    n: int,
    dim: int,
    excluded_groups: tuple[int, ...],
    policy: dict[str, Any],
    excluded_ids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Engine ÷ floor for every search row, measured in this process with the two runs interleaved.

    On a shared machine the load changes from minute to minute, and a memory-bound matrix-vector
    product feels it most: timing the floor in its own subprocess minutes apart can be off by 2x.
    Alternating engine and floor on the same queries makes the ratio robust to that drift.
    """
    floor = Floor(n, dim, excluded_groups, excluded_ids)
    qs = data.queries(dim)
    out: dict[str, Any] = {}
    for tag in floor.subsets:
        flt = None if tag == "" else adapter.filter(data.FILTER_2PCT if tag == "_2" else data.FILTER_50PCT)
        for kind in ("search", "search_batch"):
            ours: list[float] = []
            theirs: list[float] = []
            spent = 0.0
            for k in range(policy["max_repeat"] + 1):
                if kind == "search":
                    engine_call = lambda: adapter.search(qs[k % len(qs)], flt)  # noqa: E731
                    floor_call = lambda: floor.search(tag, qs[k % len(qs)])  # noqa: E731
                else:
                    engine_call = lambda: adapter.search_batch(batch_of(qs, k), flt)  # noqa: E731
                    floor_call = lambda: floor.search_batch(tag, batch_of(qs, k))  # noqa: E731
                started = time.perf_counter()
                engine_call()
                middle = time.perf_counter()
                floor_call()
                ended = time.perf_counter()
                if k == 0:
                    continue  # warm-up for both
                ours.append(middle - started)
                theirs.append(ended - middle)
                spent += ended - started
                if spent > policy["budget"]:
                    break
            out[kind + tag] = {
                "ratio": statistics.median(ours) / statistics.median(theirs),
                "engine_seconds": statistics.median(ours),
                "floor_seconds": statistics.median(theirs),
                "repeats": len(ours),
            }
    out["faiss"] = paired_faiss_ratios(adapter, floor, policy)
    return out


def run_engine(
    engine: str,
    n: int,
    dim: int,
    policy: dict[str, Any],
    cap: int | None,
    workdir: str,
    threads: int | None = None,
    paired_floor: bool = True,
) -> dict[str, Any]:
    """Every workload on one engine; returns {"results": {workload: {...}}, "answers": {...}, "notes": [...]}.

    ``cap``: for qdrant-client with path=, which commits one sqlite transaction per point, the write and
    persistence workloads run on the first ``cap`` points only and are extrapolated linearly to ``n``
    (reads are the same in-memory code as ``qdrant-client:memory`` and are not repeated).
    """
    warnings.simplefilter("ignore")  # qdrant-client warns about local collections over 20,000 points
    if engine == "numpy-floor":
        return run_floor(n, dim, policy)
    if engine == "faiss":
        return run_faiss(n, dim, policy)
    adapter = make_adapter(engine, threads)
    rss_after_import = peak_rss_bytes()
    phases: dict[str, int | None] = {"import": phase_peak_bytes()}
    on_disk = engine.endswith(":path") or engine == "qdrant-edge-py"
    writes_only = cap is not None and cap < n
    m = min(cap, n) if writes_only else n  # points actually loaded
    scale = n / m
    results: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    notes: list[str] = []
    max_repeat, budget = policy["max_repeat"], policy["budget"]

    def record(name: str, outcome: dict[str, Any], extrapolate: bool = False) -> None:
        if extrapolate and scale != 1:
            outcome = dict(outcome, seconds=outcome["seconds"] * scale, measured_points=m, extrapolated=True)
            if "cpu_seconds" in outcome:
                outcome["cpu_seconds"] *= scale
        results[name] = outcome

    def load(target: Any, batch: bool | str) -> dict[str, Any]:
        """Upsert the whole data set into ``target``; wall and CPU seconds spent inside upsert() only.

        ``batch``: False for PointStruct lists, True for Batch from numpy, "lists" for Batch from lists.
        """
        spent = spent_cpu = 0.0
        chunks = data.batches(m, dim) if batch else data.blocks(m, dim)
        prepare = {False: "prepare_points", True: "prepare_batch"}.get(batch, "prepare_batch_lists")  # type: ignore[call-overload]
        for ids, vectors, payloads in chunks:
            prepared = getattr(target, prepare)(ids, vectors, payloads)
            started, started_cpu = time.perf_counter(), time.process_time()
            target.upsert(prepared)
            spent += time.perf_counter() - started
            spent_cpu += time.process_time() - started_cpu
        return {"seconds": spent, "cpu_seconds": spent_cpu, "repeats": 1}

    main_path = os.path.join(workdir, "main") if on_disk else None
    adapter.open(main_path)
    adapter.create(dim)
    # Main collection: loaded by Batch where the engine has it (qdrant-edge-py only has point lists).
    has_batch = hasattr(adapter, "prepare_batch")
    record("upsert_batch" if has_batch else "upsert_points", load(adapter, has_batch), True)

    phases["load"] = phase_peak_bytes()
    started, started_cpu = time.perf_counter(), time.process_time()
    adapter.create_indexes()
    if not writes_only:  # on a capped subset this would not be comparable (and it is a no-op there anyway)
        results["create_index"] = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - started_cpu,
            "repeats": 1,
        }

    flt2, flt50 = adapter.filter(data.FILTER_2PCT), adapter.filter(data.FILTER_50PCT)
    qs = data.queries(dim)

    def timed(
        name: str,
        action: Callable[[int], Any],
        answer: Callable[[], Any] | None = None,
        extrapolate: bool = False,
        repeat: int = max_repeat,
    ) -> None:
        """Measure one read/write workload; a failure is recorded and the other workloads still run."""
        try:
            record(name, measure(action, repeat, budget), extrapolate)
            if answer is not None:
                answers[name] = answer()
        except Exception as error:  # an engine under development may not support a workload yet
            results[name] = {"error": f"{type(error).__name__}: {error}"[:300]}
            notes.append(f"{name} failed: {type(error).__name__}: {str(error)[:200]}")

    if not writes_only:
        step = max(1, n // 1000)
        ids = list(range(0, n, step))[:1000]
        timed("retrieve", lambda k: adapter.retrieve(ids))
        for tag, flt in (("", None), ("_2", flt2), ("_50", flt50)):
            timed("search" + tag, lambda k: adapter.search(qs[k % len(qs)], flt), lambda: adapter.search(qs[0], flt))
            timed("search_batch" + tag, lambda k: adapter.search_batch(batch_of(qs, k), flt))
        timed("count_2", lambda k: adapter.count(flt2), lambda: adapter.count(flt2))
        timed("count_50", lambda k: adapter.count(flt50), lambda: adapter.count(flt50))
        timed("scroll_full", lambda k: adapter.scroll_all(), adapter.scroll_all)
        timed("scroll_order", lambda k: adapter.scroll_ordered(), lambda: adapter.scroll_ordered()[:10])
    timed("set_payload_2", lambda k: adapter.set_payload(flt2, {"seen": k}), extrapolate=True)

    phases["reads and set_payload"] = phase_peak_bytes()
    if on_disk:
        adapter.close()
        allocated, apparent = folder_size(main_path)
        factor = scale if writes_only else 1
        results["folder"] = {
            "bytes": allocated * factor,
            "apparent_bytes": apparent * factor,
            "extrapolated": writes_only,
        }
        timings, cpu = [], []
        for _ in range(policy["reopen_repeat"]):
            started, started_cpu = time.perf_counter(), time.process_time()
            count = adapter.reopen_and_count()
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if count != m:
                notes.append(f"reopen counted {count} points, expected {m}")
            adapter.close()
        record(
            "reopen",
            {"seconds": statistics.median(timings), "cpu_seconds": statistics.median(cpu), "repeats": len(timings)},
            True,
        )
        adapter.reopen_and_count()

    # Each delete removes another 2% group (10, 11, ...), so at most a few percent of the data goes.
    deleted_groups: list[int] = []

    def delete_next_group(k: int) -> None:
        deleted_groups.append(10 + k)
        adapter.delete(adapter.filter(("group", 10 + k)))

    timed("delete_2", delete_next_group, extrapolate=True, repeat=policy["delete_repeat"] + 1)

    # Delete 1,000 ids (half of a 2% group at 100k); the floor leaves them out too. Fewer points go
    # than a compaction needs, so the peak RSS of this phase stays comparable between runs.
    deleted_ids: list[int] = []

    def delete_ids_of_next_group(k: int) -> None:
        ids = list(range(40 + k, m, 50))[:1000]
        deleted_ids.extend(ids)
        adapter.delete_ids(ids)

    if hasattr(adapter, "delete_ids"):
        timed("delete_ids", delete_ids_of_next_group, repeat=policy["delete_repeat"] + 1)
    if not writes_only:
        # Measured here, before the floor below and the PointStruct run add their own memory.
        phases["reopen and delete" if on_disk else "delete"] = phase_peak_bytes()
        # Resetting VmHWM resets ru_maxrss too, so the overall peak is the largest phase peak.
        overall = max([peak_rss_bytes()] + [peak for peak in phases.values() if peak is not None])
        results["peak_rss"] = {"bytes": overall, "after_import_bytes": rss_after_import, "phases": phases}
        if paired_floor:
            try:
                results["paired_floor"] = paired_floor_ratios(
                    adapter, n, dim, tuple(deleted_groups), policy, tuple(deleted_ids)
                )
            except Exception as error:
                notes.append(f"paired floor failed: {type(error).__name__}: {str(error)[:200]}")
    adapter.close()

    if has_batch:
        # PointStruct batches of 256 into a fresh collection (and fresh folder).
        second_path = os.path.join(workdir, "points") if on_disk else None
        adapter.open(second_path)
        adapter.create(dim)
        record("upsert_points", load(adapter, False), True)
        adapter.close()
        if second_path:
            shutil.rmtree(second_path, ignore_errors=True)
        # Batch with Python-list vectors into another fresh collection.
        third_path = os.path.join(workdir, "lists") if on_disk else None
        adapter.open(third_path)
        adapter.create(dim)
        record("upsert_batch_lists", load(adapter, "lists"), True)
        adapter.close()
        if third_path:
            shutil.rmtree(third_path, ignore_errors=True)
    if writes_only:
        notes.append(f"writes and persistence measured on {m:,} points and extrapolated linearly to {n:,}")
    return {"results": results, "answers": answers, "notes": notes}


def child_main(
    engine: str, n: int, dim: int, quick: bool, cap: int | None, workdir: str | None, threads: int | None = None
) -> dict[str, Any]:
    """Entry point of an engine subprocess: run in a fresh temp folder, always cleaned up."""
    parent = tempfile.mkdtemp(prefix="qdrant_bench_", dir=workdir)
    try:
        # The paired floor re-runs every search; qdrant-client's filtered searches take seconds each
        # and only qdrant_local has a floor target, so it runs for qdrant_local and qdrant-edge-py.
        paired = engine.startswith("qdrant_local") or engine == "qdrant-edge-py"
        return run_engine(engine, n, dim, QUICK_POLICY if quick else FULL_POLICY, cap, parent, threads, paired)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
