"""Run the same request on the oracle and the subject, and compare what comes back.

* :class:`Side` names a client class plus the models module its requests are built with.
  The oracle is ``qdrant_client.QdrantClient(":memory:")`` with ``qdrant_client.models``; the
  subject is ``qdrant_local`` (or the oracle again, ``QDRANT_LOCAL_DIFF_SUBJECT=oracle``, to check
  the harness itself).
* :func:`plain` turns any result (qdrant_client pydantic models, qdrant_local models, numpy values,
  enums) into plain Python data, reading only the fields the qdrant_client model of the same name
  has, so both sides are compared field by field.
* :func:`assert_same` compares plain data with strict JSON typing (``1``, ``1.0`` and ``True``
  differ) and a float tolerance that only vectors get.
* :class:`Pair` holds one client of each side and checks a call on both: same result, or same
  builtin error class and message.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np
import qdrant_client
from qdrant_client import models as qc_models

from .specs import build

VECTOR_TOLERANCE = 1e-5
SUBJECT_ENV = "QDRANT_LOCAL_DIFF_SUBJECT"


def examples(n: int) -> int:
    """A test's example budget, multiplied by ``QDRANT_LOCAL_DIFF_SCALE`` (bug hunting runs)."""
    scale = float(os.environ.get("QDRANT_LOCAL_DIFF_SCALE", "1"))
    if os.environ.get("QDRANT_LOCAL_STRESS"):
        scale = max(scale, 10.0)
    return max(1, int(n * scale))


# --------------------------------------------------------------------------------------------
# Sides
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """A client implementation and the models module its requests are built from."""

    name: str
    client_cls: type
    models: ModuleType

    def client(self) -> Any:
        """A fresh in-memory client."""
        return self.client_cls(":memory:")


ORACLE = Side("oracle", qdrant_client.QdrantClient, qc_models)


def subject_name() -> str:
    """Which implementation is under test: ``qdrant_local`` unless the env var says ``installed`` or ``oracle``."""
    return os.environ.get(SUBJECT_ENV, "qdrant_local")


def subject_side() -> Side:
    """The subject side; ``oracle`` runs the harness against itself (every test must pass)."""
    name = subject_name()
    if name == "oracle":
        return Side("oracle-as-subject", qdrant_client.QdrantClient, qc_models)
    if name == "installed":  # qdrant-client's own client with qdrant_local as its engine (install())
        import qdrant_local

        qdrant_local.install()
        return Side("installed", qdrant_client.QdrantClient, qc_models)
    if name != "qdrant_local":
        raise ValueError(f"{SUBJECT_ENV} must be 'qdrant_local', 'installed' or 'oracle', got {name!r}")
    import qdrant_local
    from qdrant_local import models as ql_models

    return Side("qdrant_local", qdrant_local.QdrantClient, ql_models)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def _model_fields(obj: Any) -> list[str] | None:
    """Field names of the qdrant_client model that has the same class name as ``obj``."""
    reference = getattr(qc_models, type(obj).__name__, None)
    fields = getattr(reference, "model_fields", None)
    if fields is not None:
        return list(fields)
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    if hasattr(type(obj), "model_fields"):
        return list(type(obj).model_fields)
    return None


