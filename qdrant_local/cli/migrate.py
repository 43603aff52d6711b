"""``qdrant-local migrate DIR --url URL``: copy a folder's collections to a Qdrant server."""

from __future__ import annotations

import argparse
import sys
from typing import Literal

from ._common import open_folder, report, server_client

HELP = "copy collections (config, payload indexes, aliases, metadata, points) to a Qdrant server"


def add_transfer_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``pull``."""
    parser.add_argument("--api-key", metavar="KEY", help="the server's API key")
    parser.add_argument("--collection", action="append", metavar="C", help="copy only this collection (repeatable)")
    parser.add_argument(
        "--batch-size", type=int, default=256, metavar="N", help="points per page and request (default 256)"
    )
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument(
        "--resume",
        action="store_true",
        help="continue into collections that already exist on the destination, writing only the points it lacks",
    )
    existing.add_argument(
        "--recreate", action="store_true", help="delete collections that exist on the destination first"
    )


def on_existing(args: argparse.Namespace) -> Literal["fail", "recreate", "resume"]:
    return "resume" if args.resume else "recreate" if args.recreate else "fail"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="the qdrant_local folder to copy from")
    parser.add_argument("--url", required=True, help="the server, e.g. http://localhost:6333 (REST)")
    add_transfer_arguments(parser)


def copy_with_server(args: argparse.Namespace, *, to_server: bool) -> int:
    """Copy between the folder and the server (either way) and print the verified counts."""

    def copy() -> int:
        from ..transfer.copy import copy_collections

        remote = server_client(args.url, args.api_key)
        try:
            with open_folder(args.path, read_only=to_server) as local:
                source, destination = (local, remote) if to_server else (remote, local)
                counts = copy_collections(
                    source,
                    destination,
                    args.collection,
                    batch_size=args.batch_size,
                    on_existing=on_existing(args),
                    show_progress=True,
                )
        finally:
            remote.close()
        where = f"on {args.url}" if to_server else f"in {args.path}"
        for name, count in counts.items():
            print(f"{name}: {count} points {where} (counts match)", file=sys.stderr)
        return 0

    return report(copy)


def run(args: argparse.Namespace) -> int:
    return copy_with_server(args, to_server=True)
