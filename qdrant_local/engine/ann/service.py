"""AnnService: keeps every collection's vector indexes in step with its configuration and data.

The database calls :meth:`attach` when a collection appears or is reconfigured, :meth:`after_write`
after each write, :meth:`detach` when a collection goes away, :meth:`opened` once a folder has been
replayed and :meth:`close` before it closes. Builds and index-file loads run one at a time in a
background thread; the thread takes the database lock only to copy a chunk of rows or to swap a
finished segment in, so reads and writes go on meanwhile. ``close`` cancels a running build between
two chunks and waits for the thread.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..vectors import DenseVectors
from . import files
from .graph import ADD_CHUNK, CODES, Graph
from .params import hnsw_params
from .segments import Build, LabelMap, Segment, VectorIndex

# Labels of a loaded index file compared with today's rows per step (under the lock).
VERIFY_CHUNK = 16_384

# A read-only follower looks for a new index file of its writer at most this often (seconds).
FILE_CHECK_INTERVAL = 0.5


def _slots_of(store: Any, point_ids: list[Any]) -> np.ndarray:
    """The slot of each point id (-1 for None or an id the collection no longer holds)."""
    slots = np.full(len(point_ids), -1, dtype=np.int64)
    known = [i for i, p in enumerate(point_ids) if p is not None]
    if known:
        slots[known] = store.lookup([point_ids[i] for i in known])
    return slots


class _Stopped(Exception):
    """The service is closing: the background job gives up."""


class AnnService:
    """Vector indexes of all collections of one database, and their background worker."""

    def __init__(self, lock: Any, storage: Any = None) -> None:
        self.lock = lock
        self.storage = storage
        # Index files live in the folder: a writer writes and removes them; a read-only follower
        # (storage/follower.py) only reads its writer's, and builds in memory when none matches.
        self.folder: str | None = os.path.abspath(storage.path) if storage is not None else None
        self.follower = bool(getattr(storage, "read_only", False))
        self.writes_files = self.folder is not None and not self.follower
        self.builds = 0  # graphs built and installed (for tests and benchmarks)
        self.loads = 0  # index files loaded and installed
        self._next_file_check = 0.0
        self._jobs: deque[Callable[[], None]] = deque()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- following collections (called under the database lock) ----------------------------------

    def attach(self, collection: Any) -> None:
        """Create, update or drop the indexes of ``collection`` after its configuration."""
        indexes: dict[str, VectorIndex] = collection.vector_indexes
        for name, vectors in collection.store.vectors.items():
            if not isinstance(vectors, DenseVectors):
                continue
            params = hnsw_params(collection.config.raw, name, vectors.dim, vectors.distance)
            index = indexes.get(name)
            if index is not None and (index.vectors is not vectors or not params.enabled):
                index.detach()
                del indexes[name]
                index = None
            if index is None:
                if params.enabled:
                    indexes[name] = VectorIndex(vectors, params)
                continue
            if params.graph_key != index.params.graph_key:  # m or ef_construct changed: rebuild
                if index.building is not None:
                    index.building.cancelled = True
                    index.building = None
                index.drop_segments()
            index.params = params
        for name in [n for n in indexes if not isinstance(collection.store.vectors.get(n), DenseVectors)]:
            indexes.pop(name).detach()

    def detach(self, collection: Any, remove_files: bool = True) -> None:
        for name, index in collection.vector_indexes.items():
            index.detach()
            if remove_files:
                self._remove_file(collection.name, name)
        collection.vector_indexes.clear()

    def after_write(self, collection: Any) -> None:
        """Start the builds the collection's state calls for (a follower first loads a new index
        file of its writer's)."""
        for name, index in collection.vector_indexes.items():
            if self.follower and self._load_new_file(collection, name, index):
                continue
            build = index.plan_build()
            if build is not None:
                self._submit(functools.partial(self._run_build, collection, name, index, build))

    def opened(self, collections: dict[str, Any]) -> None:
        """After replay: load matching index files in the background, build the rest."""
        wanted = set()
        for collection in collections.values():
            for name, index in collection.vector_indexes.items():
                file_name = files.index_file_name(collection.name, name)
                wanted.add(file_name)
                if self.folder is not None and os.path.exists(os.path.join(self.folder, file_name)):
                    index.file_stamp = self._file_stamp(collection.name, name)
                    self._start_load(collection, name, index)
            self.after_write(collection)
        self._remove_unwanted_files(wanted)

    # -- a follower's view of its writer's index files --------------------------------------------

    def files_changed(self, collections: dict[str, Any]) -> list[Any]:
        """The collections (of a follower) whose writer saved a new index file since they last looked;
        checked at most every FILE_CHECK_INTERVAL seconds (one stat per index). Call without the lock,
        then :meth:`after_write` each under it."""
        now = time.monotonic()
        if not self.follower or now < self._next_file_check:
            return []
        self._next_file_check = now + FILE_CHECK_INTERVAL
        return [
            collection
            for collection in list(collections.values())
            if any(
                index.file_stamp != self._file_stamp(collection.name, name)
                for name, index in list(collection.vector_indexes.items())
            )
        ]

    def _load_new_file(self, collection: Any, name: str, index: VectorIndex) -> bool:
        """A follower loads its writer's index file when one appeared or was replaced since it last
        looked (cancelling its own build of the same rows); True when it did or is loading one."""
        if index.loading:
            return True
        stamp = self._file_stamp(collection.name, name)
        if stamp == index.file_stamp:
            return False
        index.file_stamp = stamp
        if stamp is None:  # the writer removed it: what is loaded stays, as a build would
            return False
        if index.building is not None:
            index.building.cancelled = True
            index.building = None
        self._start_load(collection, name, index)
        return True

    def _file_stamp(self, collection_name: str, vector_name: str) -> tuple[int, int, int] | None:
        """(inode, size, mtime) of the vector's index file, or None when there is none."""
        if self.folder is None:
            return None
        try:
            info = os.stat(os.path.join(self.folder, files.index_file_name(collection_name, vector_name)))
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _start_load(self, collection: Any, name: str, index: VectorIndex) -> None:
        index.loading = True
        index.touched = np.zeros(len(index.vectors.present), dtype=bool)
        self._submit(functools.partial(self._run_load, collection, name, index))

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self, timeout: float | None = None) -> None:
        """Cancel what is queued or running and wait for the worker (call without the lock), at most
        ``timeout`` seconds when given."""
        with self._wakeup:
            self._stopping = True
            self._jobs.clear()
            self._wakeup.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (for tests and benchmarks); False on timeout."""
        with self._wakeup:
            return self._wakeup.wait_for(lambda: not self._jobs and not self._busy, timeout)

    _busy = False

    def _submit(self, job: Callable[[], None]) -> None:
        with self._wakeup:
            if self._stopping:
                return
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="qdrant_local-hnsw", daemon=True)
                self._thread.start()
            self._wakeup.notify_all()

    def _work(self) -> None:
        while True:
            with self._wakeup:
                self._busy = False
                self._wakeup.notify_all()
                self._wakeup.wait_for(lambda: self._jobs or self._stopping)
                if self._stopping:
                    return
                job = self._jobs.popleft()
                self._busy = True
            try:
                job()
            except _Stopped:
                return

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The database lock, unless the service is closing (close() may be waiting while holding it)."""
        while not self.lock.acquire(timeout=0.05):
            if self._stopping:
                raise _Stopped
        try:
            if self._stopping:
                raise _Stopped
            yield
        finally:
            self.lock.release()

    # -- builds ----------------------------------------------------------------------------------

    def _run_build(self, collection: Any, name: str, index: VectorIndex, build: Build) -> None:
        try:
            self._add_rows(build)
            with self._locked():
                if not index.install(build):
                    return
                self.builds += 1
                saved = self._file_content(collection, name, index) if build.merge else None
                self.after_write(collection)  # the unindexed part may have grown meanwhile
        except _Stopped:
            raise
        except (RuntimeError, MemoryError, ValueError, OSError) as exc:  # exact search stays in place
            warnings.warn(
                f"qdrant_local: building the HNSW index of {collection.name!r}/{name!r} failed: {exc}", stacklevel=2
            )
            with self._locked():
                if index.building is build:
                    index.building = None
                index.params = type(index.params)(**{**index.params.__dict__, "indexing_vectors": None})
            return
        if saved is not None:
            content, graphs = saved
            path = os.path.join(self.folder, files.index_file_name(collection.name, name))  # type: ignore[arg-type]
            content.graphs = [graph.serialized() for graph in graphs]  # outside the lock: built graphs never change
            try:
                files.write_index_file(path, content, cancelled=lambda: self._stopping)
            except OSError as exc:
                warnings.warn(f"qdrant_local: could not write the HNSW index file {path}: {exc}", stacklevel=2)

    def _add_rows(self, build: Build) -> None:
        """Add every row to the build's graphs, each graph in its own thread (one core each: faiss
        releases the GIL, so they run side by side, and readers and writers go on)."""
        errors: list[BaseException] = []

        def add(part: int) -> None:
            try:
                Graph.use_threads(build.params.graph_threads)
                graph = build.graphs[part]
                if not graph.trained:
                    with self._locked():
                        if build.cancelled:
                            return
                        sample = build.sample_rows(part)
                    graph.train(sample)
                while True:
                    with self._locked():
                        if build.cancelled:
                            return
                        rows = build.next_rows(part, ADD_CHUNK)
                    if rows is None:
                        return
                    build.graphs[part].add(rows)
            except BaseException as exc:  # noqa: BLE001 - handed to the worker thread below
                errors.append(exc)

        helpers = [threading.Thread(target=add, args=(part,), daemon=True) for part in range(1, len(build.graphs))]
        for thread in helpers:
            thread.start()
        add(0)
        for thread in helpers:
            thread.join()
        if errors:
            raise errors[0]

    def _file_content(
        self, collection: Any, name: str, index: VectorIndex
    ) -> tuple[files.IndexFile, list[Graph]] | None:
        """What to persist of a just-merged index (under the lock): the file's header and the graphs
        to serialise into it; None in memory."""
        if not self.writes_files or not index.segments:
            return None
        label_ids: list[Any] = []
        for segment in index.segments:
            labels = segment.labels
            ids: list[Any] = [None] * len(labels)
            fresh = np.flatnonzero(labels.fresh)
            for label, point_id in zip(fresh.tolist(), collection.store.ids_of(labels.label_slot[fresh])):
                ids[label] = point_id
            label_ids.extend(ids)
        vectors = index.vectors
        header = files.IndexFile(
            collection.name,
            name,
            vectors.dim,
            vectors.distance,
            index.params.graph_key,
            CODES,
            (self.storage.generation, self.storage.log_bytes),
            label_ids,
            [],
        )
        return header, [segment.graph for segment in index.segments]

    # -- index files -----------------------------------------------------------------------------

    def _run_load(self, collection: Any, name: str, index: VectorIndex) -> None:
        path = os.path.join(self.folder, files.index_file_name(collection.name, name))  # type: ignore[arg-type]
        with self._locked():
            if index not in collection.vector_indexes.values():
                return  # the collection or vector went away before its turn
        parts = self._read_file(path, collection, name, index)
        verified = []
        for graph, label_ids in parts:
            checked = self._verify(collection, index, graph, label_ids)
            if checked is None:
                return  # the index went away
            verified.append(checked)
        with self._locked():
            if index not in collection.vector_indexes.values():
                return
            segments = [
                self._segment_from_ids(collection, index, graph, label_ids, fresh)
                for (graph, label_ids), fresh in zip(parts, verified)
            ]
            index.loading = False
            index.touched = None
            if segments:
                index.add_segments(segments, replace=True)
                self.loads += 1
            self.after_write(collection)

    def _read_file(self, path: str, collection: Any, name: str, index: VectorIndex) -> list[tuple[Graph, list[Any]]]:
        """The graphs of the vector's index file and the point id of each of their labels; none when
        the file is missing, was built with other settings or codes or in an earlier format (rebuilt
        quietly), or is damaged or foreign (with a warning)."""
        try:
            content = files.read_index_file(path)
            vectors = index.vectors
            expected = (collection.name, name, vectors.dim, vectors.distance)
            if (content.collection, content.vector_name, content.dim, content.distance) != expected:
                raise ValueError("it belongs to another collection or vector")
            if content.graph_key != index.params.graph_key or content.codes != CODES:
                return []
            if not all(p is None or type(p) in (int, str) for p in content.label_ids):
                raise ValueError("it holds point ids of another kind")
            parts, start = [], 0
            for data in content.graphs:
                graph = Graph.from_bytes(data, vectors.dim, vectors.distance)
                parts.append((graph, content.label_ids[start : start + len(graph)]))
                start += len(graph)
            if start != len(content.label_ids):
                raise ValueError("its graphs and labels disagree")
            return parts
        except (FileNotFoundError, files.OldFormat):
            return []
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            warnings.warn(f"qdrant_local: ignoring the HNSW index file {path} ({exc}); rebuilding it", stacklevel=1)
            return []

    def _verify(self, collection: Any, index: VectorIndex, graph: Graph, label_ids: list[Any]) -> np.ndarray | None:
        """Which labels still hold their point's vector (bool by label), or None if the index went away.

        The file may be older than the folder (writes after it was saved): each label's codes in the
        graph are compared with the codes of its point's row today, a chunk at a time under the lock.
        A point deleted or given another vector since is stale; one written after its chunk was
        compared is caught by ``index.touched``. So the file is used whatever writes followed it, and
        a stale row can never be returned. (A vector changed by less than one code step keeps its
        codes: the graph holds what a new build would hold for it, and its score is exact anyway.)
        """
        verified = np.zeros(len(label_ids), dtype=bool)
        for start in range(0, len(label_ids), VERIFY_CHUNK):
            with self._locked():
                if index not in collection.vector_indexes.values():
                    return None
                ids = label_ids[start : start + VERIFY_CHUNK]
                slots = _slots_of(collection.store, ids)
                vectors = index.vectors
                held = slots >= 0
                held[held] = slots[held] < len(vectors.present)
                held[held] = vectors.present[slots[held]]
                same = np.zeros(len(ids), dtype=bool)
                rows = np.flatnonzero(held)
                same[rows] = graph.holds(start + rows, vectors.matrix[slots[rows]])
                verified[start : start + len(ids)] = same
        return verified

    @staticmethod
    def _segment_from_ids(
        collection: Any, index: VectorIndex, graph: Graph, label_ids: list[Any], verified: np.ndarray
    ) -> Segment:
        """Map the file's point ids to today's slots; ids missing, changed or written since are stale."""
        slots = _slots_of(collection.store, label_ids)
        fresh = verified & (slots >= 0)
        touched = index.touched
        present = index.vectors.present
        fresh[fresh] = slots[fresh] < len(present)
        fresh[fresh] = present[slots[fresh]]
        if touched is not None:
            inside = fresh & (slots < len(touched))
            fresh[inside] &= ~touched[slots[inside]]
        slots[~fresh] = 0
        return Segment(graph, LabelMap(slots, len(present), fresh=fresh))

    def _remove_file(self, collection_name: str, vector_name: str) -> None:
        if self.folder is None or not self.writes_files:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(self.folder, files.index_file_name(collection_name, vector_name)))

    def _remove_unwanted_files(self, wanted: set[str]) -> None:
        if self.folder is None or not self.writes_files:
            return
        for entry in os.listdir(self.folder):
            if entry.startswith("ann-") and (entry.endswith(".tmp") or entry not in wanted):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(self.folder, entry))
