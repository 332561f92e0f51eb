"""A cassette as a conversation: what the model was asked and what it answered.

Reviewers read prompts and answers, not HTTP. This module turns a cassette (any
form: typed, or plain vcrpy with escaped string bodies) into :class:`Exchange`
records, assembling streams into their final text and tool calls, so that
``show`` and ``diff`` work on meaning instead of chunks, ids and timestamps.

It reads the *wire* form that :class:`~llm_cassettes.serializer.CassetteSerializer`
gives back (bodies as the client saw them), so one code path serves every
cassette form, and loading errors name the file and place as everywhere else.
"""

from __future__ import annotations

import base64
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..._errors import CassetteFormatError
from ..._wire import decompress, header, loads_json, parse_sse
from ...format import (
    ASYNC_STREAM,
    ERROR,
    PROVENANCE_KEY,
    RESULT,
    STREAM,
    TYPE_KEY,
    CassetteSerializer,
    is_tool_request,
    tool_name_of,
    untyped,
)

__all__ = ["Exchange", "Message", "ToolCall", "Transcript", "load_transcript", "transcript_of"]


@dataclass
class ToolCall:
    """A call the model asked for (or, in a request, one it asked for earlier)."""

    name: str
    arguments: str
    id: str | None = None


@dataclass
class Message:
    """One turn: ``role`` is system/user/assistant/tool; ``content`` is its text."""

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass
class Exchange:
    """One interaction, as a reviewer reads it.

    ``kind`` is ``chat``, ``responses``, ``completion``, ``embeddings``, ``tool`` or
    ``http`` (anything else, shown as data). ``answer`` holds the assistant's
    messages (several when ``n > 1`` or a Responses output has several items);
    ``other`` holds an answer with no conversational shape (embeddings, a list
    page, an unknown tool response), already reduced to something printable.
    """

    index: int
    method: str
    uri: str
    kind: str
    model: str | None = None
    status: int | None = None
    streamed: bool = False
    messages: list[Message] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    answer: list[Message] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: str | None = None
    other: Any = None
    request_body: Any = None

    @property
    def endpoint(self) -> str:
        if self.kind == "tool":
            return self.uri
        parts = urlsplit(self.uri)
        return parts.path or self.uri


@dataclass
class Transcript:
    """A whole cassette: where it came from and its exchanges in recorded order."""

    path: str
    exchanges: list[Exchange]
    provenance: dict[str, Any] | None = None


# Request parameters that say nothing about what the model was asked.
_NOISE_PARAMS = frozenset(
    {"model", "messages", "input", "instructions", "tools", "stream", "stream_options", "prompt"}
)


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
    provenance = metadata.get(PROVENANCE_KEY) if isinstance(metadata, Mapping) else None
    exchanges = [
        _exchange(index, item.get("request") or {}, item.get("response"))
        for index, item in enumerate(cassette.get("interactions") or [])
    ]
    return Transcript(path, exchanges, provenance if isinstance(provenance, dict) else None)


# ------------------------------------------------------------------------- requests --


def _exchange(index: int, request: Mapping[str, Any], response: Any) -> Exchange:
    method = str(request.get("method", ""))
    uri = str(request.get("uri", ""))
    body = _parse_json(_text(request.get("body")))
    if is_tool_request(method, uri):
        return _tool_exchange(index, method, uri, request.get("body"), response)
    path = urlsplit(uri).path
    kind = "http"
    if path.endswith("/chat/completions"):
        kind = "chat"
    elif path.endswith("/responses") or "/responses/" in path:
        kind = "responses"
    elif path.endswith("/completions"):
        kind = "completion"
    elif path.endswith("/embeddings"):
        kind = "embeddings"
    exchange = Exchange(index, method, uri, kind, request_body=body)
    if isinstance(body, dict):
        model = body.get("model")
        exchange.model = model if isinstance(model, str) else None
        exchange.messages = _name_tool_results(_request_messages(kind, body))
        exchange.tools = _tool_names(body.get("tools"))
        exchange.params = {k: v for k, v in body.items() if k not in _NOISE_PARAMS}
        if kind == "embeddings":
            exchange.params.pop("input", None)
    _read_response(exchange, response)
    return exchange


