"""Typed, readable, scrubbed VCR cassettes for tests of LLM applications.

A thin layer on vcrpy and pytest-recording: install it and ``@pytest.mark.vcr``
tests record OpenAI traffic into cassettes a reviewer can read, with no secret
in them. Outside pytest, :func:`use_cassette` gives the same defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import (
    CassetteDriftWarning,
    CassetteFormatError,
    CassetteLockError,
    IncompleteStreamError,
    LLMCassettesError,
    StaleRecordingWarning,
    ToolRecordError,
    ToolReplayError,
    UnusedRecordingsError,
)
from ._lazy import lazy_attributes
from .providers import register_endpoint

if TYPE_CHECKING:
    from .format import CassetteSerializer
    from .recording import LLMVCR, CassetteMiss, current_cassette, use_cassette
    from .recording.tools import ToolPatcher, tool

__all__ = [
    "LLMVCR",
    "CassetteDriftWarning",
    "CassetteFormatError",
    "CassetteLockError",
    "CassetteMiss",
    "CassetteSerializer",
    "IncompleteStreamError",
    "LLMCassettesError",
    "StaleRecordingWarning",
    "ToolPatcher",
    "ToolRecordError",
    "ToolReplayError",
    "UnusedRecordingsError",
    "current_cassette",
    "register_endpoint",
    "tool",
    "use_cassette",
]

# Imported on first use: the pytest plugin is loaded before pytest-recording
# registers vcrpy for assertion rewriting, so importing vcrpy here would warn.
__getattr__ = lazy_attributes(
    __name__,
    {
        "LLMVCR": ".recording",
        "CassetteMiss": ".recording",
        "current_cassette": ".recording",
        "use_cassette": ".recording",
        "ToolPatcher": ".recording.tools",
        "tool": ".recording.tools",
        "CassetteSerializer": ".format",
    },
)
