"""Clean shutdown: a process that never closes its clients exits silently and keeps every acknowledged write.

Each scenario runs in a fresh interpreter with every warning shown (``-W always``, so ResourceWarnings
and "Exception ignored in" reports surface on stderr) and must print nothing on stderr; then the folder
is reopened and must hold every write the scenario made (``wait=False`` ones included: the process did
not crash, it exited).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qdrant_local import QdrantClient

from ..persistence.helpers import child_env

PRELUDE = """
import asyncio, sys, threading, time
from qdrant_local import AsyncQdrantClient, QdrantClient, models
path = sys.argv[1]
def point(i):
    return models.PointStruct(id=i, vector=[float(i), 1.0], payload={"i": i})
setup = QdrantClient(path=path)
setup.create_collection("c", vectors_config=models.VectorParams(size=2, distance="Dot"))
"""

#: name -> (code, the acceptable sorted lists of point ids in the folder afterwards)
SCENARIOS: dict[str, tuple[str, tuple[list[int], ...]]] = {
    "sync clients left open: a global, a reference cycle, in memory": (
        """
        client = QdrantClient(path=path)
        client.upsert("c", [point(1)], wait=False)
        class Holder: pass
        holder = Holder(); holder.me = holder; holder.client = QdrantClient(path=path)
        holder.client.upsert("c", [point(2)], wait=False)
        memory = QdrantClient(":memory:")
        memory.create_collection("m", vectors_config=models.VectorParams(size=2, distance="Dot"))
        """,
        ([1, 2],),
    ),
    "sync clients made in threads, one of them a daemon still holding its client": (
        """
        def work(i):
            client = QdrantClient(path=path)
            client.upsert("c", [point(10 + i)], wait=False)
            threading.current_thread().client = client
        def idle():
            client = QdrantClient(path=path)
            client.upsert("c", [point(99)], wait=False)
            ready.set()
            time.sleep(600)
        ready = threading.Event()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        threads.append(threading.Thread(target=idle, daemon=True))
        for t in threads: t.start()
        for t in threads[:4]: t.join()
        ready.wait()
        """,
        ([10, 11, 12, 13, 99],),
    ),
    "async clients left open after asyncio.run, with a write still running when the loop ends": (
        """
        import numpy as np
        async def main():
            client = AsyncQdrantClient(path=path)
            await client.upsert("c", [point(1)], wait=False)
            memory = AsyncQdrantClient(":memory:")
            await memory.create_collection("m", vectors_config=models.VectorParams(size=2, distance="Dot"))
            big = models.Batch(ids=list(range(100, 20100)), vectors=np.ones((20000, 2), dtype=np.float32))
            asyncio.ensure_future(client.upsert("c", big, wait=False))  # never awaited
            await asyncio.sleep(0)
        asyncio.run(main())
        """,
        # the unawaited upsert is cancelled by asyncio.run: it ran entirely or (cancelled before it started) not at all
        ([1], [1] + list(range(100, 20100))),
    ),
    "an async client left open in a thread with its own event loop, and one in the main thread": (
        """
        def in_thread():
            loop = asyncio.new_event_loop()
            client = AsyncQdrantClient(path=path)
            loop.run_until_complete(client.upsert("c", [point(5)], wait=False))
            loop.close()  # the loop is the caller's to close; the client is left open
            threading.current_thread().keep = client
        thread = threading.Thread(target=in_thread)
        thread.start(); thread.join()
        main_client = AsyncQdrantClient(path=path)
        asyncio.run(main_client.upsert("c", [point(6)], wait=False))
        """,
        ([5, 6],),
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_unclosed_clients_exit_silently_and_keep_their_writes(tmp_path: Path, scenario: str) -> None:
    code, acceptable = SCENARIOS[scenario]
    path = str(tmp_path / "db")
    script = PRELUDE + textwrap.dedent(code) + "\nprint('end of script')\n"
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", script, path],
        env=child_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "end of script\n"
    assert result.stderr == ""
    with QdrantClient(path=path) as client:
        assert sorted(r.id for r in client.scroll("c", limit=100_000)[0]) in acceptable
