"""Keeping secrets and reviewer-useless noise out of cassettes.

``_detector`` decides what a secret is (names, shapes, values); ``_scrubber``
applies it to an interaction (headers, URLs, bodies, streams), for recording,
``upgrade``, the llama-stack import and, in reporting mode, ``check``.
"""

from ._detector import REDACTED, SHAPES, SecretDetector, hide_secrets_in_name
from ._scrubber import Redaction, Scrubber, ScrubOptions

__all__ = [
    "REDACTED",
    "SHAPES",
    "Redaction",
    "ScrubOptions",
    "Scrubber",
    "SecretDetector",
    "hide_secrets_in_name",
]
