"""``qdrant-local pull URL DIR``: copy collections from a Qdrant server into a folder."""

from __future__ import annotations

import argparse
import sys

from ._common import open_folder, report, server_client
from .migrate import add_transfer_arguments, on_existing

HELP = "copy collections (config, payload indexes, aliases, metadata, points) from a Qdrant server into a folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="the server, e.g. http://localhost:6333 (REST)")
    parser.add_argument("path", metavar="DIR", help="the qdrant_local folder to copy into (created if missing)")
    add_transfer_arguments(parser)


def run(args: argparse.Namespace) -> int:
    def pull() -> int:
        from ..transfer.copy import copy_collections

        remote = server_client(args.url, args.api_key)
        try:
            with open_folder(args.path) as local:
                counts = copy_collections(
                    remote,
                    local,
                    args.collection,
                    batch_size=args.batch_size,
                    on_existing=on_existing(args),
                    show_progress=True,
                )
        finally:
            remote.close()
        for name, count in counts.items():
            print(f"{name}: {count} points in {args.path} (counts match)", file=sys.stderr)
        return 0

    return report(pull)
