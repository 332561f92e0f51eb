"""Server-sent events: split a recorded body into events and write them back.

Parsing follows the WHATWG event-stream rules that SDK decoders implement.
Comments carry no event and are dropped; everything a client can observe
(``event``, ``data``, ``id``, ``retry``, and the order) is kept.

:func:`event_ends` finds where each of those events ends in the bytes, so a
recorded stream can be replayed one event per read (as the server sent it)
and each event's arrival time can be told while recording.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

_LINES = re.compile(r"\r\n|\r|\n")
_FIELDS = ("event", "id", "retry")
#: The data of the event that ends OpenAI-style streams; clients stop reading there.
DONE = "[DONE]"
#: The media type of a server-sent event stream.
MEDIA_TYPE = "text/event-stream"


def parse(text: str) -> list[dict[str, Any]] | None:
    """Events of an SSE body as dicts, or None if it does not look like SSE.

    Each event has ``data`` (lines joined with ``\\n``; absent when the block had
    no data line) and ``event`` / ``id`` / ``retry`` where present. A final block
    with no terminating blank line is kept with ``unterminated: True`` so
    nothing the client saw is lost.
    """
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    data: list[str] | None = None
    seen_field = False
    lines = _LINES.split(text)
    ends_blank = text.endswith(("\n", "\r"))
    if ends_blank:
        lines.pop()  # the split leaves an empty string after the final newline
    for line in lines:
        if not line:
            if current or data is not None:
                if data is not None:
                    current["data"] = "\n".join(data)
                events.append(current)
            current, data = {}, None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data = [] if data is None else data
            data.append(value)
        elif name in _FIELDS and name not in current:
            current[name] = value
        else:
            return None  # unknown or repeated field: keep the body raw rather than guess
        seen_field = True
    if current or data is not None:
        if data is not None:
            current["data"] = "\n".join(data)
        current["unterminated"] = True
        events.append(current)
    return events if seen_field else None


def encode(events: list[dict[str, Any]], newline: str = "\n") -> str:
    """The wire form of events produced by :func:`parse` (data already a string), each
    line ended by ``newline`` (``"\\r\\n"`` for servers that end lines so: Gemini's)."""
    out: list[str] = []
    for event in events:
        for name in _FIELDS:
            if name in event:
                out.append(f"{name}: {event[name]}{newline}")
        if "data" in event:
            for line in event["data"].split("\n"):
                out.append(f"data: {line}{newline}")
        if not event.get("unterminated"):
            out.append(newline)
    return "".join(out)


def event_ends(data: bytes) -> list[int]:
    """Offsets just past each event :func:`parse` finds in ``data`` (any field is one).

    Works on bytes: every character the event-stream syntax uses is ASCII and
    no byte of a multi-byte UTF-8 character is, so a latin-1 view has the same
    lines at the same offsets. Comment-only blocks end no event; a final
    unterminated event ends at the end of ``data``.
    """
    if (
        b"\r" not in data
        and b"\n\n\n" not in data
        and b"\n:" not in data
        and data[:1] not in (b"\n", b":")
    ):
        # What encode() writes (no comment, no CR, no empty block): blocks split at the
        # blank lines (for a 500-event stream, 2.5x faster than line by line).
        blocks = data.split(b"\n\n")
        ends = list(itertools.accumulate(len(block) + 2 for block in blocks[:-1]))
        return [*ends, len(data)] if blocks[-1] else ends
    text = data.decode("latin-1")
    ends: list[int] = []
    fields = False  # the current block has a field line (so it is an event)
    start = 0
    for match in _LINES.finditer(text):
        line_start, start = start, match.end()
        if match.start() == line_start:  # a blank line ends the block
            if fields:
                ends.append(start)
            fields = False
        elif text[line_start] != ":":
            fields = True
    if fields or (start < len(text) and text[start] != ":"):
        ends.append(len(text))
    return ends


def ends_with_done(data: bytes) -> bool:
    """Whether the last line of ``data`` is the ``[DONE]`` event's data line."""
    last = data.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].rsplit(b"\r", 1)[-1]
    name, colon, value = last.partition(b":")
    return name == b"data" and bool(colon) and value.strip() == DONE.encode()
