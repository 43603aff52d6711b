"""The process lock and the client's life cycle: one owner per folder, released by close, del and death.

* A client on a folder open in another process fails at construction with a RuntimeError subclass
  carrying qdrant-client's own message (compared against qdrant-client itself); clients in one process
  share the folder's engine.
* close() is idempotent, runs on leaving a ``with`` block, and releases the folder; so do dropping the last
  reference (``del client``) and the death of the owning process (SIGKILL leaves no stale lock).
* After close() every call raises the same RuntimeError qdrant-client raises on a closed local client.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import ClientClosed, StorageLocked

from .helpers import child_env, open_client, run_python, visible_state

qdrant_client = pytest.importorskip("qdrant_client")


def qdrant_client_refusal(path: str) -> str:
    """The RuntimeError message qdrant-client gives when it cannot open ``path`` (which must be locked)."""
    with warnings.catch_warnings():
        # qdrant-client leaks the .lock file object of the client it refuses; collect it here, quietly,
        # so that its ResourceWarning does not surface in some later test under -W error.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(RuntimeError) as info:
            qdrant_client.QdrantClient(path=path)
        message = str(info.value)
        del info
        gc.collect()
    return message


def qdrant_client_lock_message(tmp_path: Path, path: str) -> str:
    """The message qdrant-client raises for a second client on a folder, with its path replaced by ``path``."""
    theirs_path = str(tmp_path / "qdrant-client-folder")
    holder = qdrant_client.QdrantClient(path=theirs_path)
    try:
        message = qdrant_client_refusal(theirs_path)
    finally:
        holder.close()
    assert theirs_path in message
    return message.replace(theirs_path, path)


def small_store(client: QdrantClient) -> None:
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("c", [models.PointStruct(id=i, vector=[i, 1.0], payload={"i": i}) for i in range(5)])


# ------------------------------------------------------------------------------------------- lock


def test_second_client_in_the_same_process_shares_the_engine(tmp_path: Path) -> None:
    """Two clients on one folder in one process share one engine (see tests/async_client/test_registry.py)."""
    path = str(tmp_path / "db")
    first = QdrantClient(path=path)
    small_store(first)
    second = QdrantClient(path=path)
    second.upsert("c", [models.PointStruct(id=9, vector=[1, 1])])
    assert visible_state(first) == visible_state(second)
    first.close()
    second.close()


def test_same_folder_through_another_spelling_shares_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "db"
    first = QdrantClient(path=str(path))
    small_store(first)
    os.symlink(path, tmp_path / "link")
    others = [QdrantClient(path=other) for other in (str(tmp_path / "." / "db"), Path(path), str(tmp_path / "link"))]
    for other in others:
        assert other.count("c").count == 5
        other.close()
    first.close()


OPEN_AND_REPORT = textwrap.dedent(
    """
    import sys
    from qdrant_local import QdrantClient
    try:
        client = QdrantClient(path=sys.argv[1])
    except RuntimeError as exc:
        print(type(exc).__name__, "|", exc)
        sys.exit(3)
    print("opened", client.count("c").count if client.collection_exists("c") else None)
    client.close()
    """
)


def test_second_process_is_refused_while_the_folder_is_open(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    owner = QdrantClient(path=path)
    small_store(owner)
    refused = run_python(OPEN_AND_REPORT, path)
    assert refused.returncode == 3, refused.stderr
    assert refused.stdout.strip() == f"StorageLocked | {qdrant_client_lock_message(tmp_path, path)}"
    owner.close()
    allowed = run_python(OPEN_AND_REPORT, path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "opened 5"


HOLD_UNTIL_KILLED = textwrap.dedent(
    """
    import sys, time
    from qdrant_local import QdrantClient, models
    client = QdrantClient(path=sys.argv[1])
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
    client.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"acked": True})], wait=True)
    client.upsert("c", [models.PointStruct(id=2, vector=[3.0, 4.0])], wait=False)
    print("holding", flush=True)
    time.sleep(120)
    """
)


def test_a_killed_owner_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_KILLED, path], env=child_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        with pytest.raises(StorageLocked):  # alive: it holds the folder
            QdrantClient(path=path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    client = open_client(path)  # no stale lock, no recovery needed
    assert [(r.id, r.payload) for r in client.scroll("c")[0]] == [(1, {"acked": True}), (2, {})]
    client.close()


def test_qdrant_client_and_qdrant_local_exclude_each_other(tmp_path: Path) -> None:
    """Same lock file and lock kind as qdrant-client, so the two never write one folder at once."""
    path = str(tmp_path / "db")
    ours = QdrantClient(path=path)
    assert "already accessed by another instance" in qdrant_client_refusal(path)
    ours.close()


# ------------------------------------------------------------------------------------ release paths


def test_close_is_idempotent_and_releases_the_folder(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    client = QdrantClient(path=path)
    small_store(client)
    client.close()
    client.close()
    again = open_client(path)
    assert again.count("c").count == 5
    again.close()
    holder = open_client(path)
    client.close()  # closing the old one again must not release or disturb anything
    assert run_python(OPEN_AND_REPORT, path).returncode == 3  # the folder is still locked
    assert holder.count("c").count == 5
    holder.close()


def test_leaving_a_with_block_closes(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        small_store(client)
    with pytest.raises(ClientClosed):
        client.count("c")
    with open_client(path) as again:
        assert again.count("c").count == 5


def test_leaving_a_with_block_by_an_exception_closes(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with pytest.raises(ZeroDivisionError):
        with QdrantClient(path=path) as client:
            small_store(client)
            1 / 0
    with open_client(path) as again:
        assert again.count("c").count == 5


def test_del_client_releases_the_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    client = QdrantClient(path=path)
    small_store(client)
    client.upsert("c", [models.PointStruct(id=7, vector=[1, 1])], wait=False)  # flushed by the release
    del client
    gc.collect()
    again = open_client(path)
    assert again.count("c").count == 6
    again.close()


EXIT_DURING_A_READ = """
import sys, threading
from qdrant_local import QdrantClient, models

