"""Review commands: ``show``, ``check`` and ``diff``, for cassettes in pull requests.

A reviewer needs to see what the model was asked and answered, to know that
nothing secret or stale is committed, and what a re-recording changed. The
work lives in private modules (``_transcript``: cassette → conversation;
``_review_render``: terminal and Markdown; ``_review_check``; ``_review_diff``);
this module is the command-line surface only.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

from ..._errors import CassetteFormatError
from ...format._files import cassette_files, read_text
from . import _check as _review_check
from . import _diff as _review_diff
from . import _render as _review_render
from ._check import Problem
from ._render import DEFAULT_MAX_CHARS, Style
from ._transcript import load_transcript

__all__ = ["register"]

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _epilog(examples: str, exits: str) -> str:
    return f"examples:\n{textwrap.indent(textwrap.dedent(examples).strip(), '  ')}\n\n{exits}"


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal (default), markdown for a pull-request comment",
    )
    parser.add_argument("--full", action="store_true", help="never shorten long content")
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        metavar="N",
        help=f"shorten content longer than N characters (default {DEFAULT_MAX_CHARS})",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour: auto (default) means only on a terminal and never with NO_COLOR set",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    show = subparsers.add_parser(
        "show",
        help="print a cassette as a transcript",
        description=(
            "Print each interaction of a cassette as a reviewer reads it: endpoint and model,\n"
            "the messages sent (role, content, tool calls, tool results) and the answer.\n"
            "Streamed answers are assembled into their final text and tool calls. The\n"
            "cassette's provenance (recording date, SDK version, models) comes first."
        ),
        formatter_class=_FORMATTER,
        epilog=_epilog(
            """
            llm-cassettes show cassettes/tests/test_chat/test_answer.yaml
            llm-cassettes show --format markdown cassettes/tests/test_agent/*.yaml > comment.md
            llm-cassettes show --full cassettes/tests/test_rag/test_long_context.yaml
            """,
            "exit codes: 0 shown, 1 a cassette cannot be read (the error names the file and "
            "place), 2 bad usage",
        ),
    )
    show.add_argument("paths", nargs="+", metavar="PATH", help="cassette file(s)")
    _output_options(show)
    show.set_defaults(handler=_show)

    check = subparsers.add_parser(
        "check",
        help="fail on unreadable, drifted, secret-bearing (or orphaned, stale) cassettes",
        description=(
            "Check cassettes before they are merged. One line per problem, FILE:PLACE: message:\n"
            "  - a file that does not parse, or is not a cassette;\n"
            "  - a __type__ outside the allowlist;\n"
            "  - a __data__ the installed SDK no longer accepts (SDK drift);\n"
            "  - a credential: an unredacted secret header (authorization, cookies, organization\n"
            "    and project headers ...), a bearer token, an sk-/sk-proj- key, an AKIA... key,\n"
            "    an organization or project id in a header, or the value of a secret-named\n"
            "    environment variable set here;\n"
            "  - with --orphans, a cassette that no collected test uses (runs pytest --collect-only);\n"
            "  - with --max-age, a cassette recorded more than DAYS ago (a warning).\n"
            "Without PATH, checks the configured tree: llm_cassettes_dir from the nearest\n"
            "pytest configuration, else every cassettes/ directory under it."
        ),
        formatter_class=_FORMATTER,
        epilog=_epilog(
            """
            llm-cassettes check
            llm-cassettes check cassettes/tests/test_chat
            llm-cassettes check --orphans --max-age 180
            llm-cassettes check --max-age 90 --strict     # stale cassettes fail too
            """,
            "exit codes: 0 clean (warnings allowed unless --strict), 1 problems found, 2 bad usage",
        ),
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="cassette files or directories")
    check.add_argument(
        "--orphans",
        action="store_true",
        help="also report cassettes no collected test maps to (runs pytest --collect-only here)",
    )
    check.add_argument(
        "--max-age",
        type=int,
        metavar="DAYS",
        help="warn on cassettes recorded more than DAYS days ago, or with no recording date",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour: auto (default) means only on a terminal and never with NO_COLOR set",
    )
    check.set_defaults(handler=_check)

    diff = subparsers.add_parser(
        "diff",
        help="what changed in meaning between two recordings",
        description=(
            "Compare cassettes interaction by interaction: requests added or removed, prompt\n"
            "changes, request parameter changes, answer text changes, tool-call changes,\n"
            "status and error changes. Ids, timestamps, key order and chunk boundaries that do\n"
            "not change meaning are ignored. Either OLD NEW (two files), or --git REV with\n"
            "optional paths: every cassette changed since REV (working tree, untracked files\n"
            "included) against its content at REV."
        ),
        formatter_class=_FORMATTER,
        epilog=_epilog(
            """
            llm-cassettes diff old.yaml cassettes/tests/test_chat/test_answer.yaml
            llm-cassettes diff --git origin/main
            llm-cassettes diff --git HEAD~1 cassettes/tests/test_agent
            llm-cassettes diff --git origin/main --format markdown > comment.md
            """,
            "exit codes: 0 no semantic change, 1 changes shown, 2 bad usage or an unreadable "
            "cassette (as diff(1))",
        ),
    )
    diff.add_argument("paths", nargs="*", metavar="PATH", help="OLD NEW, or paths with --git")
    diff.add_argument("--git", metavar="REV", help="compare with git revision REV")
    _output_options(diff)
    diff.set_defaults(handler=_diff)


def _limit(args: argparse.Namespace) -> int | None:
    return None if args.full else max(args.max_chars, 1)


def _error(message: str) -> None:
    print(f"llm-cassettes: {message}", file=sys.stderr)


def _file_error(message: str) -> None:
    """A per-file error, ``FILE: message`` (the message already starts with the file)."""
    print(message, file=sys.stderr)


_TOO_DEEP = "nested too deeply to be read"


# ---------------------------------------------------------------------------- handlers --


def _show(args: argparse.Namespace) -> int:
    style = Style.for_stream(sys.stdout, args.color)
    status = 0
    shown = 0
    for found in cassette_files(args.paths):
        if found.error is not None:
            _file_error(found.error)
            status = 1
            continue
        try:
            transcript = load_transcript(found.path, found.text)
            if args.format == "markdown":
                rendered = _review_render.render_markdown(transcript, _limit(args))
            else:
                rendered = _review_render.render_text(transcript, style, _limit(args))
        except CassetteFormatError as exc:
            _file_error(str(exc))
            status = 1
            continue
        except RecursionError:  # a safety net: the loader already bounds nesting
            _file_error(f"{found.path}: {_TOO_DEEP}")
            status = 1
            continue
        if shown:
            print()
        shown += 1
        sys.stdout.write(rendered)
    if not shown and not status:
        _error(f"no cassettes found in {' '.join(args.paths)}")
        return 1
    return status


def _check(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    style = Style.for_stream(sys.stdout, args.color)
    cwd = Path.cwd()
    try:
        roots = args.paths or _review_check.default_paths(cwd)
    except _review_check.UsageError as exc:
        _error(str(exc))
        return 2
    files = list(cassette_files(roots))
    problems = []
    for found in files:
        name = os.fspath(found.path)
        if found.error is not None:
            problems.append(Problem(name, "", found.error.removeprefix(f"{name}: ")))
            continue
        try:
            problems.extend(_review_check.check_text(name, found.text, max_age=args.max_age))
        except RecursionError:  # a safety net: the loader already bounds nesting
            problems.append(Problem(name, "", _TOO_DEEP))
    if args.orphans:
        problems.extend(_review_check.orphans([f.path for f in files if f.error is None], cwd))
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    for problem in problems:
        colour = "yellow" if problem.warning else "red"
        place, _, message = str(problem).partition(": ")
        print(f"{style(place, 'bold')}: {style(message, colour) if colour else message}")
    elapsed = time.perf_counter() - started
    count = f"{len(files)} cassette{'s' if len(files) != 1 else ''}"
    failed = bool(errors) or (args.strict and bool(warnings))
    if failed:
        summary = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        if warnings:
            summary += f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
        print(style(f"{summary} in {count} ({elapsed:.1f}s)", "red", "bold"))
        return 1
    extra = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    print(style(f"{count} checked: all clean{extra} ({elapsed:.1f}s)", "green"))
    return 0


def _diff(args: argparse.Namespace) -> int:
    style = Style.for_stream(sys.stdout, args.color)
    diffs = []
    errors: list[str] = []
    if args.git:
        try:
            changed = list(_review_diff.git_changed(args.git, args.paths, Path.cwd()))
        except _review_diff.GitError as exc:
            _error(str(exc))
            return 2
        for item in changed:
            if item.error is not None:
                errors.append(item.error)
                continue
            sources = (f"{item.path} at {args.git}", item.path)
            _diff_one(diffs, errors, item.path, item.old, item.new, sources)
    else:
        if len(args.paths) != 2:
            _error("diff takes OLD NEW (two cassette files), or --git REV [PATH ...]")
            return 2
        old_path, new_path = args.paths
        texts = []
        for path in args.paths:
            try:
                texts.append(read_text(Path(path)))
            except CassetteFormatError as exc:
                errors.append(str(exc))
        if not errors:
            label = (
                new_path
                if os.path.basename(old_path) == os.path.basename(new_path)
                else (f"{old_path} → {new_path}")
            )
            _diff_one(diffs, errors, label, *texts, (old_path, new_path))
    if diffs or not errors:
        if args.format == "markdown":
            sys.stdout.write(_review_diff.render_markdown(diffs, _limit(args)))
        else:
            sys.stdout.write(_review_diff.render_text(diffs, style, _limit(args)))
    for message in errors:
        _file_error(message)
    if errors:
        return 2
    return 1 if any(d.changes for d in diffs) else 0


def _diff_one(
    diffs: list[_review_diff.FileDiff],
    errors: list[str],
    label: str,
    old: str | None,
    new: str | None,
    sources: tuple[str, str],
) -> None:
    try:
        diffs.append(_review_diff.diff_files(label, old, new, sources=sources))
    except CassetteFormatError as exc:
        errors.append(str(exc))
    except RecursionError:  # a safety net: the loader already bounds nesting
        errors.append(f"{label}: {_TOO_DEEP}")
