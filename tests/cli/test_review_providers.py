"""``show`` and ``diff`` speak every provider: golden outputs for OpenAI, Anthropic and
Gemini cassettes.

``show`` reads the committed cassettes (recorded by the suite through the real SDKs);
``diff`` compares two live recordings through the real SDKs against the fakes, fresh
ids and all: a changed system prompt, tool call and streamed answer are reported, and
a re-recording with the same inputs is "no semantic changes".

A golden file is the expected output, byte for byte. After an intended change of the
output, run ``LLM_CASSETTES_GOLDEN=update pytest tests/cli/test_review_providers.py``
and review the diff of ``tests/data/cli/golden/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from llm_cassettes import use_cassette
from tests._support import DATA, RECORDED_CASSETTES, REPO, TOOLS, client_for
from tests._support.fake_anthropic import FAKE_ANTHROPIC_KEY
from tests._support.fake_gemini import FAKE_GEMINI_KEY
from tests.conftest import Run
from tests.providers.test_provider_cassettes import QUESTION, claude_agent, gemini_agent

GOLDEN = DATA / "cli" / "golden"
PROVIDER_CASSETTES = REPO / "cassettes" / "tests" / "providers" / "test_provider_cassettes"
SHOWN = {
    "openai": RECORDED_CASSETTES / "test_tool_call_round_trip.yaml",
    "anthropic": PROVIDER_CASSETTES / "test_claude_agent.yaml",
    "gemini": PROVIDER_CASSETTES / "test_gemini_agent.yaml",
}


def assert_golden(name: str, output: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LLM_CASSETTES_GOLDEN") == "update":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8"), f"output differs from {path}"


@pytest.mark.parametrize("provider", SHOWN)
@pytest.mark.parametrize("form", ["text", "markdown"])
def test_show(provider: str, form: str, cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the path shown is the one given
    code, out, err = cli("show", "--format", form, SHOWN[provider].relative_to(REPO))
    assert (code, err) == (0, "")
    assert_golden(f"show-{provider}.{'md' if form == 'markdown' else 'txt'}", out)


def openai_agent(client: openai.OpenAI, system: str, question: str, result: str) -> str:
    """A streamed tool call, its result, a streamed answer (Chat Completions)."""
    messages: list[Any] = [
        {"role": "system", "content": system},
        {"role": "user", "content": question},
    ]
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as s:
        first = s.get_final_completion().choices[0].message
    call = first.tool_calls[0]
    messages += [
        first.model_dump(exclude_none=True, exclude={"parsed", "refusal", "annotations"}),
        {"role": "tool", "tool_call_id": call.id, "content": result},
    ]
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as s:
        return s.get_final_completion().choices[0].message.content or ""


def _genai_client(server: Any) -> Any:
    genai = pytest.importorskip("google.genai", reason="google-genai needs Python >= 3.11")
    options = genai.types.HttpOptions(
        base_url=server.base_url, retry_options=genai.types.HttpRetryOptions(attempts=1)
    )
    return genai.Client(api_key=FAKE_GEMINI_KEY, http_options=options)


#: provider → (fake server fixture, client for it, the agent)
AGENTS: dict[str, tuple[str, Callable[[Any], Any], Callable[..., str]]] = {
    "openai": ("fake_openai_factory", client_for, openai_agent),
    "anthropic": (
        "fake_anthropic_factory",
        lambda s: anthropic.Anthropic(
            base_url=s.base_url, api_key=FAKE_ANTHROPIC_KEY, max_retries=0
        ),
        claude_agent,
    ),
    "gemini": ("fake_gemini_factory", _genai_client, gemini_agent),
}


@pytest.mark.parametrize("provider", AGENTS)
def test_diff(
    provider: str,
    cli: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    fixture, make_client, run_agent = AGENTS[provider]
    factory = request.getfixturevalue(fixture)
    monkeypatch.chdir(tmp_path)

    def record(name: str, system: str, question: str, result: str) -> str:
        path = Path(name) / "agent.yaml"
        with use_cassette(path, record_mode="once"):
            run_agent(make_client(factory()), system, question, result)  # a fresh server
        return str(path)

    old = record("old", "Answer in one line.", QUESTION, "128 experts")
    same = record("same", "Answer in one line.", QUESTION, "128 experts")
    new = record("new", "Answer in one word.", "How many experts does Llama 4 Scout have?", "16")
    assert Path(old).read_text() != Path(same).read_text()  # fresh ids, times, chunks

    code, out, _ = cli("diff", old, same)
    assert code == 0 and "no semantic changes" in out
    code, out, _ = cli("diff", "--format", "markdown", old, new)
    assert code == 1
    assert_golden(f"diff-{provider}.md", out)
