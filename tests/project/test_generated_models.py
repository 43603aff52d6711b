"""qdrant_local/models/_generated.py is exactly what tools/generate_models.py writes for the pinned
qdrant-client: regenerated to a string here and compared, so a hand edit or a client upgrade without
regenerating fails."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_models", ROOT / "tools" / "generate_models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_models_are_in_step() -> None:
    generator = _generator()
    committed = (ROOT / "qdrant_local" / "models" / "_generated.py").read_text(encoding="utf-8")
    assert generator.generate() == committed, "run: python tools/generate_models.py"
