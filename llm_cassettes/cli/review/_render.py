"""Rendering transcripts for people: a terminal (colour only on a TTY) or Markdown for a PR.

The two outputs carry the same facts in the same order; only the markup
differs, so a reviewer sees in a pull-request comment exactly what
``llm-cassettes show`` prints locally.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from typing import IO, Any

from ..._wire import loads_json
from ...providers import Exchange, Message, one_line_json
from .._common import add_color_option
from ._transcript import Transcript

#: Characters of one piece of content shown before it is shortened (``--full`` shows all).
DEFAULT_MAX_CHARS = 600


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--full``, ``--max-chars`` and ``--color``: how content is shown."""
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
    add_color_option(parser)


def content_limit(args: argparse.Namespace) -> int | None:
    """Characters of content shown, from ``--full`` / ``--max-chars`` (None: no limit)."""
    return None if args.full else max(args.max_chars, 1)


_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


@dataclass(frozen=True)
class Style:
    """ANSI colour, or nothing: colour only on a terminal, never with ``NO_COLOR`` set."""

    color: bool = False

    @classmethod
    def for_stream(cls, stream: IO[str], choice: str = "auto") -> Style:
        if choice == "always":
            return cls(True)
        if choice == "never" or os.environ.get("NO_COLOR"):
            return cls(False)
        isatty = getattr(stream, "isatty", None)
        return cls(bool(isatty and isatty()))

    def __call__(self, text: str, *names: str) -> str:
        if not self.color or not names or not text:
            return text
        codes = ";".join(_CODES[name] for name in names)
        return f"\x1b[{codes}m{text}\x1b[0m"


_ROLE_COLOURS = {
    "system": "magenta",
    "developer": "magenta",
    "user": "blue",
    "assistant": "green",
    "tool": "yellow",
}


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut at ``limit`` characters with a marker saying how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit:,} more characters; --full shows all]"


def readable_arguments(text: str) -> str:
    """Tool-call arguments (JSON text, usually) on one line with spaces, as a reader reads them."""
    try:
        value = loads_json(text)
    except (ValueError, TypeError):
        return text
    if not isinstance(value, (dict, list)):
        return text
    return one_line_json(value)


