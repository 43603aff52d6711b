"""Every model and enum of ``qdrant_client.models``, under the same names and field names.

Construct them by keyword exactly as with qdrant-client (``models.PointStruct(id=1, vector=[...])``,
``models.MatchExcept(**{"except": [1, 2]})``). Methods of :class:`qdrant_local.QdrantClient` accept these,
qdrant_client's own model objects, and the REST JSON shapes as dicts alike.
"""

from __future__ import annotations

from typing import Any, Dict, List, Union
from uuid import UUID

from . import _generated
from ._generated import *  # noqa: F401,F403
from .base import Model
from .query import (
    ContextExamplePair,
    DiscoverRequest,
    NamedSparseVector,
    NamedVector,
    RecommendGroupsRequest,
    RecommendRequest,
    SearchGroupsRequest,
    SearchRequest,
)

# Type aliases that qdrant_client.models exports and user code uses in annotations.
ExtendedPointId = Union[int, str]
PointId = Union[int, str, UUID]
Payload = Dict[str, Any]
VectorStruct = Union[List[float], List[List[float]], Dict[str, Any]]
ReadConsistency = Union[int, _generated.ReadConsistencyType]

__all__ = sorted(
    [
        name
        for name in vars(_generated)
        if not name.startswith("_")
        and isinstance(getattr(_generated, name), type)
        and getattr(_generated, name).__module__ == _generated.__name__
    ]
    + ["ExtendedPointId", "PointId", "Payload", "VectorStruct", "ReadConsistency", "Model"]
    # The pre-1.14 request models that qdrant-client 1.20 dropped, for the legacy search API.
    + ["ContextExamplePair", "DiscoverRequest", "NamedSparseVector", "NamedVector", "RecommendGroupsRequest"]
    + ["RecommendRequest", "SearchGroupsRequest", "SearchRequest"]
)
