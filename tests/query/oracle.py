"""Shared pieces of the query differential tests: twin collections and result comparison.

The oracle is ``qdrant_client.QdrantClient(":memory:")``; the subject is ``qdrant_local``. Both get
the same points, written through the same sequence of upserts, vector updates and deletes, so that
points keep the same insertion order (qdrant-client breaks ties of order_by and fusion by it).

Requests are built from :class:`~tests.differential.specs.Call` specs, once per side, in the side's
own model classes (or as REST dicts for the subject).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import qdrant_client
from qdrant_client import models as qm

import qdrant_local
from qdrant_local import models as lm

from ..differential.compare import builtin_base, plain
from ..differential.specs import Call, build, to_rest

TOL = 1e-5

DISTANCES = ["Cosine", "Dot", "Euclid", "Manhattan"]
DENSE_DIM = 8
N_POINTS = 240

# Named collection: dense "a" (Cosine), "b" (Euclid), multivectors "m" (Dot) and "me" (Manhattan),
# sparse "s" (IDF) and "t" (plain).
NAMED_DENSE = {"a": (6, "COSINE"), "b": (4, "EUCLID")}
NAMED_MULTI = {"m": (3, "DOT"), "me": (3, "MANHATTAN")}
NAMED_SPARSE = {"s": True, "t": False}
SPARSE_DIMS = 40


def point_id(index: int) -> int | str:
    """Every fifth point has a UUID id, the others integers (both orders are exercised)."""
    if index % 5 == 4:
        return str(uuid.UUID(int=index * 7919 + 12345))
    return index


def payload(rng: np.random.Generator, index: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "g": int(rng.integers(0, 5)),
        "tag": str(rng.choice(["red", "green", "blue"])),
        "x": round(float(rng.normal()), 6),
    }
    if index % 7 == 0:
        body["arr"] = [int(v) for v in rng.integers(0, 4, size=int(rng.integers(1, 3)))]
    if index % 11 == 0:
        body["g"] = [int(rng.integers(0, 5)), "k"]  # joins two groups
    if index % 17 == 0:
        body["tag"] = ["red", 1.5]  # a float among the values: joins no group
    if index % 13 == 0:
        body.pop("x")
    return body


def sparse_vector(rng: np.random.Generator) -> Call:
    size = int(rng.integers(0, 6))
    indices = sorted(int(i) for i in rng.choice(SPARSE_DIMS, size=size, replace=False))
    values = [round(float(v), 4) for v in rng.normal(size=size)]
    order = rng.permutation(size)  # unsorted on input, as users send them
    return Call("SparseVector", indices=[indices[i] for i in order], values=[values[i] for i in order])


def multivector(rng: np.random.Generator, dim: int) -> list[list[float]]:
    return rng.normal(size=(int(rng.integers(1, 4)), dim)).round(5).tolist()


class Twin:
    """The same collection in both clients (a plain class: hypothesis prints dataclasses in full)."""

    def __init__(
        self,
        name: str,
        oracle: Any,
        subject: Any,
        ids: list[Any],
        deleted: list[Any],
        named: bool,
        distance: str | None = None,
    ) -> None:
        self.name = name
        self.oracle = oracle
        self.subject = subject
        self.ids = ids  # live point ids
        self.deleted = deleted
        self.named = named
        self.distance = distance

    def __repr__(self) -> str:
        return f"Twin({self.name})"


def _apply(clients: tuple[Any, Any], method: str, *args: Any, **kwargs: Any) -> None:
    for client, models in zip(clients, (qm, lm)):
        getattr(client, method)(*build(list(args), models), **build(kwargs, models))


def dense_twin(clients: tuple[Any, Any], distance: str, seed: int) -> Twin:
    name = f"dense_{distance.lower()}"
    rng = np.random.default_rng(seed)
    for client, models in zip(clients, (qm, lm)):
        client.create_collection(name, vectors_config=models.VectorParams(size=DENSE_DIM, distance=distance))
    vectors = rng.normal(size=(N_POINTS, DENSE_DIM)).round(5)
    points = [
        Call("PointStruct", id=point_id(i), vector=vectors[i].tolist(), payload=payload(rng, i))
        for i in range(N_POINTS)
    ]
    for start in range(0, N_POINTS, 80):
        _apply(clients, "upsert", name, points[start : start + 80])
    # Rewrites in place: new vectors for some points, new payload for others.
    updated = [
        Call("PointVectors", id=point_id(i), vector=rng.normal(size=DENSE_DIM).round(5).tolist())
        for i in range(0, N_POINTS, 17)
    ]
    _apply(clients, "update_vectors", name, updated)
    _apply(
        clients,
        "overwrite_payload",
        name,
        {"g": 9, "tag": "red", "x": 0.5},
        [point_id(i) for i in range(1, N_POINTS, 23)],
    )
    deleted = [point_id(i) for i in range(2, N_POINTS, 9)]
    _apply(clients, "delete", name, deleted)
    live = [point_id(i) for i in range(N_POINTS) if point_id(i) not in set(deleted)]
    return Twin(name, clients[0], clients[1], live, deleted, named=False, distance=distance)


def named_twin(clients: tuple[Any, Any], seed: int) -> Twin:
    name = "named"
    rng = np.random.default_rng(seed)
    for client, models in zip(clients, (qm, lm)):
        vectors = {
            n: models.VectorParams(size=d, distance=getattr(models.Distance, dist))
            for n, (d, dist) in NAMED_DENSE.items()
        }
        for n, (d, dist) in NAMED_MULTI.items():
            vectors[n] = models.VectorParams(
                size=d,
                distance=getattr(models.Distance, dist),
                multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            )
        sparse = {
            n: models.SparseVectorParams(modifier=models.Modifier.IDF if idf else None)
            for n, idf in NAMED_SPARSE.items()
        }
        client.create_collection(name, vectors_config=vectors, sparse_vectors_config=sparse)
    points = []
    for i in range(160):
        vector: dict[str, Any] = {}
        for n, (d, _) in NAMED_DENSE.items():
            if rng.random() < 0.85:
                vector[n] = rng.normal(size=d).round(5).tolist()
        for n, (d, _) in NAMED_MULTI.items():
            if rng.random() < 0.85:
                vector[n] = multivector(rng, d)
        for n in NAMED_SPARSE:
            if rng.random() < 0.85:
                vector[n] = sparse_vector(rng)
        points.append(Call("PointStruct", id=point_id(i), vector=vector, payload=payload(rng, i)))
    _apply(clients, "upsert", name, points)
    _apply(clients, "delete_vectors", name, ["a", "s"], [point_id(i) for i in range(3, 160, 19)])
    deleted = [point_id(i) for i in range(5, 160, 12)]
    _apply(clients, "delete", name, deleted)
    live = [point_id(i) for i in range(160) if point_id(i) not in set(deleted)]
    return Twin(name, clients[0], clients[1], live, deleted, named=True)


def make_clients() -> tuple[Any, Any]:
    return qdrant_client.QdrantClient(":memory:"), qdrant_local.QdrantClient(":memory:")


# -- running and comparing -----------------------------------------------------------------------------


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run(fn: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=fn())
    except Exception as exc:  # noqa: BLE001 - every error is part of the comparison
        return Outcome(error=exc)


def call_both(twin: Twin, method: str, form: str = "models", **spec_kwargs: Any) -> tuple[Outcome, Outcome]:
    """Run ``method`` on both sides with kwargs built from specs (subject: our models or REST dicts)."""
    oracle_kwargs = build(spec_kwargs, qm)
    subject_kwargs = to_rest(spec_kwargs) if form == "rest" else build(spec_kwargs, lm)
    expected = run(lambda: getattr(twin.oracle, method)(twin.name, **oracle_kwargs))
    actual = run(lambda: getattr(twin.subject, method)(twin.name, **subject_kwargs))
    return expected, actual


# Messages where local mode leaks an implementation detail (numpy) and we say something clearer;
# only the builtin error class is compared for them.
_LEAKY_MESSAGES = ("not aligned", "could not broadcast", "operands could not", "shapes (")


def assert_same_error(expected: BaseException, actual: BaseException) -> None:
    eb, ab = builtin_base(expected), builtin_base(actual)
    assert eb is ab, f"error class differs: oracle {expected!r} vs subject {actual!r}"
    if any(fragment in str(expected) for fragment in _LEAKY_MESSAGES):
        return
    assert str(expected) == str(actual), f"error message differs:\n  oracle:  {expected}\n  subject: {actual}"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def assert_same_points(
    expected: list[Any], actual: list[Any], *, limit: int | None, exact_order: bool = False, offset: int = 0
) -> None:
    """Scored points agree: scores (within 1e-5) position by position, payloads exactly, vectors
    within 1e-5, ids in the same order - except among (near-)equal scores, whose order qdrant-client
    leaves to numpy's unstable sort: those groups must hold the same ids, and a group cut by the
    limit (or the offset) only the same number of them."""
    e = [plain(p) for p in expected]
    a = [plain(p) for p in actual]
    e_ids, a_ids = [p["id"] for p in e], [p["id"] for p in a]
    assert len(e) == len(a), f"result length {len(e)} != {len(a)}\n  oracle:  {_brief(e)}\n  subject: {_brief(a)}"
    for i, (pe, pa) in enumerate(zip(e, a)):
        assert _close(pe["score"], pa["score"]), (
            f"score [{i}] {pe['score']} != {pa['score']}\n  oracle:  {_brief(e)}\n  subject: {_brief(a)}"
        )
        assert pe.get("order_value") == pa.get("order_value") or (
            pe.get("order_value") is not None and _close(pe["order_value"], pa["order_value"])
        ), f"order_value [{i}]"
    if exact_order:
        assert e_ids == a_ids, f"ids differ\n  oracle:  {_brief(e)}\n  subject: {_brief(a)}"
    else:
        groups = _tie_groups([p["score"] for p in e])
        truncated = limit is not None and len(e) >= limit
        for number, (start, end) in enumerate(groups):
            cut = (number == len(groups) - 1 and truncated) or (number == 0 and offset > 0)
            if cut:
                continue
            assert sorted(map(str, e_ids[start:end])) == sorted(map(str, a_ids[start:end])), (
                f"ids differ at [{start}:{end}]\n  oracle:  {_brief(e)}\n  subject: {_brief(a)}"
            )
    by_id = {str(p["id"]): p for p in a}
    for pe in e:
        pa = by_id.get(str(pe["id"]))
        if pa is None:
            continue  # a tied point the limit cut differently
        assert pe["payload"] == pa["payload"], f"payload of {pe['id']}: {pe['payload']} != {pa['payload']}"
        _assert_vectors_close(pe["vector"], pa["vector"], pe["id"])


def _assert_vectors_close(expected: Any, actual: Any, point: Any) -> None:
    if isinstance(expected, float) or isinstance(actual, float):
        assert _close(float(expected), float(actual)), f"vector of {point}: {expected} != {actual}"
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(expected) == len(actual), (
            f"vector of {point}: {expected} != {actual}"
        )
        for x, y in zip(expected, actual):
            _assert_vectors_close(x, y, point)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and expected.keys() == actual.keys(), (
            f"vector of {point}: {expected} != {actual}"
        )
        for key in expected:
            _assert_vectors_close(expected[key], actual[key], point)
    else:
        assert expected == actual, f"vector of {point}: {expected!r} != {actual!r}"


def _tie_groups(scores: list[float]) -> list[tuple[int, int]]:
    groups, start = [], 0
    for i in range(1, len(scores) + 1):
        if i == len(scores) or not _close(scores[i], scores[i - 1]):
            groups.append((start, i))
            start = i
    return groups


def _brief(points: list[dict[str, Any]]) -> str:
    return ", ".join(f"{p['id']}:{p['score']:.6g}" for p in points)


def assert_same_outcome(expected: Outcome, actual: Outcome, compare: Callable[[Any, Any], None]) -> None:
    if expected.error is not None or actual.error is not None:
        if expected.error is None:
            raise AssertionError(
                f"subject raised {actual.error!r}; oracle returned {expected.value!r}"
            ) from actual.error
        if actual.error is None:
            raise AssertionError(f"oracle raised {expected.error!r}; subject returned {actual.value!r}")
        assert_same_error(expected.error, actual.error)
        return
    compare(expected.value, actual.value)
