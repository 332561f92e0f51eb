"""How a tool call is stored: an interaction ``TOOL tool://<name>`` with an outcome.

:mod:`llm_cassettes.recording.tools` records calls in this shape, the review
commands read it and the llama-stack importer writes it, so the shape is part
of the cassette format, defined here once::

    request:  {method: TOOL, uri: tool://<name>, headers: {}, body: {json: <arguments>}}
    response:
      tool_result: <value>              # or
      tool_stream: [<item>, ...]        # an iterator's items (tool_async_stream: async)
      tool_error: {__type__: <exception class>, message: ..., args?: [...]}

Values are JSON, or typed payloads (:mod:`._payload`); tuples, bytes and
dicts with keys that are not strings use the builtin tags below.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from .._errors import CassetteFormatError
from ._payload import DATA_KEY, TYPE_KEY

__all__ = [
    "ASYNC_STREAM",
    "BYTES_TAG",
    "DICT_TAG",
    "ERROR",
    "METHOD",
    "OUTCOMES",
    "RESULT",
    "STREAM",
    "TUPLE_TAG",
    "check_outcome",
    "is_tool_request",
    "tool_name_of",
    "tool_uri",
    "valid_tool_name",
]

METHOD = "TOOL"
_SCHEME = "tool://"
RESULT = "tool_result"
STREAM = "tool_stream"
ASYNC_STREAM = "tool_async_stream"
ERROR = "tool_error"
#: The response keys of a tool outcome.
OUTCOMES = (RESULT, STREAM, ASYNC_STREAM, ERROR)

#: Containers with no JSON form, stored tagged so that replay gives the same type back.
TUPLE_TAG, BYTES_TAG, DICT_TAG = "builtins.tuple", "builtins.bytes", "builtins.dict"

# The name is the host of ``tool://<name>``: it must survive URL parsing unchanged.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def valid_tool_name(name: str) -> bool:
    """Whether ``name`` can name a tool (letters, digits, ``_``, ``.``, ``-``)."""
    return bool(_NAME.match(name))


def tool_uri(name: str) -> str:
    return f"{_SCHEME}{name}"


def is_tool_request(method: str, uri: str) -> bool:
    return method.upper() == METHOD or uri.startswith(_SCHEME)


def tool_name_of(uri: str) -> str:
    return uri.removeprefix(_SCHEME)


def check_outcome(response: Any, where: str) -> None:
    """Raise :class:`CassetteFormatError` naming the place when a stored tool outcome cannot
    be rebuilt (a hand edit: bad base64, a tuple that is not a list ...).

    Checked when the cassette loads, so ``check`` reports it and replay never meets a bare
    ``binascii.Error`` or ``TypeError``. Records of other shapes (another recorder's, an
    error stored as text) are left to replay, which explains what it cannot use.
    """
    if not isinstance(response, Mapping):
        return
    if RESULT in response:
        _check_value(response[RESULT], f"{where}.{RESULT}")
    for key in (STREAM, ASYNC_STREAM):
        if key in response:
            items = response[key]
            if not isinstance(items, list):
                raise CassetteFormatError(
                    f"{where}.{key}: expected a list of items, not {type(items).__name__}"
                )
            for index, item in enumerate(items):
                _check_value(item, f"{where}.{key}[{index}]")


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        return
    if TYPE_KEY not in value:
        for key, item in value.items():
            _check_value(item, f"{where}.{key}")
        return
    name = value[TYPE_KEY]
    if not isinstance(name, str) or not name:
        raise CassetteFormatError(f"{where}.{TYPE_KEY}: expected a dotted class name")
    if DATA_KEY not in value:
        raise CassetteFormatError(f"{where}: {TYPE_KEY} without {DATA_KEY}")
    data, place = value[DATA_KEY], f"{where}.{DATA_KEY}"
    if name == BYTES_TAG:
        if not isinstance(data, str):
            raise CassetteFormatError(
                f"{place}: expected base64 text for {BYTES_TAG}, not {type(data).__name__}"
            )
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise CassetteFormatError(f"{place}: not valid base64 ({exc})") from None
    elif name == TUPLE_TAG:
        if not isinstance(data, list):
            raise CassetteFormatError(f"{place}: expected a list for {TUPLE_TAG}")
        _check_value(data, place)
    elif name == DICT_TAG:
        if not isinstance(data, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in data
        ):
            raise CassetteFormatError(f"{place}: expected a list of [key, value] pairs")
        _check_value(data, place)
    else:
        _check_value(data, place)
