"""The plugin as a user runs it, on cassettes committed under ``cassettes/``.

``pytest`` replays these offline (pytest-recording's default mode ``none``;
nothing listens on :data:`BASE_URL`). To re-record them, run
``pytest -n 0 --record-mode=rewrite tests/pytest_plugin/test_recorded_cassettes.py`` (one process:
the fake service binds one fixed port): the
``service`` fixture then starts the fake OpenAI service on that URL, in
deterministic mode, so identical traffic re-records byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests._support import RECORDED_CASSETTES, read_cassette
from tests._support.fake_openai import FakeOpenAI

PORT = 18734
BASE_URL = f"http://127.0.0.1:{PORT}/v1"
CASSETTES = RECORDED_CASSETTES


@pytest.fixture
def client(record_mode: str) -> Iterator[openai.OpenAI]:
    if record_mode == "none":
        server = None  # replay: there is nothing to talk to
    else:
        server = FakeOpenAI(deterministic=True, port=PORT).start()
    try:
        yield openai.OpenAI(
            base_url=BASE_URL, api_key="sk-test-not-a-real-key-0123456789", max_retries=0
        )
    finally:
        if server is not None:
            server.stop()


@pytest.mark.vcr
def test_chat_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarise mixture of experts in one line"}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Echo: Summarise mixture of experts in one line"


@pytest.mark.vcr
def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "knowledge_search",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
    messages: list = [{"role": "user", "content": "How many experts does Llama 4 Maverick have?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "knowledge_search"
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "128 experts"},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
    assert second.choices[0].message.content == "Based on the tool: 128 experts"


@pytest.mark.vcr
def test_responses_stream(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o", input="Name one expert") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Echo: Name one expert"


@pytest.mark.vcr
def test_embeddings(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    assert len(result.data) == 2 and len(result.data[0].embedding) > 0


def test_committed_cassettes_are_typed_and_scrubbed() -> None:
    stream = read_cassette(CASSETTES / "test_chat_stream.yaml")
    body = stream["interactions"][0]["response"]["body"]["sse"]
    assert body["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    text = "\n".join(p.read_text() for p in CASSETTES.glob("*.yaml"))
    assert "sk-test-not-a-real-key" not in text
    assert "x-stainless" not in text and "user-agent" not in text
