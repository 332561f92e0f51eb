"""``llm-cassettes diff``: what a re-recording changed in meaning, interaction by interaction.

A re-recorded cassette differs from the old one on almost every line (fresh
ids, timestamps, new chunk boundaries), so a text diff hides the one answer
that changed. Here both sides are read as transcripts (streams assembled),
interactions are paired by their canonical request (the same normalisation
matching uses, so ids and key order do not count), and only prompts,
request parameters, answers, tool calls, status and errors are compared.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._errors import CassetteFormatError
from ..._wire import loads_json
from ...format import read_text
from ...matching import MISSING, Canonical, canonicalize
from ...matching import diff as canonical_diff
from ...providers import Exchange, Message
from .._common import TOO_DEEP, Subparsers, add_command, print_error, print_file_error
from ._git import GitError, git_changed
from ._render import Style, add_output_options, code, content_limit, fence, shorten
from ._transcript import Transcript, load_transcript

__all__ = ["Change", "FileDiff", "add_diff_command", "diff_files", "diff_transcripts"]


@dataclass
class Change:
    """One interaction added, removed or changed; ``details`` are (what, diff lines)."""

    kind: str  # "added" | "removed" | "changed"
    old: Exchange | None
    new: Exchange | None
    details: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class FileDiff:
    path: str
    changes: list[Change]
    status: str = "modified"  # "added" | "deleted" | "modified"


# ------------------------------------------------------------------------------- model --


def _canonical_request(exchange: Exchange) -> Canonical:
    body = exchange.request_body
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    return canonicalize(body if isinstance(body, str) else None, "application/json")


def _request_identity(exchange: Exchange) -> tuple[str, str, str]:
    return (exchange.method.upper(), exchange.endpoint, _canonical_request(exchange).key)


def _endpoint_of(exchange: Exchange) -> tuple[str, str]:
    return (exchange.method.upper(), exchange.endpoint)


def _arguments(text: str) -> str:
    """Tool-call arguments compared as JSON values: key order and spacing do not count."""
    try:
        return json.dumps(loads_json(text), sort_keys=True, ensure_ascii=False)
    except (ValueError, TypeError):
        return text


def _message_lines(message: Message, with_calls: bool = True) -> list[str]:
    role = message.role
    if role == "tool" and message.name:
        role = f"tool ({message.name})"  # by name: call ids change on every recording
    lines = []
    if message.content:
        first, *rest = message.content.split("\n")
        lines.append(f"{role}: {first}")
        lines.extend(f"    {line}" for line in rest)
    if with_calls:
        lines.extend(
            f"{message.role} calls {call.name}({_arguments(call.arguments)})"
            for call in message.tool_calls
        )
    return lines


def _transcript_lines(messages: list[Message], with_calls: bool = True) -> list[str]:
    """The lines of what was said; collapsed content (thinking) is compared on its own."""
    return [
        line
        for message in messages
        if not message.collapsed
        for line in _message_lines(message, with_calls)
    ]


def _collapsed_lines(messages: list[Message]) -> list[str]:
    return [line for message in messages if message.collapsed for line in _message_lines(message)]


def _tool_call_lines(messages: list[Message]) -> list[str]:
    return [
        f"{call.name}({_arguments(call.arguments)})"
        for message in messages
        for call in message.tool_calls
    ]


def _unshaped_answer_lines(exchange: Exchange) -> list[str]:
    if exchange.other is None:
        return []
    if isinstance(exchange.other, str):
        return exchange.other.split("\n")
    return json.dumps(exchange.other, sort_keys=True, indent=1, default=str).split("\n")


def _line_diff(old: list[str], new: list[str]) -> list[str]:
    lines = list(difflib.unified_diff(old, new, lineterm="", n=1))
    out = [f"{line[:1]} {line[1:]}" for line in lines[2:] if not line.startswith("@@")]
    for i in range(len(out) - 1):
        if (
            out[i][:1] == "-"
            and out[i + 1][:1] == "+"
            and (i + 2 == len(out) or out[i + 2][:1] != "+")
        ):
            out[i], out[i + 1] = _cut_to_change(out[i], out[i + 1])
    return out


_CONTEXT = 60


def _cut_to_change(old: str, new: str) -> tuple[str, str]:
    """A long line changed in one place, cut to that place: the change is what matters."""
    if len(old) <= 2 * _CONTEXT + 40 and len(new) <= 2 * _CONTEXT + 40:
        return old, new
    label = old.find(": ") + 2  # keep "- assistant: " whole
    base = label if label > 1 and old[2:label] == new[2:label] else 2
    start = len(os.path.commonprefix([old[base:], new[base:]])) + base
    end = len(os.path.commonprefix([old[start:][::-1], new[start:][::-1]]))
    cut = max(base, start - _CONTEXT)

    def window(line: str) -> str:
        stop = max(len(line) - end + _CONTEXT, start + _CONTEXT)
        head = "…" if cut > base else ""
        tail = "…" if stop < len(line) else ""
        return f"{line[:base]}{head}{line[cut:stop]}{tail}"

    return window(old), window(new)


def _value_text(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    return json.dumps(value, ensure_ascii=False, default=str)


def compare(old: Exchange, new: Exchange) -> list[tuple[str, list[str]]]:
    """What changed between two recordings of one interaction, in meaning only."""
    details: list[tuple[str, list[str]]] = []
    prompt = _line_diff(_transcript_lines(old.messages), _transcript_lines(new.messages))
    if prompt:
        details.append(("prompt changed", prompt))
    request = [
        f"{d.path}: {_value_text(d.recorded)} → {_value_text(d.live)}"
        for d in canonical_diff(_canonical_request(old), _canonical_request(new))
        if not d.path.startswith(new.prompt_fields) or d.path == "<body>"  # shown as the prompt
    ]
    if request:
        details.append(("request changed", request))
    if old.status != new.status:
        details.append(("status changed", [f"{old.status} → {new.status}"]))
    if (old.error or "") != (new.error or ""):
        details.append(("error changed", _line_diff([old.error or ""], [new.error or ""])))
    answer = _line_diff(_transcript_lines(old.answer, False), _transcript_lines(new.answer, False))
    if answer:
        details.append(("answer changed", answer))
    thinking = _line_diff(_collapsed_lines(old.answer), _collapsed_lines(new.answer))
    if thinking:
        details.append(("thinking changed", thinking))
    calls = _line_diff(_tool_call_lines(old.answer), _tool_call_lines(new.answer))
    if calls:
        details.append(("tool calls changed", calls))
    other = _line_diff(_unshaped_answer_lines(old), _unshaped_answer_lines(new))
    if other:
        details.append(("result changed", other))
    if old.stream_end != new.stream_end:
        ended = [old.stream_end or "whole stream"], [new.stream_end or "whole stream"]
        details.append(("stream end changed", _line_diff(*ended)))
    return details


def diff_transcripts(old: Transcript, new: Transcript) -> list[Change]:
    """Changes from ``old`` to ``new``, in the new cassette's order.

    Interactions with the same canonical request are paired first; the rest
    are paired by endpoint in order (a changed prompt), and what is left over
    was added or removed.
    """
    a, b = old.exchanges, new.exchanges
    changes: list[Change] = []
    exact = difflib.SequenceMatcher(
        None, [_request_identity(e) for e in a], [_request_identity(e) for e in b], False
    )
    for tag, i1, i2, j1, j2 in exact.get_opcodes():
        if tag == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                details = compare(x, y)
                if details:
                    changes.append(Change("changed", x, y, details))
            continue
        changes.extend(_pair_by_endpoint(a[i1:i2], b[j1:j2]))
    return changes


def _pair_by_endpoint(a: list[Exchange], b: list[Exchange]) -> Iterator[Change]:
    matcher = difflib.SequenceMatcher(
        None, [_endpoint_of(e) for e in a], [_endpoint_of(e) for e in b]
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = a[i1:i2], b[j1:j2]
        if tag in ("equal", "replace"):
            pairs = min(len(olds), len(news)) if tag == "replace" else len(olds)
            for x, y in zip(olds[:pairs], news[:pairs], strict=True):
                if _endpoint_of(x) == _endpoint_of(y):
                    yield Change("changed", x, y, compare(x, y))
                else:
                    yield Change("removed", x, None)
                    yield Change("added", None, y)
            olds, news = olds[pairs:], news[pairs:]
        yield from (Change("removed", x, None) for x in olds)
        yield from (Change("added", None, y) for y in news)


# ------------------------------------------------------------------------------- input --


def _transcript(path: str, text: str | None) -> Transcript:
    if text is None:
        return Transcript(path, [])
    return load_transcript(path, text)


def diff_files(
    path: str,
    old_text: str | None,
    new_text: str | None,
    sources: tuple[str, str] | None = None,
) -> FileDiff:
    """The diff of one cassette; ``None`` text is a side where the file does not exist.

    ``sources`` name the two sides in loading errors (default: ``path`` at each side).
    """
    old_source, new_source = sources or (path, path)
    status = "added" if old_text is None else "deleted" if new_text is None else "modified"
    transcripts, errors = [], []
    for source, text in ((old_source, old_text), (new_source, new_text)):
        try:
            transcripts.append(_transcript(source, text))
        except CassetteFormatError as exc:
            errors.append(str(exc))
    if errors:  # both sides named, one line each
        raise CassetteFormatError("\n".join(errors))
    return FileDiff(path, diff_transcripts(*transcripts), status)


# ------------------------------------------------------------------------------ output --


def _place_and_head(change: Change) -> tuple[str, str]:
    old, new = change.old, change.new
    if old is not None and new is not None:
        place = f"interactions[{new.index}]"
        if old.index != new.index:
            place = f"interactions[{old.index}] → [{new.index}]"
    else:
        exchange = new or old
        assert exchange is not None
        place = f"interactions[{exchange.index}]"
    exchange = new or old
    assert exchange is not None
    head = f"{exchange.method} {exchange.endpoint}"
    if exchange.tool_name is not None:
        head = f"tool {exchange.tool_name}"
    return place, head


def _summary_lines(exchange: Exchange) -> list[str]:
    """A short account of a whole added or removed interaction."""
    asked = [m for m in exchange.messages if m.role in ("user", "tool", "input", "prompt")]
    lines = _transcript_lines(asked[-1:]) if asked else _transcript_lines(exchange.messages[-1:])
    answer = _transcript_lines(exchange.answer) or (
        [f"error: {exchange.error}"] if exchange.error else []
    )
    return lines + [f"→ {line}" for line in answer or _unshaped_answer_lines(exchange)[:1]]


def _change_summary(change: Change) -> str:
    if change.kind != "changed":
        return change.kind
    return ", ".join(label for label, _ in change.details)


def render_text(diffs: list[FileDiff], style: Style, limit: int | None) -> str:
    out: list[str] = []
    for file in diffs:
        status = (
            ""
            if file.status == "modified"
            else f" ({'new file' if file.status == 'added' else 'deleted'})"
        )
        out.append(style(file.path, "bold") + status)
        if not file.changes:
            out.append(
                "  " + style("no semantic changes (ids, timestamps or chunking only)", "dim")
            )
        for change in file.changes:
            place, head = _place_and_head(change)
            colour = {"added": "green", "removed": "red"}.get(change.kind, "yellow")
            out.append(f"  {style(place, 'bold')} {head}: {style(_change_summary(change), colour)}")
            if change.kind == "changed":
                for label, lines in change.details:
                    if len(change.details) > 1:
                        out.append(f"    {style(label, 'dim')}")
                    out.extend(_diff_text(lines, style, limit))
            else:
                sign = "+" if change.kind == "added" else "-"
                exchange = change.new or change.old
                assert exchange is not None
                for line in _summary_lines(exchange):
                    out.append("    " + style(f"{sign} {shorten(line, limit)}", colour))
        out.append("")
    out.append(summary(diffs))
    return "\n".join(out) + "\n"


def _diff_text(lines: list[str], style: Style, limit: int | None) -> list[str]:
    out = []
    for line in lines:
        colour = {"+": "green", "-": "red"}.get(line[:1])
        text = shorten(line, limit)
        out.append("    " + (style(text, colour) if colour else text))
    return out


def render_markdown(diffs: list[FileDiff], limit: int | None) -> str:
    out = [f"**{summary(diffs)}**", ""]
    for file in diffs:
        status = (
            ""
            if file.status == "modified"
            else f" ({'new file' if file.status == 'added' else 'deleted'})"
        )
        out += [f"### {code(file.path)}{status}", ""]
        if not file.changes:
            out += ["_No semantic changes (ids, timestamps or chunking only)._", ""]
        for change in file.changes:
            place, head = _place_and_head(change)
            out += [f"#### {place} · {code(head)} · {_change_summary(change)}", ""]
            if change.kind == "changed":
                for label, lines in change.details:
                    out += [
                        f"_{label}_",
                        "",
                        fence("\n".join(shorten(x, limit) for x in lines), "diff"),
                        "",
                    ]
            else:
                sign = "+" if change.kind == "added" else "-"
                exchange = change.new or change.old
                assert exchange is not None
                lines = [f"{sign} {shorten(x, limit)}" for x in _summary_lines(exchange)]
                out += [fence("\n".join(lines), "diff"), ""]
    return "\n".join(out).rstrip() + "\n"


def summary(diffs: list[FileDiff]) -> str:
    counts = {"changed": 0, "added": 0, "removed": 0}
    for file in diffs:
        for change in file.changes:
            counts[change.kind] += 1
    files = sum(1 for file in diffs if file.changes)
    if not files:
        return f"no semantic changes in {len(diffs)} cassette{'s' if len(diffs) != 1 else ''}"
    return (
        f"{files} cassette{'s' if files != 1 else ''} changed: "
        f"{counts['changed']} interaction{'s' if counts['changed'] != 1 else ''} changed, "
        f"{counts['added']} added, {counts['removed']} removed"
    )


# ----------------------------------------------------------------------------- command --


def add_diff_command(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "diff",
        summary="what changed in meaning between two recordings",
        description=(
            "Compare cassettes interaction by interaction: requests added or removed, prompt\n"
            "changes, request parameter changes, answer text changes, tool-call changes,\n"
            "status and error changes. Ids, timestamps, key order and chunk boundaries that do\n"
            "not change meaning are ignored. Either OLD NEW (two files), or --git REV with\n"
            "optional paths: every cassette changed since REV (working tree, untracked files\n"
            "included) against its content at REV."
        ),
        examples="""
            llm-cassettes diff old.yaml cassettes/tests/test_chat/test_answer.yaml
            llm-cassettes diff --git origin/main
            llm-cassettes diff --git HEAD~1 cassettes/tests/test_agent
            llm-cassettes diff --git origin/main --format markdown > comment.md
            """,
        exits="exit codes: 0 no semantic change, 1 changes shown, 2 bad usage or an unreadable "
        "cassette (as diff(1))",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="OLD NEW, or paths with --git")
    parser.add_argument("--git", metavar="REV", help="compare with git revision REV")
    add_output_options(parser)
    parser.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    diffs: list[FileDiff] = []
    errors: list[str] = []
    if args.git:
        try:
            changed = list(git_changed(args.git, args.paths, Path.cwd()))
        except GitError as exc:
            print_error(str(exc))
            return 2
        for item in changed:
            if item.error is not None:
                errors.append(item.error)
                continue
            sources = (f"{item.path} at {args.git}", item.path)
            _diff_one(diffs, errors, item.path, item.old, item.new, sources)
    else:
        if len(args.paths) != 2:
            print_error("diff takes OLD NEW (two cassette files), or --git REV [PATH ...]")
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
            sys.stdout.write(render_markdown(diffs, content_limit(args)))
        else:
            style = Style.for_stream(sys.stdout, args.color)
            sys.stdout.write(render_text(diffs, style, content_limit(args)))
    for message in errors:
        print_file_error(message)
    if errors:
        return 2
    return 1 if any(d.changes for d in diffs) else 0


def _diff_one(
    diffs: list[FileDiff],
    errors: list[str],
    label: str,
    old: str | None,
    new: str | None,
    sources: tuple[str, str],
) -> None:
    try:
        diffs.append(diff_files(label, old, new, sources=sources))
    except CassetteFormatError as exc:
        errors.append(str(exc))
    except RecursionError:  # a safety net: the loader already bounds nesting
        errors.append(f"{label}: {TOO_DEEP}")
