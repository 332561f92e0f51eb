"""A fake Anthropic Messages API on a real loopback socket, plus pytest fixtures.

It answers like the real service where a cassette can tell (checked against the real
traffic in ``tests/data/real_traffic/pydantic-ai/test_anthropic/`` by
``tests/providers/test_fake_servers.py``): compact JSON bodies; streams of
``event: <type>`` / ``data: {"type": <type>, ...}`` pairs with the real event order
(``message_start``, ``content_block_start``, a ``ping``, deltas, ``content_block_stop``,
``message_delta``, ``message_stop``) and the whitespace padding the real service puts
inside ``data:`` objects; ``{"type": "error", "error": {...}, "request_id": ...}`` error
bodies, and ``event: error`` inside a stream; fresh ``msg_01``/``toolu_01``/``req_011C``
ids per call; headers ``request-id``, ``anthropic-organization-id``, the
``anthropic-ratelimit-*`` family, ``cf-ray``, ``via``, ``x-should-retry`` and
``retry-after`` on errors. It needs ``x-api-key`` (or an ``Authorization: Bearer``) and
``anthropic-version``.

The fake model (``POST /v1/messages``):

* last user text ``"<text>"`` -> ``"Echo: <text>"``, streamed word by word;
* tools offered (``tool_choice`` not ``none``) and no tool result since the last user
  text -> a ``tool_use`` of the first (or the chosen) tool with input
  ``{"query": "<text>"}``, after a sentence saying so;
* a ``tool_result`` after the last user text -> ``"Based on the tool: <result>"``;
* ``thinking: {"type": "enabled"}`` -> a ``thinking`` block first, with its signature;
* ``"error-<status>"`` -> that status with the real error body; ``"error-stream"`` ->
  a stream that fails with ``event: error`` (``overloaded_error``) after it started.

Also ``POST /v1/messages/count_tokens`` and ``GET /v1/models[/<id>]``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .fake_openai import FakeOpenAI, ReceivedRequest, _Handler, _Rng

__all__ = [
    "FAKE_ANTHROPIC_KEY",
    "SECRET_ANTHROPIC_ORGANIZATION",
    "FakeAnthropic",
    "fake_anthropic",
    "fake_anthropic_factory",
]

#: The API key the tests' clients send (``x-api-key``): an Anthropic-shaped key.
FAKE_ANTHROPIC_KEY = "sk-ant-api03-FAKEKEY0123456789abcdefABCDEF0123456789abcdefABCDEF-0123456AA"
#: The account the server names in ``anthropic-organization-id`` (a secret header).
SECRET_ANTHROPIC_ORGANIZATION = "5e8c4b2a-1f3d-4c6e-9a7b-0d2e4f6a8c1e"

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEX = "0123456789abcdef"

#: Aliases answered with the dated model id, as the real service does.
_MODEL_IDS = {
    "claude-sonnet-4-0": "claude-sonnet-4-20250514",
    "claude-opus-4-0": "claude-opus-4-20250514",
    "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
}
_MODELS = [
    {
        "type": "model",
        "id": "claude-sonnet-4-20250514",
        "display_name": "Claude Sonnet 4",
        "created_at": "2025-05-22T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 200000,
        "max_tokens": 64000,
    },
    {
        "type": "model",
        "id": "claude-3-5-haiku-20241022",
        "display_name": "Claude Haiku 3.5",
        "created_at": "2024-10-22T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 200000,
        "max_tokens": 8192,
    },
]
_ERRORS = {
    400: ("invalid_request_error", "Requested error 400 (fake)."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found (fake)."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit (fake)."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def _conversation(messages: Any) -> tuple[str, str | None, int]:
    """The last user text, a tool result given after it (or None), and input tokens."""
    text, result, tokens = "", None, 0
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if message.get("role") == "user" and results:
            result = _text_of(results[-1].get("content"))
            tokens += len(result.split()) + 3
        elif message.get("role") == "user":
            text, result = _text_of(content), None
        tokens += len(_text_of(content).split()) + 3
    return text, result, tokens


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+$", text) or [""]


class _AnthropicHandler(_Handler):
    """Routes and answers one connection's requests the way the Anthropic API does."""

    def _route(self, req: ReceivedRequest) -> None:
        self._request_id = "req_011C" + self._rng.chars(_BASE58, 20)
        self._error_status: int | None = None
        if "x-api-key" not in req.headers and "authorization" not in req.headers:
            self._error(401, "authentication_error", "x-api-key header is required")
            return
        if "anthropic-version" not in req.headers:
            self._error(400, "invalid_request_error", "anthropic-version: header is required")
            return
        if req.method == "POST" and not isinstance(req.json, dict):
            self._error(400, "invalid_request_error", "There was an issue with your request body.")
            return
        if req.method == "POST" and req.path == "/v1/messages":
            self._messages(req.json)
        elif req.method == "POST" and req.path == "/v1/messages/count_tokens":
            self._send_compact(200, {"input_tokens": _conversation(req.json.get("messages"))[2]})
        elif req.method == "GET" and req.path == "/v1/models":
            page = {
                "data": _MODELS,
                "has_more": False,
                "first_id": _MODELS[0]["id"],
                "last_id": _MODELS[-1]["id"],
            }
            self._send_compact(200, page)
        elif req.method == "GET" and req.path.startswith("/v1/models/"):
            wanted = _MODEL_IDS.get(req.path.rsplit("/", 1)[1], req.path.rsplit("/", 1)[1])
            found = [m for m in _MODELS if m["id"] == wanted]
            if found:
                self._send_compact(200, found[0])
            else:
                self._error(404, "not_found_error", f"model: {wanted}")
        else:
            self._error(404, "not_found_error", "Not Found")

    # --- the fake model -----------------------------------------------------------
    def _messages(self, body: dict[str, Any]) -> None:
        rng = self._rng
        text, result, input_tokens = _conversation(body.get("messages"))
        model = str(body.get("model", "claude-sonnet-4-0"))
        error = re.match(r"error-(\d{3})\b", text or "")
        if result is None and error:
            status = int(error.group(1))
            kind, message = _ERRORS.get(status, ("api_error", f"Requested error {status} (fake)."))
            self._error(status, kind, message)
            return
        blocks = self._answer(body, text, result)
        usage = {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": sum(len(json.dumps(b).split()) for b in blocks),
            "service_tier": "standard",
        }
        message = {
            "model": _MODEL_IDS.get(model, model),
            "id": "msg_01" + rng.chars(_BASE58, 22),
            "type": "message",
            "role": "assistant",
            "content": blocks,
            "stop_reason": "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        if body.get("stream"):
            self._send_frames(self._events(message, fail=text == "error-stream"))
        else:
            self._send_compact(200, message)

    def _answer(self, body: dict[str, Any], text: str, result: str | None) -> list[dict[str, Any]]:
        rng = self._rng
        blocks: list[dict[str, Any]] = []
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": f"The user asks: {text}. I should answer briefly.",
                    "signature": "Ev" + rng.chars(_BASE64, 300) + "==",
                }
            )
        tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        choice = body.get("tool_choice") or {}
        if result is not None:
            blocks.append({"type": "text", "text": f"Based on the tool: {result}"})
        elif tools and choice.get("type") != "none":
            name = choice.get("name") if choice.get("type") == "tool" else tools[0]
            blocks.append({"type": "text", "text": f"Let me look that up with {name}."})
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_01" + rng.chars(_BASE58, 22),
                    "name": name,
                    "input": {"query": text},
                }
            )
        else:
            blocks.append({"type": "text", "text": f"Echo: {text}"})
        return blocks

    def _events(self, message: dict[str, Any], fail: bool) -> Iterator[tuple[str, Any]]:
        """The stream of one message, in the real service's order."""
        start = {**message, "content": [], "stop_reason": None}
        start["usage"] = {**message["usage"], "output_tokens": 1}
        yield "message_start", {"type": "message_start", "message": start}
        for index, block in enumerate(message["content"]):
            kind = block["type"]
            empty = {"text": {"text": ""}, "thinking": {"thinking": "", "signature": ""}}
            opened = {**block, **empty.get(kind, {})}
            if kind == "tool_use":
                opened["input"] = {}
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": opened,
                },
            )
            if index == 0:
                yield "ping", {"type": "ping"}
            if fail:
                error = {"type": "overloaded_error", "message": "Overloaded"}
                yield "error", {"type": "error", "error": error}
                return
            for delta in self._deltas(block):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": delta,
                    },
                )
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        usage = {
            k: v for k, v in message["usage"].items() if k not in ("cache_creation", "service_tier")
        }
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": usage,
            },
        )
        yield "message_stop", {"type": "message_stop"}

    def _deltas(self, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if block["type"] == "text":
            for piece in _words(block["text"]):
                yield {"type": "text_delta", "text": piece}
        elif block["type"] == "thinking":
            for piece in _words(block["thinking"]):
                yield {"type": "thinking_delta", "thinking": piece}
            yield {"type": "signature_delta", "signature": block["signature"]}
        elif block["type"] == "tool_use":
            arguments = json.dumps(block["input"], separators=(",", ":"))
            yield {"type": "input_json_delta", "partial_json": ""}
            for i in range(0, len(arguments), 10):
                yield {"type": "input_json_delta", "partial_json": arguments[i : i + 10]}

    # --- writing --------------------------------------------------------------------
    def _padded(self, data: dict[str, Any]) -> str:
        """Compact JSON with the spaces the real service pads events with before their
        closing brace (a ping is written with spaces after its colons instead)."""
        if data == {"type": "ping"}:
            return '{"type": "ping"}'
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return text[:-1] + " " * self._rng.randint(0, 15) + "}"

    def _send_frames(self, events: Iterator[tuple[str, Any]]) -> None:
        self.send_response(200)
        self._common_headers("text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for name, data in events:
            frame = f"event: {name}\ndata: {self._padded(data)}\n\n"
            self._write_chunk(frame.encode())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_compact(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        self._send_bytes(status, data, "application/json", compress=True)

    def _error(self, status: int, kind: str, message: str) -> None:
        self._error_status = status
        body = {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": self._request_id,
        }
        self._send_compact(status, body)

    def _common_headers(self, content_type: str) -> None:
        rng: _Rng = self._rng
        reset = _iso(rng.created + 1)
        self.send_header("content-type", content_type)
        for kind, limit in (
            ("input-tokens", 2_000_000),
            ("output-tokens", 400_000),
            ("requests", 4_000),
            ("tokens", 2_400_000),
        ):
            self.send_header(f"anthropic-ratelimit-{kind}-limit", str(limit))
            remaining = str(limit - rng.randint(1, 99))
            self.send_header(f"anthropic-ratelimit-{kind}-remaining", remaining)
            self.send_header(f"anthropic-ratelimit-{kind}-reset", reset)
        self.send_header("request-id", self._request_id)
        self.send_header(
            "strict-transport-security", "max-age=31536000; includeSubDomains; preload"
        )
        self.send_header("anthropic-organization-id", SECRET_ANTHROPIC_ORGANIZATION)
        self.send_header("via", "1.1 google")
        self.send_header("cf-cache-status", "DYNAMIC")
        self.send_header("x-robots-tag", "none")
        self.send_header("content-security-policy", "default-src 'none'; frame-ancestors 'none'")
        self.send_header("cf-ray", rng.chars(_HEX, 16) + "-SJC")
        status = self._error_status
        if status is not None:
            self.send_header("x-should-retry", "true" if status in (429, 500, 529) else "false")
            if status == 429:
                self.send_header("retry-after", "17")


def _iso(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


class FakeAnthropic(FakeOpenAI):
    """The Anthropic API on ``127.0.0.1:<free port>`` (``base_url`` has no ``/v1``: the
    SDK adds it). Options and lifecycle are :class:`FakeOpenAI`'s."""

    handler_class = _AnthropicHandler
    base_path = ""


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A started FakeAnthropic, stopped after the test."""
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def fake_anthropic_factory() -> Iterator[Any]:
    """Start FakeAnthropic servers with options (``deterministic=True`` ...); all stopped after."""
    servers: list[FakeAnthropic] = []

    def make(**options: Any) -> FakeAnthropic:
        server = FakeAnthropic(**options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
