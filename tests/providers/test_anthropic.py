"""Anthropic through the real ``anthropic`` SDK (over httpx2): recorded against the fake
Messages API, replayed with the server stopped, the same SDK objects. Nothing in a
conftest: the Messages API, token counting and model listing are typed out of the box.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import pytest

from llm_cassettes import CassetteMiss, use_cassette
from llm_cassettes.providers import type_name
from tests._support import dump, read_cassette
from tests._support.fake_anthropic import (
    FAKE_ANTHROPIC_KEY,
    SECRET_ANTHROPIC_ORGANIZATION,
    FakeAnthropic,
)

MODEL = "claude-sonnet-4-0"
QUESTION = "How many experts does Llama 4 Maverick have?"
TOOLS: list[Any] = [
    {
        "name": "knowledge_search",
        "description": "Search the knowledge base",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    }
]
THINKING: Any = {"type": "enabled", "budget_tokens": 1024}


def client_for(server: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0)


def ask(text: str = QUESTION, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def sent_back(message: Any) -> list[Any]:
    """An assistant turn as a client sends it back: the blocks' wire fields."""
    return [block.to_dict() for block in message.content]


def agent(client: anthropic.Anthropic, result: str = "128 experts", **extra: Any) -> Any:
    """A tool-use round trip with extended thinking, the first turn streamed by the helper."""
    request = ask(system="Answer in one line.", tools=TOOLS, thinking=THINKING, **extra)
    with client.messages.stream(**request) as stream:
        first = stream.get_final_message()
    call = next(block for block in first.content if block.type == "tool_use")
    request["messages"] = [
        *request["messages"],
        {"role": "assistant", "content": sent_back(first)},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": result}],
        },
    ]
    return [first, client.messages.create(**request)]


SCENARIOS: dict[str, Callable[[anthropic.Anthropic], Any]] = {
    "create": lambda c: c.messages.create(**ask()),
    "create_stream": lambda c: list(c.messages.create(**ask(), stream=True)),
    "stream_helper": lambda c: _helper(c),
    "tool_use_with_thinking": agent,
    "count_tokens": lambda c: c.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}]
    ),
    "models": lambda c: [list(c.models.list()), c.models.retrieve("claude-sonnet-4-0")],
}


def _helper(client: anthropic.Anthropic) -> Any:
    with client.messages.stream(**ask(tools=TOOLS)) as stream:
        events = [event.type for event in stream]
        return [events, stream.get_final_message()]


def record_then_replay(
    server: FakeAnthropic, path: Path, run: Callable[[anthropic.Anthropic], Any], **options: Any
) -> tuple[Any, Any]:
    with use_cassette(path, record_mode="once", **options):
        recorded = dump(run(client_for(server)))
    server.stop()
    with use_cassette(path, record_mode="none", **options):
        replayed = dump(run(client_for(server)))
    return recorded, replayed