def _request_messages(kind: str, body: dict[str, Any]) -> list[Message]:
    if kind == "chat" and isinstance(body.get("messages"), list):
        return [_chat_message(m) for m in body["messages"] if isinstance(m, dict)]
    if kind == "responses":
        messages = []
        if isinstance(body.get("instructions"), str):
            messages.append(Message("system", body["instructions"]))
        return messages + _response_input(body.get("input"))
    if kind == "completion" and "prompt" in body:
        prompt = body["prompt"]
        return [Message("prompt", prompt if isinstance(prompt, str) else _compact(prompt))]
    if kind == "embeddings" and "input" in body:
        items = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return [Message("input", i if isinstance(i, str) else _compact(i)) for i in items]
    return []


def _name_tool_results(messages: list[Message]) -> list[Message]:
    """Label each tool result with the tool's name: a reviewer cannot read call ids."""
    names = {call.id: call.name for m in messages for call in m.tool_calls if call.id}
    for message in messages:
        if message.role == "tool" and not message.name and message.tool_call_id in names:
            message.name = names[message.tool_call_id]
    return messages


def _chat_message(message: dict[str, Any]) -> Message:
    calls = [
        ToolCall(
            str((call.get("function") or {}).get("name", "")),
            str((call.get("function") or {}).get("arguments", "")),
            call.get("id"),
        )
        for call in message.get("tool_calls") or []
        if isinstance(call, dict)
    ]
    return Message(
        str(message.get("role", "?")),
        _content_text(message.get("content")),
        calls,
        message.get("tool_call_id"),
        message.get("name"),
    )


def _response_input(value: Any) -> list[Message]:
    if isinstance(value, str):
        return [Message("user", value)]
    if not isinstance(value, list):
        return []
    messages: list[Message] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            _add_function_call(messages, item)
        elif kind == "function_call_output":
            messages.append(
                Message("tool", _content_text(item.get("output")), [], item.get("call_id"))
            )
        elif "role" in item:
            messages.append(Message(str(item["role"]), _content_text(item.get("content"))))
        else:
            messages.append(Message(str(kind or "item"), _compact(item)))
    return messages


