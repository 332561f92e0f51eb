"""Where a live body differs from a recorded one, in a few short lines for a person.

Compares canonical values, so key order, ids and float jitter never show up as
noise; values are shortened around the place they start to differ.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._bodies import Canonical, Unquoted, dumps_canonical

__all__ = ["MISSING", "Difference", "diff", "format_diff"]

#: Stands for "this side has no value here" in a :class:`Difference`.
MISSING: str = Unquoted("<missing>")


@dataclass(frozen=True)
class Difference:
    """One place where a recorded and a live body disagree.

    ``path`` is a JSON path such as ``messages[2].content`` (``<body>`` for the whole body);
    ``recorded``/``live`` are the values there, :data:`MISSING` when absent on one side, and
    already shortened (about 120 characters) so a report never dumps a whole body.
    """

    path: str
    recorded: Any
    live: Any


_SHOW = 120  # characters of a value shown in a diff line


def _shorten_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Shorten two differing values, centred on where they start to differ."""
    if isinstance(a, str) and isinstance(b, str) and (len(a) > _SHOW or len(b) > _SHOW):
        limit = min(len(a), len(b))
        start = 0
        while start < limit and a[start] == b[start]:
            start += 1
        return _window(a, start), _window(b, start)
    return _shorten(a), _shorten(b)


def _window(s: str, at: int) -> str:
    begin = max(0, at - 40)
    end = begin + _SHOW
    text = s[begin:end]
    if begin > 0:
        text = "…" + text
    if end < len(s):
        text = text + f"… ({len(s)} chars)"
    return text


def _shorten(value: Any) -> Any:
    if isinstance(value, Unquoted):
        return value
    if isinstance(value, str):
        return value if len(value) <= _SHOW else _window(value, 0)
    if isinstance(value, bytes):
        return value if len(value) <= _SHOW else value[:_SHOW] + b"..."
    if isinstance(value, (dict, list)):
        text = dumps_canonical(value)
        if len(text) <= _SHOW:
            return value
        return Unquoted(text[:_SHOW] + f"… ({len(text)} chars)")
    return value


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$@#-]+")


def _join(path: str, key: str) -> str:
    """``messages`` + ``content`` → ``messages.content``; odd keys are quoted: ``a["x.y"]``."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _walk_diff(path: str, a: Any, b: Any) -> Iterator[Difference]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            sub = _join(path, key)
            if key not in a:
                yield Difference(sub, MISSING, _shorten(b[key]))
            elif key not in b:
                yield Difference(sub, _shorten(a[key]), MISSING)
            else:
                yield from _walk_diff(sub, a[key], b[key])
        return
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                yield Difference(sub, MISSING, _shorten(b[i]))
            elif i >= len(b):
                yield Difference(sub, _shorten(a[i]), MISSING)
            else:
                yield from _walk_diff(sub, a[i], b[i])
        return
    if a != b or type(a) is not type(b):
        ra, rb = _shorten_pair(a, b)
        yield Difference(path or "<body>", ra, rb)


def diff(recorded: Canonical, live: Canonical, limit: int = 20) -> list[Difference]:
    """Where ``live`` differs from ``recorded``, as at most ``limit`` short differences.

    Paths are JSON paths (``messages[2].content``, ``tools[0].function.name``); multipart
    fields read ``file.content``, ``file.filename``; a body of another kind, or of raw bytes,
    is one difference at ``<body>`` shown around the first differing byte.  Compares the
    canonical values, so key order, ids and float jitter never show up as noise.
    """
    if recorded.key == live.key or limit <= 0:
        return []
    if recorded.kind != live.kind:
        return [
            Difference(
                "<body>",
                Unquoted(f"<{recorded.kind} body> {_shown(_shorten(recorded.value))}"),
                Unquoted(f"<{live.kind} body> {_shown(_shorten(live.value))}"),
            )
        ]
    if recorded.kind == "bytes":
        a, b = recorded.value, live.value
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        begin = max(0, at - 40)
        return [
            Difference(
                f"<body>@{at}",
                _shorten(a[begin : begin + _SHOW] + (b"..." if len(a) > begin + _SHOW else b"")),
                _shorten(b[begin : begin + _SHOW] + (b"..." if len(b) > begin + _SHOW else b"")),
            )
        ]
    out: list[Difference] = []
    for difference in _walk_diff("", recorded.value, live.value):
        out.append(difference)
        if len(out) >= limit:
            break
    return out


def _shown(value: Any) -> str:
    if isinstance(value, Unquoted):
        return str(value)
    if isinstance(value, (dict, list, bool)) or value is None:
        return dumps_canonical(value)
    return repr(value)


def format_diff(diffs: list[Difference]) -> str:
    """One readable line per difference: ``  path: recorded X | live Y``."""
    if not diffs:
        return "  (no differences)"
    return "\n".join(
        f"  {d.path}: recorded {_shown(d.recorded)} | live {_shown(d.live)}" for d in diffs
    )
