"""Selective filters: gathered rows are reused between searches, never past a write.

A search whose filter keeps few points ranks a gathered copy of their rows; the copy is kept for
the next search with the same filter while the collection is unchanged. These tests check that a
write of any kind (new vector, deleted point, payload change moving a point out of the filter) is
seen by the very next search, and that batched searches (sharing one gather per distinct filter)
give exactly what single searches give.
"""

from __future__ import annotations

import numpy as np
import pytest

from qdrant_local import QdrantClient, models

N, DIM = 400, 8


def _setup(distance: models.Distance = models.Distance.COSINE) -> tuple[QdrantClient, np.ndarray]:
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=DIM, distance=distance))
    vectors = np.random.default_rng(5).standard_normal((N, DIM)).astype(np.float32)
    client.upsert(
        "c", models.Batch(ids=list(range(N)), vectors=vectors.tolist(), payloads=[{"g": i % 10} for i in range(N)])
    )
    return client, vectors


def _group(g: int) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])


def _search(client: QdrantClient, query: list[float], g: int) -> list[tuple[int, float]]:
    points = client.query_points("c", query, query_filter=_group(g), limit=5).points
    return [(p.id, p.score) for p in points]


def test_writes_are_seen_by_the_next_search() -> None:
    client, vectors = _setup()
    query = vectors[3].tolist()
    assert _search(client, query, 3)[0][0] == 3
    assert _search(client, query, 3)[0][0] == 3  # served from the kept rows
    client.update_vectors("c", [models.PointVectors(id=13, vector=query)])
    top = _search(client, query, 3)
    assert {top[0][0], top[1][0]} == {3, 13}
    client.delete("c", [3, 13])
    assert {p for p, _ in _search(client, query, 3)}.isdisjoint({3, 13})
    client.set_payload("c", {"g": 3}, [4])
    assert 4 in {p for p, _ in _search(client, vectors[4].tolist(), 3)}
    client.upsert("c", [models.PointStruct(id=1000, vector=query, payload={"g": 3})])
    assert _search(client, query, 3)[0][0] == 1000


def test_batched_searches_equal_single_searches() -> None:
    for distance in (models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN):
        client, _ = _setup(distance)
        queries = np.random.default_rng(9).standard_normal((12, DIM)).tolist()
        groups = [k % 3 for k in range(12)]
        requests = [models.QueryRequest(query=q, filter=_group(g), limit=5) for q, g in zip(queries, groups)]
        for _ in range(2):  # the second round reuses the gathered rows
            batched = [[(p.id, p.score) for p in r.points] for r in client.query_batch_points("c", requests)]
            assert batched == [_search(client, q, g) for q, g in zip(queries, groups)]


def test_cycling_filters_past_the_caches_match_local_mode() -> None:
    """More selective filters than the gathered-row and selection caches keep, cycled in every
    form (each form's rows are remembered by identity): always local mode's answer."""
    import qdrant_client

    n, groups = 2000, 100  # 20 points a group; the gather budget keeps about 6 groups' rows
    vectors = np.random.default_rng(11).standard_normal((n, DIM)).astype(np.float32)
    payloads = [{"g": i % groups} for i in range(n)]
    ours, theirs = QdrantClient(":memory:"), qdrant_client.QdrantClient(":memory:")
    for client, mod in ((ours, models), (theirs, qdrant_client.models)):
        client.create_collection("c", vectors_config=mod.VectorParams(size=DIM, distance=mod.Distance.COSINE))
        client.upsert("c", mod.Batch(ids=list(range(n)), vectors=vectors.tolist(), payloads=payloads))
    queries = np.random.default_rng(12).standard_normal((5, DIM)).tolist()
    forms = [
        lambda g: _group(g),
        lambda g: {"must": [{"key": "g", "match": {"value": g}}]},
        lambda g: qdrant_client.models.Filter(
            must=[qdrant_client.models.FieldCondition(key="g", match=qdrant_client.models.MatchValue(value=g))]
        ),
    ]
    for round_ in range(3):
        for g in range(0, 60, 3):
            query = queries[(g + round_) % len(queries)]
            expected = theirs.query_points("c", query, query_filter=_theirs(g), limit=5).points
            first = ours.query_points("c", query, query_filter=forms[0](g), limit=5).points
            assert [(p.id, p.payload) for p in first] == [(p.id, p.payload) for p in expected]
            np.testing.assert_allclose([p.score for p in first], [p.score for p in expected], rtol=1e-6)
            for form in forms[1:]:  # the other forms, from the caches: bit-identical
                got = ours.query_points("c", query, query_filter=form(g), limit=5).points
                assert [(p.id, p.score, p.payload) for p in got] == [(p.id, p.score, p.payload) for p in first]
        if round_ == 1:  # a write: every cache starts over
            ours.set_payload("c", {"g": 0}, points=[3, 6, 9])
            theirs.set_payload("c", {"g": 0}, points=[3, 6, 9])


