"""A fake OpenAI HTTP service on a real loopback socket, plus pytest fixtures.

Why a real server instead of mocking the SDK: llm-cassettes records what the real
``openai`` SDK puts on the wire (through ``httpx2``), so tests need genuine HTTP
traffic: keep-alive connections, chunked SSE streams, gzip bodies, multipart uploads.
Like the real service, every answer carries fresh random ids, the current time and
volatile / secret-looking headers, so tests can prove the cassettes are scrubbed and
normalized. ``stop()`` closes every socket, so a replayed test that still reaches the
network fails loudly with ``openai.APIConnectionError``.

Only the standard library is used for the server itself; ``pytest`` and ``openai`` are
imported for the fixtures.
(PYTEST_DONT_REWRITE: no test assertions here, and this silences pytest's warning when the
module is imported before being registered as a plugin.)

Behaviour of the fake model (chat completions and responses alike):

* last user message ``"<text>"`` -> ``"Echo: <text>"``, streamed word by word;
* tools given (and ``tool_choice`` is not ``"none"``) and no tool result after the last
  user message -> a call of the first (or the chosen) function tool with arguments
  ``{"query": "<text>"}``;
* a tool result after the last user message -> ``"Based on the tool: <result>"``;
* a user message starting with ``"echo-headers"`` -> ``"Headers: <json of the received
  request headers, Authorization included>"``;
* a user message starting with ``"error-<status>"`` (e.g. ``"error-429"``) -> that HTTP
  status with an OpenAI-style error body.

``/v1/echo[/anything]`` (any method, any body, no API key needed) answers with what it was
sent, the way debugging endpoints and error messages echo requests: method, path, query,
headers, the body (as text, as parsed JSON, form or multipart fields, and base64), the
decoded ``Authorization: Basic`` credentials and the headers of the response itself (its
cookies included). ``?as=`` picks the carrier: ``json`` (default, the echo at depth),
``sse`` (one event per part), ``ndjson`` (one JSON line per part), ``error`` (a 400 OpenAI error body quoting the request),
``binary`` (non-UTF-8 bytes), ``text``. ``?escape=slashes`` writes ``/`` as ``\\/`` and
``?escape=html`` writes ``<>&'=+`` as ``\\u00XX``, as some JSON encoders do.
``FakeOpenAI.extra_headers`` and ``.extra_fields`` add response headers and top-level JSON
fields to every echo answer (secrets a server issues, not echoes).

Every answer carries the two ``set-cookie`` headers the real API sends, attributes and all
(``HttpOnly; Secure; Path=/; Domain=<host>; Expires=<date>``).

Streams can be observed and disturbed: ``FakeOpenAI.streams`` logs each SSE answer (how
many events were sent, and whether it ended, the client went away, or the server dropped
it); ``drop_after=N`` severs the connection after N events, without the chunked body's
end; ``hold_after=N`` waits after N events until ``release()``, so a test can tell
whether the client got the first events while the server had not sent the rest.
"""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.utils
import gzip as gzip_module
import hashlib
import http.cookiejar
import json
import random
import re
import select
import socket
import socketserver
import string
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import openai
import pytest
from typing_extensions import Self

__all__ = [
    "FAKE_API_KEY",
    "SECRET_COOKIE",
    "SECRET_ORGANIZATION",
    "SECRET_PROJECT",
    "FakeOpenAI",
    "ReceivedRequest",
    "StreamLog",
    "async_openai_client",
    "fake_openai",
    "fake_openai_factory",
    "https_like_client",
    "openai_client",
    "pytest_configure",
]

#: The API key the fixtures' clients send (``Authorization: Bearer ...``); tests assert
#: that it never reaches a cassette.
FAKE_API_KEY = "sk-test-FAKEKEY0123456789abcdefABCDEF"
#: Secret-looking values the server puts in response headers, so tests can grep for them.
SECRET_ORGANIZATION = "org-SECRETORG123"
SECRET_PROJECT = "proj_SECRETPROJ456"
SECRET_COOKIE = "SECRETCOOKIE"

#: ``created`` of the first answer in deterministic mode (2023-11-14T22:13:20Z).
DETERMINISTIC_EPOCH = 1_700_000_000

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"

