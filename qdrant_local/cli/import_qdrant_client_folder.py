"""``qdrant-local import-qdrant-client-folder SRC DIR``: convert a qdrant-client local-mode folder."""

from __future__ import annotations

import argparse
import sys

from ._common import CommandError, open_folder, report

HELP = (
    "convert a folder written by qdrant-client's local mode (QdrantClient(path=...)) into a qdrant_local folder; "
    "needs qdrant-client and unpickles the folder's points, so use it only on your own data"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SRC", help="the qdrant-client folder (read, never changed)")
    parser.add_argument("path", metavar="DIR", help="the qdrant_local folder to write (created if missing)")
    parser.add_argument(
        "--batch-size", type=int, default=1000, metavar="N", help="points written per request (default 1000)"
    )


def run(args: argparse.Namespace) -> int:
    def convert() -> int:
        try:
            import qdrant_client  # noqa: F401 - the pickled points name its classes
        except ImportError:
            raise CommandError(
                "reading a qdrant-client folder needs qdrant-client: pip install 'qdrant-local[transfer]'"
            ) from None
        from ..transfer.qdrant_client_folder import import_folder

        print(f"reading {args.source}: its points are unpickled (only do this with your own data)", file=sys.stderr)
        with open_folder(args.path) as client:
            counts = import_folder(args.source, client, batch_size=args.batch_size)
        for name, count in counts.items():
            print(f"{name}: {count} points", file=sys.stderr)
        return 0

    return report(convert)
