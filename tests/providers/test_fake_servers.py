"""The fake Anthropic and Gemini servers answer like the real services, checked against
real traffic (``tests/data/real_traffic/pydantic-ai``): the SSE framing byte for byte,
the event names and their order, the payloads' fields, the padding, the JSON layout,
the headers. A test recorded against a fake that drifted from reality would prove
nothing about real cassettes.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import httpx2
import pytest
import yaml

from tests._support import DATA
from tests._support.fake_anthropic import FAKE_ANTHROPIC_KEY, FakeAnthropic
from tests._support.fake_gemini import FAKE_GEMINI_KEY, FakeGemini

REAL = DATA / "real_traffic" / "pydantic-ai"


def real(path: str) -> list[dict[str, Any]]:
    return yaml.safe_load((REAL / path).read_text(encoding="utf-8"))["interactions"]


def frames(text: str, separator: str) -> list[str]:
    assert text.endswith(separator)
    return text[: -len(separator)].split(separator)


def collapsed(names: list[str]) -> list[str]:
    """Event names with runs of the same name counted once (the grammar of a stream)."""
    return [name for name, _ in itertools.groupby(names)]


# ----------------------------------------------------------------------------- Anthropic --

ANTHROPIC_HEADERS = {"x-api-key": FAKE_ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}


def anthropic_post(server: FakeAnthropic, body: dict[str, Any]) -> httpx2.Response:
    return httpx2.post(f"{server.base_url}/v1/messages", json=body, headers=ANTHROPIC_HEADERS)


def test_anthropic_stream_framing_names_order_and_padding(fake_anthropic: FakeAnthropic) -> None:
    (interaction,) = real("test_anthropic/test_anthropic_model_thinking_part_stream.yaml")
    real_body = interaction["response"]["body"]["string"]
    request = interaction["request"]["parsed_body"]
    fake = anthropic_post(fake_anthropic, request)
    assert fake.headers["content-type"] == "text/event-stream; charset=utf-8"
    for key in ("cache-control", "content-security-policy", "strict-transport-security"):
        assert fake.headers[key] == interaction["response"]["headers"][key][0]

    def parse(body: str) -> list[tuple[str, str]]:
        out = []
        for frame in frames(body, "\n\n"):
            found = re.fullmatch(r"event: ([a-z_]+)\ndata: (\{.*\})", frame)
            assert found, f"not an event:/data: frame: {frame!r}"
            out.append((found.group(1), found.group(2)))
        return out

    real_events, fake_events = parse(real_body), parse(fake.text)
    for name, data in real_events + fake_events:
        assert json.loads(data)["type"] == name  # the event name is the payload's type
    # the same grammar: start, a thinking block with a ping after its start, a text
    # block, the message delta and stop
    assert collapsed([n for n, _ in fake_events]) == collapsed([n for n, _ in real_events])
    # padding inside the data object, and the ping written with spaces
    for events in (real_events, fake_events):
        assert any(re.search(r"\S {2,}\}$", data) for _, data in events)
        assert ("ping", '{"type": "ping"}') in events

    def shapes(events: list[tuple[str, str]]) -> set[tuple[str, ...]]:
        found = set()
        for name, data in events:
            value = json.loads(data)
            inner = value.get("delta") or value.get("content_block") or value.get("message")
            found.add((name, *value, *(sorted(inner) if isinstance(inner, dict) else ())))
        return found

    real_shapes = shapes(real_events)
    # every real event shape is produced (message_start's usage aside: fields vary by model)
    assert {s for s in real_shapes if s[0] != "message_start"} <= shapes(fake_events)
    real_start = json.loads(real_events[0][1])["message"]
    fake_start = json.loads(fake_events[0][1])["message"]
    assert list(fake_start) == list(real_start)  # the same keys in the same order
    assert re.fullmatch(r"msg_01[A-Za-z0-9]{22}", fake_start["id"])
    assert re.fullmatch(r"msg_01[A-Za-z0-9]{22}", real_start["id"])


def test_anthropic_message_body_and_blocks(fake_anthropic: FakeAnthropic) -> None:
    first, _ = real("test_anthropic/test_anthropic_tool_with_thinking.yaml")
    real_message = first["response"]["parsed_body"]
    fake = anthropic_post(fake_anthropic, first["request"]["parsed_body"]).json()
    assert set(fake) == set(real_message)
    assert [b["type"] for b in fake["content"]] == [b["type"] for b in real_message["content"]]
    for fake_block, real_block in zip(fake["content"], real_message["content"], strict=True):
        assert set(fake_block) == set(real_block)
    real_call, fake_call = real_message["content"][-1], fake["content"][-1]
    assert re.fullmatch(r"toolu_01[A-Za-z0-9]{22}", real_call["id"])
    assert re.fullmatch(r"toolu_01[A-Za-z0-9]{22}", fake_call["id"])
    assert fake["stop_reason"] == real_message["stop_reason"] == "tool_use"
    assert set(real_message["usage"]) - set(fake["usage"]) <= {"inference_geo"}


def test_anthropic_ids_are_fresh_per_call_and_errors_are_the_real_shape(
    fake_anthropic: FakeAnthropic,
) -> None:
    body = {"model": "claude-sonnet-4-0", "max_tokens": 64}
    one = anthropic_post(fake_anthropic, {**body, "messages": [{"role": "user", "content": "a"}]})
    two = anthropic_post(fake_anthropic, {**body, "messages": [{"role": "user", "content": "a"}]})
    assert one.json()["id"] != two.json()["id"]
    assert one.headers["request-id"] != two.headers["request-id"]
    assert re.fullmatch(r"req_011C[A-Za-z0-9]{20}", one.headers["request-id"])
    assert one.headers["anthropic-organization-id"]
    assert {
        f"anthropic-ratelimit-{kind}-{what}"
        for kind in ("requests", "input-tokens", "output-tokens", "tokens")
        for what in ("limit", "remaining", "reset")
    } <= set(one.headers)
    limited = anthropic_post(
        fake_anthropic, {**body, "messages": [{"role": "user", "content": "error-429"}]}
    )
    assert limited.status_code == 429 and limited.headers["retry-after"]
    assert limited.headers["x-should-retry"] == "true"
    error = limited.json()
    assert list(error) == ["type", "error", "request_id"] and error["type"] == "error"
    assert error["error"]["type"] == "rate_limit_error"
    assert error["request_id"] == limited.headers["request-id"]
    assert httpx2.post(f"{fake_anthropic.base_url}/v1/messages", json=body).status_code == 401


# -------------------------------------------------------------------------------- Gemini --


def gemini_post(server: FakeGemini, uri: str, body: dict[str, Any]) -> httpx2.Response:
    path = uri.split("generativelanguage.googleapis.com", 1)[1]
    return httpx2.post(
        server.base_url + path, json=body, headers={"x-goog-api-key": FAKE_GEMINI_KEY}
    )


@pytest.mark.parametrize(
    "cassette",
    [
        "test_google/test_google_model_stream.yaml",
        "test_google/test_google_streaming_tool_call_thought_signature.yaml",
    ],
)
def test_gemini_sse_framing_separators_and_chunks(cassette: str, fake_gemini: FakeGemini) -> None:
    interaction = real(cassette)[0]
    real_body = interaction["response"]["body"]["string"]
    fake = gemini_post(
        fake_gemini, interaction["request"]["uri"], interaction["request"]["parsed_body"]
    )
    assert interaction["request"]["uri"].endswith(":streamGenerateContent?alt=sse")
    for key in ("content-type", "content-disposition", "alt-svc"):
        assert fake.headers[key] == interaction["response"]["headers"][key][0]
    assert fake.headers.get_list("vary") == interaction["response"]["headers"]["vary"]
    assert re.fullmatch(r"gfet4t7; dur=\d+", fake.headers["server-timing"])

    def chunks(body: str) -> list[dict[str, Any]]:
        out = []
        for frame in frames(body, "\r\n\r\n"):
            assert frame.startswith("data: ") and "\n" not in frame
            text = frame[len("data: ") :]
            value = json.loads(text)
            # the service's own layout: ": " after keys, "," alone between items
            assert text == json.dumps(value, separators=(",", ": "), ensure_ascii=False)
            out.append(value)
        return out

    real_chunks, fake_chunks = chunks(real_body), chunks(fake.text)
    for stream in (real_chunks, fake_chunks):
        assert {"candidates", "usageMetadata", "modelVersion", "responseId"} <= set(stream[0])
        assert len({chunk["responseId"] for chunk in stream}) == 1  # one answer, one id
        assert stream[-1]["candidates"][0]["finishReason"] == "STOP"
        assert all(c["candidates"][0]["content"]["role"] == "model" for c in stream)
    assert re.fullmatch(r"[A-Za-z0-9_-]{23}", fake_chunks[0]["responseId"])
    real_call = [p for c in real_chunks for p in c["candidates"][0]["content"]["parts"]]
    fake_call = [p for c in fake_chunks for p in c["candidates"][0]["content"]["parts"]]
    if any("functionCall" in p for p in real_call):  # the same part shape for a call
        real_part = next(p for p in real_call if "functionCall" in p)
        fake_part = next(p for p in fake_call if "functionCall" in p)
        assert set(fake_part) == set(real_part) == {"functionCall", "thoughtSignature"}


def test_gemini_body_layout_and_errors(fake_gemini: FakeGemini) -> None:
    (interaction,) = real("test_google/test_google_model.yaml")
    fake = gemini_post(
        fake_gemini, interaction["request"]["uri"], interaction["request"]["parsed_body"]
    )
    assert fake.headers["content-type"] == interaction["response"]["headers"]["content-type"][0]
    value = fake.json()
    assert fake.text == json.dumps(value, indent=2, ensure_ascii=False) + "\n"  # pretty, as real
    real_value = interaction["response"]["parsed_body"]
    assert set(value) == set(real_value)
    assert set(value["candidates"][0]) == set(real_value["candidates"][0])
    assert set(real_value["usageMetadata"]) - set(value["usageMetadata"]) <= {"thoughtsTokenCount"}
    again = gemini_post(
        fake_gemini, interaction["request"]["uri"], interaction["request"]["parsed_body"]
    )
    assert again.json()["responseId"] != value["responseId"]

    bad = {"contents": [{"role": "user", "parts": [{"text": "error-429"}]}]}
    limited = gemini_post(fake_gemini, interaction["request"]["uri"], bad)
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert limited.json()["error"]["code"] == 429
    anonymous = httpx2.post(fake_gemini.base_url + "/v1beta/models/m:generateContent", json=bad)
    assert anonymous.status_code == 403
    with_query_key = httpx2.post(
        f"{fake_gemini.base_url}/v1beta/models/m:generateContent?key={FAKE_GEMINI_KEY}",
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert with_query_key.status_code == 200
