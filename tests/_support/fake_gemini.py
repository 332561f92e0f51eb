"""A fake Gemini Developer API (what ``google-genai`` speaks) on a real loopback socket.

It answers like the real service where a cassette can tell (checked against the real
traffic in ``tests/data/real_traffic/pydantic-ai/test_google/`` by
``tests/providers/test_fake_servers.py``): pretty-printed JSON bodies (two-space
indent); ``:streamGenerateContent?alt=sse`` streams of ``data:`` events only, each a
whole ``GenerateContentResponse`` written with ``", "``-less separators (``","`` between
items, ``": "`` after keys) and separated by CRLF; ``modelVersion`` and one fresh
``responseId`` per answer; Google's error bodies (``{"error": {"code", "message",
"status", "details"}}``); headers ``vary`` (three), ``server-timing``,
``x-xss-protection``, ``content-disposition: attachment`` on streams. The API key may
come in ``x-goog-api-key`` or ``?key=``; without one the answer is 403.

The fake model (``POST /v1beta/models/<model>:generateContent`` and
``:streamGenerateContent``):

* last user text ``"<text>"`` -> ``"Echo: <text>"``, streamed word by word;
* function declarations offered (``toolConfig`` mode not ``NONE``) and no
  ``functionResponse`` since the last user text -> a ``functionCall`` of the first (or
  the allowed) function with args ``{"query": "<text>"}``, a fresh ``id`` and a
  ``thoughtSignature``;
* a ``functionResponse`` after the last user text -> ``"Based on the tool: <response>"``;
* ``generationConfig.thinkingConfig.includeThoughts`` -> a thought part first;
* ``"error-<status>"`` -> that status with Google's error body.

Also ``:embedContent``, ``:batchEmbedContents`` and ``:countTokens``.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from .fake_openai import FakeOpenAI, ReceivedRequest, _Handler

__all__ = ["FAKE_GEMINI_KEY", "FakeGemini", "fake_gemini", "fake_gemini_factory"]

#: The API key the tests' clients send: Google-shaped (``AIza`` + 35 characters).
FAKE_GEMINI_KEY = "AIzaSyFAKEKEY0123456789abcdefABCDEFGHIJ"

_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PATH = re.compile(r"/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?P<method>\w+)")
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _texts(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    return "".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p)


def _conversation(contents: Any) -> tuple[str, Any, int]:
    """The last user text, a function response given after it (or None), and tokens."""
    text, result, tokens = "", None, 0
    for content in contents if isinstance(contents, list) else []:
        if not isinstance(content, dict):
            continue
        parts = content.get("parts") or []
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if responses:
            result = responses[-1].get("response")
        elif content.get("role", "user") == "user":
            text, result = _texts(parts), None
        tokens += len(_texts(parts).split()) + 1
    return text, result, tokens


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+$", text) or [""]


def _vector(text: str, dimensions: int) -> list[float]:
    digest = hashlib.shake_256(text.encode()).digest(2 * dimensions)
    raw = [
        int.from_bytes(digest[i : i + 2], "little") / 32767.5 - 1.0
        for i in range(0, len(digest), 2)
    ]
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *raw)))


class _GeminiHandler(_Handler):
    """Routes and answers one connection's requests the way the Gemini API does."""

    server_version = "scaffolding on HTTPServer2"

    def _route(self, req: ReceivedRequest) -> None:
        if not (req.headers.get("x-goog-api-key") or req.query.get("key")):
            self._error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to "
                "call this API.",
            )
            return
        found = _PATH.fullmatch(req.path)
        if req.method == "GET" and re.fullmatch(r"/v1(?:beta|alpha)?/models", req.path):
            self._send_pretty(200, {"models": [_model("gemini-2.5-flash")]})
        elif found is None or req.method != "POST":
            self._error(404, f"Method not found: {req.method} {req.path}")
        elif not isinstance(req.json, dict):
            self._error(400, "Invalid JSON payload received.")
        elif found["method"] in ("generateContent", "streamGenerateContent"):
            self._generate(req, found["model"], stream=found["method"] != "generateContent")
        elif found["method"] == "embedContent":
            self._send_pretty(200, {"embedding": self._embedding(req.json)})
        elif found["method"] == "batchEmbedContents":
            embeddings = [self._embedding(r) for r in req.json.get("requests") or []]
            self._send_pretty(200, {"embeddings": embeddings})
        elif found["method"] == "countTokens":
            tokens = _conversation(req.json.get("contents"))[2]
            details = [{"modality": "TEXT", "tokenCount": tokens}]
            self._send_pretty(200, {"totalTokens": tokens, "promptTokensDetails": details})
        else:
            self._error(404, f"Method not found: {found['method']}")

    # --- the fake model -----------------------------------------------------------
    def _generate(self, req: ReceivedRequest, model: str, stream: bool) -> None:
        body = req.json
        rng = self._rng
        text, result, prompt_tokens = _conversation(body.get("contents"))
        error = re.match(r"error-(\d{3})\b", text)
        if result is None and error:
            status = int(error.group(1))
            self._error(status, f"Requested error {status} (fake).")
            return
        parts: list[dict[str, Any]] = []
        config = body.get("generationConfig") or {}
        if (config.get("thinkingConfig") or {}).get("includeThoughts"):
            parts.append({"text": f"**Answering**\n\nThe user asks: {text}", "thought": True})
        functions = [
            f["name"]
            for tool in body.get("tools") or []
            for f in tool.get("functionDeclarations") or []
        ]
        calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        if result is not None:
            parts.append({"text": "Based on the tool: " + json.dumps(result)})
        elif functions and calling.get("mode") != "NONE":
            name = (calling.get("allowedFunctionNames") or functions)[0]
            call = {"name": name, "args": {"query": text}, "id": rng.chars(_ID[:36], 8).lower()}
            parts.append({"functionCall": call, "thoughtSignature": rng.chars(_B64, 124)})
        else:
            parts.append({"text": f"Echo: {text}"})
        answer_tokens = sum(len(json.dumps(p).split()) for p in parts)
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        }
        common = {"modelVersion": model, "responseId": rng.chars(_ID, 23)}
        if not stream:
            candidate = {
                "content": {"parts": parts, "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
            self._send_pretty(200, {"candidates": [candidate], "usageMetadata": usage, **common})
        elif req.query.get("alt") == "sse":
            self._send_sse_chunks(self._chunks(parts, usage, common))
        else:  # without alt=sse the service answers one JSON array of the chunks
            self._send_pretty(200, list(self._chunks(parts, usage, common)))

    def _chunks(
        self, parts: list[dict[str, Any]], usage: dict[str, Any], common: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        pieces: list[dict[str, Any]] = []
        for part in parts:
            if "text" in part:
                pieces.extend({**part, "text": word} for word in _words(part["text"]))
            else:
                pieces.append(part)
        partial = {k: v for k, v in usage.items() if k != "candidatesTokenCount"}
        partial["totalTokenCount"] = usage["promptTokenCount"]
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            candidate: dict[str, Any] = {"content": {"parts": [piece], "role": "model"}}
            if last:
                candidate["finishReason"] = "STOP"
            yield {"candidates": [candidate], "usageMetadata": usage if last else partial, **common}

    def _embedding(self, request: dict[str, Any]) -> dict[str, Any]:
        dimensions = int(request.get("outputDimensionality") or 8)
        text = _texts((request.get("content") or {}).get("parts"))
        return {"values": _vector(text, max(1, min(dimensions, 256)))}

    # --- writing --------------------------------------------------------------------
    def _send_pretty(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, indent=2, ensure_ascii=False).encode() + b"\n"
        self._send_bytes(status, data, "application/json; charset=UTF-8", compress=True)

    def _send_sse_chunks(self, chunks: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self._common_headers("text/event-stream")
        self.send_header("content-disposition", "attachment")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            text = json.dumps(chunk, separators=(",", ": "), ensure_ascii=False)
            self._write_chunk(f"data: {text}\r\n\r\n".encode())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _error(self, status: int, message: str) -> None:
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": _STATUS.get(status, "UNKNOWN"),
        }
        if status == 429:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": "17s",
                }
            ]
        self._send_pretty(status, {"error": error})

    def _common_headers(self, content_type: str) -> None:
        self.send_header("content-type", content_type)
        for value in ("Origin", "X-Origin", "Referer"):
            self.send_header("vary", value)
        self.send_header("x-xss-protection", "0")
        self.send_header("x-frame-options", "SAMEORIGIN")
        self.send_header("x-content-type-options", "nosniff")
        self.send_header("server-timing", f"gfet4t7; dur={self._rng.randint(200, 4000)}")
        self.send_header("alt-svc", 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000')


def _model(name: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": "Gemini 2.5 Flash",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "thinking": True,
    }


class FakeGemini(FakeOpenAI):
    """The Gemini API on ``127.0.0.1:<free port>`` (``base_url`` has no version: the SDK
    adds ``v1beta``). Options and lifecycle are :class:`FakeOpenAI`'s."""

    handler_class = _GeminiHandler
    base_path = ""


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """A started FakeGemini, stopped after the test."""
    with FakeGemini() as server:
        yield server


@pytest.fixture
def fake_gemini_factory() -> Iterator[Any]:
    """Start FakeGemini servers with options (``deterministic=True`` ...); all stopped after."""
    servers: list[FakeGemini] = []

    def make(**options: Any) -> FakeGemini:
        server = FakeGemini(**options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
