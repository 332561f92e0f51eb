"""What the tests share: where things are, the question and tool the agent tests ask
with, a real SDK client for the fake server, and reading cassettes as a reviewer would.

``fake_openai`` is the OpenAI-compatible server the suite records against (a pytest
plugin: its fixtures are registered by the root ``conftest.py``); the fixtures every
test may use (``cli``, ``make_client``) are in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from llm_cassettes import CassetteFormatError, CassetteSerializer
from llm_cassettes.format import CassettePersister

from .fake_openai import FAKE_API_KEY, FakeOpenAI

__all__ = [
    "DATA",
    "QUESTION",
    "RECORDED_CASSETTES",
    "REPO",
    "TOOLS",
    "TREE_INI",
    "answer",
    "ask",
    "assert_readable",
    "client_for",
    "dump",
    "read_cassette",
    "stored_prompts",
]

#: The repository, and the data the tests read (copied from real traffic and recorders).
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
#: Cassettes the suite replays from the repository (recorded by the fake service).
RECORDED_CASSETTES = REPO / "cassettes" / "tests" / "pytest_plugin" / "test_recorded_cassettes"

#: A pytest ini keeping all cassettes in one tree, for pytester projects.
TREE_INI = "[pytest]\nllm_cassettes_dir = cassettes\n"

QUESTION = "How many experts does Llama 4 Maverick have?"
#: The one tool the agent tests offer the model.
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "knowledge_search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]


def client_for(server: FakeOpenAI, **kwargs: Any) -> openai.OpenAI:
    """The real SDK, pointed at the fake server, never retrying (a miss must show at once)."""
    return openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0, **kwargs)


def ask(client: openai.OpenAI, text: str, model: str = "gpt-4o", **extra: Any) -> Any:
    """One user message, one chat completion."""
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **extra
    )


def answer(client: openai.OpenAI, text: str, model: str = "gpt-4o") -> str:
    """The text of the answer to one user message."""
    return ask(client, text, model).choices[0].message.content or ""


def read_cassette(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The stored cassette as plain data (what is on disk, not what vcrpy replays)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dump(obj: Any) -> Any:
    """Comparable form of SDK results: models dumped, lists dumped item by item."""
    if isinstance(obj, list):
        return [dump(item) for item in obj]
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return obj


def stored_prompts(path: Path) -> list[str]:
    """The user prompts stored in a cassette, in file order, read the way vcrpy loads it.

    Goes through the real persister, so a torn or unreadable file fails here.
    """
    requests = CassettePersister().load_cassette(path, CassetteSerializer())[0]
    return [json.loads(request.body)["messages"][-1]["content"] for request in requests]


def assert_readable(path: Path) -> int:
    """Fail unless ``path`` is a complete cassette; return its number of interactions."""
    try:
        return len(CassettePersister().load_cassette(path, CassetteSerializer())[0])
    except CassetteFormatError as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"cassette torn or unreadable: {exc}")
