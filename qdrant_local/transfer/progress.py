"""Progress bars for long transfers: tqdm on a terminal, silence otherwise (or without tqdm)."""

from __future__ import annotations

import sys
from typing import Any


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, description: str, *, enabled: bool = True) -> Any:
    """A bar with ``update(n)`` and ``close()``; tqdm's when installed and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:  # the `cli` extra is not installed: no bar, same results
        return _Silent()
    return tqdm(total=total, desc=description, unit="pt", unit_scale=True, leave=True, file=sys.stderr)
