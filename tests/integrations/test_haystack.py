"""Haystack's QdrantDocumentStore (dense, sparse, hybrid, group_by, async) on local mode and on qdrant_local.

Haystack builds ``qdrant_client.QdrantClient`` itself (with ``metadata=`` among the keyword arguments), so
qdrant_local runs under it in installed mode only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("haystack_integrations.document_stores.qdrant", reason="the integrations extra is not installed")

from haystack import Document
from haystack.dataclasses import SparseEmbedding
from haystack_integrations.components.retrievers.qdrant import (
    QdrantEmbeddingRetriever,
    QdrantHybridRetriever,
    QdrantSparseEmbeddingRetriever,
)
from haystack_integrations.document_stores.qdrant import QdrantDocumentStore

from . import fakes
from .compare import assert_same_in_both, check_engine

ODD = {"field": "meta.parity", "operator": "==", "value": "odd"}


def _documents() -> list[Document]:
    return [
        Document(
            content=text,
            embedding=fakes.dense(text),
            sparse_embedding=SparseEmbedding(*fakes.sparse(text)),
            meta={"n": i, "parity": "even" if i % 2 == 0 else "odd", "group": f"g{i % 3}"},
        )
        for i, text in enumerate(fakes.TEXTS)
    ]


def _store() -> QdrantDocumentStore:
    return QdrantDocumentStore(
        location=":memory:",
        embedding_dim=fakes.DIM,
        use_sparse_embeddings=True,
        recreate_index=True,
        return_embedding=True,
        progress_bar=False,
        metadata={"owner": "tests"},
    )


def _runs(store: QdrantDocumentStore) -> list[tuple[Any, dict[str, Any]]]:
    """(retriever, run arguments) pairs covering every search kind, with filters and grouping."""
    dense = QdrantEmbeddingRetriever(document_store=store, top_k=4)
    sparse = QdrantSparseEmbeddingRetriever(document_store=store, top_k=4)
    hybrid = QdrantHybridRetriever(document_store=store, top_k=4)
    runs: list[tuple[Any, dict[str, Any]]] = []
    for text in fakes.QUERIES:
        embedding, sparse_embedding = fakes.dense(text), SparseEmbedding(*fakes.sparse(text))
        runs += [
            (dense, {"query_embedding": embedding}),
            (dense, {"query_embedding": embedding, "filters": ODD}),
            (dense, {"query_embedding": embedding, "group_by": "group", "group_size": 2, "top_k": 2}),
            (sparse, {"query_sparse_embedding": sparse_embedding}),
            (sparse, {"query_sparse_embedding": sparse_embedding, "filters": ODD}),
            (hybrid, {"query_embedding": embedding, "query_sparse_embedding": sparse_embedding}),
            (
                hybrid,
                {
                    "query_embedding": embedding,
                    "query_sparse_embedding": sparse_embedding,
                    "group_by": "group",
                    "group_size": 2,
                },
            ),
        ]
    return runs


def test_document_store_matches() -> None:
    def scenario() -> list[Any]:
        store = _store()
        store.write_documents(_documents())
        check_engine(store._client)
        out: list[Any] = [store.count_documents(), store.filter_documents(ODD)]
        out += [retriever.run(**kwargs)["documents"] for retriever, kwargs in _runs(store)]
        store.delete_documents([doc.id for doc in _documents()[:3]])
        out += [store.count_documents(), store.count_documents_by_filter(ODD)]
        out.append(store.get_metadata_field_min_max("n"))
        store.close()
        return out

    results = assert_same_in_both(scenario)
    assert results[0] == len(fakes.TEXTS) and any(results[2:])


def test_document_store_async_matches() -> None:
    async def run() -> list[Any]:
        store = _store()
        await store.write_documents_async(_documents())
        check_engine(store._async_client)
        out: list[Any] = [await store.count_documents_async(), await store.filter_documents_async(ODD)]
        out += [(await retriever.run_async(**kwargs))["documents"] for retriever, kwargs in _runs(store)]
        await store.delete_documents_async([doc.id for doc in _documents()[:3]])
        out.append(await store.count_documents_async())
        await store.close_async()
        return out

    assert_same_in_both(lambda: asyncio.run(run()))
