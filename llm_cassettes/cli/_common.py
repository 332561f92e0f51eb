"""What every command shares: help layout, the colour option, error lines."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any

__all__ = [
    "FORMATTER",
    "TOO_DEEP",
    "Subparsers",
    "add_color_option",
    "epilog",
    "print_error",
    "print_file_error",
]

FORMATTER = argparse.RawDescriptionHelpFormatter

#: Subparsers as ``ArgumentParser.add_subparsers`` returns them.
Subparsers = Any

#: Shown for a file whose nesting exhausted the stack (a safety net: the loader bounds it).
TOO_DEEP = "nested too deeply to be read"


def epilog(examples: str, exits: str) -> str:
    """A command's ``--help`` ending: examples, then what its exit codes mean."""
    return f"examples:\n{textwrap.indent(textwrap.dedent(examples).strip(), '  ')}\n\n{exits}"


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
