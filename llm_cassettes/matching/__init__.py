"""Request matching: canonical bodies, index keys for vcrpy's matchers, and body diffs.

A recorded request must match the request a test makes today even though the two
bodies differ in ways that carry no meaning: JSON key order and whitespace,
multipart boundaries, form field order, floats that jitter in their last digits,
ids and timestamps that change on every run, ``null`` options the SDK sends for
arguments the caller never passed. Everything here is pure (no I/O) and on the
hot path: thousands of 2-3 KB bodies per session.

* ``_options``: :class:`CanonicalOptions` and their compiled form (regexes, path trie);
* ``_ids``: the id / float / timestamp scanner over strings (prefixes from the providers);
* ``_paths``: ``ignore_json_paths`` / ``id_json_paths`` as a trie walked with the body;
* ``_normalize``: one body normalized, placeholders numbered per body;
* ``_bodies``: :func:`canonicalize` by content type (JSON, form, multipart, bytes);
* ``_body_diff``: :func:`diff` / :func:`format_diff`, a miss explained in a few lines;
* ``_matchers``: the ``llm_body`` matcher and the index key of each vcrpy matcher.
"""

from ._bodies import Canonical, CanonicalKind, canonicalize
from ._body_diff import MISSING, Difference, diff, format_diff
from ._matchers import BODY_MATCHER, DEFAULT_MATCH_ON, body_matcher, canonical_body, key_of
from ._options import CanonicalOptions

__all__ = [
    "BODY_MATCHER",
    "DEFAULT_MATCH_ON",
    "MISSING",
    "Canonical",
    "CanonicalKind",
    "CanonicalOptions",
    "Difference",
    "body_matcher",
    "canonical_body",
    "canonicalize",
    "diff",
    "format_diff",
    "key_of",
]
