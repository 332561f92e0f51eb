"""The conversation model ``show`` and ``diff`` read, and what a provider fills in.

Reviewers read prompts and answers, not HTTP. Each provider's
:class:`ConversationReader` turns its requests and responses, as the client saw
them (a JSON body, the events of a stream), into an :class:`Exchange`: the
messages sent, the tools offered, the parameters, the answer, the usage. The
review commands then compare meaning instead of chunks, ids and timestamps;
the HTTP around the bodies (status, compression, SSE framing, tool records)
is theirs to read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._wire import loads_json

__all__ = [
    "ConversationReader",
    "Exchange",
    "Message",
    "ToolCall",
    "content_text",
    "name_tool_results",
    "one_line_json",
    "parse_json_text",
]


@dataclass
class ToolCall:
    """A call the model asked for (or, in a request, one it asked for earlier)."""

    name: str
    arguments: str
    id: str | None = None


@dataclass
class Message:
    """One turn: ``role`` is system/user/assistant/tool (or ``thinking``, the model's
    reasoning); ``content`` is its text.

    ``collapsed`` content is shown folded (a thinking block: long, and rarely what a
    review is about) and compared apart from the answer.
    """

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    collapsed: bool = False


@dataclass
class Exchange:
    """One interaction, as a reviewer reads it.

    ``kind`` is the reader's name for the endpoint (OpenAI's: ``chat``,
    ``responses``, ``completion``, ``embeddings``), ``tool`` for a recorded tool
    call, or ``http`` (anything else, shown as data). ``answer`` holds the
    assistant's messages (several when ``n > 1`` or a Responses output has
    several items); ``other`` holds an answer with no conversational shape
    (embeddings, a list page, an unknown tool response), already reduced to
    something printable.
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
    #: the tool's name, for a recorded tool call
    tool_name: str | None = None
    #: request fields read into ``messages``: ``diff`` shows their changes as the prompt
    prompt_fields: tuple[str, ...] = ()
    #: how a streamed answer ended when not at its end (the client stopped reading, or
    #: the connection broke off); ``None`` for a whole stream or a plain body
    stream_end: str | None = None

    @property
    def endpoint(self) -> str:
        if self.kind == "tool":
            return self.uri
        parts = urlsplit(self.uri)
        return parts.path or self.uri


class ConversationReader:
    """How one provider's traffic reads as a conversation; a provider overrides what applies.

    :meth:`kind_of` claims a request for this reader; the other methods fill in
    an :class:`Exchange` whose ``kind`` it named.
    """

    #: request fields :meth:`read_request` reads into ``Exchange.messages``
    prompt_fields: tuple[str, ...] = ()

    def kind_of(self, method: str, path: str) -> str | None:
        """This provider's name for the endpoint (``chat`` ...), or None if it is not its own."""
        return None

    def read_request(self, exchange: Exchange, body: dict[str, Any]) -> None:
        """Fill in ``model``, ``messages``, ``tools`` and ``params`` from a JSON request body."""

    def read_body(self, exchange: Exchange, value: Any) -> None:
        """Fill in the answer from a successful response body (parsed JSON, or text)."""
        exchange.other = value

    def read_stream(self, exchange: Exchange, events: list[dict[str, Any]]) -> None:
        """Fill in the answer from a server-sent event stream (each event's fields)."""

    def error_text(self, value: Any) -> str:
        """The message of an error response body (``{"error": {"message": ...}}`` and alike)."""
        if isinstance(value, dict):
            error = value.get("error", value)
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                code = error.get("code") or error.get("type")
                return f"{error['message']} ({code})" if code else error["message"]
            if isinstance(error, str):
                return error
        return one_line_json(value)


# ------------------------------------------------------------------- reading helpers --


def one_line_json(value: Any) -> str:
    """A value as a reviewer reads it on one line: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def parse_json_text(text: str | None) -> Any:
    """The JSON value of a body or an event's data, or the text itself when it is not JSON."""
    if not text:
        return text
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null"):
        try:
            return loads_json(text)
        except ValueError:
            pass
    return text


def name_tool_results(messages: list[Message]) -> list[Message]:
    """Label each tool result with the tool's name: a reviewer cannot read call ids."""
    names = {call.id: call.name for m in messages for call in m.tool_calls if call.id}
    for message in messages:
        if message.role == "tool" and not message.name and message.tool_call_id in names:
            message.name = names[message.tool_call_id]
    return messages


def content_text(content: Any) -> str:
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
                parts.append(one_line_json(part))
        return "\n".join(parts)
    return one_line_json(content)
