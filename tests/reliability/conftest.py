"""Shared pieces of the reliability tests: the fake OpenAI service and a real SDK client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from llm_cassettes import CassetteFormatError, CassetteSerializer
from llm_cassettes.format import CassettePersister
from tests.fake_openai import FAKE_API_KEY, FakeOpenAI, fake_openai, fake_openai_factory

__all__ = ["fake_openai", "fake_openai_factory"]


@pytest.fixture
def make_client() -> Iterator[Callable[[FakeOpenAI], openai.OpenAI]]:
    """Real SDK clients for a fake server, closed after the test."""
    clients: list[openai.OpenAI] = []

    def make(server: FakeOpenAI) -> openai.OpenAI:
        client = openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def ask(client: openai.OpenAI, text: str, model: str = "gpt-4o") -> str:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content or ""


def stored_prompts(path: Path) -> list[str]:
    """The user prompts stored in a cassette, in file order, read the way vcrpy loads it.

    Goes through the real persister, so a torn or unreadable file fails here.
    """
    import json

    requests = CassettePersister().load_cassette(path, CassetteSerializer())[0]
    prompts = []
    for request in requests:
        body = json.loads(request.body)
        prompts.append(body["messages"][-1]["content"])
    return prompts


def assert_readable(path: Path) -> int:
    """Fail unless ``path`` is a complete cassette; return its number of interactions."""
    try:
        return len(CassettePersister().load_cassette(path, CassetteSerializer())[0])
    except CassetteFormatError as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"cassette torn or unreadable: {exc}")
