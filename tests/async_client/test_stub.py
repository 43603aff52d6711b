"""The typing stub of AsyncQdrantClient (``qdrant_local/api/async_client.pyi``) is current and usable.

The async class is generated at import time, so type checkers read its stub; the stub is generated too
(``tools/generate_async_stub.py``). It must equal what the generator makes from the class now,
and mypy, checking user code against it, must find the methods, their parameters and results.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from ..persistence.helpers import child_env

GENERATOR = Path(__file__).resolve().parents[2] / "tools" / "generate_async_stub.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_async_stub", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stub_matches_the_class() -> None:
    generator = load_generator()
    assert generator.TARGET.read_text() == generator.render(), (
        "qdrant_local/api/async_client.pyi is stale: run python tools/generate_async_stub.py"
    )


USER_CODE = textwrap.dedent(
    """
    from typing import Any

    from qdrant_local import AsyncQdrantClient, models


    async def main() -> None:
        async with AsyncQdrantClient(":memory:", metadata={"from": "a framework"}) as client:
            done: models.UpdateResult = await client.upsert("c", [models.PointStruct(id=1, vector=[1.0])])
            count: int = (await client.count("c")).count
            client.upload_points("c", [])
            options: dict[str, Any] = client.init_options
            models_known: dict[str, Any] = await AsyncQdrantClient.list_text_models()
            wrong: str = await client.collection_exists("c")
            await client.no_such_method()
            await client.count("c", no_such_argument=1)
            print(done, count, options, models_known, wrong)
    """
)


def test_mypy_checks_user_code_against_the_stub(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    (tmp_path / "use.py").write_text(USER_CODE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--follow-imports=silent",
            "--ignore-missing-imports",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--hide-error-context",
            "--no-error-summary",
            "use.py",
        ],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    errors = sorted(line.split(": error: ")[1] for line in result.stdout.splitlines() if ": error: " in line)
    assert errors == [
        '"AsyncQdrantClient" has no attribute "no_such_method"  [attr-defined]',
        'Incompatible types in assignment (expression has type "bool", variable has type "str")  [assignment]',
        'Unexpected keyword argument "no_such_argument" for "count" of "AsyncQdrantClient"  [call-arg]',
    ], result.stdout + result.stderr
