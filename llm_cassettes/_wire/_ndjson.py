"""Newline-delimited JSON streams (Ollama's ``/api/chat``, JSON Lines exports).

A server streams one JSON document per line; a client reading ``iter_lines()`` or
``iter_bytes()`` sees them arrive one at a time, and replay delivers them the same way.
"""

from __future__ import annotations

import itertools

__all__ = ["NDJSON_MEDIA_TYPES", "line_ends"]

#: Media types of newline-delimited JSON (no one registered type: all are in use).
NDJSON_MEDIA_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
    }
)


def line_ends(data: bytes) -> list[int]:
    """Offsets just past each line of ``data`` (a last line without newline ends at the end)."""
    lines = data.split(b"\n")
    ends = list(itertools.accumulate(len(line) + 1 for line in lines[:-1]))
    return [*ends, len(data)] if lines[-1] else ends
