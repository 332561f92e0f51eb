"""Request matching: canonical bodies, index keys for vcrpy's matchers, body diffs.

(The split of the canonical-body module follows in a later commit.)
"""

from ._canonical import (
    MISSING,
    Canonical,
    CanonicalOptions,
    Difference,
    canonicalize,
    diff,
    format_diff,
)
from ._matchers import BODY_MATCHER, DEFAULT_MATCH_ON, body_matcher, canonical_body, key_of

__all__ = [
    "BODY_MATCHER",
    "DEFAULT_MATCH_ON",
    "MISSING",
    "Canonical",
    "CanonicalOptions",
    "Difference",
    "body_matcher",
    "canonical_body",
    "canonicalize",
    "diff",
    "format_diff",
    "key_of",
]
