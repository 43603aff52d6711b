"""The test tree keeps the conventions of tests/README.md: packages everywhere, relative imports,
unique file names, and every test file (or its feature's directory) listed in the README."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TEST_FILES = sorted(TESTS.rglob("test_*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(TESTS).as_posix()


def test_every_test_directory_is_a_package() -> None:
    directories = {path.parent for path in TESTS.rglob("*.py")}
    missing = sorted(_relative(d) or "." for d in directories if not (d / "__init__.py").exists())
    assert not missing, f"add an __init__.py to: {missing}"


def test_test_file_names_are_unique() -> None:
    counts = Counter(path.name for path in TEST_FILES)
    assert not [name for name, count in counts.items() if count > 1], [
        _relative(p) for p in TEST_FILES if counts[p.name] > 1
    ]


def test_helpers_are_imported_relatively() -> None:
    areas = "|".join(sorted(d.name for d in TESTS.iterdir() if (d / "__init__.py").exists()))
    absolute = re.compile(rf"^\s*(from|import)\s+(tests|{areas})[.\s]", re.MULTILINE)
    offenders = [_relative(p) for p in sorted(TESTS.rglob("*.py")) if absolute.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"import test helpers relatively (from .helpers import ...): {offenders}"


def test_the_readme_maps_every_test_file() -> None:
    readme = (TESTS / "README.md").read_text(encoding="utf-8")
    unlisted = [
        _relative(p)
        for p in TEST_FILES
        if f"`{_relative(p)}`" not in readme and f"`{_relative(p.parent)}/`" not in readme
    ]
    assert not unlisted, f"list these in tests/README.md: {unlisted}"
