"""llama-stack API recordings → the raw interactions the SDK would have exchanged.

llama-stack's recorder patches the SDK *methods* (``AsyncCompletions.create`` …),
not the wire: it stores the keyword arguments, a URL built as
``base_url + endpoint`` (so ``https://api.openai.com/v1`` + ``/v1/chat/completions``
gives a doubled ``/v1/v1/``) and the returned pydantic objects as
``{__type__, __data__}``. A cassette needs the HTTP exchange instead, because
vcrpy replays at the transport and the SDK parses the bytes itself. This module
rebuilds that exchange: the URL and method the SDK really sends, the JSON body
it would serialise from those keyword arguments, and the raw response body
(SSE text for a stream, JSON otherwise) that the cassette serializer then types
exactly as if it had been recorded live.

Everything here is pure data conversion; reading files and writing cassettes is
:mod:`llm_cassettes.migrate`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .._wire import SSE_MEDIA_TYPE, dumps_compact
from ..format import DATA_KEY, METHOD, RESULT, TYPE_KEY, is_typed, tool_uri, valid_tool_name

__all__ = ["Converted", "RecordingError", "SkipRecording", "convert", "is_recording"]


#: SDK keyword arguments that never reach the JSON body (the SDK moves them elsewhere).
_NOT_BODY = ("extra_headers", "extra_query", "extra_body", "timeout")

#: Ollama's native client: endpoints it calls with GET and no body.
_OLLAMA_GET = frozenset({"/api/ps", "/api/tags", "/api/version"})


class RecordingError(ValueError):
    """A recording that cannot be imported; the message names the file and the field."""


class SkipRecording(Exception):
    """A valid recording that has no HTTP exchange to import (the reason is the message)."""


@dataclass
class Converted:
    """One recording as a vcrpy-style interaction, with what the summary reports."""

    test_id: str | None
    interaction: dict[str, Any]
    #: "openai" (typed by the serializer), "other" (another client: untyped JSON) or "tool".
    client: str
    #: The endpoint llama-stack wrote when it was not the one the SDK calls (else None).
    corrected_endpoint: str | None = None


def is_recording(value: Any) -> bool:
    """Whether a parsed JSON document has the shape of a llama-stack recording."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("request"), dict)
        and isinstance(value.get("response"), dict)
    )


def convert(recording: Any, source: str) -> Converted:
    """The interaction a llama-stack recording stands for.

    Raises :class:`RecordingError` for malformed input and :class:`SkipRecording`
    for a recording that holds no HTTP exchange (a Python exception without a status).
    """
    if not is_recording(recording):
        raise RecordingError(
            f"{source}: not a llama-stack recording (expected 'request' and 'response' objects)"
        )
    recording = _apply_id_mapping(recording, source)
    test_id = recording.get("test_id")
    if test_id is not None and not isinstance(test_id, str):
        raise RecordingError(f"{source}: test_id: expected a string, not {type(test_id).__name__}")
    request, response = recording["request"], recording["response"]
    if "tool_name" in request:
        return Converted(test_id or None, _tool_interaction(request, response, source), "tool")
    interaction, client, corrected = _http_interaction(request, response, source)
    return Converted(test_id or None, interaction, client, corrected)


def _apply_id_mapping(recording: dict[str, Any], source: str) -> dict[str, Any]:
    """Apply ``id_normalization_mapping`` the way llama-stack's replay does.

    llama-stack maps ``{normalized: original}`` and, on load, replaces every
    occurrence of each original id by its normalized form in the JSON text of
    the whole recording (``_recording_from_file``). Doing the same textual
    replacement keeps the imported traffic identical to what llama-stack replayed.
    """
    mapping = recording.get("id_normalization_mapping")
    if not mapping:
        return recording
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()
    ):
        raise RecordingError(
            f"{source}: id_normalization_mapping: expected an object of non-empty strings"
        )
    text = json.dumps(recording)
    for normalized, original in mapping.items():
        text = text.replace(original, normalized)
    result = json.loads(text)
    result["id_normalization_mapping"] = {}
    return result


def _unwrap_typed(value: Any) -> tuple[Any, str | None]:
    """A stored llama-stack value as wire JSON, and its ``__type__`` (if any)."""
    if is_typed(value):
        return value[DATA_KEY], value[TYPE_KEY] if isinstance(value[TYPE_KEY], str) else None
    return value, None


