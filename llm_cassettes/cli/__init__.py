"""The ``llm-cassettes`` command (also ``python -m llm_cassettes``).

Each group of subcommands lives in its own module exposing
``register(subparsers)``; this module only assembles them, so a new command
is a new module plus one line in :data:`COMMAND_MODULES`.

Exit codes: 0 success, 1 a problem was found or an operation failed,
2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "main"]

#: Modules that add subcommands. A module that is not there yet is skipped.
COMMAND_MODULES = ("llm_cassettes.cli.review", "llm_cassettes.migrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-cassettes",
        description="Review, check and migrate LLM cassettes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 ok, 1 problems found or an operation failed, 2 bad usage.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
