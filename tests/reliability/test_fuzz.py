"""Bad input, property-based: any body round-trips, any broken cassette gives a clear error.

Bodies go through the real persister and serializer (save to a file, load it
back), which is the whole path between the wire and the disk: what vcrpy
hands the client on replay is what ``load_cassette`` returns.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from vcr.request import Request

from llm_cassettes import CassetteFormatError, CassetteSerializer, use_cassette
from llm_cassettes.format import CassettePersister
from llm_cassettes.scrub import Scrubber, ScrubOptions
from tests._support.fake_openai import FAKE_API_KEY, FakeOpenAI

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ------------------------------------------------------------------ round trip --

_LINES = re.compile(r"\r\n|\r|\n")


def _events(body: bytes) -> list[tuple[Any, ...]]:
    """What an SSE client sees (WHATWG rules), written independently of the library.

    A final block without its blank line is kept, marked, because the library
    replays it as it was (a client would see the same partial data).
    """
    text = body.decode("utf-8")
    events: list[tuple[Any, ...]] = []
    fields: dict[str, Any] = {}
    lines = _LINES.split(text)
    terminated = text.endswith(("\n", "\r"))
    if terminated:
        lines.pop()
    for line in lines:
        if not line:
            if fields:
                events.append(tuple(sorted(fields.items())))
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            fields["data"] = f"{fields['data']}\n{value}" if "data" in fields else value
        else:
            fields[name] = value
    if fields:
        events.append(("partial", tuple(sorted(fields.items()))))
    return events


def _round_trip(tmp_path: Path, content_type: str, body: bytes) -> bytes:
    """Save one response with this body and load it back, as a replay would."""
    path = tmp_path / "body.yaml"
    path.unlink(missing_ok=True)
    serializer = CassetteSerializer(Scrubber(ScrubOptions(enabled=False)))
    request = Request("POST", "https://api.openai.com/v1/chat/completions", b"{}", {})
    headers = {"content-type": [content_type]} if content_type else {}
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": headers,
        "body": {"string": body},
    }
    CassettePersister().save_cassette(
        path, {"requests": [request], "responses": [response]}, serializer
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # drift warnings: the payloads are not real SDK types
        _, responses = CassettePersister().load_cassette(path, serializer)[:2]
    replayed = responses[0]["body"]["string"]
    return replayed if isinstance(replayed, bytes) else replayed.encode("utf-8")


def _assert_same_for_client(content_type: str, body: bytes, replayed: bytes) -> None:
    if content_type.startswith("text/event-stream"):
        try:
            expected = _events(body)
        except UnicodeDecodeError:
            assert replayed == body
            return
        assert _events(replayed) == expected
        return
    if "json" in content_type or not content_type:
        try:
            expected_json = json.loads(body)
        except ValueError:
            pass
        else:
            assert json.loads(replayed) == expected_json
            return
    assert replayed == body


_field_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20)


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    """Event streams with comments, id / retry / event fields, multi-line data, any line
    ending, and sometimes no final blank line."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            lines.append(":" + draw(_field_text))  # a comment (keep-alive)
        for name in ("event", "id", "retry"):
            if draw(st.integers(0, 3)) == 0:
                lines.append(f"{name}: {draw(_field_text)}")
        for data in draw(st.lists(_field_text, min_size=1, max_size=3)):
            lines.append(f"data: {data}" if draw(st.booleans()) else f"data:{data}")
        lines.append("")
    if lines and draw(st.booleans()):
        lines.pop()  # no final blank line
    return (newline.join(lines) + (newline if lines else "")).encode("utf-8")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)

bodies = st.one_of(
    st.tuples(st.just("text/event-stream"), sse_bodies()),
    st.tuples(st.just("text/event-stream; charset=utf-8"), sse_bodies()),
    st.tuples(
        st.sampled_from(["application/json", ""]),
        st.one_of(
            _json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
            _json_values.map(lambda v: json.dumps(v, indent=2).encode()),
        ),
    ),
    st.tuples(
        st.sampled_from(
            ["text/plain", "application/octet-stream", "application/json", "", "text/event-stream"]
        ),
        st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    ),
)


@FUZZ
@given(case=bodies)
@example(case=("text/event-stream", b"data: a\r\ndata: b\r\n\r\nid: 7\r\nretry: 10\r\ndata: c"))
@example(case=("text/event-stream", b": keep-alive\n\nevent: ping\ndata:\n\n"))
@example(case=("application/octet-stream", b"\xff\xfe\x00invalid \xc3\x28 utf-8"))
@example(case=("text/plain", "emoji \U0001f600, NEL \x85, LS \u2028, NUL \x00".encode()))
@example(case=("application/json", b'{"s": "\\ud800 lone surrogate"}'))
@example(case=("", b""))
@example(case=("text/plain", b"trailing spaces   \n  \n"))
def test_any_body_replays_as_recorded(tmp_path: Path, case: tuple[str, bytes]) -> None:
    content_type, body = case
    _assert_same_for_client(content_type, body, _round_trip(tmp_path, content_type, body))


def test_huge_bodies_replay_as_recorded(tmp_path: Path) -> None:
    text = ("Mixture of experts. " * 50_000).encode()  # 1 MB of text
    assert _round_trip(tmp_path, "text/plain", text) == text
    binary = bytes(range(256)) * 4096  # 1 MB, not UTF-8
    assert _round_trip(tmp_path, "application/octet-stream", binary) == binary
    stream = b"".join(b'data: {"i": %d}\n\n' % i for i in range(20_000)) + b"data: [DONE]\n\n"
    replayed = _round_trip(tmp_path, "text/event-stream", stream)
    assert _events(replayed) == _events(stream)


# ------------------------------------------------------------------ fuzzed files --


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real cassette (chat, stream, embeddings) to break in every way."""
    path = tmp_path_factory.mktemp("template") / "real.yaml"
    with FakeOpenAI() as server, use_cassette(path, record_mode="once"):
        client = openai.OpenAI(base_url=server.base_url, api_key=FAKE_API_KEY, max_retries=0)
        messages: Any = [{"role": "user", "content": "hi"}]
        client.chat.completions.create(model="gpt-4o", messages=messages)
        list(client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    return path.read_text()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.none(), max_size=2),
    st.binary(max_size=4),
)


@st.composite
def broken(draw: st.DrawFn, text: str) -> str:
    """The template truncated, or with a value of the wrong type, or with a key missing."""
    how = draw(st.sampled_from(["truncate", "retype", "delete", "retype", "delete"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text) - 1))]
    data = yaml.safe_load(text)
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent = _get(data, path[:-1])
    if how == "retype":
        parent[path[-1]] = draw(_junk)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return yaml.safe_dump(data, allow_unicode=True)


@FUZZ
@given(data=st.data())
def test_broken_cassette_gives_a_clear_error(
    template: str, tmp_path: Path, data: st.DataObject
) -> None:
    text = data.draw(broken(template))
    path = tmp_path / "fuzzed.yaml"
    path.write_text(text)
    for mode in ("none", "new_episodes"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with use_cassette(path, record_mode=mode):
                    pass
        except CassetteFormatError as exc:
            assert str(path) in str(exc)  # names the file ...
            assert re.search(r"line \d+|interactions\[\d+\]|not a cassette|not UTF-8", str(exc))
        assert path.read_text() == text  # ... and never rewrites it
