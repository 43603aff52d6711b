"""The graph holds 8-bit scalar-quantizer codes, not a float32 copy of the rows: its shortlist is
rescored exactly, old float32 index files are rebuilt quietly, and the reopen check compares codes."""

from __future__ import annotations

import os
import struct
import warnings
import zlib

import msgpack
import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from qdrant_local import QdrantClient, models
from qdrant_local.engine.ann import files, graph, params
from qdrant_local.engine.ann.files import index_file_name

from .helpers import DIM, EXACT, clustered, create, ids_scores, load, match, recall, settle

N = 3000
QUERIES = clustered(10, seed=5)


def _index(client: QdrantClient, name: str = "c"):
    return client._database.collections[name].vector_indexes[""]


def _reopen(folder: str) -> tuple[QdrantClient, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = QdrantClient(path=folder)
        settle(client)
    return client, [str(w.message) for w in caught if "HNSW index file" in str(w.message)]


@pytest.fixture
def folder(tmp_path):
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        create(client, "c")
        load(client, "c", clustered(N))
        settle(client)
    return path


def test_the_graph_holds_one_byte_per_dimension():
    with QdrantClient(":memory:") as client:
        create(client)
        load(client, "c", clustered(N))
        settle(client)
        (segment,) = _index(client).segments
        assert isinstance(segment.graph.index, faiss.IndexHNSWSQ)
        codes = segment.graph.codes()
        assert codes.dtype == np.uint8 and codes.shape == (N, DIM)  # a quarter of the float32 rows


@pytest.mark.parametrize("distance", ["Dot", "Euclid"])
def test_rows_of_every_scale_are_found_with_exact_scores(distance):
    """Norms growing 1x..50x with the id, more rows than one added chunk: the codes' ranges are
    trained on rows spread over the whole build (not its first chunk), and every returned score is
    the exact one."""
    n = graph.ADD_CHUNK + 4000
    rows = clustered(n) * np.linspace(1.0, 50.0, n, dtype=np.float32)[:, None]
    with QdrantClient(":memory:") as client:
        create(client, distance=distance)
        client.upsert("c", models.Batch(ids=list(range(n)), vectors=rows.tolist()))
        settle(client)
        assert client.get_collection("c").indexed_vectors_count == n
        queries = np.concatenate([clustered(10, seed=8), clustered(10, seed=9) * 40])
        assert recall(client, "c", queries) >= 0.9  # measured 1.0
        for q in queries[::4]:
            approx = client.query_points("c", q.tolist(), limit=10).points
            exact = dict(ids_scores(client.query_points("c", q.tolist(), limit=100, search_params=EXACT).points))
            for point in approx:
                assert point.score == pytest.approx(exact.get(point.id, point.score), rel=1e-12)


def test_filtered_search_returns_limit_exactly_scored_results():
    with QdrantClient(":memory:") as client:
        create(client)
        load(client, "c", clustered(6000))
        client.create_payload_index("c", "half", models.PayloadSchemaType.INTEGER)
        settle(client)
        flt = match("half", 1)
        assert recall(client, "c", QUERIES, query_filter=flt) >= 0.95  # measured 1.0
        for q in QUERIES:
            got = client.query_points("c", q.tolist(), limit=25, query_filter=flt).points
            exact = dict(ids_scores(client.query_points("c", q.tolist(), limit=200, query_filter=flt,
                                                        search_params=EXACT).points))  # fmt: skip
            assert len(got) == 25
            assert [p.score for p in got] == pytest.approx([exact.get(p.id, p.score) for p in got], rel=1e-12)


def test_a_file_in_the_new_format_is_loaded(folder):
    with open(os.path.join(folder, index_file_name("c", "")), "rb") as f:
        assert f.read(len(files.MAGIC)) == files.MAGIC
    content = files.read_index_file(os.path.join(folder, index_file_name("c", "")))
    assert content.codes == graph.CODES == "QT_8bit"
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert (client._database.ann.loads, client._database.ann.builds) == (1, 0)
        (segment,) = _index(client).segments
        assert segment.labels.n_fresh == N and isinstance(segment.graph.index, faiss.IndexHNSWSQ)


def _write_old_format(path: str, folder_client_rows: np.ndarray) -> None:
    """The previous format: magic QLHNSW01, no ``codes`` in the header, an IndexHNSWFlat graph."""
    flat = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    rows = folder_client_rows / np.linalg.norm(folder_client_rows, axis=1, keepdims=True)
    flat.add(rows)
    body = faiss.serialize_index(flat).tobytes()
    header = msgpack.packb(
        {"collection": "c", "vector": "", "dim": DIM, "distance": "Cosine", "graph_key": [16, 100],
         "tag": [0, 0], "ids": list(range(N)), "sizes": [len(body)]},
        use_bin_type=True,
    )  # fmt: skip
    data = b"QLHNSW01" + struct.pack("<I", len(header)) + header + body
    with open(path, "wb") as f:
        f.write(data + struct.pack("<I", zlib.crc32(data)))


def test_an_old_float32_file_is_rebuilt_quietly(folder):
    path = os.path.join(folder, index_file_name("c", ""))
    _write_old_format(path, clustered(N))
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert (client._database.ann.loads, client._database.ann.builds) == (0, 1)
        assert client.get_collection("c").indexed_vectors_count == N
        assert recall(client, "c", QUERIES) >= 0.95
    with open(path, "rb") as f:
        assert f.read(len(files.MAGIC)) == files.MAGIC  # rewritten in the new format
    client, warned = _reopen(folder)
    with client:
        assert not warned and client._database.ann.loads == 1


def test_a_file_of_other_codes_is_rebuilt_quietly(folder):
    path = os.path.join(folder, index_file_name("c", ""))
    content = files.read_index_file(path)
    content.codes = "QT_fp16"
    content.graphs = [bytes(g) for g in content.graphs]
    files.write_index_file(path, content)
    client, warned = _reopen(folder)
    with client:
        assert not warned
        assert (client._database.ann.loads, client._database.ann.builds) == (0, 1)


def test_a_float32_graph_in_a_new_file_is_foreign(folder):
    path = os.path.join(folder, index_file_name("c", ""))
    content = files.read_index_file(path)
    flat = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    flat.add(clustered(N))
    content.graphs = [faiss.serialize_index(flat).tobytes()]
    files.write_index_file(path, content)
    client, warned = _reopen(folder)
    with client:
        assert len(warned) == 1 and "not an HNSW index" in warned[0]
        assert client._database.ann.builds == 1


def test_the_reopen_check_compares_codes(folder):
    """Vectors changed after the file was saved: by far, or by a few code steps in one dimension,
    become stale labels on reopen (searched exactly); one changed by far less than a code step keeps
    its codes and its label, and is still returned with its exact new score."""
    rows = clustered(N)
    with QdrantClient(path=folder) as client:
        settle(client)
        storage = faiss.downcast_index(_index(client).segments[0].graph.index.storage)
        trained = faiss.vector_to_array(storage.sq.trained)  # per dimension: minimum, then range
        low, width = float(trained[0]), float(trained[DIM])
        unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        nudged = unit[:5].copy()
        upper = nudged[:, 0] > low + width / 2
        nudged[:, 0] += np.where(upper, -4, 4) * width / 255  # four code steps, towards the middle
        tiny = unit[5:8].copy()
        tiny[:, 0] = np.nextafter(tiny[:, 0], np.float32(10))  # one float32 ulp: same codes
        far = -unit[8:10]
        changed = np.concatenate([nudged, tiny, far])
        client.upsert("c", models.Batch(ids=list(range(10)), vectors=changed.tolist()))
    client, warned = _reopen(folder)
    with client:
        assert not warned and client._database.ann.loads == 1
        labels = _index(client).segments[0].labels
        assert not labels.fresh[[0, 1, 2, 3, 4, 8, 9]].any()  # caught by the codes check
        assert labels.fresh[[5, 6, 7]].all() and labels.n_fresh == N - 7
        for point_id in range(10):
            q = changed[point_id]
            top = client.query_points("c", q.tolist(), limit=1).points[0]
            exact = client.query_points("c", q.tolist(), limit=1, search_params=EXACT).points[0]
            assert (top.id, top.score) == (exact.id, exact.score) == (point_id, exact.score)


def test_graph_holds_compares_codes():
    g = graph.Graph(DIM, "Euclid", 8, 40)
    rows = clustered(500)
    g.train(rows)
    g.add(rows)
    labels = np.arange(500)
    assert g.holds(labels, rows).all()
    moved = rows.copy()
    moved[::2, 3] += 10.0
    assert (g.holds(labels, moved) == (labels % 2 == 1)).all()


def test_two_cores_build_one_graph_with_both(monkeypatch):
    monkeypatch.setattr(params.os, "cpu_count", lambda: 2)
    auto = params.hnsw_params({}, "", DIM, "Cosine")
    assert (auto.indexing_threads, auto.graph_threads) == (1, 2)
    monkeypatch.setattr(params.os, "cpu_count", lambda: 8)
    auto = params.hnsw_params({}, "", DIM, "Cosine")
    assert (auto.indexing_threads, auto.graph_threads) == (7, 1)
    fixed = params.hnsw_params({"hnsw_config": {"max_indexing_threads": 2}}, "", DIM, "Cosine")
    assert (fixed.indexing_threads, fixed.graph_threads) == (2, 1)
