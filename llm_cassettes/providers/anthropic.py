"""Anthropic: the Messages API, token counting and model listing, typed with the
``anthropic`` SDK's classes; its ids, headers and thinking blocks; its traffic as a
conversation.

Wire facts this module relies on (checked against real traffic in
``tests/data/real_traffic/``): a stream is ``event: <type>`` / ``data: {"type": <type>,
...}`` pairs, ``message_start`` carries the message without content,
``content_block_start``/``_delta``/``_stop`` build each block by ``index`` (text by
``text_delta``, tool arguments by ``input_json_delta`` pieces of JSON text, thinking
by ``thinking_delta`` then one ``signature_delta``), ``message_delta`` the stop reason
and output tokens; ``ping`` events come any time and have no SDK class (the SDK
drops them before parsing), an ``error`` event is an ``ErrorResponse``.
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

__all__ = ["PROVIDER", "AnthropicReader"]

_TYPES = "anthropic.types."

ENDPOINTS = (
    EndpointTypes(
        "POST",
        r"v1/messages",
        _TYPES + "Message",
        (_TYPES + "RawMessageStreamEvent", _TYPES + "ErrorResponse"),
    ),
    EndpointTypes("POST", r"v1/messages/count_tokens", _TYPES + "MessageTokensCount"),
    EndpointTypes("POST", r"v1/messages/batches", _TYPES + "messages.MessageBatch"),
    EndpointTypes("GET", r"v1/messages/batches/[^/]+", _TYPES + "messages.MessageBatch"),
    EndpointTypes("GET", r"v1/models", items=_TYPES + "ModelInfo"),
    EndpointTypes("GET", r"v1/models/[^/]+", _TYPES + "ModelInfo"),
)

#: Request fields that are the conversation, not parameters of it.
_NOT_PARAMS = frozenset({"model", "messages", "system", "tools", "stream"})
_THINKING = frozenset({"thinking", "redacted_thinking"})
_SIGNED = frozenset({"thinking", "redacted_thinking", "signature_delta"})
_MESSAGES_PATH = re.compile(r"(?:^|/)v1/messages/?$")


class AnthropicReader(ConversationReader):
    """Messages requests, responses and streams as a conversation."""

    prompt_fields = ("messages", "system")

    def kind_of(self, method: str, path: str) -> str | None:
        if _MESSAGES_PATH.search(path):
            return "messages"
        if path.endswith("/v1/messages/count_tokens"):
            return "count_tokens"
        return None

    # -- requests ------------------------------------------------------------------------
    def read_request(self, exchange: Exchange, body: dict[str, Any]) -> None:
        model = body.get("model")
        exchange.model = model if isinstance(model, str) else None
        messages: list[Message] = []
        system = body.get("system")
        if system:
            messages.append(Message("system", _blocks_text(system)))
        for message in body.get("messages") or []:
            if isinstance(message, dict):
                messages.extend(_turn(str(message.get("role", "?")), message.get("content")))
        exchange.messages = name_tool_results(messages)
        exchange.tools = [
            str(tool.get("name") or tool.get("type") or "?")
            for tool in body.get("tools") or []
            if isinstance(tool, dict)
        ]
        exchange.params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}

    # -- responses -----------------------------------------------------------------------
    def read_body(self, exchange: Exchange, value: Any) -> None:
        if not isinstance(value, dict):
            exchange.other = value
            return
        if value.get("type") == "message" or exchange.kind == "messages":
            if isinstance(value.get("model"), str) and not exchange.model:
                exchange.model = value["model"]
            exchange.usage = value.get("usage") if isinstance(value.get("usage"), dict) else None
            exchange.answer = _turn("assistant", value.get("content"))
        elif exchange.kind == "count_tokens" and isinstance(value.get("input_tokens"), int):
            exchange.other = f"{value['input_tokens']} input tokens"
        else:  # a model list, a batch: data
            exchange.other = value

    def read_stream(self, exchange: Exchange, events: list[dict[str, Any]]) -> None:
        """A stream assembled as the SDK's ``messages.stream()`` assembles it: each block by
        its index, text and thinking deltas joined, tool input from its JSON pieces."""
        blocks: dict[int, dict[str, Any]] = {}
        pieces: dict[int, str] = {}
        usage: dict[str, Any] = {}
        for event in events:
            value = parse_json_text(event.get("data"))
            if not isinstance(value, dict):
                continue
            kind = value.get("type") or event.get("event")
            if kind == "message_start" and isinstance(value.get("message"), dict):
                message = value["message"]
                if isinstance(message.get("model"), str) and not exchange.model:
                    exchange.model = message["model"]
                usage.update(message.get("usage") or {})
            elif kind == "content_block_start" and isinstance(value.get("content_block"), dict):
                blocks[_index(value)] = dict(value["content_block"])
            elif kind == "content_block_delta" and isinstance(value.get("delta"), dict):
                block = blocks.setdefault(_index(value), {"type": "text", "text": ""})
                _apply_delta(block, value["delta"], pieces, _index(value))
            elif kind == "message_delta":
                usage.update(value.get("usage") or {})
            elif kind == "error":
                exchange.error = self.error_text(value)
        for index, text in pieces.items():
            blocks[index]["input"] = parse_json_text(text) if text.strip() else {}
        exchange.usage = usage or None
        exchange.answer = _turn("assistant", [blocks[i] for i in sorted(blocks)])


def _index(event: Mapping[str, Any]) -> int:
    index = event.get("index", 0)
    return index if isinstance(index, int) else 0


def _apply_delta(
    block: dict[str, Any], delta: Mapping[str, Any], pieces: dict[int, str], index: int
) -> None:
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = str(block.get("text") or "") + str(delta.get("text", ""))
    elif kind == "input_json_delta":
        pieces[index] = pieces.get(index, "") + str(delta.get("partial_json", ""))
    elif kind == "thinking_delta":
        block["thinking"] = str(block.get("thinking") or "") + str(delta.get("thinking", ""))
    # signature_delta and citations_delta change nothing a reviewer reads


# ------------------------------------------------------------------------ messages --
def _turn(role: str, content: Any) -> list[Message]:
    """One turn's content blocks as messages: thinking (collapsed), then the text and tool
    calls of the turn, and each ``tool_result`` as a message of its own."""
    if isinstance(content, str):
        return [Message(role, content)]
    if not isinstance(content, list):
        return [Message(role, one_line_json(content))] if content is not None else []
    out: list[Message] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        if not isinstance(block, dict):
            texts.append(one_line_json(block))
            continue
        kind = block.get("type")
        if kind in _THINKING:
            text = block.get("thinking") if kind == "thinking" else None
            out.append(Message("thinking", str(text or "(redacted)"), collapsed=True))
        elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
            arguments = block.get("input", {})
            name = str(block.get("name", "?"))
            calls.append(ToolCall(name, json.dumps(arguments), block.get("id")))
        elif kind == "tool_result":
            result = _blocks_text(block.get("content"))
            if block.get("is_error"):
                result = f"(error) {result}"
            out.append(Message("tool", result, tool_call_id=block.get("tool_use_id")))
        else:
            texts.append(_block_text(block))
    if texts or calls:
        out.append(Message(role, "\n".join(t for t in texts if t), calls))
    return out


def _blocks_text(content: Any) -> str:
    """A system prompt or tool result: a string, or text (and other) blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_block_text(b) if isinstance(b, dict) else str(b) for b in content)
    return "" if content is None else one_line_json(content)