client = QdrantClient(path=sys.argv[1])
client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
client.upsert("c", [models.PointStruct(id=1, vector=[1.0, 0.0])], wait=False)
database = client._db
inside = threading.Event()


def endless_read():
    with database.lock.shared():
        inside.set()
        threading.Event().wait()  # frozen inside a read when the interpreter exits


threading.Thread(target=endless_read, daemon=True).start()
inside.wait()
print("exiting", flush=True)
"""


def test_exit_with_a_read_in_progress_on_a_daemon_thread_does_not_hang(tmp_path: Path) -> None:
    """The client's finalizer and the exit hook wait a bounded time for the lock (they used to wait for
    ever); the acknowledged write is in the log all the same."""
    path = str(tmp_path / "db")
    finished = run_python(EXIT_DURING_A_READ, path, timeout=60)  # TimeoutExpired: the exit hung
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "exiting"
    again = open_client(path)
    assert again.count("c").count == 1
    again.close()


def test_a_client_dropped_after_reads_releases_the_lock(tmp_path: Path) -> None:
    """Results handed out (records, infos, aliases) must not keep the client alive."""
    path = str(tmp_path / "db")

    def use() -> list[Any]:
        client = QdrantClient(path=path)
        small_store(client)
        try:
            client.set_payload("c", {"x": 1}, points=[12345])  # a failed call leaves no reference behind either
        except KeyError:
            pass
        return [
            client.scroll("c", with_vectors=True),
            client.retrieve("c", [1, 2], with_vectors=True),
            client.get_collection("c"),
            client.get_collections(),
            client.get_aliases(),
        ]

    results = use()
    gc.collect()
    again = open_client(path)
    assert again.count("c").count == 5
    again.close()
    assert results


def test_lock_is_released_when_opening_fails(tmp_path: Path) -> None:
    path = tmp_path / "db"
    path.mkdir()
    (path / "00000003.log").write_bytes(b"not a log")
    for _ in range(2):
        with pytest.raises(RuntimeError) as info:
            QdrantClient(path=str(path))
        assert not isinstance(info.value, StorageLocked)


# --------------------------------------------------------------------------------------- after close

Call = Callable[[Any], Any]


def calls(module: Any) -> dict[str, Call]:
    """One valid call of every client method, built with ``module.models`` (ours or qdrant-client's)."""
    m = module.models
    point = m.PointStruct(id=1, vector=[1.0, 2.0], payload={"i": 1})
    f = m.Filter(must=[m.FieldCondition(key="i", match=m.MatchValue(value=1))])
    return {
        "get_collections": lambda c: c.get_collections(),
        "get_collection": lambda c: c.get_collection("c"),
        "collection_exists": lambda c: c.collection_exists("c"),
        "create_collection": lambda c: c.create_collection("d", vectors_config=m.VectorParams(size=2, distance="Dot")),
        "recreate_collection": lambda c: c.recreate_collection(
            "c", vectors_config=m.VectorParams(size=2, distance="Dot")
        ),
        "delete_collection": lambda c: c.delete_collection("c"),
        "update_collection": lambda c: c.update_collection("c", metadata={"a": 1}),
        "update_collection_aliases": lambda c: c.update_collection_aliases(
            [m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="c", alias_name="al"))]
        ),
        "get_aliases": lambda c: c.get_aliases(),
        "get_collection_aliases": lambda c: c.get_collection_aliases("c"),
        "create_payload_index": lambda c: c.create_payload_index("c", "i", "integer"),
        "delete_payload_index": lambda c: c.delete_payload_index("c", "i"),
        "create_vector_name": lambda c: c.create_vector_name(
            "c", "x", m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=2, distance="Dot"))
        ),
        "delete_vector_name": lambda c: c.delete_vector_name("c", "x"),
        "upsert": lambda c: c.upsert("c", [point]),
        "upload_points": lambda c: c.upload_points("c", [point]),
        "upload_collection": lambda c: c.upload_collection("c", vectors=[[1.0, 2.0]], ids=[3]),
        "delete": lambda c: c.delete("c", [1]),
        "set_payload": lambda c: c.set_payload("c", {"x": 1}, [1]),
        "overwrite_payload": lambda c: c.overwrite_payload("c", {"x": 1}, [1]),
        "delete_payload": lambda c: c.delete_payload("c", ["i"], [1]),
        "clear_payload": lambda c: c.clear_payload("c", [1]),
        "update_vectors": lambda c: c.update_vectors("c", [m.PointVectors(id=1, vector=[2.0, 1.0])]),
        "delete_vectors": lambda c: c.delete_vectors("c", [""], [1]),
        "batch_update_points": lambda c: c.batch_update_points(
            "c", [m.UpsertOperation(upsert=m.PointsList(points=[point]))]
        ),
        "retrieve": lambda c: c.retrieve("c", [1]),
        "scroll": lambda c: c.scroll("c"),
        "scroll with filter": lambda c: c.scroll("c", scroll_filter=f),
        "count": lambda c: c.count("c"),
        "count with filter": lambda c: c.count("c", count_filter=f),
        "facet": lambda c: c.facet("c", "i"),
        "query_points": lambda c: c.query_points("c", query=[1.0, 2.0]),
        "query_batch_points": lambda c: c.query_batch_points("c", [m.QueryRequest(query=[1.0, 2.0])]),
        "query_points_groups": lambda c: c.query_points_groups("c", group_by="i", query=[1.0, 2.0]),
        "search_matrix_pairs": lambda c: c.search_matrix_pairs("c"),
        "search_matrix_offsets": lambda c: c.search_matrix_offsets("c"),
        # removed from qdrant-client 1.20, kept by qdrant_local: no reference, so they must raise the closed error
        "search": lambda c: c.search("c", query_vector=[1.0, 2.0]),
        "search_batch": lambda c: c.search_batch("c", [{"vector": [1.0, 2.0], "limit": 3}]),
        "search_groups": lambda c: c.search_groups("c", query_vector=[1.0, 2.0], group_by="i"),
        "recommend": lambda c: c.recommend("c", positive=[1]),
        "recommend_batch": lambda c: c.recommend_batch("c", [{"positive": [1], "limit": 3}]),
        "recommend_groups": lambda c: c.recommend_groups("c", group_by="i", positive=[1]),
        "discover": lambda c: c.discover("c", target=1),
        "discover_batch": lambda c: c.discover_batch("c", [{"target": 1, "limit": 3}]),
        "info": lambda c: c.info(),
        # what only a cluster answers, and the model catalogue: local mode answers these even when closed
        "cluster_collection_update": lambda c: c.cluster_collection_update("c", None),
        "cluster_status": lambda c: c.cluster_status(),
        "cluster_telemetry": lambda c: c.cluster_telemetry(),
        "collection_cluster_info": lambda c: c.collection_cluster_info("c"),
        "recover_current_peer": lambda c: c.recover_current_peer(),
        "remove_peer": lambda c: c.remove_peer(1),
        "get_optimizations": lambda c: c.get_optimizations("c"),
        "delete_shard_key": lambda c: c.delete_shard_key("c", "k"),
        "list_shard_keys": lambda c: c.list_shard_keys("c"),
        "create_shard_snapshot": lambda c: c.create_shard_snapshot("c", 0),
        "delete_shard_snapshot": lambda c: c.delete_shard_snapshot("c", 0, "s"),
        "list_shard_snapshots": lambda c: c.list_shard_snapshots("c", 0),
        "recover_shard_snapshot": lambda c: c.recover_shard_snapshot("c", 0, "file:///nowhere"),
        "get_embedding_size": lambda c: c.get_embedding_size("BAAI/bge-small-en-v1.5"),
        "list_text_models": lambda c: c.list_text_models(),
        "list_image_models": lambda c: c.list_image_models(),
        "list_sparse_models": lambda c: c.list_sparse_models(),
        "list_late_interaction_text_models": lambda c: c.list_late_interaction_text_models(),
        "list_late_interaction_multimodal_models": lambda c: c.list_late_interaction_multimodal_models(),
        # whole-storage snapshots: local mode's answers, closed or not
        "list_full_snapshots": lambda c: c.list_full_snapshots(),
        "create_full_snapshot": lambda c: c.create_full_snapshot(),
        "delete_full_snapshot": lambda c: c.delete_full_snapshot("s"),
    }


