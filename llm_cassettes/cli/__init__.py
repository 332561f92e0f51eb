"""The ``llm-cassettes`` command (also ``python -m llm_cassettes``).

Each command is one small ``add_*_command(subparsers)`` function next to the
code that runs it: ``review/`` (``show``, ``check``, ``diff``) and
``_migrate`` (``import-llama-stack``, ``upgrade``, over :mod:`llm_cassettes.migrate`).
A new command is such a function plus one line in :data:`COMMANDS`.

Exit codes: 0 success, 1 a problem was found or an operation failed,
2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ._common import Subparsers
from ._migrate import add_import_command, add_upgrade_command
from .review import add_check_command, add_diff_command, add_show_command

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, in the order ``--help`` lists them.
COMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    add_show_command,
    add_check_command,
    add_diff_command,
    add_import_command,
    add_upgrade_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-cassettes",
        description="Review, check and migrate LLM cassettes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 ok, 1 problems found or an operation failed, 2 bad usage.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
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
