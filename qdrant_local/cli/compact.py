"""``qdrant-local compact DIR``: rewrite a folder as one snapshot and an empty log."""

from __future__ import annotations

import argparse
import os

from ._common import existing_folder, mib, open_folder, report

HELP = "rewrite a folder's storage as one snapshot and an empty log (reclaims space of old writes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="DIR", help="a qdrant_local folder (no other client may have it open)")


def _size(path: str) -> int:
    return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file() and not entry.name.startswith("."))


def run(args: argparse.Namespace) -> int:
    def compact() -> int:
        existing_folder(args.path)
        before = _size(args.path)
        with open_folder(args.path) as client:
            client.compact()
        print(f"{args.path}: {mib(before)} -> {mib(_size(args.path))}")
        return 0

    return report(compact)
