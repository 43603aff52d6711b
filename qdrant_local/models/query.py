"""Models of the query API that ``qdrant_client.models`` 1.20 no longer exports.

* :class:`QueryResponse` - what ``query_points`` returns (``points: list[ScoredPoint]``). In
  qdrant-client 1.20, ``qdrant_client.models.QueryResponse`` names fastembed's result type, while
  ``query_points`` returns ``qdrant_client.http.models.QueryResponse``; this is that one.
* The request models of the pre-1.14 search API (removed from qdrant-client 1.20, still in the REST
  API): :class:`NamedVector`, :class:`NamedSparseVector`, :class:`SearchRequest`,
  :class:`SearchGroupsRequest`, :class:`RecommendRequest`, :class:`RecommendGroupsRequest`,
  :class:`DiscoverRequest` and :class:`ContextExamplePair`, with qdrant-client 1.12's fields.
"""

from __future__ import annotations

from typing import Any, List, Optional, Union
from uuid import UUID

from ._generated import (
    Filter,
    LookupLocation,
    RecommendStrategy,
    ScoredPoint,
    SearchParams,
    ShardKeyWithFallback,
    SparseVector,
    WithLookup,
)
from .base import Factory, Model

__all__ = [
    "QueryResponse",
    "NamedVector",
    "NamedSparseVector",
    "ContextExamplePair",
    "SearchRequest",
    "SearchGroupsRequest",
    "RecommendRequest",
    "RecommendGroupsRequest",
    "DiscoverRequest",
]

ShardKeySelector = Union[int, str, List[Union[int, str]], ShardKeyWithFallback, None]
RecommendExample = Union[int, str, UUID, List[float], SparseVector]
WithPayloadInterface = Union[bool, List[str], Any, None]


class QueryResponse(Model):
    """Result of ``query_points``."""

    points: List[ScoredPoint]


class NamedVector(Model):
    """Dense vector data with name"""

    name: str
    """Name of vector data"""
    vector: List[float]
    """Vector data"""


class NamedSparseVector(Model):
    """Sparse vector data with name"""

    name: str
    """Name of vector data"""
    vector: SparseVector
    """Sparse vector data with name"""


class ContextExamplePair(Model):
    positive: RecommendExample
    negative: RecommendExample


class SearchRequest(Model):
    """Search request. Holds all conditions and parameters for the search of most similar points by
    vector similarity given the filtering restrictions."""

    shard_key: ShardKeySelector = None
    """Specify in which shards to look for the points, if not specified - look in all shards"""
    vector: Union[List[float], NamedVector, NamedSparseVector]
    filter: Optional[Filter] = None
    """Look only for points which satisfies this conditions"""
    params: Optional[SearchParams] = None
    """Additional search params"""
    limit: int
    """Max number of result to return"""
    offset: Optional[int] = None
    """Offset of the first result to return. May be used to paginate results."""
    with_payload: WithPayloadInterface = None
    """Select which payload to return with the response. Default is false."""
    with_vector: Union[bool, List[str], None] = None
    """Options for specifying which vectors to include into response. Default is false."""
    score_threshold: Optional[float] = None
    """Define a minimal score threshold for the result."""


class SearchGroupsRequest(Model):
    shard_key: ShardKeySelector = None
    vector: Union[List[float], NamedVector, NamedSparseVector]
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    with_payload: WithPayloadInterface = None
    with_vector: Union[bool, List[str], None] = None
    score_threshold: Optional[float] = None
    group_by: str
    """Payload field to group by, must be a string or number field."""
    group_size: int
    """Maximum amount of points to return per group"""
    limit: int
    """Maximum amount of groups to return"""
    with_lookup: Union[str, WithLookup, None] = None
    """Look for points in another collection using the group ids"""


class RecommendRequest(Model):
    """Recommendation request: positive and negative examples (point ids or vectors)."""

    shard_key: ShardKeySelector = None
    positive: Optional[List[RecommendExample]] = Factory(list)  # type: ignore[assignment]
    """Look for vectors closest to those"""
    negative: Optional[List[RecommendExample]] = Factory(list)  # type: ignore[assignment]
    """Try to avoid vectors like this"""
    strategy: Optional[RecommendStrategy] = None
    """How to use positive and negative examples to find the results"""
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    limit: int
    offset: Optional[int] = None
    with_payload: WithPayloadInterface = None
    with_vector: Union[bool, List[str], None] = None
    score_threshold: Optional[float] = None
    using: Optional[str] = None
    """Define which vector to use for recommendation, if not specified - try to use default vector"""
    lookup_from: Optional[LookupLocation] = None
    """The location used to lookup vectors. If not specified - use current collection."""


class RecommendGroupsRequest(Model):
    shard_key: ShardKeySelector = None
    positive: Optional[List[RecommendExample]] = Factory(list)  # type: ignore[assignment]
    negative: Optional[List[RecommendExample]] = Factory(list)  # type: ignore[assignment]
    strategy: Optional[RecommendStrategy] = None
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    with_payload: WithPayloadInterface = None
    with_vector: Union[bool, List[str], None] = None
    score_threshold: Optional[float] = None
    using: Optional[str] = None
    lookup_from: Optional[LookupLocation] = None
    group_by: str
    group_size: int
    limit: int
    with_lookup: Union[str, WithLookup, None] = None


class DiscoverRequest(Model):
    """Use context and a target to find the most similar points, constrained by the context."""

    shard_key: ShardKeySelector = None
    target: Optional[RecommendExample] = None
    """Look for vectors closest to this."""
    context: Optional[List[ContextExamplePair]] = None
    """Pairs of { positive, negative } examples to constrain the search."""
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    limit: int
    offset: Optional[int] = None
    with_payload: WithPayloadInterface = None
    with_vector: Union[bool, List[str], None] = None
    using: Optional[str] = None
    lookup_from: Optional[LookupLocation] = None