def _resource_path(endpoint: str) -> str:
    """The path the OpenAI SDK appends to its ``base_url`` for a llama-stack endpoint.

    llama-stack names endpoints with their ``/v1`` prefix (``/v1/chat/completions``,
    and ``/v1/openai/v1/models`` for its own server); the SDK's base URL already
    ends in ``/v1``, so the SDK sends only what follows the last ``/v1``.
    """
    index = endpoint.rfind("/v1/")
    return endpoint[index + 3 :] if index >= 0 else endpoint


def _is_chat_completion(kwargs: dict[str, Any], response: dict[str, Any]) -> bool:
    """Whether a call llama-stack labelled ``/v1/completions`` was ``chat.completions.create``.

    Some llama-stack recordings of chat completions name the legacy completions
    endpoint; the body (``messages``, no ``prompt``) and the answer (a
    ``ChatCompletion`` or a stream of chunks) say what the SDK really called.
    """
    if isinstance(kwargs.get("messages"), list) and "prompt" not in kwargs:
        return True
    body = response.get("body")
    first = body[0] if isinstance(body, list) and body else body
    name = first.get(TYPE_KEY) if isinstance(first, dict) else None
    return isinstance(name, str) and name.startswith("openai.types.chat.")


def _http_interaction(
    request: dict[str, Any], response: dict[str, Any], source: str
) -> tuple[dict[str, Any], str, str | None]:
    url = request.get("url")
    if not isinstance(url, str) or not url:
        raise RecordingError(f"{source}: request.url: expected a URL string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SkipRecording(f"request.url {url!r} is not a full URL (llama-stack anonymised it)")
    corrected = None
    endpoint = request.get("endpoint") or parts.path
    if not isinstance(endpoint, str):
        raise RecordingError(f"{source}: request.endpoint: expected a string")
    kwargs = request.get("body") if request.get("body") is not None else {}
    if not isinstance(kwargs, dict):
        raise RecordingError(f"{source}: request.body: expected an object of keyword arguments")

    base = (
        url[: -len(endpoint)]
        if url.endswith(endpoint)
        else urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    )
    if endpoint.startswith("/api/"):  # Ollama's native client: no /v1 doubling, own methods
        client = "other"
        path = endpoint
        if path == "/api/embeddings" and "input" in kwargs:
            path = "/api/embed"  # llama-stack labels ollama's embed() with the legacy path
        method = "GET" if path in _OLLAMA_GET else "POST"
        uri = base + path
        body: dict[str, Any] | None = (
            None if method == "GET" else {k: v for k, v in kwargs.items() if v is not None}
        )
        headers: dict[str, list[str]] = {}
    else:
        client = "openai"
        path = _resource_path(endpoint)
        if path == "/completions" and _is_chat_completion(kwargs, response):
            path, corrected = "/chat/completions", endpoint
        method = "GET" if path == "/models" else str(request.get("method") or "POST").upper()
        body, headers, query = _sdk_body(kwargs, source)
        uri = base + path + (f"?{urlencode(query)}" if query else "")
        if method == "GET":
            body = None
    if body is not None:
        headers["content-type"] = ["application/json"]
    raw_request = {
        "method": method,
        "uri": uri,
        "body": dumps_compact(body) if body is not None else None,
        "headers": headers,
    }
    raw_response, typed = _raw_response(response, path, client, source)
    if client == "openai" and not typed:
        client = "other"  # an OpenAI-compatible URL answered by something else
    return {"request": raw_request, "response": raw_response}, client, corrected


def _sdk_body(
    kwargs: dict[str, Any], source: str
) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, Any]]:
    """The JSON body, headers and query the SDK builds from ``create(**kwargs)``.

    ``extra_body`` is merged into the body (the SDK never sends the key itself),
    ``extra_headers`` and ``extra_query`` go to the headers and URL, and
    ``timeout`` is a client setting.
    """
    body = {k: v for k, v in kwargs.items() if k not in _NOT_BODY}
    extra_body = kwargs.get("extra_body") or {}
    if not isinstance(extra_body, dict):
        raise RecordingError(f"{source}: request.body.extra_body: expected an object")
    body.update(extra_body)
    extra_headers = kwargs.get("extra_headers") or {}
    extra_query = kwargs.get("extra_query") or {}
    if not isinstance(extra_headers, dict) or not isinstance(extra_query, dict):
        raise RecordingError(f"{source}: request.body.extra_headers/extra_query: expected objects")
    headers = {str(k).lower(): [str(v)] for k, v in extra_headers.items()}
    return body, headers, extra_query