def plain(value: Any) -> Any:
    """Plain Python data (dict/list/str/int/float/bool/None) for any result value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, enum.Enum):
            return value.value
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {plain_key(k): plain(v) for k, v in value.items()}
    fields = _model_fields(value)
    if fields is None:
        raise TypeError(f"don't know how to compare a {type(value).__qualname__}: {value!r}")
    return {name: plain(getattr(value, name, None)) for name in fields}


def plain_key(key: Any) -> Any:
    """Dict keys stay as they are, except enums and UUIDs."""
    if isinstance(key, enum.Enum):
        return key.value
    if isinstance(key, uuid.UUID):
        return str(key)
    return key


def _type_tag(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def differences(expected: Any, actual: Any, tol: float = 0.0, path: str = "$") -> list[str]:
    """Every difference between two plain values; floats within ``tol`` (abs and rel) are equal."""
    te, ta = _type_tag(expected), _type_tag(actual)
    if te != ta:
        # A float result may legitimately come back as an int-valued float from one side and an
        # int from the other only inside vectors, where tol > 0; payloads must keep JSON types.
        if tol > 0 and {te, ta} == {"int", "float"}:
            te = ta = "float"
        else:
            return [f"{path}: type {te} ({expected!r}) != {ta} ({actual!r})"]
    if te == "float":
        if expected == actual or (tol > 0 and math.isclose(expected, actual, rel_tol=tol, abs_tol=tol)):
            if tol == 0 and math.copysign(1, expected) != math.copysign(1, actual):
                return [f"{path}: {expected!r} != {actual!r} (sign of zero)"]
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    if te == "list":
        out = []
        if len(expected) != len(actual):
            out.append(f"{path}: length {len(expected)} != {len(actual)}: {expected!r} vs {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(differences(e, a, tol, f"{path}[{i}]"))
        return out
    if te == "dict":
        out = []
        for k in expected.keys() - actual.keys():
            out.append(f"{path}.{k}: missing in subject (oracle has {expected[k]!r})")
        for k in actual.keys() - expected.keys():
            out.append(f"{path}.{k}: extra in subject ({actual[k]!r})")
        for k in expected.keys() & actual.keys():
            out.extend(differences(expected[k], actual[k], tol, f"{path}.{k}"))
        return out
    if expected != actual:
        return [f"{path}: {expected!r} != {actual!r}"]
    return []


def assert_same(expected: Any, actual: Any, tol: float = 0.0, what: str = "result") -> None:
    """Assert two plain values are equal (see :func:`differences`)."""
    diffs = differences(expected, actual, tol)
    if diffs:
        shown = "\n  ".join(diffs[:20])
        raise AssertionError(f"{what} differs (oracle vs subject):\n  {shown}")


def record_plain(record: Any) -> dict[str, Any]:
    """The comparable part of a Record: id, payload, vector, order_value."""
    data = plain(record)
    return {k: data.get(k) for k in ("id", "payload", "vector", "order_value")}


def assert_same_records(expected: list[Any], actual: list[Any], what: str = "records") -> None:
    """Records in the same order, payloads exactly equal, vectors within tolerance."""
    e = [record_plain(r) for r in expected]
    a = [record_plain(r) for r in actual]
    assert_same([r["id"] for r in e], [r["id"] for r in a], what=f"{what} ids")
    for i, (re_, ra) in enumerate(zip(e, a)):
        assert_same(re_["payload"], ra["payload"], what=f"{what}[{i}] (id {re_['id']}) payload")
        assert_same(re_["vector"], ra["vector"], tol=VECTOR_TOLERANCE, what=f"{what}[{i}] (id {re_['id']}) vector")
        assert_same(re_["order_value"], ra["order_value"], what=f"{what}[{i}] order_value")


def assert_same_scroll(expected: Any, actual: Any, what: str = "scroll") -> None:
    """A scroll result: (records, next_page_offset)."""
    assert isinstance(actual, tuple) and len(actual) == 2, f"{what}: expected a 2-tuple, got {actual!r}"
    assert_same_records(expected[0], actual[0], what=f"{what} records")
    assert_same(plain(expected[1]), plain(actual[1]), what=f"{what} next_page_offset")


def collection_info_essentials(info: Any) -> dict[str, Any]:
    """The parts of CollectionInfo local mode fills with real data."""
    data = plain(info)
    params = data["config"]["params"]

    def vector_params(p: Any) -> Any:
        if p is None:
            return None
        if "size" in p:  # a single VectorParams
            multi = p.get("multivector_config")
            return {"size": p["size"], "distance": p["distance"], "multivector_config": multi}
        return {name: vector_params(v) for name, v in p.items()}

    sparse = params.get("sparse_vectors")
    return {
        "status": data["status"],
        "points_count": data["points_count"],
        "vectors": vector_params(params["vectors"]),
        "sparse_vectors": (
            None if sparse is None else {n: {"modifier": (v or {}).get("modifier")} for n, v in sparse.items()}
        ),
        "metadata": data["config"].get("metadata"),
    }


# --------------------------------------------------------------------------------------------
# Errors and outcomes
# --------------------------------------------------------------------------------------------


def builtin_base(exc: BaseException) -> type:
    """The first builtin exception class in ``type(exc).__mro__`` (KeyError, ValueError, ...)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    raise AssertionError(f"{type(exc)} has no builtin base")  # pragma: no cover


def _is_pydantic_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("pydantic")


