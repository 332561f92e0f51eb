"""Request matchers: vcrpy's ``fn(r1, r2)`` interface, plus a key for indexed lookup.

``llm_body`` compares canonical bodies (see :mod:`._bodies`):
JSON key order, volatile ids, multipart boundaries and SDK-added defaults do
not count, anything with meaning does. Each matcher here also carries a
``key(request)`` function; when every matcher of a cassette has one, the
cassette finds a live request by its key in a dict instead of running every
matcher against every stored interaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vcr import matchers as vcr_matchers
from vcr.request import Request
from vcr.util import read_body

from .. import _compat
from .._wire import header
from ._bodies import Canonical, canonicalize
from ._body_diff import diff, format_diff
from ._options import CanonicalOptions

__all__ = ["BODY_MATCHER", "DEFAULT_MATCH_ON", "body_matcher", "canonical_body", "key_of"]

BODY_MATCHER = "llm_body"
#: vcrpy's default ``match_on`` plus the canonical body.
DEFAULT_MATCH_ON = (*_compat.VCRPY_DEFAULT_MATCH_ON, BODY_MATCHER)

Matcher = Callable[[Request, Request], Any]


def canonical_body(request: Request, options: CanonicalOptions) -> Canonical:
    """The canonical form of a request's body under ``options``."""
    body = request.body
    if hasattr(body, "read"):  # vcrpy keeps file-like bodies as such
        body = request.body_bytes
    return canonicalize(body, header(request.headers, "content-type"), options)


def body_matcher(options: CanonicalOptions) -> Matcher:
    """The ``llm_body`` matcher for one set of options (vcrpy ``fn(r1, r2)`` interface)."""

    def llm_body(r1: Request, r2: Request) -> None:
        one, two = canonical_body(r1, options), canonical_body(r2, options)
        if one.key != two.key:
            raise AssertionError("canonical bodies differ:\n" + format_diff(diff(two, one)))

    llm_body.key = lambda request: canonical_body(request, options).key  # type: ignore[attr-defined]
    llm_body.options = options  # type: ignore[attr-defined]
    return llm_body


def _query(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple(request.query)


def _headers(request: Request) -> frozenset[tuple[str, Any]]:
    return frozenset(request.headers.lower_items())  # vcrpy compares them case-insensitively


#: Keys of vcrpy's matchers, equal exactly when vcrpy's matcher says "match" (with
#: vcrpy's own normalizations, a property test pins this). ``body`` has none: it
#: compares parsed bodies when both requests have the same content type and raw bytes
#: otherwise, which is not an equivalence (no key can agree with it), so it runs
#: pairwise within a key's bucket.
_BUILTIN_KEYS: Mapping[Any, Callable[[Request], Any]] = {
    vcr_matchers.method: lambda r: r.method,
    vcr_matchers.uri: _compat.normalized_uri,
    vcr_matchers.scheme: lambda r: r.scheme,
    vcr_matchers.host: lambda r: r.host,
    vcr_matchers.port: lambda r: r.port,
    vcr_matchers.path: lambda r: _compat.normalized_path(r.path),
    vcr_matchers.query: _query,
    vcr_matchers.raw_body: read_body,
    vcr_matchers.headers: _headers,
}


def key_of(matcher: Matcher) -> Callable[[Request], Any] | None:
    """The key function of a matcher, or None if it can only be run pairwise."""
    return getattr(matcher, "key", None) or _BUILTIN_KEYS.get(matcher)
