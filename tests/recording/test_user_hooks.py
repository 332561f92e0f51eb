"""vcrpy's own record hooks keep working: ``before_record_request`` and
``before_record_response`` given to ``use_cassette`` (or ``vcr_config``) decide what is
recorded, for plain and streamed answers alike, and never change what the client gets.

Recorded through the real openai SDK against the fake server, replayed with it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from llm_cassettes import CassetteMiss, use_cassette
from tests._support import ask, client_for, read_cassette
from tests._support.fake_openai import FakeOpenAI


def drop_embeddings(request: Any) -> Any:
    """Users drop requests they do not want on disk by returning None."""
    return None if request.path.endswith("/embeddings") else request


def mark_response(response: dict[str, Any]) -> dict[str, Any]:
    """Users edit responses in place (headers here: the hook must not reach the client)."""
    response["headers"]["x-reviewed"] = ["yes"]
    return response


def conversation(server: FakeOpenAI) -> tuple[str, str, int, list[str]]:
    client = client_for(server)
    plain = ask(client, "first question")
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "second question"}], stream=True
    )
    streamed = "".join(
        chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices
    )
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["alpha"])
    headers = [name for name in raw.headers if name.startswith("x-reviewed")]
    return plain.choices[0].message.content or "", streamed, len(vectors.data), headers


def test_user_hooks_decide_what_is_recorded(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    path = tmp_path / "hooks.yaml"
    hooks = {"before_record_request": drop_embeddings, "before_record_response": mark_response}
    with use_cassette(path, record_mode="once", **hooks):
        plain, streamed, vectors, client_saw = conversation(fake_openai)
    assert plain == "Echo: first question"
    assert streamed == "Echo: second question"
    assert vectors == 1
    assert client_saw == []  # the hook edits the recording, not the live answer

    interactions = read_cassette(path)["interactions"]
    assert [i["request"]["uri"].rsplit("/", 2)[-2:] for i in interactions] == [
        ["chat", "completions"],
        ["chat", "completions"],
    ]
    assert all(i["response"]["headers"]["x-reviewed"] == ["yes"] for i in interactions)
    assert "sse" in interactions[1]["response"]["body"]  # the stream is still typed

    fake_openai.stop()
    with use_cassette(path, record_mode="none", **hooks):
        client = client_for(fake_openai)
        assert ask(client, "first question").choices[0].message.content == plain
        # Dropped by the hook: never recorded, and it goes to the network as in vcrpy
        # (that is how ``ignore_hosts`` works), where the stopped server refuses it.
        with pytest.raises(openai.APIConnectionError) as refused:
            client.embeddings.create(model="text-embedding-3-small", input=["alpha"])
        assert not isinstance(refused.value.__cause__, CassetteMiss)
