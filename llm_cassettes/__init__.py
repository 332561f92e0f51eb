"""Typed, readable, scrubbed VCR cassettes for tests of LLM applications.

A thin layer on vcrpy and pytest-recording: install it and ``@pytest.mark.vcr``
tests record OpenAI traffic into cassettes a reviewer can read, with no secret
in them. Outside pytest, :func:`use_cassette` gives the same defaults.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._errors import (
        CassetteDriftWarning,
        CassetteFormatError,
        CassetteLockError,
        LLMCassettesError,
        StaleRecordingWarning,
        UnusedRecordingsError,
    )
    from .format._serializer import CassetteSerializer
    from .providers._registry import register_endpoint
    from .recording._vcr import LLMVCR, use_cassette
    from .recording.tools._tool import tool

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
    "LLMVCR": ".recording._vcr",
    "use_cassette": ".recording._vcr",
    "CassetteDriftWarning": "._errors",
    "CassetteFormatError": "._errors",
    "CassetteLockError": "._errors",
    "LLMCassettesError": "._errors",
    "StaleRecordingWarning": "._errors",
    "UnusedRecordingsError": "._errors",
    "register_endpoint": ".providers._registry",
    "CassetteSerializer": ".format._serializer",
    "tool": ".recording.tools._tool",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