def closed_outcome(call: Call, client: Any) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # recreate_collection's
            call(client)
    except Exception as exc:  # the outcome itself is compared
        return type(exc).__name__, str(exc)
    return "ok", ""


@pytest.fixture(scope="module")
def theirs_after_close(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """What qdrant-client's own local mode does for each call after close()."""
    client = qdrant_client.QdrantClient(path=str(tmp_path_factory.mktemp("theirs")))
    small = qdrant_client.models
    client.create_collection("c", vectors_config=small.VectorParams(size=2, distance="Dot"))
    client.close()
    closed = ("RuntimeError", "QdrantLocal instance is closed. Please create a new instance.")
    return {
        # a method qdrant-client no longer has: expect the closed error, like every other data call
        name: closed_outcome(call, client) if hasattr(client, name.split()[0]) else closed
        for name, call in calls(qdrant_client).items()
    }


def test_every_call_after_close_raises_like_qdrant_client(
    tmp_path: Path, theirs_after_close: dict[str, tuple[str, str]]
) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    small_store(client)
    client.close()
    closed_message = "QdrantLocal instance is closed. Please create a new instance."
    ours_calls = calls(__import__("qdrant_local"))
    mismatches = {}
    for name, call in ours_calls.items():
        method = name.split()[0]
        if not hasattr(client, method):
            continue  # not implemented yet (query methods land separately)
        theirs = theirs_after_close[name]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # search, recommend, discover
                call(client)
        except ClientClosed as exc:
            assert isinstance(exc, RuntimeError) and str(exc) == closed_message
            if theirs[1] != closed_message:
                mismatches[name] = ("ClientClosed", theirs)
            continue
        except Exception as exc:
            # another error is right only where local mode raises it too (same builtin, same message)
            if not any(cls.__name__ == theirs[0] for cls in type(exc).__mro__) or str(exc) != theirs[1]:
                mismatches[name] = (f"{type(exc).__name__}: {exc}", theirs)
            continue
        if theirs[1] == closed_message:
            mismatches[name] = ("no error", theirs)
    assert not mismatches, mismatches
    # methods added later must be covered too: every public method is in the table or in the lifecycle set
    public = {n for n in dir(QdrantClient) if not n.startswith("_") and callable(getattr(QdrantClient, n))}
    # Snapshots, migrate and save are real here (local mode has none, or lets list_snapshots answer []):
    # tests/cli/test_snapshots_save_migrate.py checks that they raise the closed error.
    transfer = {"create_snapshot", "list_snapshots", "delete_snapshot", "recover_snapshot", "migrate", "save"}
    known = {name.split()[0] for name in ours_calls} | {"close", "compact", "create_shard_key"} | transfer
    assert public <= known, f"add these methods to calls(): {sorted(public - known)}"


def test_compact_after_close_raises(tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "db"))
    client.close()
    with pytest.raises(ClientClosed):
        client.compact()


