"""Typed, readable, scrubbed VCR cassettes for tests of LLM applications.

A thin layer on vcrpy and pytest-recording: install it and ``@pytest.mark.vcr``
tests record OpenAI traffic into cassettes a reviewer can read, with no secret
in them. Outside pytest, :func:`use_cassette` gives the same defaults.
"""

from ._vcr import LLMVCR, use_cassette
from .errors import CassetteDriftWarning, CassetteFormatError, LLMCassettesError
from .providers import register_endpoint
from .serializer import CassetteSerializer

__all__ = [
    "LLMVCR",
    "CassetteDriftWarning",
    "CassetteFormatError",
    "CassetteSerializer",
    "LLMCassettesError",
    "register_endpoint",
    "use_cassette",
]
