"""The writing process of test_ann_followers.py: ``python -m tests.ann.index_writer FOLDER PHASE``.

Each phase opens the folder, writes, waits until its index builds (and the index file) are done,
and closes: ``create`` (3,000 points), ``update`` (a few points overwritten, deleted and added:
searched exactly, no new file), ``grow`` (enough points for a merge build: a new file), ``compact``
(a new storage generation) and ``open`` (nothing written: a missing index file is rebuilt).
"""

from __future__ import annotations

import sys

from qdrant_local import QdrantClient

from .helpers import clustered, create, load, settle

N = 3000
GROWN = 3500
MOVED = range(10)  # points given FAR vectors by ``update``
DELETED = range(10, 30)
ADDED = range(10**6, 10**6 + 5)


def far() -> list[list[float]]:
    """New vectors for MOVED, far from every indexed row."""
    return (clustered(len(MOVED), seed=77) * -3.0).tolist()


def main(folder: str, phase: str) -> None:
    with QdrantClient(path=folder) as client:
        if phase == "create":
            create(client, "c")
            load(client, "c", clustered(N))
        elif phase == "update":
            client.upsert("c", [{"id": i, "vector": v, "payload": {}} for i, v in zip(MOVED, far())])
            client.delete("c", list(DELETED))
            load(client, "c", clustered(len(ADDED), seed=9), start=ADDED[0])
        elif phase == "grow":
            load(client, "c", clustered(GROWN, seed=3), start=N)
        elif phase == "compact":
            client._database.compact()
        settle(client)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
