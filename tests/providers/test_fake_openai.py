"""The fake OpenAI server must be faithful enough that the real SDK cannot tell it apart.

Everything else in the suite records and replays traffic from this server, so these tests
pin what it puts on the wire (SSE framing, chunked encoding, gzip, multipart, volatile
headers) and check every payload against the installed SDK's pydantic models.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import io
import json
import re
import socket
import threading
import time
from typing import Any

import openai
import pydantic
import pytest
from openai.types import CreateEmbeddingResponse, FileObject, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from tests._support.fake_openai import (
    FAKE_API_KEY,
    SECRET_COOKIE,
    SECRET_ORGANIZATION,
    SECRET_PROJECT,
    FakeOpenAI,
    https_like_client,
)

# The fixtures (fake_openai, openai_client, ...) come from the module as a plugin.

MODEL = "gpt-4o-mini"
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]
STREAM_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)


def raw_post(
    server: FakeOpenAI, path: str, body: dict[str, Any], **headers: str
) -> tuple[http.client.HTTPResponse, bytes]:
    """POST with the stdlib client, to look at the bytes the SDK would parse."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(
        "POST",
        "/v1" + path,
        body=json.dumps(body),
        headers={
            "authorization": f"Bearer {FAKE_API_KEY}",
            "content-type": "application/json",
            **headers,
        },
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def sse_events(data: bytes) -> list[tuple[str | None, str]]:
    """Parse an SSE body into (event name, data) pairs."""
    events = []
    for frame in data.decode().split("\n\n"):
        if not frame:
            continue
        fields = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((fields.get("event"), fields["data"]))
    return events


def chat(text: str, **kwargs: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **kwargs}


def test_chat_completion_matches_sdk_model_and_records_request(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(**chat("hello world"))
    completion = ChatCompletion.model_validate(raw.http_response.json())

    assert completion.choices[0].message.content == "Echo: hello world"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0
    assert abs(completion.created - time.time()) < 60
    request = fake_openai.last_request
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    assert request.json == chat("hello world")


def test_chat_stream_is_chunked_sse_ending_with_done(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    body = chat("one two three", stream=True, stream_options={"include_usage": True})
    response, data = raw_post(fake_openai, "/chat/completions", body)
    assert response.getheader("transfer-encoding") == "chunked"
    assert response.getheader("content-type", "").startswith("text/event-stream")
    events = sse_events(data)
    assert events[-1] == (None, "[DONE]")
    chunks = [ChatCompletionChunk.model_validate_json(d) for _, d in events[:-1]]
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None

    stream = openai_client.chat.completions.create(**body)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Echo: one two three"


def test_async_client_stream_and_non_stream(
    async_openai_client: openai.AsyncOpenAI,
) -> None:
    async def main() -> tuple[str | None, str]:
        async with async_openai_client as client:
            completion = await client.chat.completions.create(**chat("async hi"))
            stream = await client.chat.completions.create(**chat("async hi", stream=True))
            parts = [c.choices[0].delta.content or "" async for c in stream]
            return completion.choices[0].message.content, "".join(parts)

    assert asyncio.run(main()) == ("Echo: async hi", "Echo: async hi")


def test_tool_call_round_trip(openai_client: openai.OpenAI) -> None:
    first = openai_client.chat.completions.create(**chat("weather in Paris"), tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_")
    assert len(call.id) == len("call_") + 24
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"query": "weather in Paris"}

    with openai_client.chat.completions.stream(**chat("weather?"), tools=TOOLS) as stream:
        streamed = stream.get_final_completion().choices[0]
    assert streamed.finish_reason == "tool_calls"
    assert streamed.message.tool_calls is not None
    assert streamed.message.tool_calls[0].function.arguments == '{"query": "weather?"}'

    follow_up = openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "weather in Paris"},
            choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
        tools=TOOLS,
    )
    assert follow_up.choices[0].message.content == "Based on the tool: sunny, 21C"


def test_responses_non_stream_with_input_items(openai_client: openai.OpenAI) -> None:
    raw = openai_client.responses.with_raw_response.create(
        model=MODEL,
        instructions="be brief",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "hi there"}]}],
    )
    response = Response.model_validate(raw.http_response.json())
    assert response.id.startswith("resp_")
    assert response.output[0].id.startswith("msg_")
    assert response.output_text == "Echo: hi there"
    assert response.usage is not None


