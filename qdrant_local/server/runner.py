"""Run the REST API over a folder under uvicorn until Ctrl-C or SIGTERM, then close the folder."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import uvicorn

from .app import create_app

__all__ = ["open_folder", "serve"]


class _Stop(Exception):
    """Raised in the main thread by SIGINT/SIGTERM once uvicorn has finished its graceful shutdown."""


def open_folder(path: str, read_only: bool = False) -> Any:
    """Open ``path`` with qdrant_local: as the writer (holding the folder's lock), or read-only.

    Read-only opens follow the folder without its lock, so another process may keep writing to it;
    the server refuses write requests itself.
    """
    from .. import QdrantClient

    if read_only:
        return QdrantClient(path=path, read_only=True)
    return QdrantClient(path=path)


def serve(
    path: str,
    host: str = "127.0.0.1",
    port: int = 6333,
    api_key: str | None = None,
    read_only: bool = False,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Serve Qdrant's REST API over the folder ``path`` until interrupted.

    The process holds the folder's lock while it runs. SIGINT and SIGTERM stop accepting requests,
    let the ones in flight finish, and close the folder (every acknowledged write is on disk).
    """
    client = open_folder(path, read_only)
    try:
        app = create_app(client, api_key=api_key, read_only=read_only)
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log, lifespan="off")
        server = uvicorn.Server(config)
        # uvicorn handles the signals itself, then re-raises them with the handlers it found installed:
        # ours turn that into an exception here, so the folder is closed before the process exits.
        previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.run()
        except _Stop:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        client.close()


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)
