"""The cassette format on its own: SSE fidelity, scrubbing, idempotence, plain vcrpy input."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_cassettes import CassetteSerializer
from llm_cassettes._wire import encode_sse as encode
from llm_cassettes._wire import parse_sse as parse
from llm_cassettes.scrub import REDACTED, Scrubber


def interaction(
    body: Any, content_type: str, *, uri: str = "http://h/v1/chat/completions"
) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "uri": uri,
            "body": '{"model":"m"}',
            "headers": {"content-type": ["application/json"]},
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"content-type": [content_type]},
            "body": {"string": body},
        },
    }


def round_trip(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    serializer = CassetteSerializer()
    text = serializer.serialize({"interactions": [item]})
    return text, serializer.deserialize(text)["interactions"][0]


@pytest.mark.parametrize(
    "body",
    [
        'data: {"a":1}\n\ndata: [DONE]\n\n',
        'event: ping\ndata: {"a":1}\n\n',
        ": keep-alive comment\n\ndata: x\n\n",
        "id: 7\nretry: 100\ndata: line one\ndata: line two\n\n",
        "data: a\r\n\r\ndata: b\r\n\r\n",
        "data: no final blank line",
        "event: only-a-name\n\n",
    ],
)
def test_sse_events_round_trip(body: str) -> None:
    _, back = round_trip(interaction(body, "text/event-stream"))
    assert parse(back["response"]["body"]["string"]) == parse(body)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "data": st.text(
                    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"])
                )
            },
            optional={"event": st.from_regex(r"[a-z.]{1,12}", fullmatch=True)},
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_event_stream_round_trips(events: list[dict[str, str]]) -> None:
    body = encode(events)
    _, back = round_trip(interaction(body, "text/event-stream"))
    assert parse(back["response"]["body"]["string"]) == parse(body)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_binary_bodies_round_trip_byte_exact(body: bytes) -> None:
    _, back = round_trip(interaction(body, "application/octet-stream"))
    stored = back["response"]["body"]["string"]
    assert (stored.encode() if isinstance(stored, str) else stored) == body


def test_serialize_is_idempotent_on_its_own_output() -> None:
    body = 'data: {"id":"x","object":"chat.completion.chunk","choices":[]}\n\ndata: [DONE]\n\n'
    text, back = round_trip(interaction(body, "text/event-stream"))
    again = CassetteSerializer().serialize({"interactions": [back]})
    assert again == text


def test_long_text_is_a_block_scalar() -> None:
    content = "A long answer.\nWith a second line that a reviewer reads as text, not as an escaped string."
    body = '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":%s}}]}'
    import json

    text, _ = round_trip(interaction(body % json.dumps(content), "application/json"))
    assert "content: |-\n" in text
    assert "With a second line that a reviewer reads as text" in text


def test_gzip_body_is_stored_decoded() -> None:
    item = interaction(gzip.compress(b'{"hello": "world"}'), "application/json")
    item["response"]["headers"]["content-encoding"] = ["gzip"]
    text, back = round_trip(item)
    assert "hello: world" in text and "content-encoding" not in text
    assert back["response"]["body"]["string"] == '{"hello":"world"}'


def test_plain_vcrpy_cassette_loads_unchanged() -> None:
    plain = """interactions:
- request:
    body: '{"model":"gpt-4o"}'
    headers: {}
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body:
      string: 'data: {"a":1}

        '
    headers: {}
    status: {code: 200, message: OK}
version: 1
"""
    item = CassetteSerializer().deserialize(plain)["interactions"][0]
    assert item["request"]["body"] == '{"model":"gpt-4o"}'
    assert item["response"]["body"]["string"] == 'data: {"a":1}\n'


def test_scrubber_redacts_env_values_and_credential_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    scrubber = Scrubber()
    assert scrubber.text("x tok-1234567890 y") == "x <MY_SERVICE_TOKEN> y"
    assert REDACTED in scrubber.text("key sk-proj-abcdefghijklmnopqrstuvwx")
    assert REDACTED in scrubber.text("AKIAABCDEFGHIJKLMNOP")
    assert (
        scrubber.text("a task-abcdefghijklmnopqrstuvwx id") == "a task-abcdefghijklmnopqrstuvwx id"
    )
    assert scrubber.url(
        "https://h/v1/x?key=abc&q=1"
    ) == "https://h/v1/x?key=%3CREDACTED%3E&q=1" or (
        "key=<REDACTED>" in scrubber.url("https://h/v1/x?key=abc&q=1")
    )
    assert scrubber.value({"api_key": "abc", "nested": [{"password": "p"}]}) == {
        "api_key": REDACTED,
        "nested": [{"password": REDACTED}],
    }
    once = scrubber.text("Bearer abcdefghijklmnop")
    assert scrubber.text(once) == once  # idempotent: vcrpy runs hooks again on load


def test_other_providers_are_stored_as_untyped_json() -> None:
    body = '{"id":"msg_01","type":"message","content":[{"type":"text","text":"hi"}]}'
    item = interaction(body, "application/json", uri="https://api.anthropic.com/v1/messages")
    text, back = round_trip(item)
    assert "__type__" not in text
    assert "type: message" in text
    assert back["response"]["body"]["string"] == body
