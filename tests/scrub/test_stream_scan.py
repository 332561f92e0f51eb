"""A stream's events are scanned for secrets at once, and that scan misses nothing.

Saving a stream asks :meth:`Scrubber.events_unchanged` of all its events in one scan
before scrubbing them one by one. The property: whenever it answers "unchanged",
scrubbing each event on its own (with the same rules) changes nothing and reports
nothing. Texts are built from the pieces secrets, JSON keys and the separator are made
of, so hypothesis tries secrets split across events, keys at a text's edge, escapes
and anchored ``secret_patterns``.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llm_cassettes import LLMVCR
from llm_cassettes.scrub import Redaction, Scrubber, ScrubOptions
from llm_cassettes.scrub._scrubber import _JSON_KEY

LEARNED = "tok-9f8e7d6c5b4a39281706"
ENV_KEY = "sk-proj-EnvEnvEnvEnv1234567890abcdef"
ENV_TOKEN = "zq81LmN2XcVb7RtY0pQw"  # no known shape: found as the variable's value only
PIECES = (
    '{"', '"', '": ', ":", ", ", "}", "[", "\\", "\\n", "\\u0022", "\n", " ", "%20",
    "a", "Z", "0", "7", "-", "_", ".", "@", "/",
    "content", "value", "name", "api_key", "apiKey", "token", "max_tokens", "signature",
    "sk-", "sk-ant-", "AKIA", "ghp_", "org-", "proj_", "eyJ", "Bearer ", "Basic ",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", "dXNlcjpwYXNzd29yZA==",
    "https://user:", "pa55word@host", "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----", LEARNED, LEARNED[:10], LEARNED[10:], ENV_KEY,
    ENV_TOKEN, "npm_", "abcdefghijklmnopqrstuvwxyz0123456789", '{": api_key": "v"}',
    "ANCHOR", "AnchorEnd",
)  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
OPTIONS = ScrubOptions(
    # Anchored patterns match a whole event, never inside the joined ones: searched singly.
    extra_secret_patterns=(r"^ANCHOR\w*$", r"(?<=@)host\b"),
    extra_secret_names=("content_secret",),
)


def scrubber(found: list[Redaction]) -> Scrubber:
    made = Scrubber(
        OPTIONS,
        report=found.append,
        environ={"OPENAI_API_KEY": ENV_KEY, "MY_SERVICE_TOKEN": ENV_TOKEN},
    )
    made.learn(LEARNED)
    return made


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, max_size=6), st.lists(texts, max_size=3))
@example(["ANCHOR"], [])
@example(['{"a": 1}', ':api_key": 2}'], [])
@example(['{"x": "sk-', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"}'], [])
@example(['{"x": "' + LEARNED[:10], LEARNED[10:] + '"}'], [])
@example(["pa55word@host"], [])
@example([ENV_TOKEN, ""], [])  # a value's end is checked against what follows it
@example(["npm_abcdefghijklmnopqrstuvwxyz0123456789", "a"], [])
@example(['"', '{": api_key": "v"}'], [])  # a key match must not start in the text before
def test_unchanged_in_one_scan_means_unchanged_event_by_event(
    data: list[str], ids: list[str]
) -> None:
    found: list[Redaction] = []
    if not scrubber(found).events_unchanged(data, ids):
        return
    assert not found
    one_by_one = scrubber(found)
    assert [one_by_one.event_data(text, "event") for text in data] == data
    assert [one_by_one.text(text, "id") for text in ids] == ids
    assert not found


def test_one_secret_among_many_clean_events_is_still_redacted() -> None:
    found: list[Redaction] = []
    events = [json.dumps({"delta": {"content": f" word{n}"}}) for n in range(200)]
    events[137] = json.dumps({"delta": {"content": f"your key is {ENV_KEY}"}})
    checking = scrubber(found)
    assert checking.events_unchanged(events[:137] + events[138:])
    assert not checking.events_unchanged(events)
    assert not scrubber(found).events_unchanged([json.dumps({"api_key": "x"})])
    assert not scrubber(found).events_unchanged(["ANCHOR"])  # a pattern, event by event


def test_a_stored_stream_saved_again_is_scrubbed_where_needed() -> None:
    """A loaded stream (events as stored strings or mappings) written back, as in
    ``new_episodes``: clean events stay as they are, a secret in one is redacted."""
    serializer = LLMVCR().get_merged_config()["serializer"]
    events = ['{"a": 1}', '{"b": "' + ENV_KEY + '"}', {"data": '{"api_key": "v-123"}', "id": "7"}]
    cassette = {
        "interactions": [
            {
                "request": {"method": "GET", "uri": "https://api.example.com/s", "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"]},
                    "body": {"sse": {"events": events}},
                },
            }
        ]
    }
    text = serializer.serialize(cassette)
    assert ENV_KEY not in text and "v-123" not in text
    assert "- '{\"a\": 1}'" in text and "id: '7'" in text
    events[1:] = ['{"b": 2}']
    assert "- '{\"b\": 2}'" in serializer.serialize(cassette)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(['"', "\\", ":", " ", "\n", "a", "key", '": ', "x" * 99]), max_size=30)
)
def test_the_json_key_scan_gives_what_a_backtracking_scan_gives(pieces: list[str]) -> None:
    """The key scan never gives characters back (possessive on 3.11+): the same keys."""
    text = "".join(pieces)
    backtracking = re.compile(r'"([^"\\]{1,100})"\s*:')
    assert _JSON_KEY.findall(text) == backtracking.findall(text)