def _theirs(g: int) -> object:
    import qdrant_client

    m = qdrant_client.models
    return m.Filter(must=[m.FieldCondition(key="g", match=m.MatchValue(value=g))])


def test_selection_arrays_are_read_only() -> None:
    """The cached mask and rows a search reads are shared between searches, so no caller may
    change them in place."""
    client, _ = _setup()
    collection = client._database.collection("c")
    from qdrant_local.engine.filters import compile_filter
    from qdrant_local.models.convert import to_filter

    compiled = compile_filter(to_filter(_group(3)))
    mask, rows = collection.selection(compiled, "", 100)
    again = collection.selection(compiled, "", 100)
    assert again[0] is mask and again[1] is rows
    assert rows is not None and not mask.flags.writeable and not rows.flags.writeable
    assert rows.tolist() == list(range(3, N, 10))


def test_batched_points_equal_single_points() -> None:
    """A batch whose requests select payload and vectors alike builds its result objects in one go;
    one that mixes selections builds them per request: either way each response is what a single
    query_points call returns (ids, scores, payloads, vectors), repeated points included, and no
    payload dict is shared between two results."""
    client, vectors = _setup()
    queries = np.random.default_rng(4).standard_normal((5, DIM)).tolist()
    queries.append(queries[0])  # the same hits twice in one batch
    for selections in ([(True, False)] * 6, [(True, True)] * 6, [(True, False), (False, True)] * 3):
        requests = [
            models.QueryRequest(query=q, filter=_group(k % 2), limit=4, with_payload=p, with_vector=v)
            for k, (q, (p, v)) in enumerate(zip(queries, selections))
        ]
        batched = client.query_batch_points("c", requests)
        singles = [
            client.query_points("c", q, query_filter=_group(k % 2), limit=4, with_payload=p, with_vectors=v)
            for k, (q, (p, v)) in enumerate(zip(queries, selections))
        ]
        assert [[(x.id, x.score, x.payload, x.vector) for x in r.points] for r in batched] == [
            [(x.id, x.score, x.payload, x.vector) for x in r.points] for r in singles
        ]
        payloads = [x.payload for r in batched for x in r.points if x.payload]
        assert len({id(payload) for payload in payloads}) == len(payloads)


def test_rows_read_in_chunks_match_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Filters whose rows the cache does not keep (20% of the points, past its budget) are gathered a
    chunk at a time, and a batch sharing a dense filter (50%) is scored on its rows in chunks (with a
    BLAS of at most two threads): local mode's points and scores (to float rounding, as everywhere),
    batched answers bit-identical to single ones, in every distance."""
    import qdrant_client

    from qdrant_local.query import scoring

    monkeypatch.setattr(scoring, "blas_threads", lambda: 1)
    n = 3 * scoring.GATHER_CHUNK_ROWS + 11
    vectors = np.random.default_rng(21).standard_normal((n, DIM)).astype(np.float32)
    payloads = [{"g": i % 5, "half": i % 2} for i in range(n)]
    queries = np.random.default_rng(22).standard_normal((6, DIM)).tolist()
    for distance in ("Cosine", "Dot", "Euclid", "Manhattan"):
        ours, theirs = QdrantClient(":memory:"), qdrant_client.QdrantClient(":memory:")
        for client, mod in ((ours, models), (theirs, qdrant_client.models)):
            client.create_collection("c", vectors_config=mod.VectorParams(size=DIM, distance=distance))
            client.upsert("c", mod.Batch(ids=list(range(n)), vectors=vectors.tolist(), payloads=payloads))
        for key, value in (("g", 2), ("half", 1)):
            answers = []
            for client, mod in ((ours, models), (theirs, qdrant_client.models)):
                flt = mod.Filter(must=[mod.FieldCondition(key=key, match=mod.MatchValue(value=value))])
                requests = [mod.QueryRequest(query=q, filter=flt, limit=7) for q in queries]
                batched = [[(p.id, p.score) for p in r.points] for r in client.query_batch_points("c", requests)]
                single = [
                    [(p.id, p.score) for p in client.query_points("c", q, query_filter=flt, limit=7).points]
                    for q in queries
                ]
                answers.append((batched, single))
            (ours_batched, ours_single), (_, theirs_single) = answers
            assert ours_batched == ours_single, (distance, key)  # bit-identical
            assert [[i for i, _ in r] for r in ours_single] == [[i for i, _ in r] for r in theirs_single]
            np.testing.assert_allclose(
                [s for r in ours_single for _, s in r], [s for r in theirs_single for _, s in r], rtol=1e-6
            )
