"""Reading and writing cassette files: errors name the file, writes are atomic and merged.

vcrpy's own persister logs a file it cannot decode and then treats it as
empty, so a recording run overwrites it; it writes with a plain
``open("w")``, so a killed process leaves half a file; and two processes
saving one cassette each write what they loaded plus what they recorded, so
the last one to save silently drops the other's recordings.

This persister

* raises :class:`~llm_cassettes.CassetteFormatError` for a file it
  cannot read, and never writes over one;
* writes through a temporary file in the same directory, renamed into place
  (``os.replace`` is atomic), so a reader or a crash sees the old cassette or
  the new one, never a torn one;
* saves under a per-cassette file lock (:mod:`._lock`) and, when
  the file changed on disk since it was loaded (another pytest-xdist worker
  saved it), merges: the file as it is now, minus what this cassette dropped
  (re-recorded in mode ``all``), plus what this cassette recorded that is not
  there yet, in the order it was recorded.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request
from vcr.serializers.compat import convert_to_bytes, convert_to_unicode

from .. import _compat
from .._errors import CassetteFormatError
from ._lock import cassette_lock
from ._provenance import LOAD_INFO, MATCHING_KEY, LoadInfo, file_matching, interaction_matching
from ._serializer import CassetteSerializer, WrappedSerializer

__all__ = ["CassettePersister", "write_atomic"]

#: An interaction as vcrpy serializers receive it: ``{"request": {...}, "response": {...}}``.
Item = dict[str, Any]

_NEVER_LOADED = object()  # base of a cassette this persister has not read


def _read_if_present(path: Path) -> str | None:
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

    Interactions from extra cassettes are replayed and, as in pytest-recording,
    saved into the main cassette; extra cassettes themselves are never written.

    It remembers the text of each main cassette it loaded (its *base*), so that
    at save time it can tell a file another process changed meanwhile from one
    only this cassette touched, and merge instead of overwrite.
    """

    def __init__(self, extra_paths: Sequence[str] = ()) -> None:
        self.extra_paths = list(extra_paths)
        self._base: dict[str, str | None] = {}

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> tuple:
        main = os.fspath(cassette_path)
        requests: list[Request] = []
        responses: list[dict[str, Any]] = []
        metadata: dict[str, Any] = {}
        seen: set[str] = set()
        for path in [main, *self.extra_paths]:
            if path in seen:
                continue
            seen.add(path)
            text = _read_if_present(Path(path))
            if path == main:
                self._base[os.path.abspath(main)] = text
            if text is None:
                continue
            data = _deserialize(serializer, text, path)
            default = file_matching(data.get("metadata"))
            items = data["interactions"]
            for index, item in enumerate(items):
                items[index] = None  # each form of a large cassette in memory once, not twice
                request, response = _interaction(item, f"{path}: interactions[{index}]")
                # How it was recorded and where from, for the cassette (it takes this off).
                matching = interaction_matching(response.pop(MATCHING_KEY, None), default)
                response[LOAD_INFO] = LoadInfo(matching, path, index)
                requests.append(request)
                responses.append(response)
            if path == main and isinstance(data.get("metadata"), dict):
                metadata = data["metadata"]
        if not requests:
            raise CassetteNotFoundError()
        return (requests, responses, metadata) if metadata else (requests, responses)

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        path = Path(cassette_path)
        ours = [
            _stored_item(request, response)
            for request, response in zip(
                cassette_dict["requests"], cassette_dict["responses"], strict=True
            )
        ]
        metadata = cassette_dict.get("metadata") or {}
        key = os.path.abspath(path)
        base = self._base.get(key, _NEVER_LOADED)
        path.parent.mkdir(parents=True, exist_ok=True)
        with cassette_lock(path):
            on_disk = _read_if_present(path)
            if on_disk is not None and on_disk != base:
                # Someone else saved since we loaded: keep their work and add ours.
                ours, metadata = _merge(path, serializer, base, on_disk, ours, metadata)
            data: dict[str, Any] = {"version": 1, "interactions": ours}
            if metadata:
                data["metadata"] = metadata
            text = serializer.serialize(data)
            _remove_leftovers(path)
            try:
                write_atomic(path, text)
            except OSError as exc:  # ENOSPC, EDQUOT, EROFS ...: say which cassette
                raise OSError(
                    exc.errno,
                    f"{exc.strerror or exc}; the cassette was not saved, its previous "
                    "version (if any) is kept",
                    os.fspath(path),
                ) from exc
        self._base[key] = text


