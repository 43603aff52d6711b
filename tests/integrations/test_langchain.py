"""LangChain's QdrantVectorStore on qdrant-client's local mode and on qdrant_local, result by result."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain_qdrant", reason="the integrations extra is not installed")

import qdrant_client
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_qdrant import (
    QdrantVectorStore,
    RetrievalMode,
    SparseEmbeddings,
    SparseVector,
)
from qdrant_client import models

import qdrant_local

from . import fakes
from .compare import assert_same, assert_same_in_both, check_engine, engine


class FakeDense(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [fakes.dense(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return fakes.dense(text)


class FakeSparse(SparseEmbeddings):
    def embed_documents(self, texts: list[str]) -> list[SparseVector]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> SparseVector:
        indices, values = fakes.sparse(text)
        return SparseVector(indices=indices, values=values)


IDS = [f"00000000-0000-0000-0000-{i:012d}" for i in range(len(fakes.TEXTS))]
METADATAS = [{"n": i, "parity": "even" if i % 2 == 0 else "odd"} for i in range(len(fakes.TEXTS))]


def _store(mode: RetrievalMode) -> QdrantVectorStore:
    return QdrantVectorStore.from_texts(
        fakes.TEXTS,
        FakeDense(),
        metadatas=METADATAS,
        ids=IDS,
        location=":memory:",
        collection_name="lc",
        retrieval_mode=mode,
        sparse_embedding=FakeSparse(),
    )


def _searches(store: QdrantVectorStore) -> list[Any]:
    odd = models.Filter(must=[models.FieldCondition(key="metadata.parity", match=models.MatchValue(value="odd"))])
    out: list[Any] = []
    for query in fakes.QUERIES:
        out.append(store.similarity_search_with_score(query, k=4))
        out.append(store.similarity_search(query, k=3, filter=odd))
    return out


@pytest.mark.parametrize("mode", [RetrievalMode.DENSE, RetrievalMode.SPARSE, RetrievalMode.HYBRID])
def test_searches_match(mode: RetrievalMode) -> None:
    def scenario() -> list[Any]:
        store = _store(mode)
        assert isinstance(store.client, qdrant_client.QdrantClient)
        check_engine(store.client)
        out = _searches(store)
        if mode is RetrievalMode.DENSE:
            out.append(store.max_marginal_relevance_search(fakes.QUERIES[0], k=3, fetch_k=8))
        out.append(store.delete(IDS[:4]))
        out.append(store.get_by_ids(IDS[2:6]))
        out.append(store.similarity_search(fakes.QUERIES[0], k=5))
        out.append(asyncio.run(store.asimilarity_search(fakes.QUERIES[1], k=2)))
        return out

    results = assert_same_in_both(scenario)
    assert all(isinstance(doc, Document) for doc in results[1])


def test_our_client_passed_directly() -> None:
    """``QdrantVectorStore(client=qdrant_local.QdrantClient(...))`` gives local mode's answers."""

    def run(client: Any) -> list[Any]:
        client.create_collection(
            "lc", vectors_config=models.VectorParams(size=fakes.DIM, distance=models.Distance.COSINE)
        )
        store = QdrantVectorStore(client=client, collection_name="lc", embedding=FakeDense())
        store.add_texts(fakes.TEXTS, metadatas=METADATAS, ids=IDS)
        return _searches(store)

    with engine("local"):
        expected = run(qdrant_client.QdrantClient(":memory:"))
    assert_same(expected, run(qdrant_local.QdrantClient(":memory:")))
