"""create_vector_name / delete_vector_name (issue 8 item 14) and ``vector=[]`` without dense vectors (item 13).

Named vectors added to and removed from existing collections behave as in qdrant-client's local mode
(results, get_collection, errors and their messages, compared call by call), and survive a reopen
and a compaction of a ``path=`` store. An empty vector in a collection without dense vectors is
accepted as "no vectors", as the server accepts it (a deviation from local mode, which rejects it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qdrant_local import QdrantClient, models

from .compare import Pair, Side, subject_side
from .specs import Call, Enum

DOT = Enum("Distance", "DOT")


def dense(size: int, distance: Enum = DOT, **extra: object) -> Call:
    return Call("DenseVectorNameConfig", dense=Call("DenseVectorConfig", size=size, distance=distance, **extra))


def sparse(**extra: object) -> Call:
    return Call("SparseVectorNameConfig", sparse=Call("SparseVectorConfig", **extra))


@pytest.fixture
def pair() -> Pair:
    with Pair(subject_side()) as p:
        yield p


def everything(pair: Pair, name: str) -> None:
    pair.check("get_collection", name)
    pair.check("retrieve", name, [1, 2, 3], with_vectors=True)


def test_adding_named_vectors_to_a_named_collection(pair: Pair) -> None:
    pair.check("create_collection", "c", vectors_config={"a": Call("VectorParams", size=2, distance=DOT)})
    pair.check("upsert", "c", [Call("PointStruct", id=1, vector={"a": [1.0, 2.0]}, payload={"k": 1})])
    pair.check("create_vector_name", "c", "x", dense(3, Enum("Distance", "COSINE")))
    pair.check("create_vector_name", "c", "s", sparse(modifier=Enum("Modifier", "IDF")))
    pair.check(
        "create_vector_name",
        "c",
        "m",
        dense(2, multivector_config=Call("MultiVectorConfig", comparator=Enum("MultiVectorComparator", "MAX_SIM"))),
    )
    everything(pair, "c")
    pair.check(
        "upsert",
        "c",
        [
            Call(
                "PointStruct",
                id=2,
                vector={
                    "a": [0.5, 1.0],
                    "x": [1.0, 0.0, 1.0],
                    "s": Call("SparseVector", indices=[3, 1], values=[1.0, 2.0]),
                    "m": [[1.0, 2.0], [3.0, 4.0]],
                },
            )
        ],
    )
    pair.check("update_vectors", "c", [Call("PointVectors", id=1, vector={"x": [0.0, 1.0, 0.0]})])
    everything(pair, "c")
    pair.check("query_points", "c", query=[1.0, 1.0, 0.0], using="x", with_vectors=True)
    pair.check("query_points", "c", query=Call("SparseVector", indices=[1], values=[1.0]), using="s")
    pair.check("query_points", "c", query=[[1.0, 1.0]], using="m")
    pair.check("count", "c", count_filter=Call("Filter", must=[Call("HasVectorCondition", has_vector="x")]))


def test_errors_and_no_ops_of_create_vector_name(pair: Pair) -> None:
    pair.check(
        "create_collection",
        "c",
        vectors_config={"a": Call("VectorParams", size=2, distance=DOT)},
        sparse_vectors_config={"sp": Call("SparseVectorParams")},
    )
    pair.check("create_vector_name", "missing", "x", dense(2))
    pair.check("create_vector_name", "c", "a", dense(2))  # identical: a no-op
    pair.check("create_vector_name", "c", "a", dense(3))  # different size
    pair.check("create_vector_name", "c", "a", dense(2, Enum("Distance", "COSINE")))
    pair.check("create_vector_name", "c", "a", sparse())
    pair.check("create_vector_name", "c", "sp", dense(2))
    pair.check("create_vector_name", "c", "sp", sparse())  # identical: a no-op
    pair.check("create_vector_name", "c", "sp", sparse(modifier=Enum("Modifier", "IDF")))
    pair.check("create_vector_name", "c", "big", dense(65537))
    pair.check("create_vector_name", "c", "bad/name", dense(2))
    pair.check("create_vector_name", "c", "x" * 201, dense(2))
    pair.check("create_vector_name", "c", "..", sparse())
    everything(pair, "c")


def test_deleting_named_vectors(pair: Pair) -> None:
    pair.check(
        "create_collection",
        "c",
        vectors_config={
            "a": Call("VectorParams", size=2, distance=DOT),
            "b": Call("VectorParams", size=2, distance=DOT),
        },
        sparse_vectors_config={"sp": Call("SparseVectorParams")},
    )
    pair.check(
        "upsert",
        "c",
        [
            Call(
                "PointStruct",
                id=i,
                vector={"a": [1.0, i], "b": [i, 1.0], "sp": Call("SparseVector", indices=[i], values=[1.0])},
            )
            for i in (1, 2, 3)
        ],
    )
    pair.check("delete_vector_name", "c", "b")
    pair.check("delete_vector_name", "c", "b")  # gone already: a no-op
    pair.check("delete_vector_name", "c", "never")
    pair.check("delete_vector_name", "missing", "a")
    everything(pair, "c")
    pair.check("delete_vector_name", "c", "sp")
    pair.check("delete_vector_name", "c", "a")
    everything(pair, "c")
    pair.check("upsert", "c", [Call("PointStruct", id=4, vector={})])
    pair.check("upsert", "c", [Call("PointStruct", id=5, vector={"b": [1.0, 1.0]})])  # no such vector any more
    pair.check("create_vector_name", "c", "b", dense(3))  # back, with another size
    pair.check("upsert", "c", [Call("PointStruct", id=5, vector={"b": [1.0, 1.0, 1.0]})])
    pair.check("retrieve", "c", [1, 4, 5], with_vectors=True)


def test_the_unnamed_vector(pair: Pair) -> None:
    pair.check("create_collection", "c", vectors_config=Call("VectorParams", size=2, distance=DOT))
    pair.check("upsert", "c", [Call("PointStruct", id=1, vector=[1.0, 2.0])])
    pair.check("delete_vector_name", "c", "")  # the only dense vector: refused
    pair.check("create_vector_name", "c", "x", dense(2))
    everything(pair, "c")
    pair.check("upsert", "c", [Call("PointStruct", id=2, vector={"": [3.0, 4.0], "x": [1.0, 1.0]})])
    pair.check("upsert", "c", [Call("PointStruct", id=3, vector=[3.0, 4.0])])
    everything(pair, "c")
    pair.check("delete_vector_name", "c", "")
    everything(pair, "c")


def test_an_empty_collection_gains_its_first_vectors(pair: Pair) -> None:
    pair.check("create_collection", "c", vectors_config={})
    pair.check("upsert", "c", [Call("PointStruct", id=1, vector={}, payload={"a": 1})])
    pair.check("create_vector_name", "c", "x", dense(2))
    pair.check("upsert", "c", [Call("PointStruct", id=2, vector={"x": [1.0, 2.0]})])
    everything(pair, "c")
    pair.check("query_points", "c", query=[1.0, 0.0], using="x")


def test_vector_names_survive_reopen_and_compaction(tmp_path: Path) -> None:
    path = str(tmp_path / "db")

    def build(client: QdrantClient) -> None:
        client.create_collection("c", vectors_config={"a": models.VectorParams(size=2, distance="Dot")})
        client.upsert("c", [models.PointStruct(id=1, vector={"a": [1.0, 2.0]})])
        client.create_vector_name(
            "c", "x", models.DenseVectorNameConfig(dense=models.DenseVectorConfig(size=3, distance="Cosine"))
        )
        client.create_vector_name("c", "s", {"sparse": {"modifier": "idf"}})
        client.upsert(
            "c",
            [
                models.PointStruct(
                    id=2, vector={"x": [1.0, 0.0, 1.0], "s": models.SparseVector(indices=[1], values=[2.0])}
                )
            ],
        )
        client.delete_vector_name("c", "a")
        client.create_vector_name(
            "c", "a", models.DenseVectorNameConfig(dense=models.DenseVectorConfig(size=4, distance="Euclid"))
        )
        client.upsert("c", [models.PointStruct(id=3, vector={"a": [1.0, 1.0, 1.0, 1.0]})])

    def state(client: QdrantClient) -> object:
        info = client.get_collection("c")
        records = client.retrieve("c", [1, 2, 3], with_vectors=True)
        return info.config.params.model_dump(), [(r.id, r.vector) for r in records]

    memory = QdrantClient(":memory:")
    build(memory)
    expected = state(memory)
    with QdrantClient(path=path) as client:
        build(client)
        assert state(client) == expected
    with QdrantClient(path=path) as client:
        assert state(client) == expected
        client.compact()
    with QdrantClient(path=path) as client:
        assert state(client) == expected


# ----------------------------------------------------------------------- item 13: vector=[] without dense


@pytest.mark.parametrize("sparse_too", [False, True])
def test_an_empty_vector_means_no_vectors_without_dense_vectors(sparse_too: bool) -> None:
    """# Deviation: local mode rejects ``vector=[]`` here; the server accepts it as "no vectors"."""
    subject: Side = subject_side()
    if subject.name != "qdrant_local":
        pytest.skip("a deviation from local mode")
    client = QdrantClient(":memory:")
    client.create_collection(
        "e", vectors_config={}, sparse_vectors_config={"sp": models.SparseVectorParams()} if sparse_too else None
    )
    client.upsert("e", [models.PointStruct(id=1, vector=[], payload={"a": 1}), {"id": 2, "vector": []}])
    client.upsert("e", models.Batch(ids=[3, 4], vectors=[[], []]))
    assert [(r.id, r.vector) for r in client.retrieve("e", [1, 2, 3, 4], with_vectors=True)] == [
        (i, {}) for i in (1, 2, 3, 4)
    ]
    with pytest.raises(
        ValueError, match="Not existing vector name"
    ):  # a non-empty unnamed vector still has nowhere to go
        client.upsert("e", [models.PointStruct(id=5, vector=[1.0])])
    client.create_collection("d", vectors_config=models.VectorParams(size=2, distance="Dot"))
    with pytest.raises(ValueError, match="must not be empty"):  # with a dense vector, [] stays an error
        client.upsert("d", [models.PointStruct(id=1, vector=[])])
    assert client.count("d").count == 0
