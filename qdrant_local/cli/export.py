"""``qdrant-local export DIR``: write collections as JSON lines (see qdrant_local.transfer.export_format)."""

from __future__ import annotations

import argparse
import sys

from ._common import open_folder, report

HELP = "export collections as JSON lines: a header line per collection, then one line per point"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="a qdrant_local folder")
    parser.add_argument("--collection", action="append", metavar="C", help="export only this collection (repeatable)")
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--batch-size", type=int, default=1000, metavar="N", help="points read per page (default 1000)")


def run(args: argparse.Namespace) -> int:
    def export() -> int:
        from ..transfer.export_format import export_collections

        with open_folder(args.path, read_only=True) as client:
            if args.out is None:
                counts = export_collections(client, sys.stdout, args.collection, batch_size=args.batch_size)
            else:
                with open(args.out, "w", encoding="utf-8") as out:
                    counts = export_collections(client, out, args.collection, batch_size=args.batch_size)
        summary = ", ".join(f"{name}: {count} points" for name, count in counts.items()) or "no collections"
        print(f"exported {summary}", file=sys.stderr)
        return 0

    return report(export)
