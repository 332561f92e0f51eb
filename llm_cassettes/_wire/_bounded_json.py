"""JSON from servers, SDKs and hand-edited files, parsed into values that are safe to walk.

``json.loads`` reads ``[[[[…]]]]`` nested 500 levels deep without complaint,
and then every recursive walker after it (the YAML dumper, scrubbing,
canonical matching, transcripts) dies with ``RecursionError``, at a depth that
depends on how deep the caller's stack already is. So this library handles a
JSON value as typed data only up to :data:`MAX_DEPTH` levels, a fixed limit
that gives the same answer wherever it is asked; deeper bodies are kept and
compared as text.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "JSONTooDeep", "dumps_compact", "loads", "too_deep"]

#: Deepest JSON value handled as data. Real API payloads (JSON schemas in tool
#: definitions included) stay below 30.
MAX_DEPTH = 100


def dumps_compact(value: Any) -> str:
    """JSON as SDKs send it and as bodies are written back: no spaces, UTF-8 kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH`."""


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, raising :class:`JSONTooDeep` (a ``ValueError``) beyond ``max_depth``.

    Raises ValueError for invalid JSON as ``json.loads`` does; never RecursionError.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested more than {max_depth} levels deep") from None
    if _brackets(text) > max_depth and too_deep(value, max_depth):
        raise JSONTooDeep(f"JSON nested more than {max_depth} levels deep")
    return value


def _brackets(text: str | bytes) -> int:
    """An upper bound of the nesting depth, counted in C: most bodies stop here."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def too_deep(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether lists and dicts nest deeper than ``max_depth`` in ``value`` (no recursion)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > max_depth:
            return True
        depth += 1
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                push((child, depth))
    return False
