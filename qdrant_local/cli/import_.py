"""``qdrant-local import DIR FILE``: load an export (``qdrant-local export``) into a folder."""

from __future__ import annotations

import argparse
import sys

from ._common import open_folder, report

HELP = "import a file written by `qdrant-local export` into a folder (its collections must not exist there)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="a qdrant_local folder (created if missing)")
    parser.add_argument("file", metavar="FILE", help="the export file, or - for standard input")
    parser.add_argument(
        "--batch-size", type=int, default=1000, metavar="N", help="points written per request (default 1000)"
    )


def run(args: argparse.Namespace) -> int:
    def load() -> int:
        from ..transfer.export_format import import_export

        with open_folder(args.path) as client:
            if args.file == "-":
                counts = import_export(client, sys.stdin, batch_size=args.batch_size)
            else:
                with open(args.file, encoding="utf-8") as lines:
                    counts = import_export(client, lines, batch_size=args.batch_size)
        summary = ", ".join(f"{name}: {count} points" for name, count in counts.items()) or "no collections"
        print(f"imported {summary}", file=sys.stderr)
        return 0

    return report(load)
