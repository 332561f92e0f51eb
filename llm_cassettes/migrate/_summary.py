"""What a migration did: a summary for people (``render``) and for tests (the fields)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..format import TYPE_KEY

__all__ = ["Summary", "identity", "kind_of"]


@dataclass
class Summary:
    """What a migration did, for people (``render``) and for tests (the fields)."""

    action: str
    files_read: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    interactions: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def render(self) -> str:
        head = (
            f"{self.action}: {self.files_read} file(s) read, "
            f"{len(self.written)} cassette(s) written, {len(self.unchanged)} unchanged"
        )
        lines = [head]
        if self.interactions:
            lines.append("interactions by type:")
            lines += [f"  {count:5d}  {name}" for name, count in sorted(self.interactions.items())]
        if self.clients:
            lines.append(
                "recordings by client: "
                + ", ".join(f"{name} {count}" for name, count in sorted(self.clients.items()))
            )
        for label, items in (("skipped", self.skipped), ("FAILED", self.failed)):
            if items:
                lines.append(f"{label} ({len(items)}):")
                lines += [f"  {where}: {why}" for where, why in items]
        lines += self.notes
        return "\n".join(lines)


def kind_of(stored: Mapping[str, Any]) -> str:
    """A short label for an interaction as stored, for "interactions by type"."""
    request, response = stored["request"], stored["response"]
    if not isinstance(response, Mapping) or "status" not in response:
        return f"tool call ({request.get('method')} {request.get('uri')})"
    status = response.get("status") or {}
    code = int(status.get("code", 200)) if isinstance(status, Mapping) else 200
    body = response.get("body")
    if not isinstance(body, Mapping):
        return "empty body"
    prefix = "" if 200 <= code < 300 else f"error {code}: "
    if "sse" in body:
        stream = body["sse"]
        name = stream.get(TYPE_KEY) if isinstance(stream, Mapping) else None
        if not name and isinstance(stream, Mapping):
            names = {e.get(TYPE_KEY) for e in stream.get("events", []) if isinstance(e, Mapping)}
            name = "events of " + ", ".join(sorted(n.rsplit(".", 1)[-1] for n in names if n))
        return prefix + f"stream of {_short_type_name(name) if name else 'untyped events'}"
    if "json" in body:
        value = body["json"]
        if isinstance(value, Mapping) and TYPE_KEY in value:
            return prefix + _short_type_name(value[TYPE_KEY])
        items = value.get("data") if isinstance(value, Mapping) else None
        if (
            isinstance(items, list)
            and items
            and all(isinstance(i, Mapping) and TYPE_KEY in i for i in items)
        ):
            return prefix + f"list of {_short_type_name(items[0][TYPE_KEY])}"
        return prefix + "untyped JSON"
    return prefix + "text/bytes"


def _short_type_name(name: str) -> str:
    return name if name.startswith("events of") else name.rsplit(".", 1)[-1]


def identity(stored: Mapping[str, Any]) -> str:
    return json.dumps(stored, sort_keys=True, default=repr)
