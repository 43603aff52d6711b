"""The calls that only a Qdrant cluster answers: they raise exactly what qdrant-client's local mode raises.

Cluster status and updates, shard keys, shard snapshots, peers, optimizations, and the raw REST and
gRPC clients have no meaning in-process. Each method has qdrant-client 1.20's signature and raises
:class:`~qdrant_local.errors.NotSupported` (a ``NotImplementedError``) with local mode's own message,
except the two that answer in local mode (``list_shard_snapshots`` returns an empty list).
"""

from __future__ import annotations

from typing import Any

from ..errors import NotSupported

__all__ = ["ASYNC_LOCAL_CLASS", "SYNC_LOCAL_CLASS", "ServerOnlyApi", "no_raw_client"]

_CLUSTER = "Please use server Qdrant if you need a cluster"
_SHARDING = "Sharding is not supported in the local Qdrant. Please use server Qdrant if you need sharding."
_SHARD_SNAPSHOTS = "Snapshots are not supported in the local Qdrant. Please use server Qdrant if you need snapshots."
#: The local engines qdrant-client names in its raw-client messages (the ones our clients stand in for).
SYNC_LOCAL_CLASS = "<class 'qdrant_client.local.qdrant_local.QdrantLocal'>"
ASYNC_LOCAL_CLASS = "<class 'qdrant_client.local.async_qdrant_local.AsyncQdrantLocal'>"


def no_raw_client(kind: str, local_class: str) -> NotSupported:
    """Local mode's error for its ``http`` ("REST") or ``grpc_*`` ("gRPC") property."""
    return NotSupported(f"{kind} client is not supported for {local_class}")


class ServerOnlyApi:
    """Cluster, sharding and raw-client members of ``qdrant_client.QdrantClient``, as local mode has them."""

    @property
    def http(self) -> Any:
        """qdrant-client's REST client: there is none in-process."""
        raise no_raw_client("REST", SYNC_LOCAL_CLASS)

    @property
    def grpc_collections(self) -> Any:
        """qdrant-client's gRPC collections stub: there is none in-process."""
        raise no_raw_client("gRPC", SYNC_LOCAL_CLASS)

    @property
    def grpc_points(self) -> Any:
        """qdrant-client's gRPC points stub: there is none in-process."""
        raise no_raw_client("gRPC", SYNC_LOCAL_CLASS)

    def cluster_collection_update(
        self, collection_name: str, cluster_operation: Any, timeout: int | None = None
    ) -> bool:
        raise NotSupported(f"Cluster collection update is not supported in the local Qdrant. {_CLUSTER}")

    def cluster_status(self) -> Any:
        raise NotSupported(f"Cluster status is not supported in the local Qdrant. {_CLUSTER}")

    def cluster_telemetry(self, details_level: int | None = None, timeout: int | None = None) -> Any:
        raise NotSupported(f"Cluster telemetry is not supported in the local Qdrant. {_CLUSTER}.")

    def collection_cluster_info(self, collection_name: str) -> Any:
        raise NotSupported(f"Collection cluster info is not supported in the local Qdrant. {_CLUSTER}")

    def recover_current_peer(self) -> bool:
        raise NotSupported(f"Recover current peer is not supported in the local Qdrant. {_CLUSTER}")

    def remove_peer(self, peer_id: int, force: bool | None = None, timeout: int | None = None) -> bool:
        raise NotSupported(f"Remove peer info is not supported in the local Qdrant. {_CLUSTER}")

    def get_optimizations(self, collection_name: str, completed_limit: int | None = None, with_: Any = None) -> Any:
        raise NotSupported("Get optimizations is not supported in the local Qdrant. Please use server Qdrant.")

    def create_shard_key(
        self,
        collection_name: str,
        shard_key: int | str,
        shards_number: int | None = None,
        replication_factor: int | None = None,
        placement: list[int] | None = None,
    ) -> bool:
        raise NotSupported(_SHARDING)

    def delete_shard_key(self, collection_name: str, shard_key: int | str) -> bool:
        raise NotSupported(_SHARDING)

    def list_shard_keys(self, collection_name: str) -> Any:
        raise NotSupported(
            "List shard keys is not supported in the local Qdrant. Please use server Qdrant if you need sharding."
        )

    def create_shard_snapshot(self, collection_name: str, shard_id: int, wait: bool = True) -> Any:
        raise NotSupported(_SHARD_SNAPSHOTS)

    def delete_shard_snapshot(self, collection_name: str, shard_id: int, snapshot_name: str, wait: bool = True) -> Any:
        raise NotSupported(_SHARD_SNAPSHOTS)

    def list_shard_snapshots(self, collection_name: str, shard_id: int) -> list[Any]:
        """Local mode has no shard snapshots and says so with an empty list."""
        return []

    def recover_shard_snapshot(
        self,
        collection_name: str,
        shard_id: int,
        location: str,
        api_key: str | None = None,
        checksum: str | None = None,
        priority: Any = None,
        wait: bool = True,
    ) -> Any:
        raise NotSupported(_SHARD_SNAPSHOTS)
