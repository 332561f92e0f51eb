"""Small helpers the tests share (reading cassettes the way a reviewer would)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_cassette(path: Path) -> dict[str, Any]:
    """The stored cassette as plain data (what is on disk, not what vcrpy replays)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dump(obj: Any) -> Any:
    """Comparable form of SDK results: models dumped, lists dumped item by item."""
    if isinstance(obj, list):
        return [dump(item) for item in obj]
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return obj
