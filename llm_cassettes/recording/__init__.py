"""Recording and replaying: vcrpy with this library's cassettes.

* ``_vcr``: :class:`LLMVCR` (a ``vcr.VCR`` with this library's serializer,
  persister, matchers and scrubbing hooks, and its options) and :func:`use_cassette`;
* ``_cassette``: :class:`LLMCassette`, the indexed cassette (O(1) lookup, each
  interaction matched as it was recorded), :func:`current_cassette`, :class:`CassetteMiss`;
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
    from ._cassette import CassetteMiss, LLMCassette, current_cassette, display_path
    from ._findings import (
        MAX_FIELDS,
        Stale,
        TestFindings,
        Unused,
        collect,
        opened,
        rerecord_all_command,
        start_tracking,
        stop_tracking,
        tracked,
    )
    from ._vcr import LLM_OPTIONS, LLMVCR, use_cassette

__all__ = [
    "LLMVCR",
    "LLM_OPTIONS",
    "MAX_FIELDS",
    "CassetteMiss",
    "LLMCassette",
    "Stale",
    "TestFindings",
    "Unused",
    "collect",
    "current_cassette",
    "display_path",
    "opened",
    "rerecord_all_command",
    "start_tracking",
    "stop_tracking",
    "tracked",
    "use_cassette",
]

_WHERE = {
    **dict.fromkeys(["LLMVCR", "LLM_OPTIONS", "use_cassette"], "._vcr"),
    **dict.fromkeys(
        ["CassetteMiss", "LLMCassette", "current_cassette", "display_path"], "._cassette"
    ),
    **dict.fromkeys(
        [
            "MAX_FIELDS",
            "Stale",
            "TestFindings",
            "Unused",
            "collect",
            "opened",
            "rerecord_all_command",
            "start_tracking",
            "stop_tracking",
            "tracked",
        ],
        "._findings",
    ),
}
__getattr__ = lazy_attributes(__name__, _WHERE)
