"""One engine per folder per process: clients on one folder share it, another process is locked out.

* Every client on a folder in this process (any spelling of the path) sees the others' writes at once.
* Closing one client leaves the others working; the folder lock is held until the last one closes,
  and meanwhile another process still gets StorageLocked; after that the folder is free.
* A closed client raises ClientClosed while the other clients on its folder keep working.
* Threads opening and closing clients on one folder never lose a write or leak the lock.
* A child created by fork() does not inherit the parent's engine: opening the folder there meets the
  lock, the inherited client is closed, and nothing the child does (or its exit) unlocks the parent.
"""

from __future__ import annotations

import gc
import os
import textwrap
import threading
from pathlib import Path

import pytest

from qdrant_local import QdrantClient, models
from qdrant_local.errors import ClientClosed

from ..persistence.helpers import run_python, visible_state

# Run in a fresh interpreter: exit 3 if the folder is locked, else print the number of points in "c".
PROBE = textwrap.dedent(
    """
    import sys
    from qdrant_local import QdrantClient
    from qdrant_local.errors import StorageLocked
    try:
        client = QdrantClient(path=sys.argv[1])
    except StorageLocked:
        sys.exit(3)
    print(client.count("c").count if client.collection_exists("c") else None)
    client.close()
    """
)


def locked_for_other_processes(path: str) -> bool:
    probe = run_python(PROBE, path)
    assert probe.returncode in (0, 3), probe.stderr
    return probe.returncode == 3


def make_collection(client: QdrantClient) -> None:
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))


def point(i: int) -> models.PointStruct:
    return models.PointStruct(id=i, vector=[float(i), 1.0], payload={"i": i})


def test_clients_on_one_folder_see_each_others_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    first = QdrantClient(path=path)
    second = QdrantClient(path=path)
    make_collection(first)
    second.upsert("c", [point(1)])
    first.upsert("c", [point(2)], wait=False)
    assert visible_state(first) == visible_state(second)
    assert [r.id for r in second.scroll("c")[0]] == [1, 2]
    first.close()
    second.close()


def test_the_lock_is_held_until_the_last_client_closes(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    clients = [QdrantClient(path=path) for _ in range(3)]
    make_collection(clients[0])
    for i, client in enumerate(clients):
        client.upsert("c", [point(i)], wait=False)
    for client in clients[:-1]:
        client.close()
        client.close()  # idempotent: a second close must not release another client's hold
        assert locked_for_other_processes(path)
        with pytest.raises(ClientClosed):
            client.count("c")
        assert clients[-1].count("c").count == 3  # the others keep working
    clients[-1].upsert("c", [point(9)])
    clients[-1].close()
    probe = run_python(PROBE, path)
    assert (probe.returncode, probe.stdout.strip()) == (0, "4"), probe.stderr


def test_every_spelling_of_a_folder_reaches_one_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "db"
    first = QdrantClient(path=str(folder))
    make_collection(first)
    os.symlink(folder, tmp_path / "link")
    monkeypatch.chdir(tmp_path)
    spellings = ["db", "./db", str(tmp_path / "x" / ".." / "db"), str(tmp_path / "link"), folder]
    others = []
    for spelling in spellings:
        if "x" in str(spelling):
            (tmp_path / "x").mkdir(exist_ok=True)
        others.append(QdrantClient(path=spelling))
    for i, other in enumerate(others):
        other.upsert("c", [point(i)])
    assert first.count("c").count == len(spellings)
    for other in others:
        other.close()
    assert locked_for_other_processes(str(folder))
    first.close()
    assert not locked_for_other_processes(str(folder))


def test_a_new_client_after_the_last_close_reopens_from_disk(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        make_collection(client)
        client.upsert("c", [point(1)], wait=False)
    with QdrantClient(path=path) as client:
        assert [r.id for r in client.scroll("c")[0]] == [1]


def test_a_dropped_client_releases_only_its_own_hold(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    keeper = QdrantClient(path=path)
    make_collection(keeper)
    dropped = QdrantClient(path=path)
    dropped.upsert("c", [point(1)])
    del dropped
    gc.collect()
    assert keeper.count("c").count == 1
    assert locked_for_other_processes(path)
    keeper.close()
    assert not locked_for_other_processes(path)


def test_threads_opening_and_closing_clients_on_one_folder(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with QdrantClient(path=path) as client:
        make_collection(client)
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for round_ in range(15):
                client = QdrantClient(path=path)
                client.upsert("c", [point(thread * 100 + round_)], wait=round_ % 2 == 0)
                assert client.retrieve("c", [thread * 100 + round_])
                client.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    probe = run_python(PROBE, path)
    assert (probe.returncode, probe.stdout.strip()) == (0, "90"), probe.stderr


FORK = textwrap.dedent(
    """
    import gc, os, sys
    from qdrant_local import QdrantClient, models
    from qdrant_local.errors import ClientClosed, StorageLocked

    path = sys.argv[1]
    client = QdrantClient(path=path)
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
    client.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0])])
    pid = os.fork()
    if pid == 0:
        try:
            QdrantClient(path=path)
            print("child opened the folder")
        except StorageLocked:
            print("child locked out")
        try:
            client.upsert("c", [models.PointStruct(id=2, vector=[1.0, 2.0])])
            print("child wrote through the inherited client")
        except ClientClosed:
            print("inherited client closed")
        client.close()
        del client
        gc.collect()
        sys.stdout.flush()
        sys.exit(0)  # a normal exit: atexit handlers run in the child too
    _, status = os.waitpid(pid, 0)
    print("child exit", os.waitstatus_to_exitcode(status))
    import subprocess
    probe = subprocess.run([sys.executable, "-c", sys.argv[2], path], capture_output=True, text=True)
    print("third process", "locked out" if probe.returncode == 3 else "opened")
    client.upsert("c", [models.PointStruct(id=3, vector=[1.0, 2.0])])
    print("parent sees", [r.id for r in client.scroll("c")[0]])
    client.close()
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_does_not_share_or_unlock_the_parents_folder(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    result = run_python(FORK, path, PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "child locked out",
        "inherited client closed",
        "child exit 0",
        "third process locked out",
        "parent sees [1, 3]",
    ]
