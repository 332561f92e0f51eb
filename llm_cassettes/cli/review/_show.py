"""``llm-cassettes show``: a cassette as a transcript, as a reviewer reads it."""

from __future__ import annotations

import argparse
import sys

from ..._errors import CassetteFormatError
from ...format import cassette_files
from .._common import TOO_DEEP, Subparsers, add_command, print_error, print_file_error
from ._render import Style, add_output_options, content_limit, render_markdown, render_text
from ._transcript import load_transcript

__all__ = ["add_show_command"]


def add_show_command(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "show",
        summary="print a cassette as a transcript",
        description=(
            "Print each interaction of a cassette as a reviewer reads it: endpoint and model,\n"
            "the messages sent (role, content, tool calls, tool results) and the answer.\n"
            "Streamed answers are assembled into their final text and tool calls. The\n"
            "cassette's provenance (recording date, SDK version, models) comes first."
        ),
        examples="""
            llm-cassettes show cassettes/tests/test_chat/test_answer.yaml
            llm-cassettes show --format markdown cassettes/tests/test_agent/*.yaml > comment.md
            llm-cassettes show --full cassettes/tests/test_rag/test_long_context.yaml
            """,
        exits="exit codes: 0 shown, 1 a cassette cannot be read (the error names the file and "
        "place), 2 bad usage",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="cassette file(s)")
    add_output_options(parser)
    parser.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    style = Style.for_stream(sys.stdout, args.color)
    limit = content_limit(args)
    status = 0
    shown = 0
    for found in cassette_files(args.paths):
        if found.error is not None:
            print_file_error(found.error)
            status = 1
            continue
        try:
            transcript = load_transcript(found.path, found.text)
            if args.format == "markdown":
                rendered = render_markdown(transcript, limit)
            else:
                rendered = render_text(transcript, style, limit)
        except CassetteFormatError as exc:
            print_file_error(str(exc))
            status = 1
            continue
        except RecursionError:  # a safety net: the loader already bounds nesting
            print_file_error(f"{found.path}: {TOO_DEEP}")
            status = 1
            continue
        if shown:
            print()
        shown += 1
        sys.stdout.write(rendered)
    if not shown and not status:
        print_error(f"no cassettes found in {' '.join(args.paths)}")
        return 1
    return status
