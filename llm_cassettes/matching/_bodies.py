"""Canonical request bodies: what matching compares, by content type.

:func:`canonicalize` removes exactly the differences that carry no meaning
(see the package docstring) and nothing else, producing a :class:`Canonical`
whose ``key`` is a plain ``str``: cheap to hash, so a cassette computes each
recorded request's key once and finds a live request with a ``dict`` lookup.
JSON, form and multipart bodies are parsed; anything else is compared as bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from .._wire import loads_json, media_type
from ._normalize import BodyNormalizer
from ._options import CanonicalOptions, CompiledOptions, compile_options
from ._paths import next_nodes

__all__ = ["Canonical", "CanonicalKind", "Unquoted", "canonicalize", "dumps_canonical"]

CanonicalKind = Literal["json", "form", "multipart", "bytes", "empty"]


@dataclass(frozen=True, eq=False)
class Canonical:
    """A body with its meaningless differences removed.

    ``key`` is what matching compares: a compact ``str`` (prefixed by the kind, so a JSON body
    can never equal a form body).  ``value`` is the canonical structure, kept only so that
    :func:`diff` can say *where* two bodies differ.  Equality and hashing use ``key`` alone,
    so a ``Canonical`` can itself be a dict key.
    """

    kind: CanonicalKind
    key: str
    value: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Canonical):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


class Unquoted(str):
    """A string shown as-is (no quotes) by :func:`format_diff`: markers and abbreviations."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str.__str__(self)


#: Compact JSON, for keys and for showing values (the C encoder, no circularity check).
dumps_canonical = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False
).encode
# The fast path leaves dicts in their original order: let the C encoder sort them.
_DUMPS_SORTED = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False, sort_keys=True
).encode
_SHORT_BYTES = 256  # non-JSON bodies up to this size are their own key; longer ones a hash
_BIG_TEXT = 65536  # multipart text parts beyond this are keyed by hash, not content


def canonicalize(
    body: bytes | str | None,
    content_type: str | None,
    options: CanonicalOptions | None = None,
) -> Canonical:
    """Reduce a request body to a :class:`Canonical` whose ``key`` identifies it for matching.

    * JSON (``application/json``, ``*+json``, or any body starting with ``{``/``[`` that
      parses): keys sorted, whitespace gone, floats rounded, ids and timestamps replaced by
      placeholders, ``ignore_paths`` and SDK defaults dropped.  Strings that are themselves
      JSON (tool-call ``arguments``) are kept verbatim as strings, but ids and floats inside
      them are normalized by the same string regex.
    * ``application/x-www-form-urlencoded``: fields sorted by name (repeated names keep their
      relative order, which may matter to the server).
    * ``multipart/form-data``: fields by name, filename, content type and content; the random
      boundary is ignored (read from the content type, or from the body's first line).
    * anything else: exact bytes.

    Never raises on a malformed body: what cannot be parsed as its declared type is compared
    as exact bytes, which is the safe fallback for matching.
    """
    opts = options if options is not None else _DEFAULT_OPTIONS
    plan = compile_options(opts)
    if body is None or len(body) == 0:
        return Canonical("empty", "empty:", None)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    mime = media_type(content_type)

    if mime == "application/json" or mime.endswith("+json"):
        result = _json_body(body, plan)
        if result is not None:
            return result
    elif mime == "application/x-www-form-urlencoded":
        return _form_body(raw, plan)
    elif mime.startswith("multipart/") or (
        not mime and raw.startswith(b"--") and b"content-disposition" in raw[:1024].lower()
    ):
        # (A multipart body whose content type was lost still announces itself.)
        result = _multipart_body(raw, content_type or "", plan)
        if result is not None:
            return result
    else:
        first = raw[:64].lstrip()[:1]  # no copy of a large body just to peek
        if first in (b"{", b"["):
            result = _json_body(body, plan)
            if result is not None:
                return result
    return _bytes_body(raw)


_DEFAULT_OPTIONS = CanonicalOptions()


def _json_body(body: bytes | str, plan: CompiledOptions) -> Canonical | None:
    try:
        data = loads_json(body)  # deeper than the walk can go: compared as bytes
    except (ValueError, UnicodeDecodeError):
        return None
    normalizer = BodyNormalizer(plan)
    if isinstance(data, dict):
        value = (
            normalizer.object_with_paths(data, plan.paths)
            if plan.paths
            else normalizer.object_in_place(data)
        )
        if plan.ignore_defaults and "stream_options" in value and value.get("stream") is not True:
            del value["stream_options"]
    else:
        value = normalizer.normalize(data, plan.paths)
    return Canonical("json", "json:" + _DUMPS_SORTED(value), value)


