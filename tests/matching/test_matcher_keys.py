"""Index keys agree with vcrpy's matchers: two requests share a key exactly when vcrpy says match.

The indexed cassette finds a live request by key instead of running every
matcher against every stored request, so a key that is stricter than its
matcher makes a recorded request unfindable (``https://example.com`` vs
``https://example.com/``), and a looser one replays the wrong response. Each
property below compares against the installed vcrpy's own matcher function.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from vcr import matchers as vcr_matchers
from vcr.request import Request

from llm_cassettes.matching import key_of
from llm_cassettes.recording import LLMCassette

PROPERTY = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Every matcher vcrpy registers by name on a ``VCR`` (``url`` is ``uri``).
BUILTIN = {
    "method": vcr_matchers.method,
    "uri": vcr_matchers.uri,
    "scheme": vcr_matchers.scheme,
    "host": vcr_matchers.host,
    "port": vcr_matchers.port,
    "path": vcr_matchers.path,
    "query": vcr_matchers.query,
    "raw_body": vcr_matchers.raw_body,
    "headers": vcr_matchers.headers,
    "body": vcr_matchers.body,
}
KEYED = {name: fn for name, fn in BUILTIN.items() if name != "body"}

# Small alphabets, so that two drawn requests often agree on a part or differ only in
# the details a matcher normalizes (case, a trailing slash, a default port, order).
schemes = st.sampled_from(["http", "https"])
hosts = st.sampled_from(["example.com", "EXAMPLE.com", "api.example.com", "127.0.0.1"])
ports = st.sampled_from(["", ":80", ":443", ":8080"])
paths = st.sampled_from(["", "/", "/v1", "/v1/", "/v1/chat", "//v1", "/v1/%63hat"])
queries = st.sampled_from(["", "?", "?a=1", "?a=1&b=2", "?b=2&a=1", "?a=", "?a", "?a=1&a=2"])
fragments = st.sampled_from(["", "#top"])
methods = st.sampled_from(["GET", "POST", "get"])
bodies = st.sampled_from(
    [None, b"", b'{"a": 1}', b'{"a":1}', '{"a": 1}', b"a=1&b=2", b"b=2&a=1", b"\xff\xfe"]
)
header_sets = st.sampled_from(
    [
        {},
        {"Content-Type": "application/json"},
        {"content-type": "application/json"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/json", "X-Trace": "1"},
        {"CONTENT-TYPE": "application/json", "x-trace": "1"},
    ]
)


@st.composite
def requests(draw: Callable[..., Any]) -> Request:
    uri = (
        f"{draw(schemes)}://{draw(hosts)}{draw(ports)}{draw(paths)}{draw(queries)}{draw(fragments)}"
    )
    body = draw(bodies)
    if body is not None and draw(st.booleans()):
        body = io.BytesIO(body.encode() if isinstance(body, str) else body)  # a file body
    return Request(draw(methods), uri, body, dict(draw(header_sets)))


def vcrpy_matches(matcher: Callable[[Request, Request], Any], r1: Request, r2: Request) -> Any:
    """vcrpy's verdict: True, False, or the exception its matcher raises (vcrpy 8's ``body``
    matcher raises ValueError on a body that is not what its content type says)."""
    try:
        matcher(r1, r2)
    except AssertionError:
        return False
    except Exception as exc:  # noqa: BLE001 - the verdict is whatever vcrpy does
        return type(exc)
    return True


def test_every_builtin_matcher_but_body_has_a_key() -> None:
    assert all(key_of(fn) is not None for fn in KEYED.values())
    assert key_of(vcr_matchers.body) is None  # not an equivalence: run pairwise


@pytest.mark.parametrize("name", sorted(KEYED))
@PROPERTY
@given(r1=requests(), r2=requests())
@example(
    r1=Request("GET", "https://example.com", None, {}),
    r2=Request("GET", "https://example.com/", None, {}),
)
@example(
    r1=Request("GET", "https://example.com?a=1", None, {}),
    r2=Request("GET", "https://example.com/?a=1", None, {}),
)
def test_key_equality_is_vcrpy_matching(name: str, r1: Request, r2: Request) -> None:
    key = key_of(KEYED[name])
    assert key is not None
    assert (key(r1) == key(r2)) == vcrpy_matches(KEYED[name], r1, r2)


@pytest.mark.parametrize("name", sorted(BUILTIN))
@PROPERTY
@given(stored=requests(), live=requests())
@example(
    stored=Request("GET", "https://example.com/", None, {}),
    live=Request("GET", "https://example.com", None, {}),
)
@example(
    stored=Request("POST", "https://x.io/", b'{"a": 1}', {"content-type": "application/json"}),
    live=Request("POST", "https://x.io/", b'{"a":1}', {"Content-Type": "application/json"}),
)
def test_the_indexed_cassette_finds_what_vcrpy_would(
    name: str, stored: Request, live: Request
) -> None:
    """The whole lookup (keys, then pairwise matchers in the bucket), ``body`` included."""
    cassette = LLMCassette("never-written.yaml", match_on=(BUILTIN[name],))
    cassette.allow_playback_repeats = True
    cassette.append(stored, {"status": {"code": 200}, "headers": {}, "body": {"string": b""}})
    verdict = vcrpy_matches(BUILTIN[name], live, stored)
    if isinstance(verdict, type):  # vcrpy's own matcher fails: so does the lookup, the same way
        with pytest.raises(verdict):
            live in cassette  # noqa: B015
        return
    assert (live in cassette) == verdict
