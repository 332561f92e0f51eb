"""A cassette as a conversation: what the model was asked and what it answered.

Reviewers read prompts and answers, not HTTP. This module turns a cassette (any
form: typed, or plain vcrpy with escaped string bodies) into
:class:`~llm_cassettes.providers.Exchange` records, so that ``show`` and ``diff``
work on meaning instead of chunks, ids and timestamps. It reads the HTTP
(status, compression, SSE framing) and the tool records; each provider's
:class:`~llm_cassettes.providers.ConversationReader` reads its own bodies and
streams (assembling streamed answers into their final text and tool calls).

It reads the *wire* form that :class:`~llm_cassettes.format.CassetteSerializer`
gives back (bodies as the client saw them), so one code path serves every
cassette form, and loading errors name the file and place as everywhere else.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..._errors import CassetteFormatError
from ..._wire import SSE_MEDIA_TYPE, decompress, header, parse_sse
from ...format import (
    ASYNC_STREAM,
    COMPLETE_KEY,
    ERROR,
    ERROR_KEY,
    RESULT,
    STREAM,
    TYPE_KEY,
    CassetteSerializer,
    is_tool_request,
    provenance_entry,
    tool_name_of,
    untyped,
)
from ...providers import (
    ConversationReader,
    Exchange,
    Message,
    ToolCall,
    conversation_reader,
    one_line_json,
    parse_json_text,
)

__all__ = ["Transcript", "load_transcript", "transcript_of"]


@dataclass
class Transcript:
    """A whole cassette: where it came from and its exchanges in recorded order."""

    path: str
    exchanges: list[Exchange]
    provenance: dict[str, Any] | None = None


def load_transcript(path: str | os.PathLike[str], text: str | None = None) -> Transcript:
    """Read a cassette file (or ``text`` said to come from it) as a transcript.

    Raises :class:`CassetteFormatError` naming the file and place when it cannot be read.
    """
    source = os.fspath(path)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteFormatError(f"{source}: not UTF-8 text ({exc.reason})") from exc
        except OSError as exc:
            raise CassetteFormatError(f"{source}: cannot be read ({exc.strerror})") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # drift is `check`'s business, not `show`'s
        data = CassetteSerializer(validate=False).deserialize(text, source=source)
    return transcript_of(data, source)


def transcript_of(cassette: Mapping[str, Any], path: str = "<cassette>") -> Transcript:
    """The transcript of a vcrpy cassette dict (wire-form bodies)."""
    metadata = cassette.get("metadata")
    provenance = provenance_entry(metadata)
    exchanges = [
        _exchange(index, item.get("request") or {}, item.get("response"))
        for index, item in enumerate(cassette.get("interactions") or [])
    ]
    return Transcript(path, exchanges, provenance if isinstance(provenance, dict) else None)


def _exchange(index: int, request: Mapping[str, Any], response: Any) -> Exchange:
    method = str(request.get("method", ""))
    uri = str(request.get("uri", ""))
    if is_tool_request(method, uri):
        return _tool_exchange(index, method, uri, request.get("body"), response)
    body = parse_json_text(_body_text(request.get("body")))
    reader, kind = conversation_reader(method, urlsplit(uri).path)
    exchange = Exchange(
        index, method, uri, kind, request_body=body, prompt_fields=reader.prompt_fields
    )
    if isinstance(body, dict):
        reader.read_request(exchange, body)
    _read_response(exchange, response, reader)
    return exchange


def _tool_exchange(index: int, method: str, uri: str, body: Any, response: Any) -> Exchange:
    """A recorded tool call (see :mod:`llm_cassettes.recording.tools`): arguments in, result out."""
    name = tool_name_of(uri)
    arguments = parse_json_text(_body_text(body))
    exchange = Exchange(index, method, uri, "tool", request_body=arguments, tool_name=name)
    exchange.messages = [
        Message("assistant", tool_calls=[ToolCall(name, one_line_json(arguments))]),
    ]
    if not isinstance(response, Mapping):
        exchange.other = response
    elif ERROR in response:
        error = response[ERROR]
        if isinstance(error, Mapping) and "message" in error:
            kind = str(error.get(TYPE_KEY) or "").rpartition(".")[2]
            exchange.error = f"{kind}: {error['message']}" if kind else str(error["message"])
        else:
            exchange.error = one_line_json(untyped(error))
    elif RESULT in response:
        result = untyped(response[RESULT])
        exchange.answer = [Message("tool", one_line_json(result), name=name)]
    elif STREAM in response or ASYNC_STREAM in response:
        items = untyped(response.get(STREAM, response.get(ASYNC_STREAM)))
        items = items if isinstance(items, list) else [items]
        joined = "".join(items) if all(isinstance(i, str) for i in items) else None
        content = joined if joined is not None else "\n".join(one_line_json(i) for i in items)
        exchange.answer = [Message("tool", content, name=name)]
    else:
        exchange.other = {k: v for k, v in response.items() if k != "headers" or v}
    return exchange


def _read_response(exchange: Exchange, response: Any, reader: ConversationReader) -> None:
    if not isinstance(response, Mapping) or "status" not in response:
        exchange.other = response  # not HTTP: a record some other tool wrote
        return
    status = response.get("status")
    code = status.get("code") if isinstance(status, Mapping) else status
    exchange.status = int(code) if isinstance(code, (int, str)) and str(code).isdigit() else None
    headers = response.get("headers") or {}
    body = response.get("body")
    exchange.stream_end = _stream_end(body)
    raw = body.get("string") if isinstance(body, Mapping) else body
    if isinstance(raw, bytes):  # a plain vcrpy cassette may hold it still compressed
        raw = decompress(raw, header(headers, "content-encoding")) or raw
    text = _body_text(raw)
    if text is None:
        exchange.other = f"<{len(raw or b'')} bytes of binary data>"
        return
    content_type = header(headers, "content-type").lower()
    if content_type.startswith(SSE_MEDIA_TYPE) or (
        not text.lstrip().startswith(("{", "[")) and text.lstrip().startswith(("data:", "event:"))
    ):
        events = parse_sse(text)
        if events is not None:
            exchange.streamed = True
            reader.read_stream(exchange, events)
            return
    value = parse_json_text(text)
    if exchange.status is not None and exchange.status >= 400:
        exchange.error = reader.error_text(value)
        return
    reader.read_body(exchange, value)


def _stream_end(body: Any) -> str | None:
    """How a recorded stream ended early (see docs/streaming.md), in a reviewer's words."""
    if not isinstance(body, Mapping):
        return None
    error = body.get(ERROR_KEY)
    if isinstance(error, Mapping):
        message = str(error.get("message") or "")
        return f"broken off: {error.get('type')}" + (f": {message}" if message else "")
    if body.get(COMPLETE_KEY) is False:
        return "cut short: the client stopped reading before the end"
    return None


def _body_text(body: Any) -> str | None:
    if body is None:
        return ""
    if isinstance(body, Mapping):  # a stored form not turned into wire text (tool records)
        return json.dumps(body.get("json", body), ensure_ascii=False)
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)
