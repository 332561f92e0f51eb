"""Where each server-sent event ends in the bytes: replay splits a stream there, one
event per read, and timing gives each event the arrival time of its last byte."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from llm_cassettes._wire import encode_sse, ends_with_done, event_ends, parse_sse

_LINE = st.sampled_from(
    ["data: {}", "data: é", "data:x", "event: delta", "id: 7", ": keep-alive", "", "data: [DONE]"]
)
_BREAK = st.sampled_from(["\n", "\r\n", "\r"])


@given(st.lists(st.tuples(_LINE, _BREAK), max_size=12), st.sampled_from(["", "data: tail"]))
def test_event_ends_agrees_with_the_parser(lines: list[tuple[str, str]], tail: str) -> None:
    text = "".join(line + brk for line, brk in lines) + tail
    data = text.encode()
    ends = event_ends(data)
    assert ends == sorted(set(ends)) and all(0 < end <= len(data) for end in ends)
    events = parse_sse(text)
    if events is None:  # a repeated field: the format keeps such a body raw, still framed
        return
    assert len(ends) == len(events)
    # Each event's bytes hold exactly that event.
    for start, end, event in zip([0, *ends[:-1]], ends, events, strict=True):
        assert parse_sse(data[start:end].decode()) == [event]


@given(st.lists(st.text(alphabet="ab{}:é \n", max_size=8), max_size=10))
def test_what_the_format_writes_splits_one_event_per_block(payloads: list[str]) -> None:
    data = encode_sse([{"data": payload} for payload in payloads]).encode()
    ends = event_ends(data)
    assert len(ends) == len(payloads)
    assert not ends or ends[-1] == len(data)


def test_a_stream_that_ends_with_done_is_told() -> None:
    assert ends_with_done(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    assert ends_with_done(b"data:[DONE]")
    assert not ends_with_done(b'data: [DONE]\n\ndata: {"a":1}\n\n')
    assert not ends_with_done(b'data: {"text": "[DONE]"}\n\n')
