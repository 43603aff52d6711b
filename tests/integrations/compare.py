"""Compare results of qdrant-client's local mode and qdrant_local, value by value."""

from __future__ import annotations

import contextlib
import enum
import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

TOLERANCE = 1e-5


def plain(value: Any) -> Any:
    """Plain JSON-like data for a result: pydantic models, dataclasses, enums, numpy values."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "model_dump"):
        return plain(value.model_dump())
    if hasattr(value, "to_dict"):  # haystack Document
        return plain(value.to_dict())
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if hasattr(value, "__dict__"):
        return plain(vars(value))
    return value


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every difference between two plain values; floats equal within TOLERANCE."""
    if isinstance(expected, float) or isinstance(actual, float):
        numbers = isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        if numbers and math.isclose(expected, actual, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    if isinstance(expected, list) and isinstance(actual, list):
        out = [f"{path}: length {len(expected)} != {len(actual)}"] if len(expected) != len(actual) else []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: only one side has it" for k in expected.keys() ^ actual.keys()]
        for k in expected.keys() & actual.keys():
            out += differences(expected[k], actual[k], f"{path}.{k}")
        return out
    return [] if expected == actual and type(expected) is type(actual) else [f"{path}: {expected!r} != {actual!r}"]


def assert_same(expected: Any, actual: Any) -> None:
    """Assert that two results (qdrant-client local mode first) are the same, listing the differences."""
    diffs = differences(plain(expected), plain(actual))
    assert not diffs, "local mode vs qdrant_local:\n  " + "\n  ".join(diffs[:20])


@contextlib.contextmanager
def engine(mode: str) -> Iterator[None]:
    """Run the block on qdrant-client's own local mode (``"local"``) or with qdrant_local installed."""
    import qdrant_local
    from qdrant_local._compat.install import is_installed

    global _mode
    before, _mode = is_installed(), mode
    qdrant_local.install() if mode == "installed" else qdrant_local.uninstall()
    try:
        yield
    finally:
        qdrant_local.install() if before else qdrant_local.uninstall()
        _mode = None


_mode: str | None = None


def check_engine(client: Any) -> None:
    """Assert that a qdrant_client client a framework built runs on the engine of the current mode."""
    engine_module = type(client._client).__module__
    expected = "qdrant_local." if _mode == "installed" else "qdrant_client."
    assert engine_module.startswith(expected), (_mode, engine_module)


def assert_same_in_both(scenario: Callable[[], Any]) -> Any:
    """Run ``scenario`` on local mode and in installed mode; assert equal results; return them."""
    with engine("local"):
        expected = scenario()
    with engine("installed"):
        actual = scenario()
    assert_same(expected, actual)
    return actual
