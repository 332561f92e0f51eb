"""Reading and writing cassette files: errors name the file, writes are atomic.

vcrpy's own persister logs a file it cannot decode and then treats it as
empty, so a recording run overwrites it; and it writes with a plain
``open("w")``, so a killed process leaves half a file. This persister raises
instead, and writes through a temporary file renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request
from vcr.serializers import compat

from .errors import CassetteFormatError

__all__ = ["CassettePersister"]


def _read(path: Path) -> str | None:
    """The file's text, or None when there is no cassette there yet."""
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    return text if text.strip() else None


class CassettePersister:
    """A vcrpy persister; ``extra_paths`` are read too (pytest-recording's ``vcr`` marker args).

    Interactions from extra cassettes are replayed but only the main cassette
    is written, as in pytest-recording.
    """

    def __init__(self, extra_paths: Sequence[str] = ()) -> None:
        self.extra_paths = list(extra_paths)

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> tuple:
        requests: list[Request] = []
        responses: list[dict[str, Any]] = []
        metadata: dict[str, Any] = {}
        seen: set[str] = set()
        for path in [os.fspath(cassette_path), *self.extra_paths]:
            if path in seen:
                continue
            seen.add(path)
            text = _read(Path(path))
            if text is None:
                continue
            data = _deserialize(serializer, text, path)
            for item in data["interactions"]:
                try:
                    requests.append(Request._from_dict(item["request"]))
                except (KeyError, TypeError) as exc:
                    raise CassetteFormatError(f"{path}: malformed request ({exc})") from exc
                responses.append(compat.convert_to_bytes(item["response"]))
            if path == os.fspath(cassette_path) and isinstance(data.get("metadata"), dict):
                metadata = data["metadata"]
        if not requests:
            raise CassetteNotFoundError()
        return (requests, responses, metadata) if metadata else (requests, responses)

    @staticmethod
    def save_cassette(
        cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        interactions = [
            {
                "request": compat.convert_to_unicode(request._to_dict()),
                "response": compat.convert_to_unicode(response),
            }
            for request, response in zip(
                cassette_dict["requests"], cassette_dict["responses"], strict=True
            )
        ]
        data: dict[str, Any] = {"version": 1, "interactions": interactions}
        if cassette_dict.get("metadata"):
            data["metadata"] = cassette_dict["metadata"]
        write_atomic(Path(cassette_path), serializer.serialize(data))


def _deserialize(serializer: Any, text: str, path: str) -> dict[str, Any]:
    """Run a serializer, making any failure name the file."""
    from .serializer import CassetteSerializer

    try:
        if isinstance(serializer, CassetteSerializer):
            data = serializer.deserialize(text, source=path)
        else:  # vcrpy's own serializers take no source
            data = serializer.deserialize(text)
    except CassetteFormatError:
        raise
    except Exception as exc:
        raise CassetteFormatError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteFormatError(f"{path}: not a cassette (no 'interactions' list)")
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write text so that a crash leaves the old file or the new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cassette is a normal repo file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
