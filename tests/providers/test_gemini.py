"""Gemini through the real ``google-genai`` SDK (over httpx2): recorded against the fake
Gemini API, replayed with the server stopped, the same SDK objects. Nothing in a
conftest: generateContent, its SSE stream and embeddings are typed out of the box.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llm_cassettes import use_cassette
from tests._support import dump, read_cassette
from tests._support.fake_gemini import FAKE_GEMINI_KEY, FakeGemini

# google-genai supports Python >= 3.11 only (the dev extra installs it there)
genai = pytest.importorskip("google.genai", reason="google-genai needs Python >= 3.11")
types = genai.types

MODEL = "gemini-2.5-flash"
QUESTION = "How many experts does Llama 4 Maverick have?"


def knowledge_search(query: str) -> str:
    """Search the knowledge base."""
    return "128 experts"


def client_for(server: FakeGemini, **options: Any) -> Any:
    http = types.HttpOptions(
        base_url=server.base_url, retry_options=types.HttpRetryOptions(attempts=1), **options
    )
    return genai.Client(api_key=FAKE_GEMINI_KEY, http_options=http)


def function_calling(client: Any, result: str = "128 experts", system: str = "Be brief.") -> Any:
    """A manual function-calling round trip: the call, then its response sent back."""
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration.from_callable(client=client, callable=knowledge_search)
        ]
    )
    config = types.GenerateContentConfig(tools=[tool], system_instruction=system)
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=QUESTION)])]
    first = client.models.generate_content(model=MODEL, contents=contents, config=config)
    call = first.function_calls[0]
    contents += [
        first.candidates[0].content,
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name=call.name, id=call.id, response={"result": result}
                    )
                )
            ],
        ),
    ]
    return [first, client.models.generate_content(model=MODEL, contents=contents, config=config)]


def streamed(client: Any) -> Any:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=QUESTION))
    return [chunks, "".join(chunk.text or "" for chunk in chunks)]


SCENARIOS: dict[str, Callable[[Any], Any]] = {
    "generate": lambda c: c.models.generate_content(model=MODEL, contents=QUESTION),
    "stream": streamed,
    "function_calling": function_calling,
    "automatic_function_calling": lambda c: c.models.generate_content(
        model=MODEL, contents=QUESTION, config=types.GenerateContentConfig(tools=[knowledge_search])
    ),
    "embeddings": lambda c: c.models.embed_content(
        model="gemini-embedding-001", contents=["alpha", "beta"]
    ),
    "count_tokens": lambda c: c.models.count_tokens(model=MODEL, contents=QUESTION),
}


def _comparable(value: Any) -> Any:
    """SDK results without ``sdk_http_response`` (its headers are the live server's)."""
    dumped = dump(value)
    if isinstance(dumped, list):
        return [_comparable(item) for item in dumped]
    if isinstance(dumped, dict):
        return {k: _comparable(v) for k, v in dumped.items() if k != "sdk_http_response"}
    return dumped


def record_then_replay(
    server: FakeGemini, path: Path, run: Callable[[Any], Any]
) -> tuple[Any, Any]:
    with use_cassette(path, record_mode="once"):
        recorded = _comparable(run(client_for(server)))
    server.stop()
    with use_cassette(path, record_mode="none"):
        replayed = _comparable(run(client_for(server)))
    return recorded, replayed


@pytest.mark.parametrize("name", SCENARIOS)
def test_replay_equals_recording(name: str, fake_gemini: FakeGemini, tmp_path: Path) -> None:
    recorded, replayed = record_then_replay(fake_gemini, tmp_path / "c.yaml", SCENARIOS[name])
    assert replayed == recorded


def test_async_stream(fake_gemini: FakeGemini, tmp_path: Path) -> None:
    async def run() -> Any:
        client = client_for(fake_gemini)
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents=QUESTION)
        return "".join([chunk.text or "" async for chunk in stream])

    path = tmp_path / "async.yaml"
    with use_cassette(path, record_mode="once"):
        recorded = asyncio.run(run())
    fake_gemini.stop()
    with use_cassette(path, record_mode="none"):
        assert asyncio.run(run()) == recorded == f"Echo: {QUESTION}"