def _usage_line(usage: dict[str, Any] | None) -> str | None:
    if not usage:
        return None
    parts = [
        f"{key.removesuffix('_tokens')} {value}"
        for key, value in usage.items()
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    return " · ".join(parts) + " tokens" if parts else None


def _params_line(params: dict[str, Any]) -> str | None:
    if not params:
        return None
    return ", ".join(
        f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in params.items()
    )


def provenance_line(transcript: Transcript) -> str:
    info = transcript.provenance
    if not info:
        return "provenance: not recorded (a plain vcrpy cassette, or recorded before llm-cassettes)"
    parts = []
    if info.get("recorded"):
        parts.append(f"recorded {info['recorded']}")
    if info.get("imported_from"):
        parts.append(f"imported from {info['imported_from']}")
    if info.get("last_recorded"):
        parts.append(f"added to {info['last_recorded']}")
    sdk = info.get("sdk")
    if isinstance(sdk, dict) and sdk:
        parts.append("with " + ", ".join(f"{name} {version}" for name, version in sdk.items()))
    models = info.get("models")
    if isinstance(models, list) and models:
        parts.append("models: " + ", ".join(str(m) for m in models))
    if info.get("matching") == "legacy":
        parts.append("matched by method and URL (recorded without llm-cassettes)")
    return " · ".join(parts) or "provenance: empty"


def _headline(exchange: Exchange) -> list[str]:
    if exchange.tool_name is not None:
        parts = [f"tool {exchange.tool_name}"]
    else:
        parts = [f"{exchange.method} {exchange.endpoint}"]
    if exchange.model:
        parts.append(exchange.model)
    if exchange.status is not None:
        parts.append(str(exchange.status))
    if exchange.streamed:
        parts.append("streamed")
    return parts


def _unshaped_answer(value: Any) -> str:
    """An answer with no conversational shape (embeddings, a list page) as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


# ---------------------------------------------------------------------------- terminal --


def render_text(transcript: Transcript, style: Style, limit: int | None) -> str:
    out = [style(transcript.path, "bold"), "  " + style(provenance_line(transcript), "dim")]
    count = len(transcript.exchanges)
    out.append(f"  {count} interaction{'s' if count != 1 else ''}")
    for exchange in transcript.exchanges:
        out.append("")
        out.extend(exchange_text(exchange, style, limit))
    return "\n".join(out) + "\n"


def exchange_text(exchange: Exchange, style: Style, limit: int | None) -> list[str]:
    head = " · ".join(_headline(exchange))
    out = [style(f"── interactions[{exchange.index}] ", "dim") + style(head, "bold")]
    if exchange.tools:
        out.append("  " + style("tools offered: ", "dim") + ", ".join(exchange.tools))
    params = _params_line(exchange.params)
    if params:
        out.append("  " + style("params: ", "dim") + shorten(params, limit))
    for message in exchange.messages:
        out.extend(_message_text(message, style, limit, "  "))
    out.append("  " + style("answer:", "bold"))
    if exchange.error:
        out.append("    " + style("error: ", "red", "bold") + shorten(exchange.error, limit))
    for message in exchange.answer:
        out.extend(_message_text(message, style, limit, "    "))
    if exchange.other is not None:
        out.extend(_indent(shorten(_unshaped_answer(exchange.other), limit), "    "))
    if not (exchange.error or exchange.answer or exchange.other is not None):
        out.append("    " + style("(empty)", "dim"))
    if exchange.stream_end:
        out.append("  " + style("stream " + exchange.stream_end, "red"))
    usage = _usage_line(exchange.usage)
    if usage:
        out.append("  " + style(f"usage: {usage}", "dim"))
    return out


#: Characters of collapsed content (thinking) shown on its one line, unless ``--full``.
COLLAPSED_CHARS = 80


def collapsed_preview(message: Message, limit: int | None) -> str:
    """Collapsed content on one line: its start and its size (``--full`` shows it all)."""
    text = " ".join(message.content.split())
    if limit is None or len(text) <= COLLAPSED_CHARS:
        return text
    return f"{text[:COLLAPSED_CHARS]}… ({len(message.content):,} characters)"


def _message_text(message: Message, style: Style, limit: int | None, pad: str) -> list[str]:
    if message.collapsed:
        label = style(f"{message.role} ▸", "dim", "bold")
        return [f"{pad}{label} " + style(collapsed_preview(message, limit), "dim")]
    role = style(message.role, _ROLE_COLOURS.get(message.role, "cyan"), "bold")
    label = role
    if message.role == "tool" and (message.tool_call_id or message.name):
        label += style(f" ({message.name or message.tool_call_id})", "dim")
    out = []
    content = shorten(message.content, limit)
    if content and "\n" not in content and len(content) <= 100:
        out.append(f"{pad}{label}: {content}")
    elif content:
        out.append(f"{pad}{label}:")
        out.extend(_indent(content, pad + "  "))
    elif not message.tool_calls:
        out.append(f"{pad}{label}: " + style("(no content)", "dim"))
    for call in message.tool_calls:
        arguments = shorten(readable_arguments(call.arguments), limit)
        out.append(f"{pad}{role} calls " + style(call.name, "bold") + f"({arguments})")
    return out


def _indent(text: str, pad: str) -> list[str]:
    return [pad + line if line else pad.rstrip() for line in text.split("\n")]


# ---------------------------------------------------------------------------- markdown --


def fence(text: str, lang: str = "text") -> str:
    """A fenced block that the content cannot close, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def code(text: str) -> str:
    """Inline code safe for any text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def render_markdown(transcript: Transcript, limit: int | None) -> str:
    out = [f"### {code(transcript.path)}", "", f"_{provenance_line(transcript)}_", ""]
    for exchange in transcript.exchanges:
        out.extend(exchange_markdown(exchange, limit))
    return "\n".join(out).rstrip() + "\n"


def exchange_markdown(exchange: Exchange, limit: int | None) -> list[str]:
    head = " · ".join(code(part) if i < 2 else part for i, part in enumerate(_headline(exchange)))
    out = [f"#### interactions[{exchange.index}] · {head}", ""]
    if exchange.tools:
        out += ["Tools offered: " + ", ".join(code(t) for t in exchange.tools), ""]
    params = _params_line(exchange.params)
    if params:
        out += ["Params: " + code(shorten(params, limit)), ""]
    for message in exchange.messages:
        out.extend(_message_markdown(message, limit))
    out += ["**Answer**", ""]
    if exchange.error:
        out += ["**error**", "", fence(shorten(exchange.error, limit)), ""]
    for message in exchange.answer:
        out.extend(_message_markdown(message, limit))
    if exchange.other is not None:
        out += [fence(shorten(_unshaped_answer(exchange.other), limit)), ""]
    if not (exchange.error or exchange.answer or exchange.other is not None):
        out += ["_(empty)_", ""]
    if exchange.stream_end:
        out += [f"**Stream {exchange.stream_end}**", ""]
    usage = _usage_line(exchange.usage)
    if usage:
        out += [f"_Usage: {usage}_", ""]
    return out


def _message_markdown(message: Message, limit: int | None) -> list[str]:
    if message.collapsed:  # folded, as GitHub renders <details>
        size = f"{len(message.content):,} characters"
        return [
            f"<details><summary><b>{message.role}</b> ({size})</summary>",
            "",
            fence(shorten(message.content, limit)),
            "",
            "</details>",
            "",
        ]
    label = f"**{message.role}**"
    if message.role == "tool" and (message.tool_call_id or message.name):
        label += f" ({code(message.name or message.tool_call_id or '')})"
    out = []
    if message.content:
        out += [label, "", fence(shorten(message.content, limit)), ""]
    elif not message.tool_calls:
        out += [label + " _(no content)_", ""]
    for call in message.tool_calls:
        arguments = shorten(readable_arguments(call.arguments), limit)
        out += [f"**{message.role}** calls {code(call.name)}", "", fence(arguments, "json"), ""]
    return out
