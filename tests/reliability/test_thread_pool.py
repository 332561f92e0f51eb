"""Tools run by a thread pool, as agent frameworks run them, are recorded and replayed.

Context variables do not reach ``ThreadPoolExecutor`` workers, so a tool that
looked for its cassette there found none: it was not recorded, and on replay
the real tool ran. The agent below calls the real SDK against the local
server and runs every tool call of a step in a pool; the replay runs with the
server stopped and every tool body replaced by one that fails if called.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest

from llm_cassettes import CassetteMiss, tool, use_cassette
from tests._support import TOOLS, read_cassette
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI


def _search_backend(query: str) -> dict[str, Any]:
    return {"query": query, "text": "The Llama 4 Maverick model has 128 experts."}


def _audit_backend(event: str, thread: str) -> int:
    return len(event)


def raising(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a tool body ran during replay")


# Looked up at call time, so a test can swap the bodies out.
BACKENDS = {"search": _search_backend, "audit": _audit_backend}
RAN_IN: list[str] = []


@tool
def knowledge_search(query: str) -> dict[str, Any]:
    RAN_IN.append(threading.current_thread().name)
    return BACKENDS["search"](query)


@tool
def audit(event: str) -> int:
    return BACKENDS["audit"](event, threading.current_thread().name)


def run_agent(client: openai.OpenAI, questions: list[str]) -> list[str]:
    """Each question: the model asks for a search; all searches of the step run in a pool
    (plus an audit call per search), then the model answers each with its result."""
    firsts = [
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": q}], tools=TOOLS
        )
        for q in questions
    ]
    calls = [first.choices[0].message.tool_calls[0] for first in firsts]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="agent-tool") as pool:
        results = list(
            pool.map(lambda c: knowledge_search(**json.loads(c.function.arguments)), calls)
        )
        audited = list(pool.map(audit, [f"searched {c.function.name}" for c in calls]))
    assert audited == [len(f"searched {c.function.name}") for c in calls]
    answers = []
    for question, first, call, result in zip(questions, firsts, calls, results, strict=True):
        messages: list[Any] = [
            {"role": "user", "content": question},
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": result["text"]},
        ]
        final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        answers.append(final.choices[0].message.content or "")
    return answers


def test_tools_in_a_thread_pool_are_recorded_then_replayed_offline(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pool.yaml"
    questions = ["How many experts?", "Who owns billing?", "What is the SLA?"]
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key=FAKE_API_KEY, max_retries=0)
    RAN_IN.clear()
    with use_cassette(path, record_mode="once"):
        answers = run_agent(client, questions)
    assert answers == ["Based on the tool: The Llama 4 Maverick model has 128 experts."] * len(
        questions
    )
    assert RAN_IN and all(name.startswith("agent-tool") for name in RAN_IN)  # in the pool

    stored = read_cassette(path)["interactions"]
    tool_calls = sorted(
        (i["request"]["uri"], json.dumps(i["request"]["body"]["json"], sort_keys=True))
        for i in stored
        if i["request"]["method"] == "TOOL"
    )
    assert tool_calls == sorted(
        [("tool://knowledge_search", json.dumps({"query": q})) for q in questions]
        + [("tool://audit", json.dumps({"event": "searched knowledge_search"}))] * 3
    )

    fake_openai.stop()
    monkeypatch.setitem(BACKENDS, "search", raising)
    monkeypatch.setitem(BACKENDS, "audit", raising)
    with use_cassette(path, record_mode="none"):
        assert run_agent(client, questions) == answers


def test_in_mode_none_an_unrecorded_tool_call_in_a_thread_raises(tmp_path: Path) -> None:
    """A call the cassette does not hold fails in the worker; the real tool never runs."""
    path = tmp_path / "none.yaml"
    with use_cassette(path, record_mode="once"), ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(audit, "recorded").result() == len("recorded")
    ran: list[str] = []
    with (
        use_cassette(path, record_mode="none"),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setitem(BACKENDS, "audit", lambda event, thread: ran.append(event) or 0)
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(audit, "recorded").result() == len("recorded")
            with pytest.raises(CassetteMiss, match=r"TOOL tool://audit"):
                pool.submit(audit, "never recorded").result()
    assert ran == []


def test_outside_any_cassette_a_pool_thread_calls_the_tool() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(audit, "plain").result() == len("plain")