def _content_text(content: Any) -> str:
    """Text of a message's content: a string, or the parts of a multimodal list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and "type" in part:
                parts.append(f"[{part['type']}]")
            else:
                parts.append(_compact(part))
        return "\n".join(parts)
    return _compact(content)


def _tool_names(tools: Any) -> list[str]:
    names = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        names.append(str(function.get("name") or tool.get("type") or "?"))
    return names


def _tool_exchange(index: int, method: str, uri: str, body: Any, response: Any) -> Exchange:
    """A recorded tool call (see :mod:`llm_cassettes.recording.tools`): arguments in, result out."""
    name = tool_name_of(uri)
    arguments = _parse_json(_text(body))
    exchange = Exchange(index, method, uri, "tool", model=None, request_body=arguments)
    exchange.messages = [
        Message("assistant", tool_calls=[ToolCall(name, _compact(arguments))]),
    ]
    if not isinstance(response, Mapping):
        exchange.other = response
    elif ERROR in response:
        error = response[ERROR]
        if isinstance(error, Mapping) and "message" in error:
            kind = str(error.get(TYPE_KEY) or "").rpartition(".")[2]
            exchange.error = f"{kind}: {error['message']}" if kind else str(error["message"])
        else:
            exchange.error = _compact(untyped(error))
    elif RESULT in response:
        result = untyped(response[RESULT])
        exchange.answer = [Message("tool", _compact(result), name=name)]
    elif STREAM in response or ASYNC_STREAM in response:
        items = untyped(response.get(STREAM, response.get(ASYNC_STREAM)))
        items = items if isinstance(items, list) else [items]
        joined = "".join(items) if all(isinstance(i, str) for i in items) else None
        content = joined if joined is not None else "\n".join(_compact(i) for i in items)
        exchange.answer = [Message("tool", content, name=name)]
    else:
        exchange.other = {k: v for k, v in response.items() if k != "headers" or v}
    return exchange


# ------------------------------------------------------------------------ responses --


def _read_response(exchange: Exchange, response: Any) -> None:
    if not isinstance(response, Mapping) or "status" not in response:
        exchange.other = response  # not HTTP: a record some other tool wrote
        return
    status = response.get("status")
    code = status.get("code") if isinstance(status, Mapping) else status
    exchange.status = int(code) if isinstance(code, (int, str)) and str(code).isdigit() else None
    headers = response.get("headers") or {}
    body = response.get("body")
    raw = body.get("string") if isinstance(body, Mapping) else body
    if isinstance(raw, bytes):  # a plain vcrpy cassette may hold it still compressed
        raw = decompress(raw, header(headers, "content-encoding")) or raw
    text = _text(raw)
    if text is None:
        exchange.other = f"<{len(raw or b'')} bytes of binary data>"
        return
    content_type = header(headers, "content-type").lower()
    if content_type.startswith("text/event-stream") or (
        not text.lstrip().startswith(("{", "[")) and text.lstrip().startswith(("data:", "event:"))
    ):
        events = parse_sse(text)
        if events is not None:
            exchange.streamed = True
            _read_stream(exchange, events)
            return
    value = _parse_json(text)
    if exchange.status is not None and exchange.status >= 400:
        exchange.error = _error_text(value)
        return
    _read_body(exchange, value)


def _read_body(exchange: Exchange, value: Any) -> None:
    if not isinstance(value, dict):
        exchange.other = value
        return
    exchange.usage = value.get("usage") if isinstance(value.get("usage"), dict) else None
    if isinstance(value.get("model"), str) and not exchange.model:
        exchange.model = value["model"]
    if value.get("object") == "chat.completion" or (
        exchange.kind == "chat" and isinstance(value.get("choices"), list)
    ):
        exchange.answer = [
            _chat_message(choice.get("message") or {})
            for choice in value.get("choices") or []
            if isinstance(choice, dict)
        ]
    elif value.get("object") == "response" or exchange.kind == "responses":
        exchange.answer = _response_output(value)
        if value.get("error"):
            exchange.error = _error_text(value)
    elif exchange.kind == "completion" and isinstance(value.get("choices"), list):
        exchange.answer = [
            Message("completion", str(c.get("text", "")))
            for c in value["choices"]
            if isinstance(c, dict)
        ]
    elif exchange.kind == "embeddings" and isinstance(value.get("data"), list):
        exchange.other = _embedding_summary(value["data"])
    else:
        exchange.other = value


def _response_output(response: Mapping[str, Any]) -> list[Message]:
    """The Responses API's ``output`` items as assistant messages and tool calls."""
    messages: list[Message] = []
    for item in response.get("output") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            messages.append(
                Message(str(item.get("role", "assistant")), _content_text(item.get("content")))
            )
        elif kind == "function_call":
            _add_function_call(messages, item)
        elif kind == "reasoning":
            summary = _content_text(item.get("summary"))
            if summary:
                messages.append(Message("reasoning", summary))
        else:
            messages.append(Message(str(kind or "output"), _compact(item)))
    return messages


def _read_stream(exchange: Exchange, events: list[dict[str, Any]]) -> None:
    payloads = []
    for event in events:
        data = event.get("data")
        if not data or data.strip() == "[DONE]":
            continue
        value = _parse_json(data)
        if isinstance(value, dict):
            payloads.append((event.get("event"), value))
    if any(name or "type" in value for name, value in payloads) and exchange.kind != "chat":
        _read_response_events(exchange, payloads)
    elif payloads:
        _read_chunks(exchange, [value for _, value in payloads])