def test_typed_bodies_and_sse_stream(fake_gemini: FakeGemini, tmp_path: Path) -> None:
    path = tmp_path / "typed.yaml"
    with use_cassette(path, record_mode="once"):
        client = client_for(fake_gemini)
        streamed(client)
        function_calling(client)
        SCENARIOS["embeddings"](client)
    stream, first, second, embeddings = read_cassette(path)["interactions"]
    assert stream["request"]["uri"].endswith(f"/models/{MODEL}:streamGenerateContent?alt=sse")
    sse = stream["response"]["body"]["sse"]
    # every chunk is a whole GenerateContentResponse: one type for the stream
    assert sse["__type__"] == "google.genai.types.GenerateContentResponse"
    assert sse["newline"] == "crlf"  # replayed with the CRLF line ends the server sent
    assert all(isinstance(event, str) for event in sse["events"])
    for answer in (first, second):
        assert answer["response"]["body"]["json"]["__type__"] == (
            "google.genai.types.GenerateContentResponse"
        )
    assert embeddings["response"]["body"]["json"]["__type__"] == (
        "google.genai.types.EmbedContentResponse"
    )
    # the thought signature is sent back verbatim: model state, not a secret
    part = second["request"]["body"]["json"]["contents"][1]["parts"][0]
    assert set(part) == {"functionCall", "thoughtSignature"}
    assert part["thoughtSignature"] != "<REDACTED>" and len(part["thoughtSignature"]) > 100


@pytest.mark.parametrize("where", ["header", "query"])
def test_the_api_key_never_reaches_disk_nor_matters_for_matching(
    where: str, fake_gemini: FakeGemini, tmp_path: Path
) -> None:
    path = tmp_path / "key.yaml"
    other_key = "AIzaSyOTHERKEY9876543210zyxwvuZYXWVUTSR"

    def run(key: str) -> Any:
        if where == "header":
            client = genai.Client(
                api_key=key,
                http_options=types.HttpOptions(
                    base_url=fake_gemini.base_url, retry_options=types.HttpRetryOptions(attempts=1)
                ),
            )
            return _comparable(client.models.generate_content(model=MODEL, contents=QUESTION))
        # ?key= as curl and older clients send it
        import httpx2

        url = f"{fake_gemini.base_url}/v1beta/models/{MODEL}:generateContent?key={key}"
        body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
        return httpx2.post(url, json=body).json()

    with use_cassette(path, record_mode="once"):
        recorded = run(FAKE_GEMINI_KEY)
    fake_gemini.stop()
    with use_cassette(path, record_mode="none"):
        assert run(other_key) == recorded  # another key, the same recording
    text = path.read_text()
    assert FAKE_GEMINI_KEY not in text and "AIzaSy" not in text
    stored = read_cassette(path)["interactions"][0]["request"]
    if where == "header":
        assert stored["headers"]["x-goog-api-key"] == ["<REDACTED>"]
    else:
        assert stored["uri"].endswith(":generateContent?key=<REDACTED>")


def test_fresh_function_call_ids_and_signatures_still_match(
    fake_gemini: FakeGemini, tmp_path: Path
) -> None:
    path = tmp_path / "ids.yaml"
    with use_cassette(path, record_mode="once"):
        first, second = function_calling(client_for(fake_gemini))
    fake_gemini.stop()
    call = first.candidates[0].content.parts[0]
    # What a fresh recording of the first answer would have sent back: another call id
    # and another thought signature.
    again = types.Content(
        role="model",
        parts=[
            types.Part(
                function_call=types.FunctionCall(
                    name=call.function_call.name, id="zz9yx8wv", args=call.function_call.args
                ),
                thought_signature=b"another signature, another recording",
            )
        ],
    )
    contents = [
        types.Content(role="user", parts=[types.Part(text=QUESTION)]),
        again,
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        name=call.function_call.name,
                        id="zz9yx8wv",
                        response={"result": "128 experts"},
                    )
                )
            ],
        ),
    ]
    client = client_for(fake_gemini)  # kept: a dropped genai.Client closes its connections
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration.from_callable(client=client, callable=knowledge_search)
        ]
    )
    config = types.GenerateContentConfig(tools=[tool], system_instruction="Be brief.")
    with use_cassette(path, record_mode="none"):
        replayed = client.models.generate_content(model=MODEL, contents=contents, config=config)
    assert _comparable(replayed) == _comparable(second)
    assert (
        json.loads(json.dumps(_comparable(replayed)))["candidates"][0]["content"]["parts"][0][
            "text"
        ]
        == 'Based on the tool: {"result": "128 experts"}'
    )
