"""Record real SDK traffic against the local server, stop it, replay offline: same objects.

Every scenario runs the official ``openai`` SDK (over httpx2) through
``llm_cassettes.use_cassette``. Replay happens with the server stopped, so a
request that escaped the cassette fails with a connection error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from llm_cassettes import use_cassette
from tests._support import dump, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "knowledge_search",
            "description": "Search the knowledge base",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    }
]
USER = [{"role": "user", "content": "How many experts does Llama 4 Maverick have?"}]


def chat(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=USER)


def chat_stream(client: openai.OpenAI) -> Any:
    return list(
        client.chat.completions.create(
            model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )


def chat_tools(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=USER, tools=TOOLS)


def chat_tools_stream(client: openai.OpenAI) -> Any:
    return list(
        client.chat.completions.create(model="gpt-4o", messages=USER, tools=TOOLS, stream=True)
    )


def responses(client: openai.OpenAI) -> Any:
    return client.responses.create(model="gpt-4o", input="Tell me about mixture of experts")


def responses_stream(client: openai.OpenAI) -> Any:
    return list(client.responses.create(model="gpt-4o", input="Tell me more", stream=True))


def embeddings(client: openai.OpenAI) -> Any:
    return client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])


def models(client: openai.OpenAI) -> Any:
    return list(client.models.list())


def file_upload(client: openai.OpenAI) -> Any:
    uploaded = client.files.create(
        file=("notes.txt", b"Llama 4 Maverick has 128 experts.\n", "text/plain"),
        purpose="assistants",
    )
    content = client.files.content(uploaded.id).read()
    return [uploaded, content]


SCENARIOS: dict[str, Callable[[openai.OpenAI], Any]] = {
    fn.__name__: fn
    for fn in (
        chat,
        chat_stream,
        chat_tools,
        chat_tools_stream,
        responses,
        responses_stream,
        embeddings,
        models,
        file_upload,
    )
}


def _record_then_replay(
    fake: FakeOpenAI, path: Path, run: Callable[[openai.OpenAI], Any]
) -> tuple[Any, Any]:
    client = openai.OpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="once"):
        recorded = dump(run(client))
    fake.stop()
    with use_cassette(path, record_mode="none"):
        replayed = dump(run(client))
    return recorded, replayed


@pytest.mark.parametrize("name", SCENARIOS)
def test_sync_replay_equals_recording(name: str, fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    recorded, replayed = _record_then_replay(fake_openai, path, SCENARIOS[name])
    assert replayed == recorded
    assert path.exists()


async def _achat_stream(client: openai.AsyncOpenAI) -> Any:
    stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    return [chunk async for chunk in stream]


async def _aresponses_stream(client: openai.AsyncOpenAI) -> Any:
    stream = await client.responses.create(model="gpt-4o", input="Hi", stream=True)
    return [event async for event in stream]


async def _achat(client: openai.AsyncOpenAI) -> Any:
    return await client.chat.completions.create(model="gpt-4o", messages=USER, tools=TOOLS)


async def _aembeddings(client: openai.AsyncOpenAI) -> Any:
    return await client.embeddings.create(model="text-embedding-3-small", input="alpha")


@pytest.mark.parametrize("run", [_achat, _achat_stream, _aresponses_stream, _aembeddings])
def test_async_replay_equals_recording(
    run: Callable[[openai.AsyncOpenAI], Awaitable[Any]], fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "async.yaml"

    async def go(record_mode: str) -> Any:
        async with openai.AsyncOpenAI(
            base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0
        ) as client:
            with use_cassette(path, record_mode=record_mode):
                return dump(await run(client))

    recorded = asyncio.run(go("once"))
    fake_openai.stop()
    assert asyncio.run(go("none")) == recorded


def test_chat_stream_is_stored_as_typed_events(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "stream.yaml"
    recorded, _ = _record_then_replay(fake_openai, path, chat_stream)
    response = read_cassette(path)["interactions"][0]["response"]
    stream = response["body"]["sse"]
    assert stream["__type__"] == "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    events = stream["events"]
    assert events[-1] == "[DONE]"
    # One stored entry per event the SDK saw, plus [DONE]; each a line of the payload.
    assert len(events) == len(recorded) + 1
    assert all(isinstance(event, str) for event in events)
    text = "".join(
        chunk["choices"][0]["delta"]["content"] or "" for chunk in recorded if chunk["choices"]
    )
    assert text.startswith("Echo: How many experts")


def test_responses_stream_keeps_event_names_and_concrete_types(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "responses.yaml"
    recorded, _ = _record_then_replay(fake_openai, path, responses_stream)
    events = read_cassette(path)["interactions"][0]["response"]["body"]["sse"]["events"]
    assert [event["event"] for event in events] == [event["type"] for event in recorded]
    by_name = {event["event"]: event["__type__"] for event in events}
    assert by_name["response.created"].endswith("response_created_event.ResponseCreatedEvent")
    assert by_name["response.output_text.delta"].endswith(
        "response_text_delta_event.ResponseTextDeltaEvent"
    )


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (chat, "openai.types.chat.chat_completion.ChatCompletion"),
        (responses, "openai.types.responses.response.Response"),
        (embeddings, "openai.types.create_embedding_response.CreateEmbeddingResponse"),
    ],
)
def test_json_bodies_are_stored_parsed_and_typed(
    scenario: Callable[[openai.OpenAI], Any], expected: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "json.yaml"
    recorded, _ = _record_then_replay(fake_openai, path, scenario)
    interaction = read_cassette(path)["interactions"][0]
    body = interaction["response"]["body"]["json"]
    assert body["__type__"] == expected
    assert body["__data__"]["model"] == recorded["model"]
    assert isinstance(interaction["request"]["body"]["json"], dict)


def test_model_list_items_are_typed(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    recorded, _ = _record_then_replay(fake_openai, path, models)
    page = read_cassette(path)["interactions"][0]["response"]["body"]["json"]
    assert [item["__type__"] for item in page["data"]] == ["openai.types.model.Model"] * len(
        recorded
    )


def test_binary_body_round_trips_byte_exact(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    path = tmp_path / "binary.yaml"
    with use_cassette(path, record_mode="once"):
        uploaded = client.files.create(file=("blob.bin", payload), purpose="assistants")
        recorded = client.files.content(uploaded.id).read()
    fake_openai.stop()
    with use_cassette(path, record_mode="none"):
        replayed = client.files.content(uploaded.id).read()
    assert recorded == payload
    assert replayed == payload


@pytest.mark.fake_openai(gzip=True)
def test_compressed_bodies_are_stored_decoded(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "gzip.yaml"
    recorded, replayed = _record_then_replay(fake_openai, path, chat)
    assert replayed == recorded
    assert any(r.headers.get("accept-encoding") for r in fake_openai.requests)
    response = read_cassette(path)["interactions"][0]["response"]
    assert "content-encoding" not in {name.lower() for name in response["headers"]}
    assert response["body"]["json"]["__data__"]["id"] == recorded["id"]


def test_use_cassette_as_a_decorator(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    path = tmp_path / "decorated"  # no suffix: .yaml is added

    @use_cassette(path, record_mode="once")
    def run() -> Any:
        return dump(chat(client))

    recorded = run()
    assert (tmp_path / "decorated.yaml").exists()
    fake_openai.stop()
    assert run() == recorded


@pytest.mark.parametrize("name", ["chat", "chat_stream", "responses_stream", "file_upload"])
def test_the_json_serializer_round_trips_typed_and_scrubbed(
    name: str, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """``serializer="json"``: vcrpy's JSON file format, this library's typed, scrubbed bodies."""
    import json

    path = tmp_path / "c.json"
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, serializer="json", record_mode="once"):
        recorded = dump(SCENARIOS[name](client))
    text = path.read_text()
    assert FAKE_API_KEY not in text and "<REDACTED>" in text
    stored = json.loads(text)["interactions"][0]
    if name == "chat":
        assert stored["response"]["body"]["json"]["__type__"] == (
            "openai.types.chat.chat_completion.ChatCompletion"
        )
    elif name.endswith("stream"):
        assert "sse" in stored["response"]["body"]
    fake_openai.stop()
    with use_cassette(path, serializer="json", record_mode="none"):
        assert dump(SCENARIOS[name](client)) == recorded
