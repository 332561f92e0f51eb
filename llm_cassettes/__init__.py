"""Typed, readable, scrubbed VCR cassettes for tests of LLM applications.

A thin layer on vcrpy and pytest-recording: install it and ``@pytest.mark.vcr``
tests record OpenAI traffic into cassettes a reviewer can read, with no secret
in them. Outside pytest, :func:`use_cassette` gives the same defaults.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._vcr import LLMVCR, use_cassette
    from .errors import (
        CassetteDriftWarning,
        CassetteFormatError,
        CassetteLockError,
        LLMCassettesError,
        StaleRecordingWarning,
        UnusedRecordingsError,
    )
    from .providers import register_endpoint
    from .serializer import CassetteSerializer
    from .tools import tool

__all__ = [
    "LLMVCR",
    "CassetteDriftWarning",
    "CassetteFormatError",
    "CassetteLockError",
    "CassetteSerializer",
    "LLMCassettesError",
    "StaleRecordingWarning",
    "UnusedRecordingsError",
    "register_endpoint",
    "tool",
    "use_cassette",
]

# Imported on first use: the pytest plugin is loaded before pytest-recording
# registers vcrpy for assertion rewriting, so importing vcrpy here would warn.
_WHERE = {
    "LLMVCR": "._vcr",
    "use_cassette": "._vcr",
    "CassetteDriftWarning": ".errors",
    "CassetteFormatError": ".errors",
    "CassetteLockError": ".errors",
    "LLMCassettesError": ".errors",
    "StaleRecordingWarning": ".errors",
    "UnusedRecordingsError": ".errors",
    "register_endpoint": ".providers",
    "CassetteSerializer": ".serializer",
    "tool": ".tools",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
