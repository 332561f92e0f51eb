"""Google Gemini (the Gemini Developer API that ``google-genai`` speaks): generateContent,
streamGenerateContent, embeddings and token counting, typed with the SDK's classes; its
API key, function-call ids and thought signatures; its traffic as a conversation.

Wire facts this module relies on (checked against real traffic in
``tests/data/real_traffic/``): the model is in the path
(``/v1beta/models/gemini-2.5-flash:generateContent``), the key in ``x-goog-api-key`` or
``?key=``; ``:streamGenerateContent?alt=sse`` sends ``data:`` events only, each a whole
``GenerateContentResponse`` holding the next piece of each candidate, separated by
CRLF; a conversation is ``contents`` of ``parts`` (``text``, ``functionCall``,
``functionResponse``, ``inlineData`` ...), roles ``user`` and ``model``.

Only the bodies whose wire form is the SDK's model are typed: the SDK turns some others
into its classes through converters (``countTokens``' ``promptTokensDetails``, a model
list's ``supportedGenerationMethods``), and its models forbid unknown fields, so those
stay plain JSON rather than be labelled with a class that does not accept them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._conversation import (
    ConversationReader,
    Exchange,
    Message,
    ToolCall,
    name_tool_results,
    one_line_json,
    parse_json_text,
)
from ._registry import EndpointTypes, Provider

__all__ = ["PROVIDER", "GeminiReader"]

_TYPES = "google.genai.types."
_MODEL = r"(?:tunedModels|models)/[^/:]+"

ENDPOINTS = (
    EndpointTypes("POST", _MODEL + ":generateContent", _TYPES + "GenerateContentResponse"),
    EndpointTypes(
        "POST", _MODEL + ":streamGenerateContent", event=_TYPES + "GenerateContentResponse"
    ),
    EndpointTypes("POST", _MODEL + ":embedContent", _TYPES + "SingleEmbedContentResponse"),
    EndpointTypes("POST", _MODEL + ":batchEmbedContents", _TYPES + "EmbedContentResponse"),
)

_KINDS = {
    "generateContent": "generate",
    "streamGenerateContent": "generate",
    "embedContent": "embeddings",
    "batchEmbedContents": "embeddings",
    "countTokens": "count_tokens",
}
_PATH = re.compile(rf"/(?P<model>{_MODEL}):(?P<method>\w+)$")
_MODEL_IN_PATH = re.compile(r"/(?:tunedModels|models)/(?P<model>[^/:]+):\w+$")
#: Request fields that are the conversation, not parameters of it.
_NOT_PARAMS = frozenset(
    {"contents", "systemInstruction", "system_instruction", "tools", "requests", "content"}
)


class GeminiReader(ConversationReader):
    """generateContent requests, responses and ``?alt=sse`` streams as a conversation."""

    prompt_fields = ("contents", "systemInstruction", "system_instruction", "requests", "content")

    def kind_of(self, method: str, path: str) -> str | None:
        found = _PATH.search(path)
        return _KINDS.get(found.group("method")) if found else None

    # -- requests ------------------------------------------------------------------------
    def read_request(self, exchange: Exchange, body: dict[str, Any]) -> None:
        found = _MODEL_IN_PATH.search(exchange.endpoint)
        if found:
            exchange.model = found.group("model")
        if exchange.kind == "embeddings":
            requests = body.get("requests") if isinstance(body.get("requests"), list) else [body]
            exchange.messages = [
                Message("input", _parts_text((r.get("content") or {}).get("parts")))
                for r in requests
                if isinstance(r, dict)
            ]
        else:
            if isinstance(body.get("generateContentRequest"), dict):  # countTokens
                body = body["generateContentRequest"]
            messages: list[Message] = []
            system = body.get("systemInstruction", body.get("system_instruction"))
            if isinstance(system, dict):
                messages.append(Message("system", _parts_text(system.get("parts"))))
            elif isinstance(system, str):
                messages.append(Message("system", system))
            for content in body.get("contents") or []:
                if isinstance(content, dict):
                    messages.extend(_content_messages(content))
            exchange.messages = name_tool_results(messages)
            exchange.tools = _tool_names(body.get("tools"))
        exchange.params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}

    # -- responses -----------------------------------------------------------------------
    def read_body(self, exchange: Exchange, value: Any) -> None:
        if not isinstance(value, dict):
            exchange.other = value
            return
        if exchange.kind == "generate" or "candidates" in value:
            self._read_responses(exchange, [value])
        elif exchange.kind == "embeddings":
            vectors = value.get("embeddings") or [value.get("embedding")]
            exchange.other = _embedding_summary(vectors)
        elif exchange.kind == "count_tokens" and isinstance(value.get("totalTokens"), int):
            exchange.other = f"{value['totalTokens']} tokens"
        else:
            exchange.other = value

    def read_stream(self, exchange: Exchange, events: list[dict[str, Any]]) -> None:
        chunks = [parse_json_text(event.get("data")) for event in events]
        self._read_responses(exchange, [c for c in chunks if isinstance(c, dict)])

    def _read_responses(self, exchange: Exchange, chunks: list[dict[str, Any]]) -> None:
        """One response, or the chunks of a stream: each candidate's parts in order, text
        pieces joined (a stream splits them anywhere), function calls whole."""
        candidates: dict[int, list[dict[str, Any]]] = {}
        for chunk in chunks:
            if isinstance(chunk.get("error"), dict):
                exchange.error = self.error_text(chunk)
            if isinstance(chunk.get("usageMetadata"), dict):
                exchange.usage = _usage(chunk["usageMetadata"])
            if isinstance(chunk.get("modelVersion"), str) and not exchange.model:
                exchange.model = chunk["modelVersion"]
            feedback = chunk.get("promptFeedback")
            if isinstance(feedback, dict) and feedback.get("blockReason"):
                exchange.error = f"prompt blocked ({feedback['blockReason']})"
            for candidate in chunk.get("candidates") or []:
                if not isinstance(candidate, dict):
                    continue
                index = candidate.get("index", 0)
                parts = candidates.setdefault(index if isinstance(index, int) else 0, [])
                content = candidate.get("content")
                for part in content.get("parts") or [] if isinstance(content, dict) else []:
                    if isinstance(part, dict):
                        _add_part(parts, part)
        exchange.answer = [
            message
            for index in sorted(candidates)
            for message in _content_messages({"role": "model", "parts": candidates[index]})
        ]

    def error_text(self, value: Any) -> str:
        error = value.get("error") if isinstance(value, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            status = error.get("status") or error.get("code")
            return f"{error['message']} ({status})" if status else error["message"]
        return super().error_text(value)


def _add_part(parts: list[dict[str, Any]], part: dict[str, Any]) -> None:
    """A streamed part: text continues the previous text part of the same kind."""
    last = parts[-1] if parts else None
    if (
        last is not None
        and isinstance(part.get("text"), str)
        and isinstance(last.get("text"), str)
        and bool(part.get("thought")) == bool(last.get("thought"))
    ):
        parts[-1] = {**last, "text": last["text"] + part["text"]}
    elif part.get("text") != "" or len(part) > 1:  # the empty closing text of a stream
        parts.append(part)


# ------------------------------------------------------------------------ messages --
def _content_messages(content: Mapping[str, Any]) -> list[Message]:
    """One ``Content``: thoughts (collapsed), the turn's text and function calls, and each
    ``functionResponse`` as a tool message."""
    role = str(content.get("role") or "user")
    role = "assistant" if role == "model" else role
    out: list[Message] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    for part in content.get("parts") or []:
        if not isinstance(part, dict):
            continue
        if part.get("thought") and isinstance(part.get("text"), str):
            out.append(Message("thinking", part["text"], collapsed=True))
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            arguments = json.dumps(call.get("args") or {})
            calls.append(ToolCall(str(call.get("name", "?")), arguments, call.get("id")))
        elif isinstance(part.get("functionResponse"), dict):
            response = part["functionResponse"]
            out.append(
                Message(
                    "tool",
                    one_line_json(response.get("response")),
                    tool_call_id=response.get("id"),
                    name=response.get("name"),
                )
            )
        else:
            texts.append(_part_text(part))
    if texts or calls:
        out.append(Message(role, "\n".join(t for t in texts if t), calls))
    return out


def _parts_text(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    return "\n".join(_part_text(p) for p in parts if isinstance(p, dict))


def _part_text(part: Mapping[str, Any]) -> str:
    """A part as a reviewer reads it: its text, or a placeholder for media and code."""
    if isinstance(part.get("text"), str):
        return part["text"]
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, dict):
        data = inline.get("data")
        size = f", {len(data) * 3 // 4:,} bytes" if isinstance(data, str) else ""
        return f"[inline data: {inline.get('mimeType', inline.get('mime_type', '?'))}{size}]"
    stored = part.get("fileData") or part.get("file_data")
    if isinstance(stored, dict):
        return f"[file: {stored.get('fileUri', stored.get('file_uri', '?'))}]"
    if isinstance(part.get("executableCode"), dict):
        return f"[code]\n{part['executableCode'].get('code', '')}"
    if isinstance(part.get("codeExecutionResult"), dict):
        return f"[code result]\n{part['codeExecutionResult'].get('output', '')}"
    shown = {k: v for k, v in part.items() if k != "thoughtSignature"}
    return f"[{one_line_json(shown)}]" if shown else ""


def _tool_names(tools: Any) -> list[str]:
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        for key, value in tool.items():
            if key in ("functionDeclarations", "function_declarations") and isinstance(value, list):
                names.extend(str(f.get("name", "?")) for f in value if isinstance(f, dict))
            else:
                names.append(key)  # googleSearch, codeExecution, urlContext ...
    return names


def _usage(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``promptTokenCount`` → ``prompt_tokens``: the usage line reads like every provider's."""
    usage: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, int) and key.endswith("TokenCount"):
            words = re.sub(r"(?<!^)(?=[A-Z])", "_", key.removesuffix("TokenCount")).lower()
            usage[f"{words}_tokens"] = value
    return usage


