"""Edge values: whatever the memory client accepts, the folder client accepts and returns unchanged after reopen.

A value the store cannot encode must be rejected the same way (same error type and message) by both
clients, before anything changes; it must never be accepted in memory and fail (or come back different)
on disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from qdrant_local import QdrantClient, models

from .helpers import open_client, visible_state


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def upsert_payload(value: Any) -> Callable[[QdrantClient], Any]:
    return lambda c: c.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"v": value})])


CASES: dict[str, Any] = {
    "u64 max": upsert_payload(2**64 - 1),
    "i64 min": upsert_payload(-(2**63)),
    "negative zero": upsert_payload(-0.0),
    "largest float": upsert_payload(1.7976931348623157e308),
    "smallest subnormal": upsert_payload(5e-324),
    "128 levels deep (the limit)": upsert_payload(nested(127)),
    "129 levels deep": pytest.param(upsert_payload(nested(128))),
    "400 levels deep via set_payload": pytest.param(lambda c: c.set_payload("c", {"x": nested(400)}, [0])),
    "129 levels deep in collection metadata": pytest.param(lambda c: c.update_collection("c", metadata=nested(129))),
    "astral and combining text": upsert_payload("🚀e\u0301\u200d\x00"),
    "1 MiB string": upsert_payload("x" * (1 << 20)),
    "10k keys": lambda c: c.upsert(
        "c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={f"k{i}": i for i in range(10_000)})]
    ),
    "uuid id spellings": lambda c: c.upsert(
        "c", [models.PointStruct(id="8D2F6A4E1C3B4A5D9E7F0A1B2C3D4E5F", vector=[1.0, 2.0])]
    ),
    "max u64 id": lambda c: c.upsert("c", [models.PointStruct(id=2**64 - 1, vector=[1.0, 2.0])]),
    "2**64 in a payload": pytest.param(upsert_payload(2**64)),
    "-2**63-1 in a payload": pytest.param(upsert_payload(-(2**63) - 1)),
    "lone surrogate in a payload value": pytest.param(upsert_payload("\ud800")),
    "lone surrogate in a payload key": pytest.param(
        lambda c: c.upsert("c", [models.PointStruct(id=1, vector=[1.0, 2.0], payload={"k\udfff": 1})])
    ),
    "2**70 via set_payload": pytest.param(lambda c: c.set_payload("c", {"x": 2**70}, [0])),
    "2**70 in collection metadata": pytest.param(lambda c: c.update_collection("c", metadata={"x": 2**70})),
    "lone surrogate in a collection name": pytest.param(
        lambda c: c.create_collection("x\ud800", vectors_config=models.VectorParams(size=2, distance="Dot"))
    ),
    "lone surrogate in an alias": pytest.param(
        lambda c: c.update_collection_aliases(
            [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name="c", alias_name="a\ud800"))]
        )
    ),
}


def outcome(call: Callable[[QdrantClient], Any], client: QdrantClient) -> tuple[str, str]:
    try:
        call(client)
    except Exception as exc:  # compared between the two clients
        return type(exc).__name__, str(exc)
    return "ok", ""


def _params() -> list[Any]:
    """CASES as pytest params with readable ids (keeping the xfail marks)."""
    params = []
    for name, case in CASES.items():
        if hasattr(case, "values") and hasattr(case, "marks"):  # already a pytest.param
            params.append(pytest.param(*case.values, marks=case.marks, id=name))
        else:
            params.append(pytest.param(case, id=name))
    return params


@pytest.mark.parametrize("call", _params())
def test_memory_and_folder_clients_agree_and_reopen_unchanged(
    tmp_path: Path, call: Callable[[QdrantClient], Any]
) -> None:
    memory = QdrantClient(":memory:")
    disk = QdrantClient(path=str(tmp_path / "db"))
    for client in (memory, disk):
        client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert("c", [models.PointStruct(id=0, vector=[0.5, 0.5], payload={"base": True})])
    expected = outcome(call, memory)
    assert outcome(call, disk) == expected
    state = visible_state(memory)
    memory.close()
    assert visible_state(disk) == state
    disk.close()
    reopened = open_client(tmp_path / "db")
    assert visible_state(reopened) == state
    reopened.close()


UNSTORABLE = [
    "129 levels deep",
    "400 levels deep via set_payload",
    "129 levels deep in collection metadata",
    "2**64 in a payload",
    "-2**63-1 in a payload",
    "lone surrogate in a payload value",
    "lone surrogate in a payload key",
    "2**70 via set_payload",
    "2**70 in collection metadata",
    "lone surrogate in a collection name",
    "lone surrogate in an alias",
]


@pytest.mark.parametrize("name", UNSTORABLE)
def test_values_the_log_cannot_hold_are_invalid_input_everywhere(tmp_path: Path, name: str) -> None:
    """Rejected up front as a ValueError (InvalidInput) naming the problem, in memory as on disk, with
    nothing changed: never a raw OverflowError / UnicodeEncodeError from the log."""
    from qdrant_local.errors import InvalidInput

    case = CASES[name]
    call = case.values[0] if hasattr(case, "values") else case
    for client in (QdrantClient(":memory:"), QdrantClient(path=str(tmp_path / "db"))):
        client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert("c", [models.PointStruct(id=0, vector=[0.5, 0.5], payload={"base": True})])
        before = visible_state(client)
        with pytest.raises(InvalidInput):
            call(client)
        assert visible_state(client) == before
        client.close()


# ------------------------------------------------------ rejected configuration leaves no trace (issue 8)

BAD_CONFIG_CALLS: dict[str, Callable[[QdrantClient], Any]] = {
    "recreate with size 0": lambda c: c.recreate_collection(
        "c", vectors_config=models.VectorParams(size=0, distance="Dot")
    ),
    "recreate with optimizers_config=5": lambda c: c.recreate_collection(
        "c", vectors_config=models.VectorParams(size=2, distance="Dot"), optimizers_config=5
    ),
    "index schema 'nonsense'": lambda c: c.create_payload_index("c", "f", field_schema="nonsense"),
    "index schema {'type': 'bogus'}": lambda c: c.create_payload_index("c", "f", field_schema={"type": "bogus"}),
    "index schema 5": lambda c: c.create_payload_index("c", "f", field_schema=5),
    "update optimizers_config=5": lambda c: c.update_collection("c", optimizers_config=5),
    "update quantization_config=5": lambda c: c.update_collection("c", quantization_config=5),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIG_CALLS))
def test_a_rejected_configuration_leaves_no_trace(tmp_path: Path, name: str) -> None:
    """Items 4 and 5: rejected before anything is deleted or logged; get_collection keeps working, also
    after reopen (an invalid schema or config used to break the collection for ever)."""
    from qdrant_local.errors import InvalidInput

    path = tmp_path / "db"
    client = open_client(path)
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("c", [models.PointStruct(id=0, vector=[0.5, 0.5], payload={"f": "x"})])
    before = visible_state(client)
    log = next(path.glob("*.log"))
    size = log.stat().st_size
    warns = pytest.warns(DeprecationWarning) if name.startswith("recreate") else _no_warning()
    with warns, pytest.raises(InvalidInput):
        BAD_CONFIG_CALLS[name](client)
    assert log.stat().st_size == size, "a rejected request was logged"
    assert visible_state(client) == before
    client.close()
    reopened = open_client(path)
    assert visible_state(reopened) == before
    reopened.close()


def _no_warning() -> Any:
    import contextlib

    return contextlib.nullcontext()


def test_a_deep_payload_stored_before_the_limit_reads_from_a_deep_call_stack(tmp_path: Path) -> None:
    """Item 10: copy, merge, encode and decode do not depend on the caller's stack depth. A folder written
    before the limit (a 400-deep payload, crafted here) opens, is read and compacted from a caller that has
    already used most of Python's recursion budget."""
    import sys

    import msgpack
    import numpy as np

    from qdrant_local.storage import framing

    path = tmp_path / "db"
    client = open_client(path)
    client.create_collection("c", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.close()
    record = {
        "op": "points",
        "collection": "c",
        "body": {
            "op": "upsert",
            "ids": [1],
            "payloads": [{"v": nested(400)}],
            "vectors": {
                "dense": {"": [np.zeros(1, "<i8").tobytes(), 2, np.ones(2, "<f4").tobytes()]},
                "multi": {},
                "sparse": {},
            },
        },
    }
    body = msgpack.packb(record, use_bin_type=True)
    with open(next(path.glob("*.log")), "ab") as f:
        f.write(framing.encode_frame_header(body) + body)
    margin = 150  # frames left below the recursion limit for our own calls

    def at_depth(remaining: int) -> Any:
        if remaining > 0:
            return at_depth(remaining - 1)
        deep = open_client(path)
        try:
            deep.set_payload("c", {"w": 1}, [1])  # a merge into the deep payload
            retrieved = deep.retrieve("c", [1])[0].payload  # compared below, back at a shallow stack
            scrolled = deep.scroll("c", with_payload=True)[0][0].payload
            assert retrieved["w"] == scrolled["w"] == 1
            deep.compact()  # encodes it into a snapshot
            deep.close()
            again = open_client(path)  # decodes it from the snapshot
            try:
                return again.query_points("c", query=[1.0, 0.0], with_payload=True).points[0].payload
            finally:
                again.close()
        finally:
            deep.close()

    depth = len(_stack())
    payload = at_depth(sys.getrecursionlimit() - depth - margin)
    assert payload == {"v": nested(400), "w": 1}


def _stack() -> list[Any]:
    import inspect

    return inspect.stack(0)