@dataclass
class Outcome:
    """A call's result or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    def unwrap(self) -> Any:
        """The value, re-raising the error."""
        if self.error is not None:
            raise self.error
        return self.value


def run(fn: Callable[[], Any]) -> Outcome:
    """Call ``fn`` and capture its outcome (AssertionError included: it is local mode's error)."""
    try:
        return Outcome(value=fn())
    except Exception as exc:  # noqa: BLE001 - every error is part of the comparison
        return Outcome(error=exc)


def assert_same_error(expected: BaseException, actual: BaseException, compare_message: bool = True) -> None:
    """Same builtin base class; same message when local mode's message is meaningful."""
    eb, ab = builtin_base(expected), builtin_base(actual)
    assert eb is ab, (
        f"error class differs: oracle {type(expected).__name__}({expected}) [{eb.__name__}] vs "
        f"subject {type(actual).__name__}({actual}) [{ab.__name__}]"
    )
    # pydantic and raw numpy messages are implementation noise; KeyError messages are a
    # deliberate deviation (the point id, not a repr of it).
    if compare_message and not _is_pydantic_error(expected) and eb is not KeyError:
        assert str(expected) == str(actual), f"error message differs:\n  oracle:  {expected}\n  subject: {actual}"


def assert_same_outcome(
    expected: Outcome,
    actual: Outcome,
    compare: Callable[[Any, Any], None] | None = None,
    compare_message: bool = True,
    what: str = "result",
) -> None:
    """Both raised the same kind of error, or both returned equal values."""
    if expected.error is not None or actual.error is not None:
        if expected.error is None:
            raise AssertionError(
                f"{what}: subject raised {actual.error!r}, oracle returned {expected.value!r}"
            ) from actual.error
        if actual.error is None:
            raise AssertionError(f"{what}: oracle raised {expected.error!r}, subject returned {actual.value!r}")
        assert_same_error(expected.error, actual.error, compare_message)
        return
    if compare is not None:
        compare(expected.value, actual.value)
    else:
        assert_same(plain(expected.value), plain(actual.value), what=what)


# --------------------------------------------------------------------------------------------
# A pair of clients
# --------------------------------------------------------------------------------------------


class Pair:
    """One oracle client and one subject client receiving the same requests."""

    def __init__(self, subject: Side) -> None:
        self.subject_side = subject
        self.oracle = ORACLE.client()
        self.subject = subject.client()

    def close(self) -> None:
        """Close both clients."""
        self.oracle.close()
        self.subject.close()

    def __enter__(self) -> Pair:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def run(self, method: str, *args: Any, **kwargs: Any) -> tuple[Outcome, Outcome]:
        """Call ``method`` with spec arguments built for each side; capture both outcomes."""

        def call(client: Any, models: ModuleType) -> Outcome:
            built_args = build(list(args), models)
            built_kwargs = build(kwargs, models)
            return run(lambda: getattr(client, method)(*built_args, **built_kwargs))

        return call(self.oracle, ORACLE.models), call(self.subject, self.subject_side.models)

    def check(
        self,
        method: str,
        *args: Any,
        compare: Callable[[Any, Any], None] | None = None,
        compare_message: bool = True,
        **kwargs: Any,
    ) -> Outcome:
        """Run ``method`` on both and assert the outcomes agree; return the oracle's outcome."""
        if compare is None:
            compare = default_comparison(method)
        expected, actual = self.run(method, *args, **kwargs)
        assert_same_outcome(expected, actual, compare, compare_message, what=method)
        return expected

    def assert_same_state(self, collection_name: str) -> None:
        """Full scroll (payloads and vectors), count and points_count agree."""
        self.check("scroll", collection_name, limit=1_000_000, with_payload=True, with_vectors=True)
        self.check("count", collection_name)
        expected = self.oracle.get_collection(collection_name)
        actual = self.subject.get_collection(collection_name)
        assert_same(
            collection_info_essentials(expected),
            collection_info_essentials(actual),
            what="get_collection",
        )


def default_comparison(method: str) -> Callable[[Any, Any], None] | None:
    """How a method's results are compared."""
    if method == "scroll":
        return assert_same_scroll
    if method == "retrieve":
        return assert_same_records
    if method == "get_collection":
        return lambda e, a: assert_same(
            collection_info_essentials(e), collection_info_essentials(a), what="get_collection"
        )
    if method in ("get_collections",):
        return lambda e, a: assert_same(
            sorted(c["name"] for c in plain(e)["collections"]),
            sorted(c["name"] for c in plain(a)["collections"]),
            what=method,
        )
    if method in ("get_aliases", "get_collection_aliases"):
        return lambda e, a: assert_same(
            sorted((x["alias_name"], x["collection_name"]) for x in plain(e)["aliases"]),
            sorted((x["alias_name"], x["collection_name"]) for x in plain(a)["aliases"]),
            what=method,
        )
    return None
