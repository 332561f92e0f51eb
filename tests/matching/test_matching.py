"""Request matching end to end: canonical bodies, volatile ids, order, explained misses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from llm_cassettes import CassetteMiss, use_cassette
from tests._support import TOOLS, TREE_INI, ask, client_for, dump
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI


def test_changed_prompt_misses_with_an_explanation(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    client = client_for(fake_openai)
    long_system = "You are a careful assistant. " * 200  # a big body: the diff must stay short
    messages = [
        {"role": "system", "content": long_system},
        {"role": "user", "content": "What is 2+2?"},
    ]
    with use_cassette(path, record_mode="once"):
        client.chat.completions.create(model="gpt-4o", messages=messages)
    fake_openai.stop()
    changed = [messages[0], {"role": "user", "content": "What is 3+3?"}]
    with pytest.raises(CassetteMiss) as miss, use_cassette(path, record_mode="none"):
        client.chat.completions.create(model="gpt-4o", messages=changed)
    message = str(miss.value)
    assert "messages[1].content" in message
    assert "'What is 2+2?'" in message and "'What is 3+3?'" in message
    assert "c.yaml" in message
    assert long_system not in message  # never a dump of two whole bodies
    assert len(message.splitlines()) < 25


def _tool_turn(client: openai.OpenAI, file_id: str, call_id: str) -> Any:
    """Turn two of an agent loop: history holding a tool call and its result."""
    return client.chat.completions.create(
        model="gpt-4o",
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "How many experts does Llama 4 Maverick have?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": "knowledge_search",
                            "arguments": json.dumps({"query": "experts"}),
                        },
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": call_id,
                "content": f"[1] document_id: {file_id}, score: 2.57802841833685\n128 experts <|{file_id}|>",
            },
        ],
    )


def _live_ids(client: openai.OpenAI) -> tuple[str, str]:
    """A fresh file id and tool-call id from the server, made outside any cassette."""
    uploaded = client.files.create(
        file=("doc.txt", b"Llama 4 Maverick has 128 experts."), purpose="assistants"
    )
    first = ask(client, "How many experts does Llama 4 Maverick have?", tools=TOOLS)
    return uploaded.id, first.choices[0].message.tool_calls[0].id


def test_conversation_replays_when_live_ids_differ(
    fake_openai_factory: Any, tmp_path: Path
) -> None:
    path = tmp_path / "agent.yaml"
    recording = fake_openai_factory()
    client = client_for(recording)
    file_id, call_id = _live_ids(client)
    with use_cassette(path, record_mode="once"):
        recorded = dump(_tool_turn(client, file_id, call_id))
    recording.stop()

    # A later run: a new server hands out other ids for the same upload and tool call.
    live = fake_openai_factory()
    live_client = client_for(live)
    new_file_id, new_call_id = _live_ids(live_client)
    assert (new_file_id, new_call_id) != (file_id, call_id)
    before = len(live.requests)
    live_client = openai.OpenAI(base_url=recording.base_url, api_key=FAKE_API_KEY, max_retries=0)
    with use_cassette(path, record_mode="none"):
        replayed = dump(_tool_turn(live_client, new_file_id, new_call_id))
    assert replayed == recorded
    assert len(live.requests) == before


def test_two_different_ids_stay_different(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """Swapping which call a tool result answers is a real change, not noise."""
    path = tmp_path / "swap.yaml"
    client = client_for(fake_openai)

    def turn(first: str, second: str) -> Any:
        calls = [
            {
                "id": i,
                "type": "function",
                "function": {"name": "knowledge_search", "arguments": "{}"},
            }
            for i in ("call_AAAAAAAAAAAAAAAA1", "call_BBBBBBBBBBBBBBBB2")
        ]
        return client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": None, "tool_calls": calls},
                {"role": "tool", "tool_call_id": first, "content": "result one"},
                {"role": "tool", "tool_call_id": second, "content": "result two"},
            ],
        )

    with use_cassette(path, record_mode="once"):
        turn("call_AAAAAAAAAAAAAAAA1", "call_BBBBBBBBBBBBBBBB2")
    fake_openai.stop()
    with pytest.raises(CassetteMiss), use_cassette(path, record_mode="none"):
        turn("call_BBBBBBBBBBBBBBBB2", "call_AAAAAAAAAAAAAAAA1")


def test_identical_requests_replay_in_recorded_order(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "order.yaml"
    client = client_for(fake_openai)
    with use_cassette(path, record_mode="once"):
        recorded = [ask(client, "same").id for _ in range(3)]
    assert len(set(recorded)) == 3
    fake_openai.stop()
    with use_cassette(path, record_mode="none"):
        assert [ask(client, "same").id for _ in range(3)] == recorded


def test_new_episodes_replays_then_records_identical_requests(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "episodes.yaml"
    client = client_for(fake_openai)
    with use_cassette(path, record_mode="once"):
        recorded = [ask(client, "again").id for _ in range(2)]
    served = len(fake_openai.requests)
    with use_cassette(path, record_mode="new_episodes"):
        ids = [ask(client, "again").id for _ in range(4)]
    assert ids[:2] == recorded  # the recorded ones first, in order
    assert len(set(ids)) == 4  # then new recordings, never a replay of a fresh one
    assert len(fake_openai.requests) == served + 2
    fake_openai.stop()
    with use_cassette(path, record_mode="none"):
        assert [ask(client, "again").id for _ in range(4)] == ids


def test_volatile_paths_are_configurable(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    client = client_for(fake_openai)
    with use_cassette(path, record_mode="once", ignore_json_paths=["user", "metadata.run_id"]):
        recorded = ask(client, "hi", user="run-1", seed=1, metadata={"run_id": "a"}).id
    fake_openai.stop()
    with use_cassette(path, record_mode="none", ignore_json_paths=["user", "metadata.run_id"]):
        assert ask(client, "hi", user="run-2", seed=1, metadata={"run_id": "b"}).id == recorded
    with (
        pytest.raises(CassetteMiss, match="seed"),
        use_cassette(path, record_mode="none", ignore_json_paths=["user", "metadata.run_id"]),
    ):
        ask(client, "hi", user="run-2", seed=2, metadata={"run_id": "b"})


def test_miss_in_pytest_names_test_and_rerecord_command(
    pytester: pytest.Pytester, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_OPENAI_URL", fake_openai.base_url)
    pytester.makeini(TREE_INI)
    test_dir = pytester.mkdir("suite")
    source = """
import os, openai, pytest

@pytest.mark.vcr
@pytest.mark.parametrize("prompt", ["one two"])
def test_x(prompt):
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI_URL"], api_key="sk-x", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt + os.environ.get("SUFFIX", "")}])
"""
    (test_dir / "test_agent.py").write_text(source)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    fake_openai.stop()
    monkeypatch.setenv("SUFFIX", " three")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    expected = [
        "messages[0].content: recorded 'one two' | live 'one two three'",
        "test:        suite/test_agent.py::test_x[one two]",
        "pytest --record-mode=new_episodes 'suite/test_agent.py::test_x[one two]'",
    ]
    positions = [out.find(line) for line in expected]
    assert all(p >= 0 for p in positions), out
    assert positions == sorted(positions)