_MODELS: list[dict[str, Any]] = [
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
    {"id": "gpt-4.1-mini", "object": "model", "created": 1744318173, "owned_by": "system"},
    {
        "id": "text-embedding-3-small",
        "object": "model",
        "created": 1705948997,
        "owned_by": "system",
    },
]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it, so tests can assert on what the SDK sent."""

    method: str
    path: str
    #: query parameters; for a repeated name the last value wins
    query: dict[str, str]
    #: header names lower-cased; repeated headers joined with ", "
    headers: dict[str, str]
    body: bytes
    #: the decoded JSON body, or None when the body is not JSON
    json: Any | None


@dataclass
class StreamLog:
    """What the server did with one SSE answer."""

    path: str
    #: events written to the socket so far
    sent: int = 0
    #: "" while streaming, then "complete", "client went away" or "dropped"
    outcome: str = ""
    finished: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float = 10.0) -> str:
        """The outcome, once the stream is over (bounded wait: a test never hangs)."""
        if not self.finished.wait(timeout):
            raise TimeoutError(f"the fake server's stream is still going after {timeout} s")
        return self.outcome


class _Rng:
    """Id / timestamp source of one request: fresh randomness, or seeded for determinism."""

    def __init__(self, seed: str | None, created: int) -> None:
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()
        self.created = created

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self._random.choice(alphabet) for _ in range(n))

    def randint(self, low: int, high: int) -> int:
        return self._random.randint(low, high)


@dataclass
class _Reply:
    """What the fake model decided to answer."""

    text: str = ""
    tool_name: str | None = None
    tool_arguments: str = ""
    error_status: int | None = None


@dataclass
class _Conversation:
    """The parts of a chat / responses input that the fake model looks at."""

    last_user_text: str | None = None
    tool_output_after_user: str | None = None
    prompt_tokens: int = 0


# --------------------------------------------------------------------------- model logic


def _text_of(content: Any) -> str:
    """Plain text of a message ``content``: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return "" if content is None else str(content)


def _count_tokens(text: str) -> int:
    """A stable, tokenizer-free token estimate (one per word), good enough for usage."""
    return len(text.split())


def _chat_conversation(messages: Any) -> _Conversation:
    conv = _Conversation()
    if not isinstance(messages, list):
        return conv
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        text = _text_of(message.get("content"))
        conv.prompt_tokens += _count_tokens(text) + 3
        if role == "user":
            conv.last_user_text = text
            conv.tool_output_after_user = None
        elif role in ("tool", "function"):
            conv.tool_output_after_user = text
    return conv


def _responses_conversation(input_: Any, instructions: Any) -> _Conversation:
    conv = _Conversation()
    if isinstance(instructions, str):
        conv.prompt_tokens += _count_tokens(instructions)
    items = [{"role": "user", "content": input_}] if isinstance(input_, str) else input_
    if not isinstance(items, list):
        return conv
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") in ("function_call_output", "custom_tool_call_output"):
            text = _text_of(item.get("output"))
            conv.tool_output_after_user = text
        elif item.get("type", "message") == "message":
            text = _text_of(item.get("content"))
            if item.get("role") == "user":
                conv.last_user_text = text
                conv.tool_output_after_user = None
        else:
            continue
        conv.prompt_tokens += _count_tokens(text) + 3
    return conv


def _tool_names(tools: Any) -> list[str]:
    """Names of the function tools, for chat (nested ``function``) and responses (flat)."""
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        name = (tool.get("function") or {}).get("name") or tool.get("name")
        if isinstance(name, str):
            names.append(name)
    return names


def _chosen_tool(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        return name if isinstance(name, str) else None
    return None


def _decide(conv: _Conversation, body: dict[str, Any], headers: dict[str, str]) -> _Reply:
    """The fake model: echo, call a tool, summarize a tool result, or fail on request."""
    if conv.tool_output_after_user is not None:
        return _Reply(text=f"Based on the tool: {conv.tool_output_after_user}")
    text = conv.last_user_text or ""
    if text.startswith("echo-headers"):
        return _Reply(text="Headers: " + json.dumps(headers, sort_keys=True))
    error = re.match(r"error-(\d{3})\b", text)
    if error:
        return _Reply(error_status=int(error.group(1)))
    tool_choice = body.get("tool_choice")
    names = _tool_names(body.get("tools"))
    if names and tool_choice != "none":
        name = _chosen_tool(tool_choice) or names[0]
        return _Reply(tool_name=name, tool_arguments=json.dumps({"query": text}))
    return _Reply(text=f"Echo: {text}")


def _split_words(text: str) -> list[str]:
    """Split text into stream deltas ("Echo:", " hello", " world") that join back exactly."""
    return re.findall(r"\s*\S+|\s+$", text)


def _split_fixed(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _status_error(status: int) -> dict[str, Any]:
    if status == 429:
        return _error_body(
            "Rate limit reached for requests (fake).", "requests", "rate_limit_exceeded"
        )
    if status == 401:
        return _error_body(
            "Incorrect API key provided (fake).", "invalid_request_error", "invalid_api_key"
        )
    if status >= 500:
        return _error_body("The server had an error (fake).", "server_error")
    return _error_body(f"Requested error {status} (fake).", "invalid_request_error")


# ------------------------------------------------------------------------ chat payloads


def _chat_usage(conv: _Conversation, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": conv.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": conv.prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _fingerprint(model: str) -> str:
    """Stable per model, like the real ``system_fingerprint``."""
    return "fp_" + hashlib.sha256(model.encode()).hexdigest()[:10]


def _completion_tokens(reply: _Reply) -> int:
    return max(1, len(_split_words(reply.text)) if reply.tool_name is None else 8)


def _chat_completion(rng: _Rng, model: str, conv: _Conversation, reply: _Reply) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text,
        "refusal": None,
        "annotations": [],
    }
    finish_reason = "stop"
    if reply.tool_name is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_" + rng.chars(_ALNUM, 24),
                "type": "function",
                "function": {"name": reply.tool_name, "arguments": reply.tool_arguments},
            }
        ]
        finish_reason = "tool_calls"
    return {
        "id": "chatcmpl-" + rng.chars(_ALNUM, 29),
        "object": "chat.completion",
        "created": rng.created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": _chat_usage(conv, _completion_tokens(reply)),
        "service_tier": "default",
        "system_fingerprint": _fingerprint(model),
    }


