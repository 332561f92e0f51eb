"""OpenAI: its endpoints and SDK types, its per-call ids and headers, its traffic as a
conversation (Chat Completions, Responses, Completions, Embeddings).

OpenAI's API is also what most other servers speak (vLLM, llama-stack, Ollama's
``/v1``, proxies, Azure deployments): its endpoint rows match the end of a
path, and a request no provider claims is read as OpenAI traffic.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ._conversation import (
    ConversationReader,
    Exchange,
    Message,
    ToolCall,
    content_text,
    name_tool_results,
    one_line_json,
    parse_json_text,
)
from ._registry import EndpointTypes, Provider

__all__ = ["PROVIDER", "OpenAIReader"]

_TYPES = "openai.types."

ENDPOINTS = (
    EndpointTypes(
        "POST",
        r"chat/completions",
        _TYPES + "chat.ChatCompletion",
        _TYPES + "chat.ChatCompletionChunk",
    ),
    EndpointTypes("GET", r"chat/completions/[^/]+", _TYPES + "chat.ChatCompletion"),
    EndpointTypes("POST", r"(?<!chat/)completions", _TYPES + "Completion", _TYPES + "Completion"),
    EndpointTypes(
        "POST",
        r"responses",
        _TYPES + "responses.Response",
        _TYPES + "responses.ResponseStreamEvent",
    ),
    EndpointTypes(
        "GET",
        r"responses/[^/]+",
        _TYPES + "responses.Response",
        _TYPES + "responses.ResponseStreamEvent",
    ),
    EndpointTypes("POST", r"embeddings", _TYPES + "CreateEmbeddingResponse"),
    EndpointTypes("GET", r"models", items=_TYPES + "Model"),
    EndpointTypes("GET", r"models/[^/]+", _TYPES + "Model"),
    EndpointTypes("POST", r"moderations", _TYPES + "ModerationCreateResponse"),
    EndpointTypes("POST", r"files", _TYPES + "FileObject"),
    EndpointTypes("GET", r"files", items=_TYPES + "FileObject"),
    EndpointTypes("GET", r"files/[^/]+", _TYPES + "FileObject"),
    EndpointTypes("DELETE", r"files/[^/]+", _TYPES + "FileDeleted"),
    EndpointTypes("POST", r"batches", _TYPES + "Batch"),
    EndpointTypes("GET", r"batches/[^/]+", _TYPES + "Batch"),
    EndpointTypes("POST", r"vector_stores", _TYPES + "VectorStore"),
    EndpointTypes("GET", r"vector_stores/[^/]+", _TYPES + "VectorStore"),
    EndpointTypes(
        "POST", r"vector_stores/[^/]+/search", items=_TYPES + "VectorStoreSearchResponse"
    ),
    EndpointTypes("POST", r"images/generations", _TYPES + "ImagesResponse"),
)

#: Request parameters that say nothing about what the model was asked.
_NOT_PARAMS = frozenset(
    {"model", "messages", "input", "instructions", "tools", "stream", "stream_options", "prompt"}
)


class OpenAIReader(ConversationReader):
    """OpenAI's request and response bodies, and its two stream shapes, as a conversation."""

    prompt_fields = ("messages", "input", "instructions", "prompt")

    def kind_of(self, method: str, path: str) -> str | None:
        if path.endswith("/chat/completions"):
            return "chat"
        if path.endswith("/responses") or "/responses/" in path:
            return "responses"
        if path.endswith("/completions"):
            return "completion"
        if path.endswith("/embeddings"):
            return "embeddings"
        return None

    # -- requests ------------------------------------------------------------------------
    def read_request(self, exchange: Exchange, body: dict[str, Any]) -> None:
        model = body.get("model")
        exchange.model = model if isinstance(model, str) else None
        exchange.messages = name_tool_results(_request_messages(exchange.kind, body))
        exchange.tools = _tool_names(body.get("tools"))
        exchange.params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}
        if exchange.kind == "embeddings":
            exchange.params.pop("input", None)

    # -- responses -----------------------------------------------------------------------
    def read_body(self, exchange: Exchange, value: Any) -> None:
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
                exchange.error = self.error_text(value)
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

    def read_stream(self, exchange: Exchange, events: list[dict[str, Any]]) -> None:
        payloads = []
        for event in events:
            data = event.get("data")
            if not data or data.strip() == "[DONE]":
                continue
            value = parse_json_text(data)
            if isinstance(value, dict):
                payloads.append((event.get("event"), value))
        if any(name or "type" in value for name, value in payloads) and exchange.kind != "chat":
            self._read_response_events(exchange, payloads)
        elif payloads:
            self._read_chunks(exchange, [value for _, value in payloads])

    def _read_chunks(self, exchange: Exchange, chunks: list[dict[str, Any]]) -> None:
        """Chat Completions chunks: contents concatenated, tool calls merged by index."""
        choices: dict[int, Message] = {}
        calls: dict[tuple[int, int], ToolCall] = {}
        for chunk in chunks:
            if isinstance(chunk.get("error"), dict):
                exchange.error = self.error_text(chunk)
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

    def _read_response_events(
        self, exchange: Exchange, payloads: list[tuple[str | None, Any]]
    ) -> None:
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
                exchange.error = self.error_text(value)
        if isinstance(final, dict):
            self.read_body(exchange, {**final, "object": "response"})
        elif text:
            exchange.answer = [Message("assistant", text[i]) for i in sorted(text)]


