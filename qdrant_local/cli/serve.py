"""``qdrant-local serve``: Qdrant's HTTP REST API over a folder (needs ``qdrant-local[server]``)."""

from __future__ import annotations

import argparse
import sys

HELP = "serve Qdrant's HTTP REST API over a folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", required=True, help="the qdrant_local folder to serve (created if missing)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=6333, help="port to listen on (default: 6333)")
    parser.add_argument("--api-key", default=None, help="require this key in the api-key header")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help=(
            "refuse every write request (403); the folder is followed without its lock, "
            "so another process may write to it"
        ),
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--access-log", action="store_true", help="log every request")


def run(args: argparse.Namespace) -> int:
    try:
        from ..server import serve
    except ImportError as exc:
        print(f"qdrant-local serve needs the server extra: pip install 'qdrant-local[server]' ({exc})", file=sys.stderr)
        return 2
    try:
        serve(
            args.path,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            read_only=args.read_only,
            log_level=args.log_level,
            access_log=args.access_log,
        )
    except RuntimeError as exc:  # the folder is locked by another process, or damaged
        print(f"qdrant-local serve: {exc}", file=sys.stderr)
        return 1
    return 0
