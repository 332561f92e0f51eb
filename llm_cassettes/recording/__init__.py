"""Recording and replaying: vcrpy with this library's cassettes.

* ``_vcr``: :class:`LLMVCR` (a ``vcr.VCR`` with this library's serializer,
  persister, matchers and scrubbing hooks) and :func:`use_cassette`;
* ``_options``: this library's ``use_cassette`` options, each declared once;
* ``_hooks``: the scrubbing hooks composed after the user's ``before_record_*``;
* ``_cassette``: :class:`LLMCassette`, the indexed cassette (O(1) lookup, each
  interaction matched as it was recorded), :func:`current_cassette`, :class:`CassetteMiss`;
* ``_transport``: httpx and httpx2 patched once per process; responses stream through
  while recording and replay one event per read;
* ``_miss``: the explanation a test gets when a request matches nothing;
* ``_findings``: what replay noticed without failing (stale and unused recordings);
* ``tools/``: tool calls recorded next to the HTTP calls.

Attributes are imported on first use: the pytest plugin imports the findings
at load, before vcrpy may be imported (see :mod:`llm_cassettes._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._cassette import CassetteMiss, LLMCassette, current_cassette
    from ._findings import (
        Stale,
        TestFindings,
        collect,
        rerecord_all_command,
        start_tracking,
        stop_tracking,
        tracked,
    )
    from ._options import LLM_OPTIONS
    from ._vcr import LLMVCR, use_cassette

__all__ = [
    "LLMVCR",
    "LLM_OPTIONS",
    "CassetteMiss",
    "LLMCassette",
    "Stale",
    "TestFindings",
    "collect",
    "current_cassette",
    "rerecord_all_command",
    "start_tracking",
    "stop_tracking",
    "tracked",
    "use_cassette",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "LLMVCR": "._vcr",
        "use_cassette": "._vcr",
        "LLM_OPTIONS": "._options",
        "CassetteMiss": "._cassette",
        "LLMCassette": "._cassette",
        "current_cassette": "._cassette",
        # what the pytest plugin collects and reports (imported at its load: no vcrpy)
        "Stale": "._findings",
        "TestFindings": "._findings",
        "collect": "._findings",
        "rerecord_all_command": "._findings",
        "start_tracking": "._findings",
        "stop_tracking": "._findings",
        "tracked": "._findings",
    },
)
