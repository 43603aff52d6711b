"""The pytest plugin, exercised by real inner pytest sessions (pytest's ``pytester``)."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import qdrant_local.api  # noqa: F401  (the inner sessions run in this process: C extensions such as

# numpy's must be imported out here, or pytester's module cleanup after one run breaks the next)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def _plugin_args() -> list[str]:
    """Load the plugin explicitly unless the installed distribution's entry point already does."""
    if any(ep.name == "qdrant_local" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "qdrant_local.pytest_plugin"]


def test_fixtures_give_fresh_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plugin_fixtures="""
        import os
        import qdrant_local

        def test_memory(qdrant_local_client):
            assert isinstance(qdrant_local_client, qdrant_local.QdrantClient)
            assert qdrant_local_client.get_collections().collections == []
            qdrant_local_client.create_collection("c", vectors_config={"size": 2, "distance": "Dot"})

        def test_memory_is_fresh_each_time(qdrant_local_client):
            assert not qdrant_local_client.collection_exists("c")

        def test_path(qdrant_local_path_client, tmp_path):
            qdrant_local_path_client.create_collection("c", vectors_config={"size": 2, "distance": "Dot"})
            assert os.listdir(tmp_path / "qdrant")
        """
    )
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_async_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plugin_async="""
        import asyncio
        import qdrant_local

        def test_async(qdrant_local_async_client):
            client = qdrant_local_async_client
            assert type(client).__name__ == "AsyncQdrantClient"

            async def use():
                await client.create_collection("c", vectors_config={"size": 2, "distance": "Dot"})
                return await client.collection_exists("c")

            assert asyncio.run(use())
        """
    )
    result = pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider", "-rs")
    import qdrant_local

    if not hasattr(qdrant_local, "AsyncQdrantClient"):
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["*has no AsyncQdrantClient*"])
    else:
        result.assert_outcomes(passed=1)


INSTALLED_CHECK = """
import qdrant_client

def test_engine():
    engine = type(qdrant_client.QdrantClient(":memory:")._client).__module__
    assert engine.startswith("{prefix}"), engine
"""


@pytest.mark.parametrize("how", ["option", "ini"])
def test_session_runs_on_qdrant_local(pytester: pytest.Pytester, how: str) -> None:
    pytest.importorskip("qdrant_client.local.qdrant_local")
    from qdrant_local._compat.install import is_installed

    pytester.makepyfile(test_plugin_installed=INSTALLED_CHECK.format(prefix="qdrant_local."))
    args = [*_plugin_args(), "-p", "no:cacheprovider"]
    if how == "option":
        args.append("--qdrant-local")
    else:
        pytester.makeini("[pytest]\nqdrant_local = true\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["qdrant_local: installed*"])
    assert not is_installed()  # the session's end undid it


def test_without_the_option_local_mode_is_untouched(pytester: pytest.Pytester) -> None:
    pytest.importorskip("qdrant_client.local.qdrant_local")
    pytester.makepyfile(test_plugin_untouched=INSTALLED_CHECK.format(prefix="qdrant_client."))
    pytester.runpytest(*_plugin_args(), "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_entry_point_is_declared() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"qdrant_local": "qdrant_local.pytest_plugin"}
    installed = [ep for ep in entry_points(group="pytest11") if ep.name == "qdrant_local"]
    for ep in installed:  # when the distribution is installed (CI installs it), the entry point loads
        assert ep.load().__name__ == "qdrant_local.pytest_plugin"