def _embedding_summary(vectors: Any) -> str:
    items = [v for v in vectors if isinstance(v, dict)] if isinstance(vectors, list) else []
    sizes = {len(v["values"]) for v in items if isinstance(v.get("values"), list)}
    size = f" of dimension {sizes.pop()}" if len(sizes) == 1 else ""
    return f"{len(items)} embedding{'s' if len(items) != 1 else ''}{size}"


def _is_function_call(holder: Mapping[str, Any]) -> bool:
    """A ``functionCall`` (``name``, ``args``) or ``functionResponse`` (``name``,
    ``response``): OpenAI's tool calls and Anthropic's ``tool_use`` have neither key."""
    return "name" in holder and ("args" in holder or "response" in holder)


PROVIDER = Provider(
    name="gemini",
    type_modules=(_TYPES,),
    endpoints=ENDPOINTS,
    # The ids of function calls (the API's or the client's own) and the signatures of
    # thoughts, sent back in the next request: new on every recording.
    volatile_fields={"id": _is_function_call, "thoughtSignature": lambda holder: True},
    timestamp_fields=frozenset({"createTime", "updateTime", "expireTime"}),
    secret_headers=frozenset({"x-goog-api-key"}),
    secret_query_params=frozenset({"key"}),
    model_state_fields={"thoughtSignature": lambda holder: True},
    volatile_headers=frozenset({"server-timing", "x-goog-api-client"}),
    sdk_agents={"google-genai-sdk": "google-genai"},
    model_in_path=_MODEL_IN_PATH,
    reader=GeminiReader(),
)
