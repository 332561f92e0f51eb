"""HTTP messages as vcrpy stores them: header lookup, media types, compressed bodies.

vcrpy keeps headers as a mapping of names (any case) to a value or a list of
values; recorders, scrubbers, matchers and readers all ask the same questions of
them, and get the same answers here.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from typing import Any

__all__ = ["decompress", "header", "is_json_media", "media_type", "utf8_text"]


def header(headers: Any, name: str) -> str:
    """The (first) value of header ``name``, in any case; "" when there is none."""
    if not isinstance(headers, Mapping):
        return ""
    name = name.lower()
    for key, value in headers.items():
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                return str(value[0]) if value else ""
            return str(value)
    return ""


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json`` ("" for none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_media(content_type: str | None) -> bool:
    """``application/json`` or any ``+json`` type (``application/problem+json``)."""
    media = media_type(content_type)
    return media == "application/json" or media.endswith("+json")


def decompress(body: bytes, encoding: str) -> bytes | None:
    """A body sent with ``content-encoding: gzip`` or ``deflate``, decoded.

    ``deflate`` is zlib-wrapped by the standard, but some servers send raw
    deflate: both are read. None when the encoding is neither, or the body is
    not what the header claims (the caller keeps it byte-exact).
    """
    encoding = encoding.strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        return None
    return None


def utf8_text(body: Any) -> str | None:
    """A body as text: a ``str`` as it is, ``bytes`` when they are UTF-8, else None."""
    if isinstance(body, str):
        return body
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None
