"""The layers depend one way: api -> query -> engine -> storage, all over (errors, ids, models).

Every module of the package is parsed (imports inside functions count too) and each import is
checked against the layer it comes from, so an upward import fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "qdrant_local"

# layer -> the layers it must never import
FORBIDDEN = {
    "storage": {"engine", "query", "api"},
    "engine": {"query", "api"},
    "query": {"api"},
    "models": {"engine", "query", "api", "storage"},
    "errors": {"engine", "query", "api", "storage", "models"},
    "ids": {"engine", "query", "api", "storage", "models"},
    "_access": {"engine", "query", "api", "storage"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module of the package."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import x`` may name a submodule: count it as ``package.x``.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "qdrant_local" else None


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_no_upward_import(path: Path) -> None:
    layer = _layer(_module_name(path))
    forbidden = FORBIDDEN.get(layer or "", set())
    upward = [f"line {line}: {name}" for line, name in _imported(path) if _layer(name) in forbidden]
    assert not upward, f"{_module_name(path)} ({layer}) imports a higher layer: {upward}"


def test_the_walk_sees_relative_imports() -> None:
    """The checker itself: a relative import resolves to the module it names."""
    names = [name for _, name in _imported(PACKAGE / "engine" / "vectors.py")]
    assert "qdrant_local.engine.sparse.SparseIndex" in names
    assert "qdrant_local.errors.InvalidVector" in names


def test_transfer_description_reads_through_the_facade() -> None:
    """A collection's definition comes from the client's facade query, not from engine internals."""
    source = (PACKAGE / "transfer" / "description.py").read_text(encoding="utf-8")
    assert "_database" not in source and ".config.raw" not in source
    assert "_describe_collection" in source