def _bytes_body(raw: bytes) -> Canonical:
    if len(raw) <= _SHORT_BYTES:
        # latin-1 is a bijection bytes <-> str, so this key is exact.
        return Canonical("bytes", "bytes=" + raw.decode("latin-1"), raw)
    return Canonical("bytes", "bytes#" + hashlib.sha256(raw).hexdigest(), raw)


def _fields_value(
    fields: list[tuple[str, Any]],
    plan: CompiledOptions,
    finish: Callable[[Any, bool], Any],
) -> dict[str, Any]:
    """Form/multipart fields as ``{name: value}``, sorted by name (stably: repeated names keep
    their relative order, labelled ``name#2``…), with ignore/id paths applied by field name.

    Sorting happens BEFORE ``finish`` normalizes the values, so id placeholders are numbered
    the same whatever order the client sent the fields in.  ``finish(raw, is_id)`` turns a
    raw field into its canonical value; ``is_id`` marks a field named by ``id_paths``.
    """
    root = plan.paths
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for name, raw in sorted(fields, key=lambda kv: kv[0]):
        sub = next_nodes(root, name) if root else ()
        if any(n.drop for n in sub):
            continue
        n = counts[name] = counts.get(name, 0) + 1
        out[name if n == 1 else f"{name}#{n}"] = finish(raw, any(n.ident for n in sub))
    return out


def _form_body(raw: bytes, plan: CompiledOptions) -> Canonical:
    normalizer = BodyNormalizer(plan)
    text = raw.decode("latin-1")
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")

    def finish(field_value: str, is_id: bool) -> str:
        return (
            normalizer.placeholder("id", field_value) if is_id else normalizer.string(field_value)
        )

    value = _fields_value(pairs, plan, finish)
    return Canonical("form", "form:" + dumps_canonical(value), value)


_PARAM = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PARAM.finditer(header):
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[m.group(1).lower()] = value
    return out


def _boundary(raw: bytes, content_type: str) -> bytes | None:
    declared = _header_params(content_type).get("boundary")
    if declared and b"--" + declared.encode("latin-1") in raw:
        return declared.encode("latin-1")
    # The header may have been rewritten or lost: the body's first line is "--BOUNDARY".
    if raw.startswith(b"--"):
        line = raw[2:].split(b"\n", 1)[0].rstrip(b"\r")
        if line:
            return line
    return None


def _multipart_body(raw: bytes, content_type: str, plan: CompiledOptions) -> Canonical | None:
    boundary = _boundary(raw, content_type)
    if boundary is None:
        return None
    chunks = raw.split(b"--" + boundary)
    if len(chunks) < 3:
        return None
    normalizer = BodyNormalizer(plan)
    fields: list[tuple[str, tuple[dict[str, Any], bytes]]] = []
    for chunk in chunks[1:-1]:
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            name, colon, val = line.partition(":")
            if colon:
                headers[name.strip().lower()] = val.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        meta: dict[str, Any] = {}
        if "filename" in disposition:
            meta["filename"] = disposition["filename"]
        if "content-type" in headers:
            meta["content_type"] = headers["content-type"]
        fields.append((disposition.get("name", ""), (meta, content)))

    def finish(raw_part: tuple[dict[str, Any], bytes], is_id: bool) -> dict[str, Any]:
        meta, content = raw_part
        return {
            **meta,
            "content": _part_content(content, "filename" not in meta, is_id, normalizer),
        }

    value = _fields_value(fields, plan, finish)
    return Canonical("multipart", "multipart:" + dumps_canonical(value), value)


def _part_content(content: bytes, is_field: bool, is_id: bool, normalizer: BodyNormalizer) -> str:
    """Text stays text (readable diffs); binary or huge content becomes a digest.

    Plain form fields get id/float normalization like JSON strings; file contents are
    compared exactly, since the test supplied them.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or len(text) > _BIG_TEXT:
        digest = hashlib.sha256(content).hexdigest()
        text = Unquoted(f"<{len(content)} bytes sha256:{digest}>")
    if is_id:
        return normalizer.placeholder("id", text)
    return normalizer.string(text) if is_field and type(text) is str else text