def _interaction(item: Any, where: str) -> tuple[Request, dict[str, Any]]:
    """vcrpy's in-memory form of one stored interaction; a clear error when it is malformed.

    Checked here, at load, because vcrpy's hooks and replay would otherwise fail
    later on the same data with a bare ``KeyError`` or ``TypeError`` from deep inside.
    """
    if not isinstance(item, dict):
        raise CassetteFormatError(f"{where}: expected a mapping, not {type(item).__name__}")
    request = item.get("request")
    if not isinstance(request, dict):
        raise CassetteFormatError(f"{where}.request: expected a mapping")
    _check_headers(request.get("headers", {}), f"{where}.request.headers")
    if not isinstance(request.get("body"), (str, bytes, type(None))):
        raise CassetteFormatError(f"{where}.request.body: expected a string or a json body")
    try:
        parsed = _compat.request_from_dict(request)
    except (LookupError, TypeError, AttributeError, ValueError) as exc:
        raise CassetteFormatError(f"{where}.request: malformed ({exc})") from exc
    response = item.get("response")
    if not isinstance(response, dict):
        raise CassetteFormatError(f"{where}.response: expected a mapping")
    _check_headers(response.get("headers"), f"{where}.response.headers")
    if "status" in response:  # an HTTP response (a tool's record has none)
        status = response["status"]
        if not isinstance(status, dict) or type(status.get("code")) is not int:
            raise CassetteFormatError(f"{where}.response.status: expected {{code: <int>, ...}}")
        body = response.get("body")
        if not isinstance(body, dict) or not isinstance(
            body.get("string", 0), (str, bytes, type(None))
        ):
            raise CassetteFormatError(f"{where}.response.body: expected a string, json or sse body")
    return parsed, convert_to_bytes(response)


def _check_headers(headers: Any, where: str) -> None:
    """Headers as vcrpy reads them: names mapped to a string or a non-empty list of strings."""
    if not isinstance(headers, dict):
        raise CassetteFormatError(f"{where}: expected a mapping of names to values")
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if not isinstance(name, str) or not values or not all(isinstance(v, str) for v in values):
            raise CassetteFormatError(f"{where}.{name}: expected a string or a list of strings")


def _stored_item(request: Request, response: Any) -> Item:
    return {
        "request": convert_to_unicode(_compat.request_to_dict(request)),
        "response": convert_to_unicode(response),
    }


def _deserialize(serializer: Any, text: str, path: str) -> dict[str, Any]:
    """Run a serializer, making any failure name the file."""
    try:
        if isinstance(serializer, (CassetteSerializer, WrappedSerializer)):
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


def _stored_items(serializer: Any, text: str, path: Path) -> tuple[list[Item], dict[str, Any]]:
    """A stored cassette's interactions in the form ``save_cassette`` builds, and its metadata.

    Going through the same conversions as loading makes an interaction read
    from disk compare equal to the same interaction held in memory.
    """
    data = _deserialize(serializer, text, os.fspath(path))
    items = [
        _stored_item(*_interaction(item, f"{path}: interactions[{index}]"))
        for index, item in enumerate(data["interactions"])
    ]
    metadata = data.get("metadata")
    return items, metadata if isinstance(metadata, dict) else {}


def _merge(
    path: Path,
    serializer: Any,
    base: object,
    on_disk: str,
    ours: list[Item],
    our_metadata: dict[str, Any],
) -> tuple[list[Item], dict[str, Any]]:
    """Three-way merge of interaction lists, compared by their stored (serialized) form.

    ``base`` is what this cassette loaded, ``on_disk`` what is there now and
    ``ours`` what this cassette would write. Counting equal interactions as a
    multiset: what ours dropped from the base is removed from the disk's list
    (mode ``all`` replaced it); what ours added to the base is appended, less
    the copies the disk already gained from someone else (a test that recorded
    the same thing). The disk's order is kept, ours is appended after it.
    """
    theirs, their_metadata = _stored_items(serializer, on_disk, path)
    based = _stored_items(serializer, base, path)[0] if isinstance(base, str) else []

    def key(item: Item) -> str:
        return serializer.serialize({"version": 1, "interactions": [item]})

    their_keys = [key(item) for item in theirs]
    our_keys = [key(item) for item in ours]
    base_count = Counter(key(item) for item in based)
    our_count = Counter(our_keys)
    removed = base_count - our_count
    already_added = Counter(their_keys) - base_count
    to_add = our_count - base_count - already_added

    merged: list[Item] = []
    for item, k in zip(theirs, their_keys, strict=True):
        if removed[k]:
            removed[k] -= 1
        else:
            merged.append(item)
    # Take the last copies of each added interaction: those are the ones recorded last.
    seen = Counter(our_keys)
    for item, k in zip(ours, our_keys, strict=True):
        seen[k] -= 1
        if seen[k] < to_add[k]:
            merged.append(item)
    return merged, _merge_metadata(their_metadata, our_metadata)


def _merge_metadata(theirs: Any, ours: Any) -> Any:
    """Both writers' metadata: ours wins per key; lists of names (models) are united."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        merged = dict(theirs)
        for name, value in ours.items():
            merged[name] = _merge_metadata(theirs[name], value) if name in theirs else value
        return merged
    if (
        isinstance(theirs, list)
        and isinstance(ours, list)
        and all(isinstance(value, str) for value in [*theirs, *ours])
    ):
        return sorted(set(theirs) | set(ours))
    return ours


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _remove_leftovers(path: Path) -> None:
    """Delete temporary files of this cassette left by a writer that was killed mid-save.

    Called with the cassette's lock held: every writer holds it while its
    temporary file exists, so any such file now belongs to a dead process.
    """
    prefix = _temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass


def write_atomic(path: Path, text: str) -> None:
    """Write text so that a crash leaves the old file or the new one, never a torn one.

    Concurrent writers of one cassette must hold :func:`._lock.cassette_lock`
    (the persister does), or the last rename wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644  # mkstemp makes it private; a cassette is a normal repository file
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (a power cut after a save keeps the new file)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its renames are journaled anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