def test_responses_stream_has_event_lines_and_final_response(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    response, data = raw_post(fake_openai, "/responses", {"model": MODEL, "input": "a b c"})
    assert response.getheader("content-type") == "application/json"
    response, data = raw_post(
        fake_openai, "/responses", {"model": MODEL, "input": "a b c", "stream": True}
    )
    assert response.getheader("transfer-encoding") == "chunked"
    events = sse_events(data)
    parsed = [STREAM_EVENT.validate_json(d) for _, d in events]
    assert [name for name, _ in events] == [e.type for e in parsed]
    assert [e.sequence_number for e in parsed] == list(range(len(parsed)))
    assert [e.type for e in parsed][:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert [e.type for e in parsed][-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]

    with openai_client.responses.stream(model=MODEL, input="stream me") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Echo: stream me"

    events_via_sdk = list(openai_client.responses.create(model=MODEL, input="x", stream=True))
    assert events_via_sdk[-1].type == "response.completed"


def test_embeddings_default_base64_matches_float(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    default = openai_client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert fake_openai.last_request.json is not None
    assert fake_openai.last_request.json["encoding_format"] == "base64"
    raw = openai_client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float"
    )
    floats = CreateEmbeddingResponse.model_validate(raw.http_response.json())
    assert [e.embedding for e in default.data] == [e.embedding for e in floats.data]
    assert len(default.data[0].embedding) == 8
    assert default.data[0].embedding != default.data[1].embedding
    single = openai_client.embeddings.create(model="text-embedding-3-small", input="a")
    assert single.data[0].embedding == default.data[0].embedding


def test_models_list(openai_client: openai.OpenAI) -> None:
    models = list(openai_client.models.list())
    assert "gpt-4o-mini" in [m.id for m in models]
    assert all(Model.model_validate(m.model_dump()) for m in models)


def test_file_upload_retrieve_and_content(openai_client: openai.OpenAI) -> None:
    payload = b'{"a": 1}\r\n\x00\xff binary'
    raw = openai_client.files.with_raw_response.create(
        file=("data.jsonl", io.BytesIO(payload), "application/jsonl"), purpose="batch"
    )
    uploaded = FileObject.model_validate(raw.http_response.json())
    assert uploaded.id.startswith("file-")
    assert (uploaded.bytes, uploaded.filename, uploaded.purpose) == (
        len(payload),
        "data.jsonl",
        "batch",
    )
    assert openai_client.files.retrieve(uploaded.id) == uploaded
    content = openai_client.files.content(uploaded.id)
    assert content.response.headers["content-type"] == "application/octet-stream"
    assert content.content == payload
    with pytest.raises(openai.NotFoundError):
        openai_client.files.retrieve("file-missing")


def test_identical_calls_get_fresh_ids_unless_deterministic(
    openai_client: openai.OpenAI, fake_openai_factory: Any
) -> None:
    raws = [openai_client.chat.completions.with_raw_response.create(**chat("hi")) for _ in "ab"]
    assert raws[0].parse().id != raws[1].parse().id
    assert raws[0].headers["x-request-id"] != raws[1].headers["x-request-id"]

    def record(server: FakeOpenAI) -> list[tuple[list[tuple[str, str]], bytes]]:
        with openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY) as client:
            raws = [
                client.chat.completions.with_raw_response.create(**chat("hi")),
                client.chat.completions.with_raw_response.create(**chat("hi", stream=True)),
                client.responses.with_raw_response.create(model=MODEL, input="hi"),
            ]
            return [(r.http_response.headers.multi_items(), r.http_response.read()) for r in raws]

    first = record(fake_openai_factory(deterministic=True))
    second = record(fake_openai_factory(deterministic=True))
    assert first == second
    assert json.loads(first[0][1])["id"] != json.loads(first[2][1])["id"]


def test_gzip_is_used_when_enabled(fake_openai_factory: Any) -> None:
    server = fake_openai_factory(gzip=True)
    response, data = raw_post(server, "/embeddings", {"input": "x"}, **{"accept-encoding": "gzip"})
    assert response.getheader("content-encoding") == "gzip"
    assert int(response.getheader("content-length", "-1")) == len(data)
    assert json.loads(gzip.decompress(data))["object"] == "list"

    with openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY) as client:
        raw = client.chat.completions.with_raw_response.create(**chat("zip"))
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.parse().choices[0].message.content == "Echo: zip"
    _, plain = raw_post(server, "/embeddings", {"input": "x"})
    assert json.loads(plain)["object"] == "list"  # no gzip unless the client accepts it