@pytest.mark.parametrize("name", SCENARIOS)
def test_replay_equals_recording(name: str, fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    recorded, replayed = record_then_replay(fake_anthropic, tmp_path / "c.yaml", SCENARIOS[name])
    assert replayed == recorded


def test_async_client_and_stream_helper(fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    async def run() -> Any:
        client = anthropic.AsyncAnthropic(
            base_url=fake_anthropic.base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
        )
        async with client:
            plain = await client.messages.create(**ask(tools=TOOLS))
            async with client.messages.stream(**ask(thinking=THINKING)) as stream:
                text = [piece async for piece in stream.text_stream]
                final = await stream.get_final_message()
        return dump([plain, text, final])

    path = tmp_path / "async.yaml"
    with use_cassette(path, record_mode="once"):
        recorded = asyncio.run(run())
    fake_anthropic.stop()
    with use_cassette(path, record_mode="none"):
        assert asyncio.run(run()) == recorded
    assert "".join(recorded[1]) == f"Echo: {QUESTION}"


def test_bodies_and_events_are_typed_as_the_sdk_builds_them(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    path = tmp_path / "typed.yaml"
    with use_cassette(path, record_mode="once"):
        agent(client_for(fake_anthropic))
    fake_anthropic.stop()
    with use_cassette(path, record_mode="none"):
        client = client_for(fake_anthropic)
        request = ask(system="Answer in one line.", tools=TOOLS, thinking=THINKING)
        replayed = list(client.messages.create(**request, stream=True))

    stream, second = (i["response"]["body"] for i in read_cassette(path)["interactions"])
    assert second["json"]["__type__"] == "anthropic.types.message.Message"
    stored = [e.get("__type__") for e in stream["sse"]["events"] if e.get("event") != "ping"]
    # each event is stored with the concrete class the SDK builds for it on replay
    assert stored == [type_name(type(event)) for event in replayed]
    assert {e.get("event") for e in stream["sse"]["events"]} >= {
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    }
    # the SDK drops pings before parsing: they have no class, and are kept as sent
    (ping,) = [e for e in stream["sse"]["events"] if e.get("event") == "ping"]
    assert ping == {"event": "ping", "data": '{"type": "ping"}'}
    deltas = [
        json.loads(e["data"])["delta"]["type"]
        for e in stream["sse"]["events"]
        if "delta" in e["data"] and "content_block_delta" in e["data"]
    ]
    assert {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"} <= set(deltas)


def test_error_event_in_a_stream_and_error_status_replay(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    def run(client: anthropic.Anthropic) -> list[str]:
        raised = []
        try:
            list(client.messages.create(**ask("error-stream"), stream=True))
        except anthropic.APIStatusError as exc:
            raised.append(f"{type(exc).__name__}: {exc.body}")
        try:
            client.messages.create(**ask("error-429"))
        except anthropic.RateLimitError as exc:
            raised.append(f"{type(exc).__name__}: {exc.status_code} {exc.body}")
        return raised

    path = tmp_path / "errors.yaml"
    recorded, replayed = record_then_replay(fake_anthropic, path, run)
    assert replayed == recorded and len(recorded) == 2
    assert "overloaded_error" in recorded[0] and "rate_limit_error" in recorded[1]
    stream, limited = (i["response"] for i in read_cassette(path)["interactions"])
    (error,) = [e for e in stream["body"]["sse"]["events"] if e.get("event") == "error"]
    assert error["__type__"] == "anthropic.types.shared.error_response.ErrorResponse"
    assert limited["status"]["code"] == 429
    assert limited["headers"]["retry-after"] == ["17"]
    assert "__type__" not in limited["body"]["json"]  # an error body is not a Message


def test_no_credential_or_account_reaches_the_cassette(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    path = tmp_path / "secrets.yaml"
    with use_cassette(path, record_mode="once"):
        agent(client_for(fake_anthropic))
        anthropic.Anthropic(
            base_url=fake_anthropic.base_url,
            auth_token=None,
            api_key=None,
            default_headers={"x-api-key": FAKE_ANTHROPIC_KEY},
            max_retries=0,
        ).messages.create(**ask())
    text = path.read_text()
    assert FAKE_ANTHROPIC_KEY not in text and FAKE_ANTHROPIC_KEY[:20] not in text
    assert SECRET_ANTHROPIC_ORGANIZATION not in text
    assert "anthropic-ratelimit" not in text and "request-id" not in text
    stored = read_cassette(path)["interactions"]
    assert stored[-1]["request"]["headers"]["x-api-key"] == ["<REDACTED>"]
    assert stored[0]["response"]["headers"]["anthropic-organization-id"] == ["<REDACTED>"]
    # a thinking block's signature is model state the API needs back, not a secret
    assert "signature_delta" in text and '"signature":"Ev' in text


def test_fresh_tool_use_ids_and_configured_per_run_fields_still_match(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    path = tmp_path / "ids.yaml"
    options = {"ignore_json_paths": ["metadata.user_id"]}
    with use_cassette(path, record_mode="once", **options):
        first, second = agent(client_for(fake_anthropic), metadata={"user_id": "run-1"})
    fake_anthropic.stop()
    # Another run: the user id differs, and the conversation it sends back carries
    # another tool-use id (a fresh recording of the first turn would have).
    call = next(b for b in first.content if b.type == "tool_use")
    fresh = "toolu_01" + "Zq9" * 7 + "X"
    request = ask(
        system="Answer in one line.",
        tools=TOOLS,
        thinking=THINKING,
        metadata={"user_id": "run-2"},
    )
    turn = json.loads(json.dumps(sent_back(first)).replace(call.id, fresh))
    request["messages"] += [
        {"role": "assistant", "content": turn},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": fresh, "content": "128 experts"}],
        },
    ]
    with use_cassette(path, record_mode="none", **options):
        again = client_for(fake_anthropic).messages.create(**request)
    assert dump(again) == dump(second)
    # without the option, the per-run field is a different request (the SDK wraps every
    # transport exception, the miss too, in APIConnectionError)
    with use_cassette(path, record_mode="none"), pytest.raises(anthropic.APIConnectionError) as err:
        client_for(fake_anthropic).messages.create(**request)
    assert isinstance(err.value.__cause__, CassetteMiss)
    assert "metadata.user_id: recorded 'run-1' | live 'run-2'" in str(err.value.__cause__)