def _block_text(block: Mapping[str, Any]) -> str:
    """A content block as a reviewer reads it: its text, or a placeholder for media."""
    kind = str(block.get("type", "?"))
    if kind == "text":
        return str(block.get("text", ""))
    source = block.get("source")
    if kind in ("image", "document") and isinstance(source, dict):
        return f"[{kind}: {_source(source)}]"
    if kind.endswith("_tool_result"):  # web search, code execution: results of a server tool
        return f"[{kind}]"
    return f"[{kind}]" if set(block) == {"type"} else f"[{kind}: {one_line_json(block)}]"


def _source(source: Mapping[str, Any]) -> str:
    kind = source.get("type")
    if kind == "base64":
        data = source.get("data")
        size = f", {len(data) * 3 // 4:,} bytes" if isinstance(data, str) else ""
        return f"{source.get('media_type', '?')}{size}"
    if kind == "url":
        return str(source.get("url", "?"))
    if kind == "file":
        return f"file {source.get('file_id', '?')}"
    if kind == "text":
        return f"text, {len(str(source.get('data', ''))):,} characters"
    return str(kind)


def _is_thinking_signature(holder: Mapping[str, Any]) -> bool:
    """A thinking block's (or ``signature_delta``'s) ``signature``: opaque model state the
    API needs back verbatim, not a credential."""
    return "thinking" in holder or holder.get("type") in _SIGNED


PROVIDER = Provider(
    name="anthropic",
    type_modules=(_TYPES,),
    endpoints=ENDPOINTS,
    # msg_01…, toolu_01…, srvtoolu_01… (server tools), msgbatch_01…
    id_prefixes=("toolu", "srvtoolu", "msg", "msgbatch"),
    # A thinking block sent back in a later request carries the signature the API
    # generated for it, and redacted thinking its encrypted ``data``: new on every
    # recording, meaningless to a reviewer.
    volatile_fields={
        "signature": lambda holder: holder.get("type") == "thinking",
        "data": lambda holder: holder.get("type") == "redacted_thinking",
    },
    secret_headers=frozenset({"anthropic-organization-id"}),
    model_state_fields={"signature": _is_thinking_signature},
    volatile_header_prefixes=("anthropic-ratelimit-",),
    sdk_agents={"Anthropic/Python": "anthropic", "AsyncAnthropic/Python": "anthropic"},
    reader=AnthropicReader(),
)
