"""Text (BM25) queries against qdrant-client's local mode: random documents, queries and filters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client import models as qm

from qdrant_local import models as lm

from .oracle import assert_same_points, make_clients

WORDS = ["fox", "dog", "Cat", "quick", "lazy", "the", "a", "jumps", "über", "x_y"]
documents = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.lists(st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join), max_size=3),
    st.integers(),
    st.none(),
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    docs=st.lists(documents, min_size=1, max_size=25),
    query=st.lists(st.sampled_from(WORDS + ["missing"]), min_size=1, max_size=3).map(" ".join),
    bm25=st.none() | st.tuples(st.floats(0, 3), st.floats(0, 1)),
    group=st.none() | st.integers(0, 2),
    limit=st.integers(1, 10),
    offset=st.integers(0, 3),
    threshold=st.none() | st.floats(0, 2),
)
def test_text_query_matches_oracle(docs, query, bm25, group, limit, offset, threshold) -> None:
    oracle, subject = make_clients()
    try:
        results = []
        for client, m in ((oracle, qm), (subject, lm)):
            client.create_collection("t", vectors_config=m.VectorParams(size=2, distance=m.Distance.DOT))
            client.upsert(
                "t",
                [m.PointStruct(id=i, vector=[1.0, 0.5], payload={"txt": d, "g": i % 3}) for i, d in enumerate(docs)],
            )
            client.create_payload_index("t", "txt", m.TextIndexParams(type="text", scoring=True))
            if bm25 is None:
                text = m.TextQuery(text=query)
            elif m is qm:
                text = qm.TextQuery(
                    text=qm.TextQueryInput(
                        query=query, scoring=qm.TextQueryScoring(bm25=qm.Bm25Params(k=bm25[0], b=bm25[1]))
                    )
                )
            else:
                text = {"text": {"query": query, "scoring": {"bm25": {"k": bm25[0], "b": bm25[1]}}}}
            query_filter = (
                None if group is None else m.Filter(must=[m.FieldCondition(key="g", match=m.MatchValue(value=group))])
            )
            results.append(
                client.query_points(
                    "t",
                    text,
                    using="txt",
                    query_filter=query_filter,
                    limit=limit,
                    offset=offset,
                    score_threshold=threshold,
                ).points
            )
        assert_same_points(results[0], results[1], limit=limit, offset=offset)
    finally:
        oracle.close()
        subject.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "A text query needs `using` to name the payload field to search"),
        ({"using": "g"}, "A text query needs a text index with `scoring` on `g`"),
    ],
)
def test_text_query_errors(kwargs, message) -> None:
    oracle, subject = make_clients()
    try:
        for client, m in ((oracle, qm), (subject, lm)):
            client.create_collection("t", vectors_config=m.VectorParams(size=2, distance=m.Distance.DOT))
            with pytest.raises(ValueError, match=message.replace("`", ".")):
                client.query_points("t", m.TextQuery(text="dog"), **kwargs)
    finally:
        oracle.close()
        subject.close()
