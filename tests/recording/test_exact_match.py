"""Matching a live request by its exact bytes answers as the canonical index answers.

A loaded cassette first looks a live request up by its exact bytes (no body is
canonicalized); the canonical index, built only when needed, decides every other
case. The property: whatever was recorded and in whatever order requests come, the
answers (which recorded interaction, or none) are those of the canonical index alone.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.record_mode import RecordMode
from vcr.request import Request

from llm_cassettes.recording import LLMCassette

PROPERTY = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Bodies that are canonically equal but differ in bytes (spacing, key order, a volatile
# id), and ones that differ; two URLs and two content types.
BODIES = [
    b'{"a":1,"b":2}',
    b'{"a": 1, "b": 2}',
    b'{"b":2,"a":1}',
    b'{"a":2,"b":2}',
    b'{"id":"call_abc123def456ghi789","a":1}',
    b'{"id":"call_zzz999yyy888xxx777","a":1}',
    b"",
]
URLS = ["https://api.example.com/v1/chat", "https://api.example.com/v1/other"]
TYPES = ["application/json", "text/plain"]

requests = st.builds(
    lambda url, body, kind: (url, body, kind),
    st.sampled_from(URLS),
    st.sampled_from(BODIES),
    st.sampled_from(TYPES),
)


class _Stored:
    """A persister holding the stored requests (what a cassette file would give)."""

    def __init__(self, stored: list[tuple[str, bytes, str]]) -> None:
        self.stored = stored

    def load_cassette(self, path: Any, serializer: Any) -> tuple[Any, ...]:
        requests = [_request(*item) for item in self.stored]
        responses = [
            {"status": {"code": 200}, "headers": {}, "body": {"string": str(i).encode()}}
            for i in range(len(requests))
        ]
        # Recorded by llm-cassettes (so matched on the canonical body), as its metadata says.
        return requests, responses, {"llm_cassettes": {"recorded": "2026-11-27"}}

    def save_cassette(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing is saved here")


def _request(url: str, body: bytes, kind: str) -> Request:
    return Request("POST", url, body, {"content-type": kind})


def _answers(
    stored: list[tuple[str, bytes, str]], live: list[tuple[str, bytes, str]], exact: bool
) -> list[Any]:
    cassette = LLMCassette.load(
        path="stored.yaml", persister=_Stored(stored), record_mode=RecordMode.NONE
    )
    if not exact:
        cassette._complete_index()
        cassette._exact.clear()
    answers = []
    for item in live:
        request = _request(*item)
        if request in cassette:
            answers.append(cassette.play_response(request)["body"]["string"])
        else:
            answers.append(None)
    return answers


@PROPERTY
@given(st.lists(requests, min_size=1, max_size=8), st.lists(requests, min_size=1, max_size=10))
def test_exact_bytes_answer_as_the_canonical_index_does(
    stored: list[tuple[str, bytes, str]], live: list[tuple[str, bytes, str]]
) -> None:
    assert _answers(stored, live, exact=True) == _answers(stored, live, exact=False)


def test_an_earlier_unplayed_equal_request_answers_first() -> None:
    """Bytes equal to the second recording, canonically equal to the first: the first."""
    stored = [(URLS[0], BODIES[0], TYPES[0]), (URLS[0], BODIES[1], TYPES[0])]
    assert _answers(stored, [stored[1], stored[1]], exact=True) == [b"0", b"1"]


def test_in_order_replay_takes_the_exact_path_and_canonicalizes_nothing() -> None:
    stored = [(URLS[0], body, TYPES[0]) for body in BODIES[:5]]
    cassette = LLMCassette.load(
        path="stored.yaml", persister=_Stored(stored), record_mode=RecordMode.NONE
    )
    for index, item in enumerate(stored):
        assert cassette.play_response(_request(*item))["body"]["string"] == str(index).encode()
    assert cassette._keys == []  # no body was canonicalized
