"""What every command shares: help layout, the colour option, error lines."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

__all__ = [
    "TOO_DEEP",
    "Subparsers",
    "add_color_option",
    "add_command",
    "print_error",
    "print_file_error",
]

#: Subparsers as ``ArgumentParser.add_subparsers`` returns them.
Subparsers = Any

#: Shown for a file whose nesting exhausted the stack (a safety net: the loader bounds it).
TOO_DEEP = "nested too deeply to be read"


def add_command(
    subparsers: Subparsers, name: str, *, summary: str, description: str, examples: str, exits: str
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with examples, then what its exit codes mean."""
    examples = textwrap.indent(textwrap.dedent(examples).strip(), "  ")
    return subparsers.add_parser(  # type: ignore[no-any-return]
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"examples:\n{examples}\n\n{exits}",
    )


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour: auto (default) means only on a terminal and never with NO_COLOR set",
    )


def print_error(message: str) -> None:
    print(f"llm-cassettes: {message}", file=sys.stderr)


def print_file_error(message: str) -> None:
    """A per-file error, ``FILE: message`` (the message already starts with the file)."""
    print(message, file=sys.stderr)
