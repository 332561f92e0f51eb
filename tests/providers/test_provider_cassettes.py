"""Anthropic and Gemini as a user runs them with the plugin, on cassettes committed under
``cassettes/`` (replayed offline; ``show`` golden files are made from them).

To re-record: ``pytest -n 0 --record-mode=rewrite tests/providers/test_provider_cassettes.py``
(one process: the fakes bind fixed ports, in deterministic mode, so identical traffic
re-records byte-identical files).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests._support.fake_anthropic import FakeAnthropic
from tests._support.fake_gemini import FakeGemini

ANTHROPIC_PORT = 18735
GEMINI_PORT = 18736
QUESTION = "How many experts does Llama 4 Maverick have?"
ANTHROPIC_TOOLS: list[Any] = [
    {
        "name": "knowledge_search",
        "description": "Search the knowledge base",
        "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
    }
]


@pytest.fixture
def claude(record_mode: str) -> Iterator[anthropic.Anthropic]:
    server = (
        None if record_mode == "none" else FakeAnthropic(deterministic=True, port=ANTHROPIC_PORT)
    )
    if server is not None:
        server.start()
    try:
        yield anthropic.Anthropic(
            base_url=f"http://127.0.0.1:{ANTHROPIC_PORT}",
            api_key="sk-ant-api03-not-a-real-key-0123456789",
            max_retries=0,
        )
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def gemini(record_mode: str) -> Iterator[Any]:
    genai = pytest.importorskip("google.genai", reason="google-genai needs Python >= 3.11")
    server = None if record_mode == "none" else FakeGemini(deterministic=True, port=GEMINI_PORT)
    if server is not None:
        server.start()
    try:
        yield genai.Client(
            api_key="AIzaSyNOTAREALKEY0123456789abcdefABCDEF",
            http_options=genai.types.HttpOptions(
                base_url=f"http://127.0.0.1:{GEMINI_PORT}",
                retry_options=genai.types.HttpRetryOptions(attempts=1),
            ),
        )
    finally:
        if server is not None:
            server.stop()


def claude_agent(client: anthropic.Anthropic, system: str, question: str, result: str) -> str:
    """Thinking, a streamed tool call, its result, a streamed answer."""
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-0",
        "max_tokens": 2048,
        "system": system,
        "tools": ANTHROPIC_TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": question}],
    }
    with client.messages.stream(**request) as stream:
        first = stream.get_final_message()
    call = next(block for block in first.content if block.type == "tool_use")
    request["messages"] += [
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": result}],
        },
    ]
    with client.messages.stream(**request) as stream:
        return stream.get_final_text()


def gemini_agent(client: Any, system: str, question: str, result: str) -> str:
    """A streamed function call, its response, a streamed answer."""
    from google.genai import types as genai_types  # only where google-genai installs

    declaration = genai_types.FunctionDeclaration(
        name="knowledge_search",
        description="Search the knowledge base",
        parameters_json_schema={"type": "object", "properties": {"query": {"type": "string"}}},
    )
    config = genai_types.GenerateContentConfig(
        system_instruction=system,
        tools=[genai_types.Tool(function_declarations=[declaration])],
    )
    contents: list[Any] = [
        genai_types.Content(role="user", parts=[genai_types.Part(text=question)])
    ]
    stream = client.models.generate_content_stream(
        model="gemini-2.5-flash", contents=contents, config=config
    )
    chunks = list(stream)
    call = next(p for c in chunks for p in c.candidates[0].content.parts if p.function_call)
    contents += [
        genai_types.Content(role="model", parts=[call]),
        genai_types.Content(
            role="user",
            parts=[
                genai_types.Part(
                    function_response=genai_types.FunctionResponse(
                        name="knowledge_search",
                        id=call.function_call.id,
                        response={"result": result},
                    )
                )
            ],
        ),
    ]
    answer = client.models.generate_content_stream(
        model="gemini-2.5-flash", contents=contents, config=config
    )
    return "".join(chunk.text or "" for chunk in answer)


@pytest.mark.vcr
def test_claude_agent(claude: anthropic.Anthropic) -> None:
    answer = claude_agent(claude, "Answer in one line.", QUESTION, "128 experts")
    assert answer == "Based on the tool: 128 experts"


@pytest.mark.vcr
def test_gemini_agent(gemini: Any) -> None:
    answer = gemini_agent(gemini, "Answer in one line.", QUESTION, "128 experts")
    assert answer == 'Based on the tool: {"result": "128 experts"}'
