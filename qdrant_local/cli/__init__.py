"""The ``qdrant-local`` command line (also ``python -m qdrant_local``).

Each subcommand is a module of this package named in ``SUBCOMMANDS`` that defines ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int`` (the exit code). Modules are imported only when
their subcommand runs, except to build the parser, so optional extras load lazily inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import sys
from collections.abc import Sequence

SUBCOMMANDS: tuple[str, ...] = (
    "demo",
    "info",
    "compact",
    "export",
    "import",
    "migrate",
    "pull",
    "import-qdrant-client-folder",
    "serve",
)


def _module(name: str):
    module = name.replace("-", "_")
    if keyword.iskeyword(module):
        module += "_"  # `import` lives in import_.py
    return importlib.import_module(f"{__name__}.{module}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qdrant-local", description="An embedded Qdrant: tools for qdrant_local folders."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = _module(name)
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(_module(args.command).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