def _read_chunks(exchange: Exchange, chunks: list[dict[str, Any]]) -> None:
    """Chat Completions chunks: contents concatenated, tool calls merged by index."""
    choices: dict[int, Message] = {}
    calls: dict[tuple[int, int], ToolCall] = {}
    for chunk in chunks:
        if isinstance(chunk.get("error"), dict):
            exchange.error = _error_text(chunk)
        if isinstance(chunk.get("usage"), dict):
            exchange.usage = chunk["usage"]
        if isinstance(chunk.get("model"), str) and not exchange.model:
            exchange.model = chunk["model"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            number = int(choice.get("index", 0) or 0)
            delta = choice.get("delta") or {}
            if "text" in choice and not delta:  # legacy completions stream
                delta = {"content": choice["text"]}
            message = choices.setdefault(
                number, Message("assistant" if exchange.kind == "chat" else "completion")
            )
            if isinstance(delta.get("role"), str) and exchange.kind == "chat":
                message.role = delta["role"]
            if isinstance(delta.get("content"), str):
                message.content += delta["content"]
            for call in delta.get("tool_calls") or []:
                key = (number, int(call.get("index", 0) or 0))
                function = call.get("function") or {}
                merged = calls.get(key)
                if merged is None:
                    merged = calls[key] = ToolCall("", "", None)
                    message.tool_calls.append(merged)
                merged.id = merged.id or call.get("id")
                merged.name += function.get("name") or ""
                merged.arguments += function.get("arguments") or ""
    exchange.answer = [choices[n] for n in sorted(choices)]


def _read_response_events(exchange: Exchange, payloads: list[tuple[str | None, Any]]) -> None:
    """Responses API events: the final response when streamed whole, else the deltas."""
    final = None
    text: dict[int, str] = {}
    for name, value in payloads:
        kind = value.get("type") or name
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            final = value.get("response")
        elif kind == "response.output_text.delta":
            index = int(value.get("output_index", 0) or 0)
            text[index] = text.get(index, "") + str(value.get("delta", ""))
        elif kind == "error":
            exchange.error = _error_text(value)
    if isinstance(final, dict):
        _read_body(exchange, {**final, "object": "response"})
    elif text:
        exchange.answer = [Message("assistant", text[i]) for i in sorted(text)]


def _embedding_summary(items: list[Any]) -> str:
    sizes = set()
    for item in items:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(vector, list):
            sizes.add(len(vector))
        elif isinstance(vector, str):
            try:
                sizes.add(len(base64.b64decode(vector)) // 4)  # float32, base64-encoded
            except ValueError:
                pass
    size = f" of dimension {sizes.pop()}" if len(sizes) == 1 else ""
    return f"{len(items)} embedding{'s' if len(items) != 1 else ''}{size}"


def _error_text(value: Any) -> str:
    if isinstance(value, dict):
        error = value.get("error", value)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            code = error.get("code") or error.get("type")
            return f"{error['message']} ({code})" if code else error["message"]
        if isinstance(error, str):
            return error
    return _compact(value)


# -------------------------------------------------------------------------- helpers --


def _text(body: Any) -> str | None:
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


def _parse_json(text: str | None) -> Any:
    if not text:
        return text
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
        try:
            return loads_json(text)
        except ValueError:
            pass
    return text


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _add_function_call(messages: list[Message], item: dict[str, Any]) -> None:
    """A Responses ``function_call`` item joins the assistant turn it belongs to."""
    call = ToolCall(str(item.get("name", "")), str(item.get("arguments", "")))
    call.id = item.get("call_id")
    if messages and messages[-1].role == "assistant" and not messages[-1].content:
        messages[-1].tool_calls.append(call)
    else:
        messages.append(Message("assistant", tool_calls=[call]))