# ------------------------------------------------------------------------ messages --
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
        return [Message("prompt", prompt if isinstance(prompt, str) else one_line_json(prompt))]
    if kind == "embeddings" and "input" in body:
        items = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return [Message("input", i if isinstance(i, str) else one_line_json(i)) for i in items]
    return []


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
        content_text(message.get("content")),
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
                Message("tool", content_text(item.get("output")), [], item.get("call_id"))
            )
        elif "role" in item:
            messages.append(Message(str(item["role"]), content_text(item.get("content"))))
        else:
            messages.append(Message(str(kind or "item"), one_line_json(item)))
    return messages


def _response_output(response: Mapping[str, Any]) -> list[Message]:
    """The Responses API's ``output`` items as assistant messages and tool calls."""
    messages: list[Message] = []
    for item in response.get("output") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            messages.append(
                Message(str(item.get("role", "assistant")), content_text(item.get("content")))
            )
        elif kind == "function_call":
            _add_function_call(messages, item)
        elif kind == "reasoning":
            summary = content_text(item.get("summary"))
            if summary:
                messages.append(Message("reasoning", summary))
        else:
            messages.append(Message(str(kind or "output"), one_line_json(item)))
    return messages


def _add_function_call(messages: list[Message], item: dict[str, Any]) -> None:
    """A Responses ``function_call`` item joins the assistant turn it belongs to."""
    call = ToolCall(str(item.get("name", "")), str(item.get("arguments", "")))
    call.id = item.get("call_id")
    if messages and messages[-1].role == "assistant" and not messages[-1].content:
        messages[-1].tool_calls.append(call)
    else:
        messages.append(Message("assistant", tool_calls=[call]))


def _tool_names(tools: Any) -> list[str]:
    names = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        names.append(str(function.get("name") or tool.get("type") or "?"))
    return names


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


#: chatcmpl-, call_, resp_, msg_, fc_ (function call items), rs_ (reasoning), ws_ (web
#: search), ctc_ (custom tool calls), file-, vs_, batch_, asst_, thread_, run_; vLLM and
#: llama-stack use the same ones (chatcmpl-tool-…, call_0_<uuid>, file-<digits>).
ID_PREFIXES = (
    "chatcmpl", "call", "resp", "msg", "fc", "file", "vs", "batch", "asst", "thread",
    "run", "rs", "ws", "ctc",
)  # fmt: skip

PROVIDER = Provider(
    name="openai",
    type_modules=(_TYPES,),
    endpoints=ENDPOINTS,
    unvalidated_types=frozenset({_TYPES + "create_embedding_response.CreateEmbeddingResponse"}),
    id_prefixes=ID_PREFIXES,
    secret_headers=frozenset({"openai-organization", "openai-project"}),
    # a logprobs entry's ``token`` is generated text
    model_state_fields={"token": lambda holder: "logprob" in holder},
    volatile_headers=frozenset({"openai-processing-ms", "openai-version"}),
    sdk_agents={"OpenAI/Python": "openai", "AsyncOpenAI/Python": "openai"},
    reader=OpenAIReader(),
    reads_unclaimed=True,
)