def _chat_chunks(
    rng: _Rng, model: str, conv: _Conversation, reply: _Reply, include_usage: bool
) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a stream, shaped like the real API's."""
    base: dict[str, Any] = {
        "id": "chatcmpl-" + rng.chars(_ALNUM, 29),
        "object": "chat.completion.chunk",
        "created": rng.created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": _fingerprint(model),
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        out = dict(base)
        out["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
        if include_usage:
            out["usage"] = None
        return out

    if reply.tool_name is not None:
        yield chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_" + rng.chars(_ALNUM, 24),
                        "type": "function",
                        "function": {"name": reply.tool_name, "arguments": ""},
                    }
                ],
                "refusal": None,
            }
        )
        for piece in _split_fixed(reply.tool_arguments):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls")
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in _split_words(reply.text):
            yield chunk({"content": piece})
        yield chunk({}, "stop")
    if include_usage:
        usage_chunk = dict(base)
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _chat_usage(conv, _completion_tokens(reply))
        yield usage_chunk


# ------------------------------------------------------------------- responses payloads


def _response_tools(tools: Any) -> list[Any]:
    """The request's tools as the real API echoes them back (function tools get defaults)."""
    out: list[Any] = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            out.append(
                {
                    "type": "function",
                    "name": tool.get("name"),
                    "description": tool.get("description"),
                    "parameters": tool.get("parameters"),
                    "strict": tool.get("strict", True),
                }
            )
        else:
            out.append(tool)
    return out


