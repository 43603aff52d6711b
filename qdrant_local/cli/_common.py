"""Helpers shared by the subcommands: opening folders and servers, reporting failures."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..errors import QdrantLocalError

# Modules whose exceptions mean "the server said no or could not be reached", not a bug of ours.
_CLIENT_MODULES = ("qdrant_client", "httpx", "httpcore")


class CommandError(Exception):
    """A failure to report as ``error: ...`` with exit code 1 (no traceback)."""


def existing_folder(path: str) -> str:
    """``path`` if it is a folder; a CommandError otherwise (reading commands never create one)."""
    if not os.path.isdir(path):
        raise CommandError(f"{path} is not a folder")
    return path


def open_folder(path: str, *, read_only: bool = False) -> Any:
    """A qdrant_local client on the folder ``path``."""
    from .. import QdrantClient

    if read_only:
        return QdrantClient(path=existing_folder(path), read_only=True)
    return QdrantClient(path=path)


def server_client(url: str, api_key: str | None, timeout: int = 60) -> Any:
    """qdrant-client's REST client for ``url`` (CommandError when qdrant-client is not installed)."""
    try:
        from qdrant_client import QdrantClient as RemoteClient
    except ImportError:
        raise CommandError(
            "this command talks to a Qdrant server through qdrant-client, which is not installed: "
            "pip install 'qdrant-local[transfer]'"
        ) from None
    return RemoteClient(url=url, api_key=api_key, timeout=timeout, prefer_grpc=False, check_compatibility=False)


def report(run: Any) -> int:
    """Run ``run()`` and turn expected failures into a one-line message on stderr and exit code 1."""
    try:
        return int(run() or 0)
    except (CommandError, QdrantLocalError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"error: {exc} (pip install 'qdrant-local[transfer]')", file=sys.stderr)
        return 1
    except Exception as exc:
        if not type(exc).__module__.startswith(_CLIENT_MODULES):
            raise
        # qdrant-client's errors: the server answered with an error, or could not be reached.
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def mib(size: int) -> str:
    """A byte count for people."""
    return f"{size / (1 << 20):.2f} MiB" if size >= 1 << 20 else f"{size / 1024:.1f} KiB"
