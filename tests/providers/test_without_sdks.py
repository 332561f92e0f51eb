"""Without a provider's SDK: its traffic still records and replays (untyped), and
nothing tries to import the SDK. And a framework on top of an SDK needs nothing more.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llm_cassettes import use_cassette
from tests._support import REPO, read_cassette
from tests._support.fake_anthropic import FAKE_ANTHROPIC_KEY, FakeAnthropic
from tests._support.fake_gemini import FAKE_GEMINI_KEY, FakeGemini

#: Run in a fresh interpreter where ``anthropic`` and ``google.genai`` cannot be found
#: (as if not installed): any attempt to find or import them is written down.
SCRIPT = """
import importlib.abc, json, sys

attempts = []

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "anthropic" or name.startswith("google.genai"):
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())

import httpx2
from llm_cassettes import use_cassette

def run():
    answers = []
    for url, body, headers in json.loads(sys.argv[2]):
        response = httpx2.post(url, json=body, headers=headers)
        answers.append([response.status_code, response.text])
    return answers

with use_cassette(sys.argv[1], record_mode=sys.argv[3]):
    answers = run()
imported = [m for m in sys.modules if m.split(".")[0] == "anthropic" or m.startswith("google.genai")]
print(json.dumps({"answers": answers, "imported": imported, "attempts": attempts}))
"""


def test_without_the_sdks_traffic_records_and_replays_untyped(tmp_path: Path) -> None:
    path = tmp_path / "untyped.yaml"
    anthropic_headers = {"x-api-key": FAKE_ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    message = {"model": "claude-sonnet-4-0", "max_tokens": 64}
    contents = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}

    def run(requests: list, mode: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path), json.dumps(requests), mode],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    with FakeAnthropic() as claude, FakeGemini() as gemini:
        requests = [
            [
                f"{claude.base_url}/v1/messages",
                {**message, "messages": [{"role": "user", "content": "Hello"}]},
                anthropic_headers,
            ],
            [
                f"{claude.base_url}/v1/messages",
                {**message, "stream": True, "messages": [{"role": "user", "content": "Hi"}]},
                anthropic_headers,
            ],
            [
                f"{gemini.base_url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                contents,
                {"x-goog-api-key": FAKE_GEMINI_KEY},
            ],
        ]
        recorded = run(requests, "once")
    replayed = run(requests, "none")  # the servers are gone
    assert replayed["answers"] == recorded["answers"]
    assert [status for status, _ in recorded["answers"]] == [200, 200, 200]
    for result in (recorded, replayed):
        assert result["imported"] == []
        assert all(a.split(".")[0] in ("anthropic", "google") for a in result["attempts"])
    text = path.read_text()
    assert "__type__" not in text  # stored untyped: no SDK to name a class from
    plain, stream, gemini_stream = read_cassette(path)["interactions"]
    assert plain["response"]["body"]["json"]["type"] == "message"
    assert stream["response"]["body"]["sse"]["events"][0]["event"] == "message_start"
    assert len(gemini_stream["response"]["body"]["sse"]["events"]) > 1


def test_a_framework_records_through_the_sdk_underneath(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    """langchain-anthropic calls the anthropic SDK: recording and replay need nothing
    framework-specific, and the cassette is the SDK's typed traffic."""
    langchain_anthropic = pytest.importorskip(
        "langchain_anthropic", reason="langchain-anthropic needs Python >= 3.11"
    )
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def knowledge_search(query: str) -> str:
        """Search the knowledge base."""
        return "128 experts"

    def run() -> list[str]:
        model = langchain_anthropic.ChatAnthropic(
            model="claude-sonnet-4-0",
            base_url=fake_anthropic.base_url,
            api_key=FAKE_ANTHROPIC_KEY,
            max_retries=0,
            streaming=True,
        ).bind_tools([knowledge_search])
        messages: list = [HumanMessage("How many experts does Llama 4 Maverick have?")]
        first = model.invoke(messages)
        call = first.tool_calls[0]
        messages += [
            first,
            ToolMessage(knowledge_search.invoke(call["args"]), tool_call_id=call["id"]),
        ]
        second = model.invoke(messages)
        return [call["name"], json.dumps(call["args"]), str(second.content)]

    path = tmp_path / "langchain.yaml"
    with use_cassette(path, record_mode="once"):
        recorded = run()
    fake_anthropic.stop()
    with use_cassette(path, record_mode="none"):
        assert run() == recorded
    assert recorded[0] == "knowledge_search" and "128 experts" in recorded[2]
    interactions = read_cassette(path)["interactions"]
    assert len(interactions) == 2
    events = interactions[0]["response"]["body"]["sse"]["events"]
    assert events[0]["__type__"] == "anthropic.types.raw_message_start_event.RawMessageStartEvent"