def test_closing_twice_with_pending_unwaited_writes_keeps_them(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    client = QdrantClient(path=path)
    small_store(client)
    for i in range(10, 20):
        client.upsert("c", [models.PointStruct(id=i, vector=[i, 0])], wait=False)
    client.close()
    client.close()
    again = open_client(path)
    assert again.count("c").count == 15
    again.close()


def test_close_lets_go_of_the_points_at_once(tmp_path: Path) -> None:
    """Without waiting for the cyclic garbage collector: a close then a reopen in the same process must not
    hold the data twice."""
    import gc
    import weakref

    from qdrant_local import models

    client = QdrantClient(path=str(tmp_path / "db"))
    client.create_collection("c", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    client.upsert("c", models.Batch(ids=[1, 2, 3], vectors=[[1.0, 2.0, 3.0, 4.0]] * 3, payloads=[{"a": 1}] * 3))
    store = client._database.collections["c"].store  # type: ignore[attr-defined]
    vectors = weakref.ref(store.vectors[""])
    payload_list = weakref.ref(store.payloads) if hasattr(store.payloads, "__weakref__") else None
    del store
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        client.close()
        assert vectors() is None
        assert payload_list is None or payload_list() is None
    finally:
        if was_enabled:
            gc.enable()
    reopened = QdrantClient(path=str(tmp_path / "db"))
    assert reopened.count("c").count == 3
    reopened.close()