def test_plugin_fixtures_and_marker_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests._support.fake_openai"]')
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.fake_openai(gzip=True, deterministic=True)
        def test_marker(fake_openai, openai_client):
            assert fake_openai.gzip and fake_openai.deterministic
            raw = openai_client.models.with_raw_response.list()
            assert raw.headers["content-encoding"] == "gzip"
            assert openai_client.base_url == fake_openai.base_url + "/"

        def test_defaults(fake_openai):
            assert not fake_openai.gzip and not fake_openai.deterministic
        """
    )
    result = pytester.runpytest_inprocess(
        "-p", "no:llm_cassettes", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    result.assert_outcomes(passed=2)
    assert "PytestUnknownMarkWarning" not in result.stdout.str()


def test_volatile_and_secret_headers_and_echo_headers(
    fake_openai: FakeOpenAI, openai_client: openai.OpenAI
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(**chat("echo-headers please"))
    headers = raw.headers
    assert headers["openai-organization"] == SECRET_ORGANIZATION
    assert headers["openai-project"] == SECRET_PROJECT
    assert headers["x-request-id"].startswith("req_")
    for name in ("date", "cf-ray", "openai-processing-ms", "x-ratelimit-remaining-tokens"):
        assert name in headers
    # Two cookies shaped exactly like the real service's, the API host itself as Domain.
    bm, uvid = headers.get_list("set-cookie")
    assert re.fullmatch(
        rf"__cf_bm={SECRET_COOKIE}[\w.-]+; HttpOnly; Secure; Path=/; Domain=127\.0\.0\.1; "
        r"Expires=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT",
        bm,
    )
    assert re.fullmatch(
        rf"_cfuvid={SECRET_COOKIE}[\w.-]+; HttpOnly; SameSite=None; Secure; Path=/; "
        r"Domain=127\.0\.0\.1",
        uvid,
    )
    echoed = json.loads(raw.parse().choices[0].message.content.removeprefix("Headers: "))
    assert echoed["authorization"] == f"Bearer {FAKE_API_KEY}"
    # Secure cookies do not come back over plain HTTP ...
    openai_client.models.list()
    assert "cookie" not in fake_openai.last_request.headers
    # ... but do from a client that treats loopback like the real service's HTTPS.
    with openai.OpenAI(
        base_url=fake_openai.base_url,
        api_key=FAKE_API_KEY,
        http_client=https_like_client(),
    ) as client:
        client.models.list()
        client.models.list()
    cookie = fake_openai.last_request.headers["cookie"]
    assert re.fullmatch(rf"(__cf_bm|_cfuvid)={SECRET_COOKIE}\S+; (__cf_bm|_cfuvid)=\S+", cookie)


def test_unknown_path_and_requested_errors(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        openai_client.post("/nope", cast_to=object, body={})
    assert not_found.value.body == {
        "message": "Invalid URL (POST /v1/nope)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.RateLimitError):
        openai_client.chat.completions.create(**chat("error-429"))


def test_streams_are_flushed_per_event_and_served_concurrently(
    fake_openai_factory: Any,
) -> None:
    server = fake_openai_factory(chunk_delay=0.03)
    client = openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0)
    stream = client.chat.completions.create(**chat("a b c d", stream=True))
    first = next(iter(stream))  # the rest of the stream is still being produced
    assert first.choices[0].delta.role == "assistant"
    started = time.monotonic()
    other = openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0)
    assert other.models.list().data  # not blocked behind the open stream
    arrivals = [time.monotonic() for _ in stream]
    assert arrivals[-1] - started >= 0.1  # events trickled in, they were not buffered
    client.close()
    other.close()


def test_stop_refuses_new_and_pooled_connections() -> None:
    server = FakeOpenAI().start()
    client = openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0)
    assert client.models.list().data  # leaves a pooled keep-alive connection behind
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert not [t for t in threading.enumerate() if t.name == f"FakeOpenAI:{server.port}"]
    client.close()
