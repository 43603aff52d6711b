"""``qdrant-local pull URL DIR``: copy collections from a Qdrant server into a folder."""

from __future__ import annotations

import argparse

from .migrate import add_transfer_arguments, copy_with_server

HELP = "copy collections (config, payload indexes, aliases, metadata, points) from a Qdrant server into a folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="the server, e.g. http://localhost:6333 (REST)")
    parser.add_argument("path", metavar="DIR", help="the qdrant_local folder to copy into (created if missing)")
    add_transfer_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return copy_with_server(args, to_server=False)
