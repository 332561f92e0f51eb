"""``_compat.CopyableRequest``: vcrpy's Request, deep-copied fast and still independently.

vcrpy deep-copies every request it runs its record hooks on; the subclass copies the
state it knows vcrpy's ``Request`` to have. These tests pin that state (they fail naming
``vcr.request.Request`` if an upgrade changes it) and that a copy shares nothing mutable.
"""

from __future__ import annotations

import copy

import httpx2
from vcr.request import HeadersDict, Request

from llm_cassettes._compat import CopyableRequest, request_from_dict


def test_vcrpy_request_state_is_what_the_copy_knows() -> None:
    request = Request("POST", "https://x.io/v1?a=1", b"{}", {"Content-Type": "application/json"})
    assert set(vars(request)) == {
        "method",
        "_uri",
        "parsed_uri",
        "_was_file",
        "_was_iter",
        "_body",
        "_headers",
    }, "vcr.request.Request keeps other state now: update _compat.CopyableRequest"
    assert isinstance(request.headers, HeadersDict)
    assert request.headers._store == {"content-type": ("Content-Type", "application/json")}, (
        "vcr.request.HeadersDict no longer keeps (name, value) in _store"
    )


def test_a_deep_copy_is_equal_and_independent() -> None:
    original = CopyableRequest(
        "POST", "https://x.io/v1?a=1", b'{"a": 1}', {"Content-Type": "application/json"}
    )
    original.note = {"kept": ["by", "a hook"]}  # an attribute a user's hook may add
    copied = copy.deepcopy(original)
    assert type(copied) is CopyableRequest
    assert copied._to_dict() == original._to_dict()
    assert (copied.method, copied.uri, copied.host, copied.query) == (
        original.method,
        original.uri,
        original.host,
        original.query,
    )
    assert copied.note == original.note and copied.note is not original.note

    copied.headers["Authorization"] = "secret"
    copied.headers["content-type"] = "text/plain"
    copied.uri = "https://y.io/"
    copied.body = b"changed"
    copied.note["kept"].append("more")
    assert dict(original.headers) == {"Content-Type": "application/json"}
    assert original.uri == "https://x.io/v1?a=1" and original.host == "x.io"
    assert original.body == b'{"a": 1}'
    assert original.note == {"kept": ["by", "a hook"]}


def test_an_iterator_body_is_copied_too() -> None:
    original = CopyableRequest("POST", "https://x.io/", iter([b"a", b"b"]), {})
    copied = copy.deepcopy(original)
    assert b"".join(copied.body) == b"ab" == b"".join(original.body)
    assert copied._body is not original._body


def test_requests_read_from_a_cassette_are_copyable() -> None:
    request = request_from_dict(
        {"method": "GET", "uri": "https://x.io/", "body": None, "headers": {"a": ["b"]}}
    )
    assert isinstance(request, CopyableRequest)
    assert request._to_dict() == {
        "method": "GET",
        "uri": "https://x.io/",
        "body": None,
        "headers": {"a": ["b"]},
    }


def test_headers_are_read_as_vcrpy_reads_them() -> None:
    """Names kept as first spelled, a list's first value, duplicates joined as the mapping
    joins them (httpx: comma-separated), lookups case-insensitive."""
    cases = [
        {"Content-Type": "application/json", "content-type": "text/plain", "X-A": ["1", "2"]},
        httpx2.Headers([("X-Dup", "a"), ("x-dup", "b"), ("Authorization", "Bearer k")]),
        {"a": ("t1", "t2")},
        [("Key", "v"), ("key", "w")],
    ]
    for headers in cases:
        ours = CopyableRequest("GET", "https://x.io/", None, headers).headers
        theirs = Request("GET", "https://x.io/", None, headers).headers
        assert ours._store == theirs._store, headers
        assert type(ours) is HeadersDict
