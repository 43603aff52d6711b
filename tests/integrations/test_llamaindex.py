"""LlamaIndex's QdrantVectorStore (sync and async) on qdrant-client's local mode and on qdrant_local."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("llama_index.vector_stores.qdrant", reason="the integrations extra is not installed")

import qdrant_client
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.vector_stores.qdrant import QdrantVectorStore

import qdrant_local

from . import fakes
from .compare import assert_same, assert_same_in_both, check_engine, engine


def _nodes() -> list[TextNode]:
    return [
        TextNode(
            id_=f"00000000-0000-0000-0000-{i:012d}",
            text=text,
            embedding=fakes.dense(text),
            metadata={"n": i, "parity": "even" if i % 2 == 0 else "odd"},
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"doc{i % 3}")},
        )
        for i, text in enumerate(fakes.TEXTS)
    ]


def _sparse_encoder(texts: list[str]) -> tuple[list[list[int]], list[list[float]]]:
    pairs = [fakes.sparse(text) for text in texts]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _queries() -> list[VectorStoreQuery]:
    odd = MetadataFilters(filters=[MetadataFilter(key="parity", value="odd", operator=FilterOperator.EQ)])
    small = MetadataFilters(filters=[MetadataFilter(key="n", value=6, operator=FilterOperator.LT)])
    out = []
    for text in fakes.QUERIES:
        out.append(VectorStoreQuery(query_embedding=fakes.dense(text), similarity_top_k=4))
        out.append(VectorStoreQuery(query_embedding=fakes.dense(text), similarity_top_k=3, filters=odd))
        out.append(VectorStoreQuery(query_embedding=fakes.dense(text), similarity_top_k=3, filters=small))
    return out


def _hybrid_queries() -> list[VectorStoreQuery]:
    return [
        VectorStoreQuery(
            query_embedding=fakes.dense(text),
            query_str=text,
            similarity_top_k=3,
            sparse_top_k=5,
            mode=VectorStoreQueryMode.HYBRID,
        )
        for text in fakes.QUERIES
    ]


def _result(result: Any) -> Any:
    return [result.ids, result.similarities, [node.get_content() for node in result.nodes or []]]


def _hybrid_store(**clients: Any) -> QdrantVectorStore:
    return QdrantVectorStore(
        "li", enable_hybrid=True, sparse_doc_fn=_sparse_encoder, sparse_query_fn=_sparse_encoder, **clients
    )


def test_sync_store_matches() -> None:
    def scenario() -> list[Any]:
        store = QdrantVectorStore("li", client=qdrant_client.QdrantClient(":memory:"))
        check_engine(store.client)
        out: list[Any] = [store.add(_nodes())]
        out += [_result(store.query(query)) for query in _queries()]
        store.delete("doc1")
        out += [_result(store.query(query)) for query in _queries()[:3]]
        out.append([node.get_content() for node in store.get_nodes(node_ids=[n.node_id for n in _nodes()[:5]])])
        hybrid = _hybrid_store(client=qdrant_client.QdrantClient(":memory:"))
        hybrid.add(_nodes())
        out += [_result(hybrid.query(query)) for query in _hybrid_queries()]
        return out

    assert_same_in_both(scenario)


def test_async_store_matches() -> None:
    async def run() -> list[Any]:
        store = QdrantVectorStore("li", aclient=qdrant_client.AsyncQdrantClient(":memory:"))
        check_engine(store._aclient)
        out: list[Any] = [await store.async_add(_nodes())]
        out += [_result(await store.aquery(query)) for query in _queries()]
        await store.adelete("doc2")
        out += [_result(await store.aquery(query)) for query in _queries()[:3]]
        hybrid = _hybrid_store(aclient=qdrant_client.AsyncQdrantClient(":memory:"))
        await hybrid.async_add(_nodes())
        out += [_result(await hybrid.aquery(query)) for query in _hybrid_queries()]
        return out

    assert_same_in_both(lambda: asyncio.run(run()))


def test_our_client_passed_directly() -> None:
    def run(client: Any) -> list[Any]:
        store = QdrantVectorStore("li", client=client)
        store.add(_nodes())
        out = [_result(store.query(query)) for query in _queries()]
        store.delete("doc1")
        return out + [_result(store.query(query)) for query in _queries()[:3]]

    with engine("local"):
        expected = run(qdrant_client.QdrantClient(":memory:"))
    assert_same(expected, run(qdrant_local.QdrantClient(":memory:")))


def test_our_async_client_passed_directly() -> None:
    async def run(aclient: Any) -> list[Any]:
        store = QdrantVectorStore("li", aclient=aclient)
        await store.async_add(_nodes())
        out = [_result(await store.aquery(query)) for query in _queries()]
        await store.adelete("doc2")
        out += [_result(await store.aquery(query)) for query in _queries()[:3]]
        await aclient.close()
        return out

    with engine("local"):
        expected = asyncio.run(run(qdrant_client.AsyncQdrantClient(":memory:")))
    assert_same(expected, asyncio.run(run(qdrant_local.AsyncQdrantClient(":memory:"))))