def _raw_response(
    response: dict[str, Any], path: str, client: str, source: str
) -> tuple[dict[str, Any], bool]:
    """The raw response (status, headers, body string) and whether it carried SDK types."""
    if response.get("is_exception"):
        return _error_response(response), False
    body = response.get("body")
    streaming = bool(response.get("is_streaming"))
    if streaming:
        if not isinstance(body, list):
            raise RecordingError(
                f"{source}: response.body: is_streaming is true but the body is not a list"
            )
        chunks = [_unwrap_typed(chunk) for chunk in body]
        typed = all(name and name.startswith("openai.") for _, name in chunks) and bool(chunks)
        if client == "openai":
            text, content_type = _sse(chunks, path), SSE_MEDIA_TYPE
        else:  # Ollama streams newline-delimited JSON
            text = "".join(dumps_compact(data) + "\n" for data, _ in chunks)
            content_type = "application/x-ndjson"
    else:
        if body is None:
            raise RecordingError(f"{source}: response.body: missing (and no recorded exception)")
        if isinstance(body, list):  # models.list(): llama-stack stores the page's items
            items = [_unwrap_typed(item) for item in body]
            data: Any = {"object": "list", "data": [value for value, _ in items]}
            typed = all(name and name.startswith("openai.") for _, name in items)
        else:
            data, name = _unwrap_typed(body)
            typed = bool(name and name.startswith("openai."))
        text, content_type = dumps_compact(data), "application/json"
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": [content_type]},
        "body": {"string": text},
    }, typed


def _sse(chunks: list[tuple[Any, str | None]], path: str) -> str:
    """The event stream OpenAI sends: ``event:`` names for the Responses API, ``[DONE]``
    after Chat Completions and Completions streams (the SDK stops on it)."""
    lines = []
    for data, _ in chunks:
        event = data.get("type") if isinstance(data, dict) else None
        if path.endswith("/responses") and isinstance(event, str):
            lines.append(f"event: {event}\ndata: {dumps_compact(data)}\n\n")
        else:
            lines.append(f"data: {dumps_compact(data)}\n\n")
    if not path.endswith("/responses"):
        lines.append("data: [DONE]\n\n")
    return "".join(lines)


def _error_response(response: dict[str, Any]) -> dict[str, Any]:
    """A recorded provider error as the HTTP error the SDK received.

    Only ``provider_sdk`` exceptions carry a status code and body; anything
    else was raised inside llama-stack and never crossed the wire.
    """
    data = response.get("exception_data") or {}
    status = data.get("status_code") if isinstance(data, dict) else None
    if not isinstance(status, int) or response.get("is_streaming"):
        message = response.get("exception_message") or (data or {}).get("message") or "?"
        raise SkipRecording(f"recorded a Python exception, not an HTTP response ({message})")
    error = data.get("body")
    if not isinstance(error, dict):
        error = {"message": data.get("message") or response.get("exception_message") or ""}
    wire = error if "error" in error else {"error": error}
    return {
        "status": {"code": status, "message": ""},
        "headers": {"content-type": ["application/json"]},
        "body": {"string": dumps_compact(wire)},
    }


def _tool_interaction(
    request: dict[str, Any], response: dict[str, Any], source: str
) -> dict[str, Any]:
    """A tool invocation in the tool record shape (:mod:`llm_cassettes.format`):
    ``TOOL tool://<name>``.

    The request body is the JSON of the tool's keyword arguments and the
    response has no ``status`` but a ``tool_result`` holding llama-stack's
    ``{__type__, __data__}`` as recorded, which is also how ``tools`` stores a
    typed result. (llama-stack's ``provider`` is not part of that shape.)
    """
    name = request.get("tool_name")
    kwargs = request.get("kwargs") if request.get("kwargs") is not None else {}
    if not isinstance(name, str) or not valid_tool_name(name):
        raise RecordingError(
            f"{source}: request.tool_name: expected a tool name (letters, digits, '_', '.', '-')"
        )
    if not isinstance(kwargs, dict):
        raise RecordingError(f"{source}: request.kwargs: expected an object")
    return {
        "request": {
            "method": METHOD,
            "uri": tool_uri(name),
            "body": dumps_compact(kwargs),
            "headers": {},
        },
        "response": {"headers": {}, RESULT: response.get("body")},
    }