def _response_object(
    body: dict[str, Any],
    rng_created: int,
    response_id: str,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    tool_choice = body.get("tool_choice", "auto")
    return {
        "id": response_id,
        "object": "response",
        "created_at": rng_created,
        "status": status,
        "background": False,
        "completed_at": rng_created if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": tool_choice,
        "tools": _response_tools(body.get("tools")),
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def _response_usage(conv: _Conversation, reply: _Reply) -> dict[str, Any]:
    output_tokens = _completion_tokens(reply)
    return {
        "input_tokens": conv.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": conv.prompt_tokens + output_tokens,
    }


def _response_events(
    rng: _Rng, body: dict[str, Any], model: str, conv: _Conversation, reply: _Reply
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Return the final ``response`` object and the stream events leading to it."""
    response_id = "resp_" + rng.chars(_HEX, 48)
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(type_: str, **payload: Any) -> None:
        events.append((type_, {"type": type_, "sequence_number": len(events), **payload}))

    def snapshot(status: str, output: list[dict[str, Any]], usage: Any) -> dict[str, Any]:
        return _response_object(body, rng.created, response_id, model, status, output, usage)

    emit("response.created", response=snapshot("in_progress", [], None))
    emit("response.in_progress", response=snapshot("in_progress", [], None))
    if reply.tool_name is not None:
        item_id = "fc_" + rng.chars(_HEX, 48)
        item: dict[str, Any] = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": "call_" + rng.chars(_ALNUM, 24),
            "name": reply.tool_name,
        }
        emit("response.output_item.added", output_index=0, item=dict(item))
        for piece in _split_fixed(reply.tool_arguments):
            emit(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=0,
                delta=piece,
            )
        emit(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=0,
            name=reply.tool_name,
            arguments=reply.tool_arguments,
        )
        item.update(status="completed", arguments=reply.tool_arguments)
    else:
        item_id = "msg_" + rng.chars(_HEX, 48)
        item = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        emit("response.output_item.added", output_index=0, item=dict(item, content=[]))
        part: dict[str, Any] = {
            "type": "output_text",
            "annotations": [],
            "logprobs": [],
            "text": "",
        }
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        emit("response.content_part.added", **where, part=dict(part))
        for piece in _split_words(reply.text):
            emit("response.output_text.delta", **where, delta=piece, logprobs=[])
        emit("response.output_text.done", **where, text=reply.text, logprobs=[])
        part["text"] = reply.text
        emit("response.content_part.done", **where, part=part)
        item.update(status="completed", content=[part])
    emit("response.output_item.done", output_index=0, item=item)
    final = snapshot("completed", [item], _response_usage(conv, reply))
    emit("response.completed", response=final)
    return final, events


# ------------------------------------------------------------------------- other payloads


def _embedding_vector(item: Any, dimensions: int) -> list[float]:
    """A small vector derived from a hash of the input, exactly representable as float32."""
    digest = hashlib.shake_256(json.dumps(item, sort_keys=True).encode()).digest(2 * dimensions)
    raw = [
        int.from_bytes(digest[i : i + 2], "little") / 32767.5 - 1.0
        for i in range(0, len(digest), 2)
    ]
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *raw)))


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    input_ = body.get("input")
    if isinstance(input_, str) or (
        isinstance(input_, list) and input_ and all(isinstance(x, int) for x in input_)
    ):
        items: list[Any] = [input_]
    else:
        items = list(input_) if isinstance(input_, list) else [input_]
    dimensions = body.get("dimensions") or 8
    dimensions = max(1, min(int(dimensions), 256))
    base64_format = body.get("encoding_format") == "base64"
    data: list[dict[str, Any]] = []
    tokens = 0
    for index, item in enumerate(items):
        vector = _embedding_vector(item, dimensions)
        encoded: Any = vector
        if base64_format:
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens += len(item) if isinstance(item, list) else max(1, _count_tokens(str(item)))
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@dataclass
class _FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _parse_multipart(content_type: str, body: bytes) -> list[_FormPart]:
    """Split a multipart/form-data body; byte-exact, so binary uploads survive."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return []
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: list[_FormPart] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        parts.append(
            _FormPart(
                name=str(name or ""),
                filename=headers.get_filename(),
                content_type=headers.get("content-type"),
                data=data,
            )
        )
    return parts


# ------------------------------------------------------------------------------ server


class _Server(ThreadingHTTPServer):
    """Threading HTTP server that knows its FakeOpenAI and can sever live connections."""

    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAI

    allow_reuse_address = True  # a fixed port can be bound again right after stop()

    def __init__(self, fake: FakeOpenAI, port: int = 0) -> None:
        self.fake = fake
        self.closing = False
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), fake.handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a possibly slow DNS lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def sever_connections(self) -> None:
        """Shut down every open client socket so pooled keep-alive connections die too."""
        with self.connections_lock:
            self.closing = True
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Routes one connection's requests; HTTP/1.1 so the SDK's connection pool is exercised."""

    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    timeout = 60  # a forgotten keep-alive connection must not pin a thread forever
    server: _Server

    # --- connection bookkeeping ---------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)
            if self.server.closing:
                self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        # In deterministic mode the Date header follows the fake clock, not the real one.
        rng = getattr(self, "_rng", None)
        if timestamp is None and rng is not None:
            timestamp = rng.created
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests read ``FakeOpenAI.requests`` instead."""

    # --- request entry points -----------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        fake = self.server.fake
        body = self._read_body()
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        parsed: Any = None
        if body and "json" in headers.get("content-type", ""):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        received = ReceivedRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=headers,
            body=body,
            json=parsed,
        )
        self._request = received
        self._headers_sent = False
        self._cookies: list[str] | None = None
        self._rng = fake._new_rng(received)
        try:
            self._route(received)
        except OSError:  # the client went away (or stop() severed the socket)
            self.close_connection = True
        except Exception as exc:  # a bug in this fake: answer 500 rather than drop the socket
            self.close_connection = True
            if not self._headers_sent:
                message = f"FakeOpenAI failed: {exc!r}"
                self._send_json(500, _error_body(message, "server_error"))
            raise

    def send_response(self, code: int, message: str | None = None) -> None:
        self._headers_sent = True
        super().send_response(code, message)

    def _route(self, req: ReceivedRequest) -> None:
        if req.path == "/v1/echo" or req.path.startswith("/v1/echo/"):
            self._echo(req)
            return
        if "authorization" not in req.headers:
            self._send_json(
                401,
                _error_body("You didn't provide an API key (fake).", "invalid_request_error"),
            )
            return
        if req.method == "POST" and req.path != "/v1/files" and not isinstance(req.json, dict):
            self._send_json(
                400,
                _error_body(
                    "We could not parse the JSON body of your request (fake).",
                    "invalid_request_error",
                ),
            )
            return
        for method, pattern, handler in _ROUTES:
            match = re.fullmatch(pattern, req.path)
            if match and method == req.method:
                handler(self, req, *match.groups())
                return
        self._send_json(
            404,
            _error_body(f"Invalid URL ({req.method} {req.path})", "invalid_request_error"),
        )

    # --- response writing ---------------------------------------------------------

    def _common_headers(self, content_type: str) -> None:
        rng = self._rng
        self.send_header("content-type", content_type)
        self.send_header("access-control-expose-headers", "X-Request-ID")
        self.send_header("openai-organization", SECRET_ORGANIZATION)
        self.send_header("openai-project", SECRET_PROJECT)
        self.send_header("openai-processing-ms", str(rng.randint(80, 900)))
        self.send_header("openai-version", "2020-10-01")
        self.send_header("x-envoy-upstream-service-time", str(rng.randint(80, 900)))
        self.send_header("x-ratelimit-limit-requests", "10000")
        self.send_header("x-ratelimit-limit-tokens", "30000000")
        self.send_header("x-ratelimit-remaining-requests", str(rng.randint(9990, 9999)))
        self.send_header("x-ratelimit-remaining-tokens", str(rng.randint(29990000, 29999990)))
        self.send_header("x-ratelimit-reset-requests", f"{rng.randint(2, 9)}ms")
        self.send_header("x-ratelimit-reset-tokens", "0s")
        self.send_header("x-request-id", "req_" + rng.chars(_HEX, 32))
        self.send_header(
            "strict-transport-security", "max-age=31536000; includeSubDomains; preload"
        )
        self.send_header("cf-cache-status", "DYNAMIC")
        for cookie in self._set_cookies():
            self.send_header("set-cookie", cookie)
        self.send_header("x-content-type-options", "nosniff")
        self.send_header("cf-ray", rng.chars(_HEX, 16) + "-SJC")
        self.send_header("alt-svc", 'h3=":443"; ma=86400')

    def _set_cookies(self) -> list[str]:
        """This response's two cookies, exactly in the real service's shape (see
        tests/data/real_traffic/openai-response-headers.md): the host as Domain, a date."""
        if self._cookies is None:
            rng = self._rng
            host = self._request.headers.get("host", "127.0.0.1").rsplit(":", 1)[0]
            expires = email.utils.formatdate(rng.created + 1800, usegmt=True)
            bm = (
                f"__cf_bm={SECRET_COOKIE}{rng.chars(_ALNUM, 20)}.{rng.chars(_ALNUM, 12)}"
                f"-{rng.created}-1.0.1.1-{rng.chars(_ALNUM, 40)}; HttpOnly; Secure; Path=/; "
                f"Domain={host}; Expires={expires}"
            )
            uvid = (
                f"_cfuvid={SECRET_COOKIE}{rng.chars(_ALNUM, 24)}.{rng.chars(_ALNUM, 8)}"
                f"-{rng.created}000-0.0.1.1-604800000; HttpOnly; SameSite=None; Secure; Path=/; "
                f"Domain={host}"
            )
            self._cookies = [bm, uvid]
        return self._cookies

    def _send_bytes(self, status: int, data: bytes, content_type: str, *, compress: bool) -> None:
        gzip_it = (
            compress
            and self.server.fake.gzip
            and "gzip" in self._request.headers.get("accept-encoding", "")
        )
        if gzip_it:
            data = gzip_module.compress(data, mtime=0)
        self.send_response(status)
        self._common_headers(content_type)
        if gzip_it:
            self.send_header("content-encoding", "gzip")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, payload: Any) -> None:
        # The real service pretty-prints non-streamed JSON bodies.
        data = json.dumps(payload, indent=2, ensure_ascii=False).encode() + b"\n"
        self._send_bytes(status, data, "application/json", compress=True)

    def _send_sse(self, events: Iterator[tuple[str | None, Any]]) -> None:
        """Stream ``(event name or None, data)`` pairs as SSE over chunked encoding."""
        fake = self.server.fake
        log = StreamLog(self._request.path)
        with fake._lock:
            fake.streams.append(log)
        try:
            self.send_response(200)
            self._common_headers("text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for index, (name, data) in enumerate(events):
                if index and index == fake.hold_after:
                    fake._released.wait(10)
                if index and index == fake.drop_after:
                    log.outcome = "dropped"
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fake.chunk_delay and index:
                    time.sleep(fake.chunk_delay)
                if self._client_gone():
                    raise ConnectionResetError("the client closed the connection")
                text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
                frame = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
                self._write_chunk(frame.encode())
                log.sent += 1
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            log.outcome = "complete"
        except OSError:
            log.outcome = "client went away"
            raise
        finally:
            log.finished.set()

    def _client_gone(self) -> bool:
        """Whether the client closed its end (its socket reads as ended, without blocking)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send_lines(self, lines: list[bytes], media: str, headers: list[tuple[str, str]]) -> None:
        """A chunked body, one line per chunk, ``chunk_delay`` apart (Ollama's NDJSON)."""
        self.send_response(200)
        self._common_headers(media)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for index, line in enumerate(lines):
            if self.server.fake.chunk_delay and index:
                time.sleep(self.server.fake.chunk_delay)
            self._write_chunk(line)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # --- endpoints ----------------------------------------------------------------

    def _chat_completions(self, req: ReceivedRequest) -> None:
        body: dict[str, Any] = req.json
        model = str(body.get("model", "gpt-4o-mini"))
        conv = _chat_conversation(body.get("messages"))
        reply = _decide(conv, body, req.headers)
        if reply.error_status is not None:
            self._send_json(reply.error_status, _status_error(reply.error_status))
        elif body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _chat_chunks(self._rng, model, conv, reply, include_usage)
            self._send_sse(_with_done((None, c) for c in chunks))
        else:
            self._send_json(200, _chat_completion(self._rng, model, conv, reply))

    def _responses(self, req: ReceivedRequest) -> None:
        body: dict[str, Any] = req.json
        model = str(body.get("model", "gpt-4o-mini"))
        conv = _responses_conversation(body.get("input"), body.get("instructions"))
        reply = _decide(conv, body, req.headers)
        if reply.error_status is not None:
            self._send_json(reply.error_status, _status_error(reply.error_status))
            return
        final, events = _response_events(self._rng, body, model, conv, reply)
        if body.get("stream"):
            self._send_sse(iter(events))
        else:
            self._send_json(200, final)

    def _embeddings(self, req: ReceivedRequest) -> None:
        self._send_json(200, _embeddings(req.json))

    def _models(self, req: ReceivedRequest) -> None:
        self._send_json(200, {"object": "list", "data": _MODELS})

    def _model(self, req: ReceivedRequest, model_id: str) -> None:
        for model in _MODELS:
            if model["id"] == model_id:
                self._send_json(200, model)
                return
        self._send_json(
            404,
            _error_body(
                f"The model '{model_id}' does not exist", "invalid_request_error", "model_not_found"
            ),
        )

    def _upload_file(self, req: ReceivedRequest) -> None:
        parts = _parse_multipart(req.headers.get("content-type", ""), req.body)
        fields = {p.name: p for p in parts}
        upload = fields.get("file")
        if upload is None or "purpose" not in fields:
            self._send_json(
                400,
                _error_body(
                    "Missing required parameter: 'file' or 'purpose'.",
                    "invalid_request_error",
                    param="file",
                ),
            )
            return
        file_object = {
            "id": "file-" + self._rng.chars(_ALNUM, 22),
            "object": "file",
            "bytes": len(upload.data),
            "created_at": self._rng.created,
            "filename": upload.filename or "upload",
            "purpose": fields["purpose"].data.decode(),
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        self.server.fake._store_file(file_object, upload.data)
        self._send_json(200, file_object)

    def _list_files(self, req: ReceivedRequest) -> None:
        files = [obj for obj, _ in self.server.fake._files_snapshot()]
        self._send_json(
            200,
            {
                "object": "list",
                "data": files,
                "has_more": False,
                "first_id": files[0]["id"] if files else None,
                "last_id": files[-1]["id"] if files else None,
            },
        )

    def _file_or_404(self, file_id: str) -> tuple[dict[str, Any], bytes] | None:
        stored = self.server.fake._get_file(file_id)
        if stored is None:
            self._send_json(
                404,
                _error_body(f"No such File object: {file_id}", "invalid_request_error", param="id"),
            )
        return stored

    def _retrieve_file(self, req: ReceivedRequest, file_id: str) -> None:
        stored = self._file_or_404(file_id)
        if stored is not None:
            self._send_json(200, stored[0])

    def _file_content(self, req: ReceivedRequest, file_id: str) -> None:
        stored = self._file_or_404(file_id)
        if stored is not None:
            self._send_bytes(200, stored[1], "application/octet-stream", compress=False)

    def _delete_file(self, req: ReceivedRequest, file_id: str) -> None:
        if self._file_or_404(file_id) is not None:
            self.server.fake._delete_file(file_id)
            self._send_json(200, {"id": file_id, "object": "file", "deleted": True})

    def _echo(self, req: ReceivedRequest) -> None:
        """Answer with everything the request carried (see the module docstring)."""
        fake = self.server.fake
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        carrier = query.get("as", "json")
        content_type = req.headers.get("content-type", "")
        echo: dict[str, Any] = {
            "method": req.method,
            "path": self.path,
            "query": query,
            "headers": req.headers,
            "body": req.body.decode("utf-8", "replace"),
        }
        if req.json is not None:
            echo["json"] = req.json
        if content_type.startswith("application/x-www-form-urlencoded"):
            echo["form"] = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        if content_type.startswith("multipart/"):
            echo["multipart"] = {
                p.name: p.data.decode("utf-8", "replace")
                for p in _parse_multipart(content_type, req.body)
            }
        scheme, _, credentials = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            echo["basic"] = base64.b64decode(credentials).decode("utf-8", "replace")
        headers: list[tuple[str, str]] = list(fake.extra_headers.items())
        # The response's own headers, cookies included, echoed in its body.
        sent = [("set-cookie", cookie) for cookie in self._set_cookies()] + headers
        payload = {
            "object": "echo",
            **fake.extra_fields,
            "echo": {"request": echo, "response_headers": sent},
        }

        def encode(value: Any) -> str:
            text = json.dumps(value, ensure_ascii=query.get("escape") == "html")
            if query.get("escape") == "slashes":
                text = text.replace("/", "\\/")
            elif query.get("escape") == "html":
                for char in "<>&'=+":
                    text = text.replace(char, f"\\u{ord(char):04x}")
            return text

        status, body, media = 200, b"", "application/json"
        if carrier == "sse":
            frames = [
                f"event: echo\ndata: {encode({'part': k, 'value': v})}\n\n" for k, v in echo.items()
            ]
            frames.append(f"event: headers\ndata: {encode(sent)}\n\n")
            frames.append("data: [DONE]\n\n")
            body, media = "".join(frames).encode(), "text/event-stream; charset=utf-8"
        elif carrier == "ndjson":  # one JSON document per line, streamed as Ollama does
            lines = [encode({"part": k, "value": v}) + "\n" for k, v in echo.items()]
            self._send_lines([line.encode() for line in lines], "application/x-ndjson", headers)
            return
        elif carrier == "error":
            status = 400
            message = "Invalid request: " + encode(echo)
            body = encode(
                _error_body(message, "invalid_request_error") | {"request": echo}
            ).encode()
        elif carrier == "binary":
            body, media = (
                b"\x89ECHO\xff\x00" + encode(payload).encode() + b"\xfe",
                "application/octet-stream",
            )
        elif carrier == "text":
            body, media = ("echo: " + encode(payload)).encode(), "text/plain; charset=utf-8"
        else:
            body = encode(payload).encode()
        self.send_response(status)
        self._common_headers(media)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _with_done(events: Iterator[tuple[str | None, Any]]) -> Iterator[tuple[str | None, Any]]:
    """Chat streams end with the literal ``data: [DONE]`` sentinel."""
    yield from events
    yield None, "[DONE]"


_ROUTES: list[tuple[str, str, Callable[..., None]]] = [
    ("POST", r"/v1/chat/completions", _Handler._chat_completions),
    ("POST", r"/v1/responses", _Handler._responses),
    ("POST", r"/v1/embeddings", _Handler._embeddings),
    ("GET", r"/v1/models", _Handler._models),
    ("GET", r"/v1/models/([^/]+)", _Handler._model),
    ("POST", r"/v1/files", _Handler._upload_file),
    ("GET", r"/v1/files", _Handler._list_files),
    ("GET", r"/v1/files/([^/]+)", _Handler._retrieve_file),
    ("DELETE", r"/v1/files/([^/]+)", _Handler._delete_file),
    ("GET", r"/v1/files/([^/]+)/content", _Handler._file_content),
]


class FakeOpenAI:
    """An OpenAI-compatible server on ``127.0.0.1:<free port>``, served from a daemon thread.

    Other providers' fakes (``fake_anthropic``, ``fake_gemini``) are subclasses with their
    own ``handler_class`` (routes, headers, bodies) and ``base_path``.

    ``gzip``: gzip non-streamed JSON bodies when the client accepts it (the SDK does).
    ``chunk_delay``: seconds to sleep between SSE events (and NDJSON lines), to make streams observably slow.
    ``deterministic``: ids, ``created``, ``Date`` and other volatile values derive from a
    per-server request counter and the request itself, so replaying the same sequence of
    calls against a fresh server yields byte-identical responses.
    ``drop_after`` / ``hold_after``: sever a stream after that many events / wait there
    until :meth:`release` (at most 10 s); see :attr:`streams`.
    """

    #: The request handler: one per provider (routes, headers, bodies).
    handler_class: type[BaseHTTPRequestHandler] = _Handler
    #: What ``base_url`` adds to ``http://127.0.0.1:<port>`` (the SDK's base URL).
    base_path = "/v1"

    def __init__(
        self,
        *,
        gzip: bool = False,
        chunk_delay: float = 0.0,
        deterministic: bool = False,
        drop_after: int | None = None,
        hold_after: int | None = None,
        port: int = 0,
    ) -> None:
        self.port_requested = port
        self.gzip = gzip
        self.chunk_delay = chunk_delay
        self.deterministic = deterministic
        self.drop_after = drop_after
        self.hold_after = hold_after
        #: Every SSE answer, in order, and what became of it.
        self.streams: list[StreamLog] = []
        self._released = threading.Event()
        #: Response headers and top-level JSON fields every ``/v1/echo`` answer adds.
        self.extra_headers: dict[str, str] = {}
        self.extra_fields: dict[str, Any] = {}
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeOpenAI is already started")
        server = _Server(self, self.port_requested)
        self._server = server
        self._base_url = f"http://127.0.0.1:{server.server_port}{self.base_path}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeOpenAI:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and sever open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.sever_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def release(self) -> None:
        """Let streams held by ``hold_after`` go on."""
        self._released.set()

    # --- public attributes --------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``; still readable after ``stop()``."""
        if self._base_url is None:
            raise RuntimeError("FakeOpenAI.base_url is only known after start()")
        return self._base_url

    @property
    def port(self) -> int:
        return int(self.base_url.split(":")[2].split("/", 1)[0])

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def last_request(self) -> ReceivedRequest:
        with self._lock:
            if not self.requests:
                raise LookupError("FakeOpenAI has received no request yet")
            return self.requests[-1]

    # --- internals used by the handler --------------------------------------------

    def _new_rng(self, request: ReceivedRequest) -> _Rng:
        """Record the request and pick its id/time source."""
        with self._lock:
            self.requests.append(request)
            self._counter += 1
            counter = self._counter
        if not self.deterministic:
            return _Rng(None, int(time.time()))
        if isinstance(request.json, dict):
            stable_body = json.dumps(request.json, sort_keys=True).encode()
        elif request.headers.get("content-type", "").startswith("multipart/"):
            # The multipart boundary is random per request: hash the fields instead.
            parts = _parse_multipart(request.headers["content-type"], request.body)
            stable_body = repr([(p.name, p.filename, p.data) for p in parts]).encode()
        else:
            stable_body = request.body
        seed = hashlib.sha256(
            f"{counter}|{request.method}|{request.path}|".encode() + stable_body
        ).hexdigest()
        return _Rng(seed, DETERMINISTIC_EPOCH + counter)

    def _store_file(self, file_object: dict[str, Any], data: bytes) -> None:
        with self._lock:
            self._files[file_object["id"]] = (file_object, data)

    def _get_file(self, file_id: str) -> tuple[dict[str, Any], bytes] | None:
        with self._lock:
            return self._files.get(file_id)

    def _delete_file(self, file_id: str) -> None:
        with self._lock:
            self._files.pop(file_id, None)

    def _files_snapshot(self) -> list[tuple[dict[str, Any], bytes]]:
        with self._lock:
            return list(self._files.values())


# ------------------------------------------------------------------------------ fixtures


def https_like_client(**kwargs: Any) -> httpx2.Client:
    """An ``httpx2.Client`` that sends ``Secure`` cookies back over plain HTTP too.

    The real service is HTTPS, so a client returns its (``Secure``) cookies on the
    next call; the fake runs on loopback HTTP and sends the same cookies. Give the
    SDK ``http_client=https_like_client()`` to get the real service's conversation,
    cookie header and all. The jar is kept by event hooks, not ``cookies=``: httpx2
    before 2.15 (the newest on Python 3.10) copies a client's jar per request and
    loses its policy.
    """
    policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
    cookies = httpx2.Cookies(http.cookiejar.CookieJar(policy))
    hooks = {
        "request": [cookies.set_cookie_header],
        "response": [cookies.extract_cookies],
    }
    return httpx2.Client(event_hooks=hooks, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_openai`` marker (its kwargs configure the fixture's server)."""
    config.addinivalue_line(
        "markers",
        "fake_openai(gzip=False, chunk_delay=0.0, deterministic=False, drop_after=None, "
        "hold_after=None): "
        "options of the fake_openai fixture's server",
    )


@pytest.fixture
def fake_openai(request: pytest.FixtureRequest) -> Iterator[FakeOpenAI]:
    """A started FakeOpenAI, stopped after the test; ``@pytest.mark.fake_openai(...)`` sets options."""
    marker = request.node.get_closest_marker("fake_openai")
    options = dict(marker.kwargs) if marker is not None else {}
    with FakeOpenAI(**options) as server:
        yield server


@pytest.fixture
def fake_openai_factory() -> Iterator[Callable[..., FakeOpenAI]]:
    """Start extra servers with custom options (e.g. two recordings); all stopped afterwards."""
    servers: list[FakeOpenAI] = []

    def make(**options: Any) -> FakeOpenAI:
        server = FakeOpenAI(**options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def openai_client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    """The real sync SDK client pointed at the fake server (no retries, to fail fast)."""
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def async_openai_client(fake_openai: FakeOpenAI) -> Iterator[openai.AsyncOpenAI]:
    """The real async SDK client pointed at the fake server.

    Use it inside ONE ``asyncio.run(...)`` (its connection pool binds to that event loop),
    ideally as ``async with async_openai_client:`` so it is closed on the right loop.
    """
    client = openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    yield client
    if not client.is_closed():
        try:
            asyncio.run(client.close())
        except RuntimeError:
            pass  # its connections belonged to a loop that has already ended
